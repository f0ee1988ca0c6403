import Foundation
import Testing
import SparringTestSupport

/// Runs the built `sparring` binary the way a user or a script would.
@Suite("sparring command line")
struct CLITests {
    typealias Run = ChildRun

    static var binary: String {
        // The test bundle sits beside the products of the same build.
        let here = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        for candidate in [here, here.deletingLastPathComponent()] {
            let path = candidate.appendingPathComponent("sparring").path
            if FileManager.default.isExecutableFile(atPath: path) { return path }
        }
        return Shipped.root.appendingPathComponent(".build/debug/sparring").path
    }

    func sparring(_ arguments: [String], input: String? = nil, in directory: URL = Shipped.root,
                  environment: [String: String]? = nil) throws -> Run {
        try ChildProcess.run(Self.binary, arguments, input: input, environment: environment, directory: directory)
    }

    @Test("moves eval --scenario-moves scores every scenario's own moves on its held-out lines, and names a bad corpus line")
    func scenarioMovesEval() throws {
        let base = ["moves", "eval", "--scenarios", Shipped.root.appendingPathComponent("scenarios").path,
                    "--voices", Shipped.root.appendingPathComponent("voices").path, "--scenario-moves"]
        let held = try sparring(base)
        #expect(held.status == 0, "\(held.err)")
        #expect(held.out.contains("the own moves of 10 scenarios: 254 lines"), "\(held.out)")
        #expect(held.out.contains("tenant-repair/book_repair") && held.out.contains("coaching-stuck/ask_understanding"))
        #expect(held.out.contains("lowest recall"))
        let empty = FileManager.default.temporaryDirectory.appendingPathComponent("sparring-nocorpus-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: empty, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: empty) }
        try "book_repair\tFriday at nine then\nbogus\tHello\n".write(to: empty.appendingPathComponent("tenant-repair.tsv"), atomically: true, encoding: .utf8)
        let bad = try sparring(base + ["--corpus", empty.path])
        #expect(bad.status != 0 && bad.err.contains("tenant-repair.tsv:2: moves: unknown move 'bogus'"), "\(bad.err)")
    }

    @Test("scenarios, moves and voices are found from any directory, through one search path")
    func searchPath() throws {
        let elsewhere = FileManager.default.temporaryDirectory.appendingPathComponent("sparring-cwd-\(UUID().uuidString)")
        let config = elsewhere.appendingPathComponent("config")
        try FileManager.default.createDirectory(at: config.appendingPathComponent("sparring/scenarios"), withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: elsewhere) }
        var environment = ProcessInfo.processInfo.environment
        environment["SPARRING_SCENARIOS"] = nil
        environment["SPARRING_VOICES"] = nil
        environment["XDG_CONFIG_HOME"] = config.path
        let listed = try sparring(["scenarios"], in: elsewhere, environment: environment)
        #expect(listed.status == 0, "\(listed.err)")
        #expect(listed.out.contains("debt-threat"))
        let rehearsed = try sparring(["rehearse", "debt-threat"], input: "hello\n", in: elsewhere, environment: environment)
        #expect(rehearsed.status == 0 && !rehearsed.err.contains("unknown scenario"), "\(rehearsed.err)")
        // A scenario of the user's own, validated from its folder, uses the shipped moves and voices.
        let own = config.appendingPathComponent("sparring/scenarios/mine.yaml")
        try FileManager.default.copyItem(atPath: Shipped.scenariosDirectory + "/debt-threat.yaml", toPath: own.path)
        try String(contentsOf: own, encoding: .utf8).replacingOccurrences(of: "id: debt-threat", with: "id: mine")
            .write(to: own, atomically: true, encoding: .utf8)
        let validated = try sparring(["scenarios", "validate", own.path], in: elsewhere, environment: environment)
        #expect(validated.status == 0, "\(validated.out)\(validated.err)")
        #expect(!validated.out.contains("cannot read"))
        #expect(try sparring(["scenarios"], in: elsewhere, environment: environment).out.contains("mine"))
        // A colon list layers like the daemon's config.
        environment["SPARRING_SCENARIOS"] = Shipped.scenariosDirectory + ":" + config.appendingPathComponent("sparring/scenarios").path
        #expect(try sparring(["scenarios"], in: elsewhere, environment: environment).out.contains("mine"))
    }

    @Test("run picks a fresh seed for every call unless --seed is given, and saves it; the summary holds no outside path")
    func freshSeed() throws {
        let sessions = FileManager.default.temporaryDirectory.appendingPathComponent("sparring-seed-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: sessions) }
        func seed(_ extra: [String]) throws -> UInt64? {
            // A device that cannot open ends the call at once, with its session written.
            let run = try sparring(["run", "debt-threat", "--capture", "no-such-pcm", "--playback", "no-such-pcm",
                                    "--sessions", sessions.path, "--json"] + extra)
            #expect(run.err.contains("no-such-pcm"))
            let ids = try FileManager.default.contentsOfDirectory(atPath: sessions.path).sorted()
            let summary = try JSONSerialization.jsonObject(with: Data(contentsOf: sessions.appendingPathComponent(ids.last!).appendingPathComponent("summary.json"))) as? [String: Any]
            try FileManager.default.removeItem(at: sessions)
            // Nothing in a session refers outside it: no path of the recording machine.
            #expect(summary?["session"] == nil)
            // A call that never happened is not a failed call: no score, and the reason.
            #expect(summary?["score"] == nil)
            #expect((summary?["unscored"] as? String)?.hasPrefix("no call") == true)
            #expect(!(String(data: try JSONSerialization.data(withJSONObject: summary ?? [:]), encoding: .utf8) ?? "").contains(sessions.path))
            return (summary?["seed"] as? NSNumber)?.uint64Value
        }
        let first = try seed([]), second = try seed([])
        #expect(first != nil && second != nil && first != second, "\(String(describing: first)) \(String(describing: second))")
        #expect(try seed(["--seed", "5"]) == 5)
    }

    @Test("the binary was built with the tests")
    func built() { #expect(FileManager.default.isExecutableFile(atPath: Self.binary), "no sparring at \(Self.binary)") }

    @Test("scenarios --json lists every scenario with id and title")
    func listJSON() throws {
        let run = try sparring(["scenarios", "--json"])
        #expect(run.status == 0, "\(run.err)")
        let list = try #require(try JSONSerialization.jsonObject(with: Data(run.out.utf8)) as? [[String: Any]])
        #expect(Set(list.compactMap { $0["id"] as? String }) == Set(Shipped.ids))
        #expect(list.allSatisfy { ($0["title"] as? String)?.isEmpty == false })
    }

    @Test("validate passes shipped files and exits 1 with one line per problem on broken ones")
    func validate() throws {
        let good = try sparring(["scenarios", "validate", "scenarios/debt-threat.yaml", "scenarios/moves.yaml", "voices/debtor.yaml"])
        #expect(good.status == 0, "\(good.out)\(good.err)")
        let broken = "Tests/SparringCoreTests/Fixtures/broken/unknown-voice.yaml"
        let bad = try sparring(["scenarios", "validate", "--scenarios", "scenarios", "--voices", "voices", broken])
        #expect(bad.status == 1)
        #expect(bad.out.split(separator: "\n").contains { $0.hasPrefix("\(broken):4: persona.voice: unknown voice 'robot'") }, "\(bad.out)")
        let missing = try sparring(["scenarios", "validate", "no/such.yaml"])
        #expect(missing.status == 1)
        #expect(missing.out.contains("no/such.yaml: cannot read the file"))
    }

    @Test("a voice that cannot speak: validate names its line; simulate refuses its scenario in one line")
    func muteVoice() throws {
        let voices = FileManager.default.temporaryDirectory.appendingPathComponent("sparring-cli-\(UUID())/voices")
        try FileManager.default.createDirectory(at: voices, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: voices.deletingLastPathComponent()) }
        for name in try FileManager.default.contentsOfDirectory(atPath: Shipped.voicesDirectory) {
            try FileManager.default.copyItem(atPath: "\(Shipped.voicesDirectory)/\(name)", toPath: voices.appendingPathComponent(name).path)
        }
        let debtor = voices.appendingPathComponent("debtor.yaml").path
        let text = try String(contentsOfFile: debtor, encoding: .utf8).replacingOccurrences(of: "espeak_voice: en-us", with: "espeak_voice: klingon")
        try text.write(toFile: debtor, atomically: true, encoding: .utf8)
        let validate = try sparring(["scenarios", "validate", debtor])
        #expect(validate.status == 1)
        #expect(validate.out.hasPrefix("\(debtor):2: espeak_voice: 'klingon' is eSpeak NG's Klingon voice"), "\(validate.out)")
        let simulate = try sparring(["simulate", "debt-threat", "--voices", voices.path, "--script", "scenarios/scripts/debt-threat.skilled.txt"])
        #expect(simulate.status == 1)
        let lines = simulate.err.split(separator: "\n")
        #expect(lines.count == 1 && lines[0].hasPrefix("sparring: scenario 'debt-threat' cannot be used: \(debtor):2: espeak_voice:"), "\(simulate.err)")
        let list = try sparring(["scenarios", "--voices", voices.path])
        #expect(!list.out.contains("debt-threat") && list.err.contains("debt-threat.yaml"), "\(list.out)\(list.err)")
    }

    @Test("scenarios check prints each agent's outcomes and the lines never said")
    func check() throws {
        let run = try sparring(["scenarios", "check", "debt-threat", "--runs", "2", "--difficulty", "fair,strict"])
        #expect(run.status == 0, "\(run.err)")
        let lines = run.out.split(separator: "\n").map(String.init)
        #expect(lines.first == "2 calls per scenario, difficulty and agent, 20 % word errors, 15 % early starts")
        for level in ["fair", "strict"] {
            for kind in ["skilled", "paraphrased", "dismissive"] {
                #expect(lines.contains { $0.hasPrefix("debt-threat") && $0.contains(" \(level) ") && $0.contains(" \(kind) ") && $0.contains("%") },
                        "\(run.out)")
            }
        }
        let level = try sparring(["scenarios", "check", "debt-threat", "--difficulty", "brutal"])
        #expect(level.status == 1 && level.err == "sparring: unknown difficulty 'brutal' (strict, fair or empathic)\n")
        #expect(lines.contains { $0.hasPrefix("debt-threat: ") && $0.hasSuffix("caller lines never said") })
        let unknown = try sparring(["scenarios", "check", "no-such"])
        #expect(unknown.status == 1 && unknown.err.hasPrefix("sparring: unknown scenario 'no-such'"))
    }

    @Test("rehearse --json prints the documented object")
    func rehearseJSON() throws {
        let run = try sparring(["rehearse", "debt-threat", "--script", "scenarios/scripts/debt-threat.skilled.txt", "--seed", "5", "--json"])
        #expect(run.status == 0, "\(run.err)")
        let object = try #require(try JSONSerialization.jsonObject(with: Data(run.out.utf8)) as? [String: Any])
        #expect(object["scenario"] as? String == "debt-threat")
        #expect(object["seed"] as? Int == 5)
        #expect(object["outcome"] as? String == "agree")
        let turns = try #require(object["turns"] as? [[String: Any]])
        #expect(turns.count > 3)
        for turn in turns {
            #expect(turn.keys.contains("agent") && turn["moves"] is [String] && turn["caller"] is [String])
            let mood = try #require(turn["mood"] as? [String: Int])
            #expect(mood["anger"] != nil && mood["trust"] != nil)
        }
        let score = try #require(object["score"] as? [String: Any])
        #expect(score["passed"] as? Bool == true)
        #expect(score["total"] is Double || score["total"] is Int)
        #expect((score["criteria"] as? [String: Any])?.isEmpty == false)
    }

    @Test("interactive rehearse reads agent lines from standard input")
    func interactive() throws {
        let run = try sparring(["rehearse", "debt-threat"], input: "calm down\nthose are the rules, you should have paid\n")
        #expect(run.status == 0, "\(run.err)")
        #expect(run.out.contains("[calm_down]"))
        #expect(run.out.contains("Outcome: hang up") || run.out.contains("Outcome: escalate"))
        #expect(run.out.contains("Score:"))
    }

    @Test("an unknown scenario or a bad script is one clear line and exit 1")
    func badInput() throws {
        let unknown = try sparring(["rehearse", "no-such"])
        #expect(unknown.status == 1)
        #expect(unknown.err.trimmingCharacters(in: .newlines).split(separator: "\n").count == 1)
        #expect(unknown.err.contains("unknown scenario 'no-such'"))
        let script = FileManager.default.temporaryDirectory.appendingPathComponent("bad-\(UUID()).txt").path
        try "hello\n[silence forever]\n".write(toFile: script, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: script) }
        let bad = try sparring(["rehearse", "debt-threat", "--script", script])
        #expect(bad.status == 1)
        #expect(bad.err.contains("\(script):2: silence:"))
    }

    @Test("call, status and hangup without a daemon: one line saying so and how to start it, exit 69")
    func noDaemon() throws {
        let socket = FileManager.default.temporaryDirectory.appendingPathComponent("no-such-\(UUID())/control.sock").path
        for command in [["status"], ["hangup"], ["call", "debt-threat"]] {
            let run = try sparring(command + ["--socket", socket])
            #expect(run.status == 69)
            #expect(run.err == "sparring: sparringd is not running (nothing answers on \(socket)); start it with `systemctl --user start sparringd`, or run `sparringd` in another terminal\n")
            #expect(run.out.isEmpty)
        }
    }

    @Test("--version on both executables; usage errors exit 64, failures 1, and --help says so")
    func versionAndExitCodes() throws {
        let version = try sparring(["--version"])
        #expect(version.status == 0 && version.out.range(of: #"^\d+\.\d+\.\d+\n$"#, options: .regularExpression) != nil, "\(version.out)")
        let daemon = Process()
        daemon.executableURL = URL(fileURLWithPath: URL(fileURLWithPath: Self.binary).deletingLastPathComponent().appendingPathComponent("sparringd").path)
        daemon.arguments = ["--version"]
        let out = Pipe()
        daemon.standardOutput = out
        try daemon.run()
        let daemonVersion = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        daemon.waitUntilExit()
        #expect(daemon.terminationStatus == 0 && daemonVersion == version.out)
        #expect(try sparring(["run"]).status == 64)
        #expect(try sparring(["rehearse", "debt-threat", "--seed", "many"]).status == 64)
        #expect(try sparring(["rehearse", "no-such-scenario"]).status == 1)
        let help = try sparring(["--help"])
        let words = help.out.split(whereSeparator: \.isWhitespace).joined(separator: " ")
        #expect(words.contains("64 a usage error; 69 sparringd is not running") && words.contains("NO_COLOR"), "\(help.out)")
    }
}
