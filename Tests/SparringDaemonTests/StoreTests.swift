import Foundation
import Testing
@testable import SparringCore
@testable import SparringSessions

/// The supervisors' store, index and report on session folders written by the
/// real session writer (SessionLog, WaveWriter) and a real SQLite index.
@Suite("Session store and index")
struct StoreTests {
    /// A store in a fresh temporary directory.
    final class Store {
        let root: String
        let store: SessionStore
        /// Removes its directory when done unless told the caller owns it.
        private let owned: Bool
        init(root: String? = nil) {
            self.root = root ?? "/tmp/sparring-store-\(UUID().uuidString.prefix(8))"
            owned = root == nil
            store = SessionStore(root: self.root)
        }
        deinit { if owned { try? FileManager.default.removeItem(atPath: root) } }

        /// Writes a finished call the way LiveCall does: events as they happen, audio, then the summary.
        @discardableResult
        func call(_ id: String, agent: String, scenario: String, startedAt: String, outcome: String, score: Double?,
                  seconds: Double = 2, tone: Double = 0) throws -> String {
            let log = try SessionLog(sessions: root, id: id)
            log.append(SessionEvent(t: 0, .callStart(.init(scenario: scenario, agent: agent, seed: 0, startedAt: startedAt, rate: 16_000,
                                                           meters: ["anger": 60, "trust": 20]))))
            log.append(SessionEvent(t: 0.5, .callerLineStart(text: "You people never listen </script><b>!", latencyMs: nil, prepared: false)))
            log.append(SessionEvent(t: 1.2, .mood(meters: ["anger": 40, "trust": 45], mood: "calm")))
            let writer = try WaveWriter(path: log.wavPath, rate: 16_000, channels: 2)
            let frames = Int(seconds * 16_000)
            var samples = [Int16](repeating: 0, count: frames * 2)
            for i in 0..<frames where tone > 0 {
                samples[i * 2 + 1] = Int16(8_000 * sin(2 * Double.pi * tone * Double(i) / 16_000))
            }
            samples.withUnsafeBufferPointer { writer.append($0) }
            writer.close()
            let rubric = score.map { total in
                Score(total: total, passed: total >= 70, passMark: 70,
                      criteria: ["greeted": CriterionResult(title: "Greeted", weight: 1, passed: total >= 70, note: "n",
                                                            evidence: [EvidenceItem(t: CallTime(seconds: 0.5), text: "greeting: \"hello\"")])],
                      order: ["greeted"])
            }
            let summary = CallSummary(id: id, scenario: scenario, agent: agent, seed: 1, started_at: startedAt, duration_s: seconds,
                                      outcome: outcome, ended_by: "caller", score: rubric, turn_gap_ms: .init(p50: 420, p95: 610, count: 3),
                                      barge_in_ms: [], xruns: 0, realtime: false, interrupted: false,
                                      transcript: [.init(t: 0.5, speaker: "caller", text: "You people never listen")], session: log.directory)
            try log.writeSummary(summary)
            log.close()
            return log.directory
        }

        func fill() throws {
            try call("20261101T090000Z-debt-threat-0001", agent: "ana", scenario: "debt-threat", startedAt: "2026-11-01T09:00:00Z", outcome: "agree", score: 90)
            try call("20261105T100000Z-debt-threat-0002", agent: "ben", scenario: "debt-threat", startedAt: "2026-11-05T10:00:00Z", outcome: "hang_up", score: 20)
            try call("20261110T110000Z-tenant-repair-0003", agent: "ana", scenario: "tenant-repair", startedAt: "2026-11-10T11:00:00Z", outcome: "hang_up", score: 40)
            try call("20261112T120000Z-tenant-repair-0004", agent: "ben", scenario: "tenant-repair", startedAt: "2026-11-12T12:00:00Z", outcome: "agree", score: 75)
        }
    }

    @Test("a read-only sessions folder is listed: its index lives in the user's cache, nothing is written in the folder")
    func readOnlyFolder() throws {
        let store = Store()
        try store.fill()
        let cache = "/tmp/sparring-cache-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: cache, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o777])
        defer { try? FileManager.default.removeItem(atPath: cache) }
        // A shared folder: everyone may read, nobody else may write.
        for path in [store.root] + (FileManager.default.subpaths(atPath: store.root) ?? []).map({ "\(store.root)/\($0)" }) {
            var directory: ObjCBool = false
            FileManager.default.fileExists(atPath: path, isDirectory: &directory)
            chmod(path, directory.boolValue ? 0o555 : 0o444)
        }
        defer { chmod(store.root, 0o700) }
        // Root writes anywhere: as root, list as an unprivileged user, as a supervisor on a shared folder would.
        let binary = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        let built = [binary, binary.deletingLastPathComponent()].map { $0.appendingPathComponent("sparring").path }
            .first { FileManager.default.isExecutableFile(atPath: $0) } ?? ".build/debug/sparring"
        // A copy the unprivileged user can reach, wherever the checkout is (a home folder may be 0700).
        let sparring = cache + "/sparring-cli"
        try FileManager.default.copyItem(atPath: built, toPath: sparring)
        chmod(sparring, 0o755)
        let process = Process()
        if getuid() == 0 {
            process.executableURL = URL(fileURLWithPath: "/usr/bin/setpriv")
            process.arguments = ["--reuid=65534", "--regid=65534", "--clear-groups", sparring, "sessions", "--sessions", store.root, "--json"]
        } else {
            process.executableURL = URL(fileURLWithPath: sparring)
            process.arguments = ["sessions", "--sessions", store.root, "--json"]
        }
        process.environment = ["XDG_CACHE_HOME": cache, "HOME": cache, "PATH": "/usr/bin:/bin"]
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        let listed = out.fileHandleForReading.readDataToEndOfFile()
        let problems = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        #expect(process.terminationStatus == 0, "\(problems)")
        let rows = try #require(try JSONSerialization.jsonObject(with: listed) as? [[String: Any]], "\(problems)")
        #expect(rows.count == 4)
        #expect(!FileManager.default.fileExists(atPath: "\(store.root)/.index.sqlite"))
        let indexes = (try? FileManager.default.contentsOfDirectory(atPath: "\(cache)/sparring/index")) ?? []
        #expect(indexes.count == 1 && indexes[0].hasPrefix(URL(fileURLWithPath: store.root).lastPathComponent + "-"), "\(indexes)")
    }

    @Test("ids that could leave the store are refused with one line naming the id")
    func badIDs() throws {
        let bad: [(String, String)] = [
            ("../x", "may not start with a dot"), ("/etc/passwd", "may hold only"), ("a/b", "may hold only"), ("", "is empty"),
            (".index.sqlite", "may not start with a dot"), (String(repeating: "a", count: 129), "is too long"),
            ("café", "may hold only"), ("x\ny", "may hold only"), ("..", "may not start with a dot"),
        ]
        for (id, message) in bad {
            #expect(throws: SparringError.self) { try SessionStore.validate(id) }
            do { try SessionStore.validate(id) } catch {
                #expect(error.message.contains(message), "\(id): \(error.message)")
                #expect(!error.message.contains("\n"))
            }
        }
        for good in ["20261122T225436Z-debt-threat-31e0", "a", "A_b.c-1", String(repeating: "a", count: 128)] {
            try SessionStore.validate(good)
        }
    }

    @Test("filters, newest first; deleting the database and reindexing gives the same answers")
    func indexAndFilters() throws {
        let s = Store()
        try s.fill()
        let index = try SessionIndex(store: s.store)
        let changes = try index.refresh()
        #expect(changes.added.count == 4)
        func ids(_ filter: SessionFilter) throws -> [String] { try index.list(filter).map { String($0.id.suffix(4)) } }
        let queries: [SessionFilter] = [
            SessionFilter(), SessionFilter(agent: "ana"), SessionFilter(scenario: "tenant-repair"), SessionFilter(since: "2026-11-05"),
            SessionFilter(since: "2026-11-05T10:00:01Z"), SessionFilter(outcome: "hang_up"), SessionFilter(failedOnly: true),
            SessionFilter(agent: "ben", failedOnly: true), SessionFilter(agent: "nobody"),
        ]
        let expected = [["0004", "0003", "0002", "0001"], ["0003", "0001"], ["0004", "0003"], ["0004", "0003", "0002"],
                        ["0004", "0003"], ["0003", "0002"], ["0003", "0002"], ["0002"], []]
        let before = try queries.map(ids)
        #expect(before == expected)
        let row = try #require(try index.list(SessionFilter(agent: "ana")).first)
        #expect(row.score == 40 && row.passed == false && row.gap_p50_ms == 420 && row.gap_p95_ms == 610 && row.duration_s == 2)
        // A second refresh reads nothing again.
        #expect(try index.refresh() == SessionIndex.Changes())

        try FileManager.default.removeItem(atPath: index.path)
        let rebuilt = try SessionIndex(store: s.store)
        #expect(try rebuilt.list().isEmpty)
        #expect(try rebuilt.rebuild().added.count == 4)
        #expect(try queries.map { q in try rebuilt.list(q).map { String($0.id.suffix(4)) } } == before)
        #expect(throws: SparringError.self) { try rebuilt.list(SessionFilter(since: "last tuesday")) }
    }

    @Test("index file, session folders and annotations are private (0600/0700)")
    func permissions() throws {
        let s = Store()
        let directory = try s.call("20261101T090000Z-debt-threat-0001", agent: "ana", scenario: "debt-threat",
                                   startedAt: "2026-11-01T09:00:00Z", outcome: "agree", score: 90)
        let index = try SessionIndex(store: s.store)
        try index.refresh()
        _ = try s.store.annotate("20261101T090000Z-debt-threat-0001", at: 1, text: "good", by: "sue")
        func mode(_ path: String) throws -> Int { (try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? Int) ?? -1 }
        #expect(try mode(s.root) == 0o700)
        #expect(try mode(directory) == 0o700)
        for file in ["call.wav", "events.jsonl", "summary.json", "annotations.jsonl"] { #expect(try mode(directory + "/" + file) == 0o600, "\(file)") }
        #expect(try mode(index.path) == 0o600)
    }

    @Test("annotations are kept in the session, indexed, sorted, and refused outside the call")
    func annotations() throws {
        let s = Store()
        try s.fill()
        let id = "20261105T100000Z-debt-threat-0002"
        let index = try SessionIndex(store: s.store)
        try index.refresh()
        _ = try s.store.annotate(id, at: 1.5, text: "  here he escalates  ", by: "sue")
        _ = try s.store.annotate(id, at: 0.25, text: "too slow to greet", by: "raj")
        #expect(throws: SparringError.self) { try s.store.annotate(id, at: 30, text: "past the end", by: "sue") }
        #expect(throws: SparringError.self) { try s.store.annotate(id, at: 1, text: "   ", by: "sue") }
        let session = try s.store.load(id)
        #expect(session.annotations.map(\.text) == ["too slow to greet", "here he escalates"])
        #expect(session.annotations.map(\.by) == ["raj", "sue"])
        let changes = try index.refresh()
        #expect(changes.updated == [id])
        #expect(try index.list().first { $0.id == id }?.annotations == 2)
        #expect(try index.annotations(containing: "escalates").map(\.0) == [id])
    }

    @Test("links are never followed: a linked session folder is not listed, a linked file is not read")
    func links() throws {
        let s = Store()
        try s.fill()
        let outside = "/tmp/sparring-outside-\(UUID().uuidString.prefix(8))"
        defer { try? FileManager.default.removeItem(atPath: outside) }
        try Store.writeOutside(outside)
        #expect(symlink(outside + "/20261201T000000Z-x-0009", s.root + "/20261201T000000Z-x-0009") == 0)
        #expect(!s.store.ids().contains("20261201T000000Z-x-0009"))
        #expect(throws: SparringError.self) { try s.store.load("20261201T000000Z-x-0009") }
        #expect(throws: SparringError.self) { try s.store.delete("20261201T000000Z-x-0009") }
        #expect(FileManager.default.fileExists(atPath: outside + "/20261201T000000Z-x-0009/summary.json"))

        let id = "20261101T090000Z-debt-threat-0001"
        let summary = s.root + "/" + id + "/summary.json"
        try FileManager.default.removeItem(atPath: summary)
        #expect(symlink(outside + "/20261201T000000Z-x-0009/summary.json", summary) == 0)
        do {
            _ = try s.store.load(id)
            Issue.record("a linked summary.json was read")
        } catch { #expect(error.message.contains("is a link"), "\(error.message)") }
        let index = try SessionIndex(store: s.store)
        let changes = try index.refresh()
        #expect(changes.unreadable[id]?.contains("is a link") == true)
        #expect(try index.list().count == 3)
        // A crashed session (no summary) whose events file links outside: the repair, which writes, refuses it.
        let crashed = "20261105T100000Z-debt-threat-0002"
        let target = outside + "/20261201T000000Z-x-0009/events.jsonl"
        let before = try Data(contentsOf: URL(fileURLWithPath: target))
        try FileManager.default.removeItem(atPath: s.root + "/" + crashed + "/summary.json")
        try FileManager.default.removeItem(atPath: s.root + "/" + crashed + "/events.jsonl")
        #expect(symlink(target, s.root + "/" + crashed + "/events.jsonl") == 0)
        let again = try index.refresh()
        #expect(again.unreadable[crashed]?.contains("is a link") == true, "\(again)")
        #expect(try Data(contentsOf: URL(fileURLWithPath: target)) == before)
        #expect(!FileManager.default.fileExists(atPath: s.root + "/" + crashed + "/summary.json"))
    }

    @Test("a session cut as a SIGKILL leaves it is repaired by the index, listed as interrupted")
    func crashed() throws {
        let s = Store()
        try s.fill()
        let id = "20261110T110000Z-tenant-repair-0003"
        let directory = s.root + "/" + id
        try FileManager.default.removeItem(atPath: directory + "/summary.json")
        let events = try FileHandle(forWritingTo: URL(fileURLWithPath: directory + "/events.jsonl"))
        events.seekToEndOfFile()
        events.write(Data("{\"t\":1.9,\"type\":\"utter".utf8))
        try events.close()
        let wav = try FileHandle(forWritingTo: URL(fileURLWithPath: directory + "/call.wav"))
        wav.seekToEndOfFile()
        wav.write(Data([1, 2, 3]))
        try wav.close()
        let index = try SessionIndex(store: s.store)
        let changes = try index.refresh()
        #expect(changes.repaired[id] != nil)
        let row = try #require(try index.list(SessionFilter(scenario: "tenant-repair")).first { $0.id == id })
        #expect(row.interrupted && row.outcome == "interrupted" && row.ended_by == "crash" && row.score == nil)
        #expect(row.agent == "ana" && row.started_at == "2026-11-10T11:00:00Z")
        let session = try s.store.load(id)
        #expect(session.events.count == 3)
        #expect(try WaveFile.read(path: session.wavPath).frames == 32_000)
    }

    @Test("delete removes the folder and the index row; export copies the files, 0600")
    func deleteAndExport() throws {
        let s = Store()
        try s.fill()
        let index = try SessionIndex(store: s.store)
        try index.refresh()
        let out = s.root + "-export"
        defer { try? FileManager.default.removeItem(atPath: out) }
        let files = try s.store.export("20261101T090000Z-debt-threat-0001", to: out, extra: ["report.html": Data("<html>".utf8)])
        #expect(files == ["call.wav", "events.jsonl", "report.html", "summary.json"])
        #expect(FileManager.default.contents(atPath: out + "/call.wav") == FileManager.default.contents(atPath: s.root + "/20261101T090000Z-debt-threat-0001/call.wav"))
        #expect(throws: SparringError.self) { try s.store.export("20261101T090000Z-debt-threat-0001", to: out) }
        try s.store.delete("20261101T090000Z-debt-threat-0001")
        #expect(!FileManager.default.fileExists(atPath: s.root + "/20261101T090000Z-debt-threat-0001"))
        #expect(try index.refresh().removed == ["20261101T090000Z-debt-threat-0001"])
        #expect(try index.list().count == 3)
    }

    @Test("clock times parse and print as supervisors write them")
    func clock() {
        #expect(Clock.parse("1:23") == 83)
        #expect(Clock.parse("01:23.5") == 83.5)
        #expect(Clock.parse("1:02:03") == 3723)
        #expect(Clock.parse("45") == 45)
        for bad in ["", "1:", ":3", "1:75", "a:b", "-1:00", "1:2:3:4"] { #expect(Clock.parse(bad) == nil, "\(bad)") }
        #expect(Clock.format(83.46) == "1:23")
        #expect(Clock.format(83.46, tenths: true) == "1:23.5")
        #expect(Clock.format(59.96, tenths: true) == "1:00.0")
    }

    @Test("talk, silence and overlap are read off the recording")
    func activity() {
        // Agent talks 0.5–1.5 s, caller 1.0–2.5 s (a 300 Hz tone), silence elsewhere, 3 s in all.
        let rate = 16_000
        var samples = [Int16](repeating: 0, count: 3 * rate * 2)
        for i in 0..<(3 * rate) {
            let t = Double(i) / Double(rate)
            let wave = Int16(6_000 * sin(2 * Double.pi * 300 * t))
            if t >= 0.5 && t < 1.5 { samples[i * 2] = wave }
            if t >= 1.0 && t < 2.5 { samples[i * 2 + 1] = wave }
        }
        let activity = SpeechActivity.analyse(WaveFile.Audio(rate: rate, channels: 2, samples: samples))
        #expect(activity.agent == [[0.5, 1.5]])
        #expect(activity.caller == [[1.0, 2.5]])
        #expect(activity.overlap == [[1.0, 1.5]])
        #expect(activity.agentSeconds == 1 && activity.callerSeconds == 1.5 && activity.overlapSeconds == 0.5)
        #expect(activity.silenceSeconds == 1)
    }

    @Test("the report's recording is Ogg Opus: the same samples give the same bytes, a ten-minute call stays under 6 MB")
    func reportAudio() throws {
        let rate = 16_000
        var random = SeededRandom(seed: 5)
        func noise(_ size: Int) -> Double { Double(Int(random.next() % UInt64(2 * size + 1)) - size) }
        // Ten minutes of both channels busy: a voiced tone with noise, the hardest case for size.
        var samples = [Int16](repeating: 0, count: rate * 600 * 2)
        for i in 0..<(rate * 600) {
            let t = Double(i) / Double(rate)
            let voiced = 4_000 * sin(2 * Double.pi * 140 * t) + 2_000 * sin(2 * Double.pi * 1_130 * t)
            samples[i * 2] = Int16(voiced + noise(1_500))
            samples[i * 2 + 1] = Int16(noise(3_000))
        }
        let audio = WaveFile.Audio(rate: rate, channels: 2, samples: samples)
        let embedded = SessionReport.embeddedAudio(audio)
        #expect(embedded.type == "audio/ogg;codecs=opus")
        #expect(embedded.data.prefix(4) == Data("OggS".utf8))
        #expect(embedded.data.range(of: Data("OpusHead".utf8)) != nil)
        let wavBytes = 44 + rate * 600 * 2
        let base64 = (embedded.data.count + 2) / 3 * 4
        print("report audio: \(embedded.data.count) bytes of Ogg Opus (\(base64) in base64) for 10 minutes; mono 16 kHz WAV \(wavBytes)")
        #expect(base64 < 6_000_000 - 200_000, "the page around the audio needs room too")
        #expect(embedded.data.count < wavBytes / 8)
        let short = Array(samples.prefix(rate * 4))
        #expect(try OggOpus.encode(short, rate: rate, channels: 2) == (try OggOpus.encode(short, rate: rate, channels: 2)))
        #expect(throws: SparringError.self) { try OggOpus.encode(short, rate: 4, channels: 2) }
    }

    @Test("the report escapes what was said and embeds the audio, the data and no outside reference")
    func reportText() throws {
        let s = Store()
        try s.fill()
        _ = try s.store.annotate("20261101T090000Z-debt-threat-0001", at: 0.5, text: "<img src=x onerror=alert(1)>", by: "sue")
        let session = try s.store.load("20261101T090000Z-debt-threat-0001")
        let html = SessionReport.html(session, audio: try WaveFile.read(path: session.wavPath))
        #expect(!html.contains("<b>!"))
        #expect(html.contains("never listen &lt;/script&gt;&lt;b&gt;!"))
        #expect(!html.contains("<img src=x"))
        #expect(html.contains("data:audio/ogg;codecs=opus;base64,T2dnU"))  // "OggS"
        #expect(!html.contains("src=\"http") && !html.contains("href=\"http"))
        // A call without a title (recorded before titles were kept) is headed by its scenario id, times in local time.
        #expect(html.contains("<h1>debt-threat</h1>"))
        #expect(html.contains(SessionReport.localTime("2026-11-01T09:00:00Z")) && !html.contains(">2026-11-01T09:00:00Z<"))
        #expect(html.contains("<p class=\"legend\">") && html.contains("</span>anger") && html.contains("</span>trust"))
        // The fixture's agent channel is silent: the report says so first.
        #expect(html.contains("<p class=\"banner\" role=\"alert\">The agent said nothing audible in this call.</p>"))
        #expect(SessionReport.localTime("2026-11-01T09:00:00Z", zone: TimeZone(identifier: "Europe/Copenhagen")!) == "2026-11-01 10:00:00 UTC+01:00")
        // The JSON island cannot close its script element early.
        let island = try #require(html.range(of: "<script type=\"application/json\" id=\"data\">"))
        let end = try #require(html.range(of: "</script>", range: island.upperBound..<html.endIndex))
        #expect(!html[island.upperBound..<end.lowerBound].contains("</"))
    }
}

extension StoreTests.Store {
    /// A complete session in a directory outside the store (a link target).
    static func writeOutside(_ root: String) throws {
        try StoreTests.Store(root: root).call("20261201T000000Z-x-0009", agent: "eve", scenario: "x", startedAt: "2026-12-01T00:00:00Z",
                                              outcome: "agree", score: 99)
    }
}
