import Foundation
import Testing
@testable import SparringCore
@testable import SparringDaemon
@testable import SparringSessions

@Suite("Daemon configuration")
struct ConfigTests {
    func file(_ text: String) throws -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("sparringd-\(UUID()).yaml").path
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    @Test("file, then environment: each layer overrides what it sets")
    func layers() throws {
        var config = DaemonConfig()
        let path = try file("capture: hw:1\nrate: 48000\nscenarios: [/a, ~/b]\nhangover_ms: 400\nretention_days: 30\n")
        #expect(config.apply(file: path).isEmpty)
        #expect(config.capture == "hw:1" && config.playback == "default" && config.rate == 48_000)
        #expect(config.scenarios == ["/a", NSHomeDirectory() + "/b"] && config.hangoverMs == 400 && config.retentionDays == 30)
        #expect(config.apply(environment: ["SPARRING_CAPTURE": "hw:2", "SPARRING_SCENARIOS": "/x:/y", "SPARRING_RATE": "16000"]).isEmpty)
        #expect(config.capture == "hw:2" && config.scenarios == ["/x", "/y"] && config.rate == 16_000 && config.hangoverMs == 400)
    }

    @Test("every problem in one pass, each naming the file and line or the variable")
    func problems() throws {
        var config = DaemonConfig()
        let path = try file("rate: 44000\nhangover_ms: 5\ncaptur: hw:1\nscenarios: {a: 1}\nidle_timeout_s: 0\n")
        let found = config.apply(file: path).map(\.description)
        #expect(found.count == 5)
        #expect(found.contains { $0.hasPrefix("\(path):5: idle_timeout_s:") })
        #expect(config.idleTimeoutSeconds == 600)
        #expect(found.contains("\(path):1: rate: 44000 Hz is not supported (one of 8000, 16000, 22050, 32000, 44100, 48000)"))
        #expect(found.contains { $0.hasPrefix("\(path):2: hangover_ms:") })
        #expect(found.contains { $0.hasPrefix("\(path):3: captur: unknown field") })
        #expect(found.contains { $0.hasPrefix("\(path):4: scenarios:") })
        #expect(config.rate == 16_000 && config.capture == "default")
        let fromEnvironment = config.apply(environment: ["SPARRING_RATE": "fast"]).map(\.description)
        #expect(fromEnvironment == ["environment: SPARRING_RATE: expected a whole number in 8000–48000, found 'fast'"])
        config.socket = "/" + String(repeating: "s", count: 120)
        #expect(config.check().first?.field == "socket")
    }

    @Test("a sessions folder that cannot be written is a start-up problem naming the systemd fix")
    func unwritableSessions() throws {
        let shared = FileManager.default.temporaryDirectory.appendingPathComponent("sparring-shared-\(UUID())").path
        try FileManager.default.createDirectory(atPath: shared, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: shared) }
        var config = DaemonConfig()
        config.sessions = shared + "/sparring/sessions"
        // The folder does not exist yet: the nearest one above it must be writable.
        let problem = try #require(config.sessionsProblem(writable: { $0 != shared }))
        #expect(problem.field == "sessions")
        #expect(problem.message.hasPrefix("\(shared) cannot be written, so no call could be recorded in \(shared)/sparring/sessions"))
        #expect(problem.message.contains("systemctl --user edit sparringd") && problem.message.contains("ReadWritePaths=\(shared)/sparring/sessions"))
        #expect(config.sessionsProblem(writable: { _ in true }) == nil)
        config.sessions = FileManager.default.temporaryDirectory.appendingPathComponent("sparring-\(UUID())/sessions").path
        #expect(config.sessionsProblem() == nil)
    }

    @Test("the shipped config file is valid and says what the defaults are")
    func shipped() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        var config = DaemonConfig()
        #expect(config.apply(file: root.appendingPathComponent("systemd/sparringd.yaml").path).isEmpty)
        let defaults = DaemonConfig()
        #expect(config.rate == defaults.rate && config.hangoverMs == defaults.hangoverMs && config.capture == defaults.capture)
        #expect(config.idleTimeoutSeconds == defaults.idleTimeoutSeconds)
    }
}

@Suite("Session repair")
struct RepairTests {
    /// A session as a SIGKILL leaves it: events with half a last line, a WAV whose header counts less than it holds.
    func crashed(wavFrames: Int, flushedFrames: Int, halfFrame: Bool) throws -> String {
        let sessions = FileManager.default.temporaryDirectory.appendingPathComponent("sparring-repair-\(UUID())").path
        let log = try SessionLog(sessions: sessions, id: "20261122T101500Z-debt-threat-1a2b")
        log.append(SessionEvent(t: 0, .callStart(.init(scenario: "debt-threat", agent: "sam", seed: 4, startedAt: "2026-11-22T10:15:00Z", rate: 16_000))))
        log.append(SessionEvent(t: 1.2, .callerLineStart(text: "Who is this?", latencyMs: nil, prepared: false)))
        log.append(SessionEvent(t: 3.4, .utterance(.init(text: "good morning this is sam"))))
        log.close()
        let handle = try #require(FileHandle(forWritingAtPath: log.directory + "/events.jsonl"))
        handle.seekToEndOfFile()
        handle.write(Data(#"{"t":4.1,"type":"mo"#.utf8))
        try handle.close()
        var wav = WaveFile.header(rate: 16_000, channels: 2, dataBytes: flushedFrames * 4)
        wav.append(Data(repeating: 1, count: wavFrames * 4 + (halfFrame ? 2 : 0)))
        FileManager.default.createFile(atPath: log.directory + "/call.wav", contents: wav)
        return log.directory
    }

    @Test("events cut after the last whole line, every whole frame kept, summary marked interrupted")
    func repairs() throws {
        let directory = try crashed(wavFrames: 16_000 * 3, flushedFrames: 16_000 * 2, halfFrame: true)
        guard case .repaired = try SessionRepair.repair(directory: directory) else { Issue.record("not repaired"); return }
        let audio = try WaveFile.read(path: directory + "/call.wav")
        #expect(audio.frames == 16_000 * 3)
        let size = try FileManager.default.attributesOfItem(atPath: directory + "/call.wav")[.size] as? Int
        #expect(size == 44 + 16_000 * 3 * 4)
        let events = try String(contentsOfFile: directory + "/events.jsonl", encoding: .utf8)
        #expect(events.split(separator: "\n").count == 3 && events.hasSuffix("\n"))
        let summary = try JSONDecoder().decode(CallSummary.self, from: Data(contentsOf: URL(fileURLWithPath: directory + "/summary.json")))
        #expect(summary.interrupted && summary.ended_by == "crash" && summary.outcome == "interrupted")
        #expect(summary.scenario == "debt-threat" && summary.agent == "sam" && summary.seed == 4)
        #expect(summary.duration_s == Double(3.4))    // the later of the audio (3 s) and the last event
        #expect(summary.transcript.map(\.speaker) == ["caller", "agent"])
        // Once whole, it is left alone.
        #expect(try SessionRepair.repair(directory: directory) == .complete)
    }

    @Test("a session still recording in another open file description is not touched")
    func inProgress() throws {
        let sessions = FileManager.default.temporaryDirectory.appendingPathComponent("sparring-repair-\(UUID())").path
        let log = try SessionLog(sessions: sessions, id: "20261122T101500Z-debt-threat-beef")
        #expect(try SessionRepair.repair(directory: log.directory) == .inProgress)
        #expect(SessionRetention.isRecording(log.directory))
        #expect(SessionRetention.prune(sessions: sessions, olderThan: 0, now: Date().addingTimeInterval(86_400)).isEmpty)
        log.close()
        #expect(!SessionRetention.isRecording(log.directory))
    }

    @Test("retention removes old sessions only, and never follows a link out of the store")
    func retention() throws {
        let directory = try crashed(wavFrames: 100, flushedFrames: 100, halfFrame: false)
        let sessions = (directory as NSString).deletingLastPathComponent
        _ = try SessionRepair.repair(directory: directory)
        let outside = FileManager.default.temporaryDirectory.appendingPathComponent("sparring-outside-\(UUID())").path
        try FileManager.default.createDirectory(atPath: outside, withIntermediateDirectories: true)
        try FileManager.default.createSymbolicLink(atPath: sessions + "/link", withDestinationPath: outside)
        let started = ISO8601DateFormatter().date(from: "2026-11-22T10:15:00Z")!
        #expect(SessionRetention.prune(sessions: sessions, olderThan: 30, now: started.addingTimeInterval(29 * 86_400)).isEmpty)
        #expect(SessionRetention.prune(sessions: sessions, olderThan: 30, now: started.addingTimeInterval(31 * 86_400)) == ["20261122T101500Z-debt-threat-1a2b"])
        #expect(FileManager.default.fileExists(atPath: outside))
    }
}
