import Foundation
import Testing
@testable import SparringCore
@testable import SparringSessions

/// Session folders as an attacker or an unlucky copy leaves them: the supervisor's
/// tools list the good ones, name what is wrong with the bad ones, and never crash or wait.
@Suite("Crafted session folders")
struct HostileSessionTests {
    typealias Store = StoreTests.Store

    static func editSummary(_ directory: String, _ edit: (inout [String: Any]) -> Void) throws {
        let path = directory + "/summary.json"
        var object = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: path))) as? [String: Any])
        edit(&object)
        try JSONSerialization.data(withJSONObject: object).write(to: URL(fileURLWithPath: path))
    }

    @Test("numbers out of range make a session damaged, named with its field; the rest are listed",
          arguments: [("duration_s", "1e300"), ("duration_s", "-5"), ("xruns", "-3"), ("turn_gap_ms.p50", "1e308"),
                      ("transcript.t", "1e300"), ("score.total", "250")])
    func numbersOutOfRange(field: String, value: String) throws {
        let s = Store()
        try s.fill()
        let bad = "20261105T100000Z-debt-threat-0002"
        let number = try #require(Double(value))
        try Self.editSummary(s.root + "/" + bad) { object in
            switch field {
            case "duration_s": object["duration_s"] = number
            case "xruns": object["xruns"] = Int(number)
            case "turn_gap_ms.p50": object["turn_gap_ms"] = ["p50": number, "p95": 600, "count": 3]
            case "transcript.t": object["transcript"] = [["t": number, "speaker": "caller", "text": "x"]]
            default:
                var score = object["score"] as! [String: Any]
                score["total"] = number
                object["score"] = score
            }
        }
        do {
            _ = try s.store.load(bad)
            Issue.record("loaded a summary with \(field) = \(value)")
        } catch {
            #expect(error.message.contains("summary.json: \(field == "transcript.t" ? "transcript[0].t" : field == "score.total" ? "score.total" : field)"), "\(error.message)")
            #expect(error.message.contains("out of range"))
        }
        let index = try SessionIndex(store: s.store)
        let changes = try index.refresh()
        #expect(changes.unreadable.keys.sorted() == [bad])
        #expect(try index.list().count == 3)
    }

    @Test("events with impossible times are skipped, the rest of the session is read")
    func implausibleEvents() throws {
        let s = Store()
        try s.fill()
        let id = "20261101T090000Z-debt-threat-0001"
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: s.root + "/" + id + "/events.jsonl"))
        handle.seekToEndOfFile()
        handle.write(Data("{\"t\":1e300,\"type\":\"mood\"}\n{\"t\":1.5,\"type\":\"mood\",\"meters\":{\"anger\":1e300}}\n{\"t\":1.6,\"type\":\"xrun\",\"count\":-4}\n".utf8))
        try handle.close()
        let session = try s.store.load(id)
        #expect(session.events.count == 3)
        #expect(session.events.allSatisfy { $0.t < 10 })
    }

    @Test("a recording with sample rate 0 or no channels is refused with one line naming it")
    func badWave() throws {
        for (offset, value, words) in [(24, UInt32(0), "sample rate 0"), (22, UInt32(0), "0 channels")] {
            var header = WaveFile.header(rate: 16_000, channels: 2, dataBytes: 8) + Data(count: 8)
            if offset == 22 {
                header.replaceSubrange(22..<24, with: withUnsafeBytes(of: UInt16(value).littleEndian) { Data($0) })
            } else {
                header.replaceSubrange(offset..<offset + 4, with: withUnsafeBytes(of: value.littleEndian) { Data($0) })
            }
            do { _ = try WaveFile.parse(header, name: "call.wav"); Issue.record("parsed a WAV with \(words)") } catch {
                #expect(error.message.hasPrefix("call.wav: \(words)"), "\(error.message)")
            }
        }
    }

    @Test("a crashed session whose log says rate 0 is repaired at the recording rate, and reads back")
    func crashWithRateZero() throws {
        let s = Store()
        try s.fill()
        let id = "20261110T110000Z-tenant-repair-0003"
        let directory = s.root + "/" + id
        try FileManager.default.removeItem(atPath: directory + "/summary.json")
        let path = directory + "/events.jsonl"
        let text = try String(contentsOfFile: path, encoding: .utf8).replacingOccurrences(of: "\"rate\":16000", with: "\"rate\":0")
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        let index = try SessionIndex(store: s.store)
        let changes = try index.refresh()
        #expect(changes.repaired[id]?.contains("rate 0 is out of range") == true, "\(changes)")
        let session = try s.store.load(id)
        #expect(abs(session.summary.duration_s - 2) < 0.01)
        #expect(try WaveFile.read(path: session.wavPath).rate == 16_000)
        // Repaired once: the next listing has nothing to do.
        #expect(try index.refresh() == SessionIndex.Changes())
    }

    @Test("a FIFO in place of a session file is refused at once: listing, loading, repair, retention and delete never wait")
    func fifos() throws {
        let s = Store()
        try s.fill()
        let complete = "20261101T090000Z-debt-threat-0001"
        let crashed = "20261105T100000Z-debt-threat-0002"
        let fifoSummary = "20261110T110000Z-tenant-repair-0003"
        try FileManager.default.removeItem(atPath: s.root + "/" + complete + "/events.jsonl")
        #expect(mkfifo(s.root + "/" + complete + "/events.jsonl", 0o600) == 0)
        try FileManager.default.removeItem(atPath: s.root + "/" + crashed + "/summary.json")
        try FileManager.default.removeItem(atPath: s.root + "/" + crashed + "/events.jsonl")
        #expect(mkfifo(s.root + "/" + crashed + "/events.jsonl", 0o600) == 0)
        try FileManager.default.removeItem(atPath: s.root + "/" + fifoSummary + "/summary.json")
        #expect(mkfifo(s.root + "/" + fifoSummary + "/summary.json", 0o600) == 0)

        #expect(!SessionRetention.isRecording(s.root + "/" + complete))
        let index = try SessionIndex(store: s.store)
        let changes = try index.refresh()
        #expect(changes.unreadable[crashed]?.contains("not a regular file") == true, "\(changes)")
        #expect(changes.unreadable[fifoSummary]?.contains("not a regular file") == true, "\(changes)")
        // Its events cannot be read, but its summary can: listed, with no events.
        #expect(try s.store.load(complete).events.isEmpty)
        #expect(try index.list().map(\.id).contains(complete))
        #expect(throws: SparringError.self) { try SessionStore.read(s.root + "/" + complete, "events.jsonl") }
        try s.store.delete(complete)
        #expect(!FileManager.default.fileExists(atPath: s.root + "/" + complete))
        // The repair names the FIFO and goes on; retention still removes the old session beside them.
        let repaired = SessionRepair.repairAll(sessions: s.root)
        let refusal = repaired.first { $0.id == crashed }.map { result -> String in
            if case let .failure(error) = result.result { return error.message }
            return "repaired"
        }
        #expect(refusal?.contains("not a regular file") == true, "\(String(describing: refusal))")
        #expect(SessionRetention.prune(sessions: s.root, olderThan: 1, now: Date()).contains("20261112T120000Z-tenant-repair-0004"))
    }

    @Test("agent names and notes reach the terminal with their control characters shown, not obeyed")
    func terminalEscapes() {
        #expect(DisplayText.terminal("evil\u{1B}[31mRED\u{07}") == "evil^[[31mRED^G")
        #expect(DisplayText.terminal("a\u{9B}b\u{7F}c\u{202E}d") == "a<U+009B>b^?c<U+202E>d")
        #expect(DisplayText.terminal("two\nlines\tand é ✓") == "two\nlines\tand é ✓")
        #expect(DisplayText.nameProblem("ana") == nil)
        #expect(DisplayText.nameProblem("a\u{1B}]0;x\u{07}")?.contains("control character") == true)
        #expect(DisplayText.nameProblem(String(repeating: "x", count: 65))?.contains("at most 64") == true)
        #expect(DisplayText.nameProblem("  ") == "is empty")
    }

    @Test("annotations over 4 KiB or with control characters are refused with one line; nothing is written")
    func annotationLimits() throws {
        let s = Store()
        try s.fill()
        let id = "20261101T090000Z-debt-threat-0001"
        for (text, by, words) in [(String(repeating: "a", count: 4097), "sup", "4097 bytes long"),
                                  ("bell \u{07}", "sup", "control character"), ("fine", "x\u{1B}[2J", "--by")] {
            do {
                _ = try s.store.annotate(id, at: 1, text: text, by: by)
                Issue.record("accepted \(words)")
            } catch { #expect(error.message.contains(words), "\(error.message)") }
        }
        #expect(!FileManager.default.fileExists(atPath: s.root + "/" + id + "/annotations.jsonl"))
        _ = try s.store.annotate(id, at: 1, text: String(repeating: "a", count: 4096), by: "sup")
    }
}
