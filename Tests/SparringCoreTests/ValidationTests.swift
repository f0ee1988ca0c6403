import Foundation
import Testing
@testable import SparringCore

@Suite("Scenario validation")
struct ValidationTests {
    static let brokenDirectory = Shipped.fixtures + "/broken"
    static let brokenFiles = ((try? FileManager.default.contentsOfDirectory(atPath: brokenDirectory)) ?? []).sorted()

    /// Each broken fixture's first line says what must be reported: `# expect: LINE|FIELD|FRAGMENT`.
    @Test("each broken file gets a located problem naming the field", arguments: brokenFiles)
    func brokenFile(name: String) throws {
        let path = "\(Self.brokenDirectory)/\(name)"
        let text = try String(contentsOfFile: path, encoding: .utf8)
        let header = try #require(text.split(separator: "\n").first.map(String.init))
        let parts = header.replacingOccurrences(of: "# expect: ", with: "").split(separator: "|", omittingEmptySubsequences: false).map(String.init)
        try #require(parts.count == 3)
        let (scenario, problems) = Shipped.loader().load(path: path)
        #expect(scenario == nil)
        let match = problems.first { $0.line == Int(parts[0]) && $0.field == parts[1] && $0.message.contains(parts[2]) }
        #expect(match != nil, "expected \(header), got:\n\(problems.map(\.description).joined(separator: "\n"))")
        for problem in problems {
            #expect(problem.description.hasPrefix(path), "every line names the file")
            #expect(!problem.description.contains("\n"), "one line per problem")
        }
    }

    @Test("there is a fixture for every kind of problem the issue names")
    func coverage() {
        for kind in ["unknown-voice", "unknown-move", "unreachable-phase", "missing-outcome", "bad-threshold", "malformed", "wrong-type"] {
            #expect(Self.brokenFiles.contains("\(kind).yaml"))
        }
    }

    @Test("binary and huge files are refused with one line, before parsing")
    func binaryAndHuge() {
        var binary = Data("id: x\n".utf8)
        binary.append(contentsOf: [0, 1, 2, 255, 0])
        #expect(throws: Problem.self) { try YAMLDocument.parse(data: binary, file: "bin.yaml") }
        do { _ = try YAMLDocument.parse(data: binary, file: "bin.yaml") } catch { #expect(error.message.contains("binary")) }

        let huge = Data(repeating: UInt8(ascii: "a"), count: YAMLDocument.maximumBytes + 1)
        do { _ = try YAMLDocument.parse(data: huge, file: "huge.yaml"); Issue.record("accepted a huge file") } catch {
            #expect(error.message.contains("limited to"))
        }
        let latin1 = Data([0x69, 0x64, 0x3A, 0x20, 0xE6, 0xF8, 0xE5, 0x0A])
        do { _ = try YAMLDocument.parse(data: latin1, file: "latin1.yaml"); Issue.record("accepted latin-1") } catch {
            #expect(error.message.contains("UTF-8"))
        }
    }

    @Test("a missing file is one problem naming it")
    func missingFile() {
        let (scenario, problems) = Shipped.loader().load(path: "/nonexistent/x.yaml")
        #expect(scenario == nil)
        #expect(problems.map(\.description) == ["/nonexistent/x.yaml: cannot read the file (No such file or directory)"])
    }

    @Test("a broken scenario in a directory is skipped and the rest still load")
    func brokenFileIsSkipped() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("sparring-catalog-\(UUID())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        try FileManager.default.copyItem(atPath: Shipped.scenariosDirectory + "/moves.yaml", toPath: directory.path + "/moves.yaml")
        try FileManager.default.copyItem(atPath: Shipped.scenariosDirectory + "/debt-threat.yaml", toPath: directory.path + "/debt-threat.yaml")
        try FileManager.default.copyItem(atPath: Self.brokenDirectory + "/malformed.yaml", toPath: directory.path + "/malformed.yaml")
        let catalog = Catalog.load(scenarios: directory.path, voices: Shipped.voicesDirectory)
        #expect(catalog.scenarios.map(\.id) == ["debt-threat"])
        #expect(catalog.problems.count == 1)
        #expect(catalog.problems.first?.file.hasSuffix("malformed.yaml") == true)
    }

    @Test("voice files are checked too")
    func badVoice() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("sparring-voice-\(UUID())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.path + "/loud.yaml"
        try "espeak_voice: en-us\nrate: 900\nmoods:\n  livid: {rate: 10}\n".write(toFile: path, atomically: true, encoding: .utf8)
        let (_, problems) = VoiceProfile.load(path: path)
        #expect(problems.contains { $0.line == 2 && $0.field == "rate" && $0.message.contains("out of range") })
        #expect(problems.contains { $0.line == 4 && $0.field == "moods.livid" })
    }
}

@Suite("Loader fuzzing")
struct FuzzTests {
    /// Random bytes, truncations and mutations of real scenarios: the loader
    /// answers with a scenario or with problems, and never crashes or hangs.
    @Test("random and truncated YAML never crashes the loader")
    func fuzz() throws {
        let loader = Shipped.loader()
        var random = SeededRandom(seed: 2026)
        var inputs: [Data] = []
        for id in Shipped.ids {
            let data = try Data(contentsOf: URL(fileURLWithPath: "\(Shipped.scenariosDirectory)/\(id).yaml"))
            // Truncated at many points.
            for _ in 0..<60 { inputs.append(data.prefix(Int(random.next() % UInt64(data.count)))) }
            // Mutated: bytes replaced with YAML-significant characters.
            let specials = Array(":-[]{}&*!|>'\"#%@`\n\t ,?".utf8)
            for _ in 0..<60 {
                var bytes = [UInt8](data)
                for _ in 0..<(1 + Int(random.next() % 8)) {
                    bytes[Int(random.next() % UInt64(bytes.count))] = specials[Int(random.next() % UInt64(specials.count))]
                }
                inputs.append(Data(bytes))
            }
            // Lines shuffled.
            var lines = String(decoding: data, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false)
            for _ in 0..<10 {
                lines.swapAt(Int(random.next() % UInt64(lines.count)), Int(random.next() % UInt64(lines.count)))
                inputs.append(Data(lines.joined(separator: "\n").utf8))
            }
        }
        for _ in 0..<100 {
            inputs.append(Data((0..<Int(random.next() % 400)).map { _ in UInt8(truncatingIfNeeded: random.next()) }))
        }
        inputs += ["", "---", "[]", "~", "id: [", "{a: 1", "a: b: c", "- - - -", String(repeating: "[", count: 5000)].map { Data($0.utf8) }
        inputs += [12, 20].map { Data(YAMLScreenTests.aliasBomb(levels: $0).utf8) }
        // Control characters spliced into a real scenario.
        let shipped = try Data(contentsOf: URL(fileURLWithPath: "\(Shipped.scenariosDirectory)/debt-threat.yaml"))
        for _ in 0..<40 {
            var bytes = [UInt8](shipped)
            bytes[Int(random.next() % UInt64(bytes.count))] = UInt8(1 + random.next() % 31)
            inputs.append(Data(bytes))
        }

        var loaded = 0, refused = 0
        for (index, input) in inputs.enumerated() {
            let document: YAMLDocument
            do { document = try YAMLDocument.parse(data: input, file: "fuzz-\(index).yaml") } catch {
                refused += 1
                #expect(error.line >= 1, "input \(index): \(error) names no line")
                continue
            }
            let (scenario, problems) = loader.parse(document)
            for problem in problems { #expect(problem.line >= 1, "input \(index): \(problem) names no line") }
            if scenario != nil { loaded += 1 } else {
                refused += 1
                #expect(!problems.isEmpty, "input \(index) was neither loaded nor refused with a problem")
            }
        }
        #expect(refused > inputs.count / 2)
    }
}

@Suite("YAML screening")
struct YAMLScreenTests {
    /// Aliases nested as mapping keys: each level refers to the one before several times.
    static func aliasBomb(levels: Int) -> String {
        var lines = ["a0: &a0 [x, y]"]
        for level in 1...levels {
            lines.append("a\(level): &a\(level)")
            for j in 0..<4 { lines += ["  ? [*a\(level - 1), \(j)]", "  : \(j)"] }
        }
        lines += ["k:", "  ? *a\(levels)", "  : 1"]
        return lines.joined(separator: "\n") + "\n"
    }

    @Test("anchors and aliases are refused with their line, wherever a node starts")
    func anchorsAndAliases() {
        let cases: [(String, Int)] = [
            ("a: &x 1\nb: 2\n", 1),
            ("a: 1\nb: *x\n", 2),
            ("list:\n  - &item one\n", 2),
            ("flow: [a, *b]\n", 1),
            ("map: {k: *v}\n", 1),
            ("? *k\n: 1\n", 1),
            ("a: !!str &x 1\n", 1),
            ("a: \"quoted\"\nb:\n  - 'it''s'\n  - *z\n", 4),
        ]
        for (text, line) in cases {
            let finding = YAMLScreen.check(text)
            #expect(finding?.line == line, "\(text.debugDescription): \(String(describing: finding))")
            #expect(finding?.message.contains("not supported") == true)
        }
    }

    @Test("asterisks and ampersands inside text are text")
    func textIsText() {
        let cases = [
            "say: Fine, *sigh*, whatever\n",
            "say: Tom & Jerry\n",
            "say: \"*not* an alias\"\n",
            "say: '&not an anchor'\n",
            "say: \"a quote that goes\n  *on* to the next line\"\n",
            "note: |\n  * a bullet\n  & more\nnext: 1\n",
            "folded: >\n  *emphasis*\n",
            "# *comment*\na: 1 # &comment\n",
            "a: 3 * 4\n",
            "list: [\"*x\", 'y&']\n",
        ]
        for text in cases { #expect(YAMLScreen.check(text) == nil, "\(text.debugDescription)") }
        for id in Shipped.ids + ["moves"] {
            let text = (try? String(contentsOfFile: "\(Shipped.scenariosDirectory)/\(id).yaml", encoding: .utf8)) ?? ""
            #expect(!text.isEmpty)
            #expect(YAMLScreen.check(text) == nil, "\(id)")
        }
    }

    @Test("an alias bomb is refused at once, before the YAML library sees it")
    func aliasBomb() {
        // Thirty levels: the library would never finish; the screen reads the text once.
        var problem: Problem?
        do { _ = try YAMLDocument.parse(data: Data(Self.aliasBomb(levels: 30).utf8), file: "bomb.yaml") } catch { problem = error }
        #expect(problem?.line == 1)
        #expect(problem?.description.hasPrefix("bomb.yaml:1: an anchor") == true, "\(String(describing: problem))")
    }

    @Test("control characters and bad encodings are refused with their line")
    func controlCharacters() {
        func problem(_ bytes: [UInt8]) -> Problem? {
            do { _ = try YAMLDocument.parse(data: Data(bytes), file: "c.yaml"); return nil } catch { return error }
        }
        let bell = problem(Array("id: x\ntitle: \"a".utf8) + [0x07] + Array("b\"\n".utf8))
        #expect(bell?.line == 2)
        #expect(bell?.message.contains("U+0007") == true)
        let escape = problem(Array("id: x\n\nsay: ".utf8) + [0x1B] + Array("[31m\n".utf8))
        #expect(escape?.line == 3)
        let latin1 = problem(Array("id: x\na: b\nc: ".utf8) + [0xE6, 0x0A])
        #expect(latin1?.line == 3)
        #expect(latin1?.message.contains("UTF-8") == true)
        let nul = problem(Array("id: x\n\n\nz: ".utf8) + [0x00])
        #expect(nul?.line == 4)
        #expect(YAMLScreen.check("a: \tb\r\nc: é ✓ 😀\n") == nil)
    }

    @Test("a FIFO in place of a scenario file is refused, not waited on")
    func fifo() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("sparring-fifo-\(UUID()).yaml").path
        #expect(mkfifo(path, 0o600) == 0)
        defer { unlink(path) }
        do { _ = try YAMLDocument.load(path: path); Issue.record("read a FIFO") } catch {
            #expect(error.message.contains("not a regular file"))
        }
    }
}
