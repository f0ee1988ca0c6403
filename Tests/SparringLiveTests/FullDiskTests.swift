import Foundation
import Testing
#if canImport(Glibc)
import Glibc
#endif
import Synchronization
@testable import SparringAudio
@testable import SparringCore
@testable import SparringDaemon
@testable import SparringSessions
@testable import SparringSpeech

@Suite("A full disk", .serialized)
struct FullDiskTests {
    @Test("a recording that cannot be written stays a valid WAV of its whole frames, and says why")
    func waveOnFullDevice() throws {
        // /dev/full answers every write with ENOSPC.
        do {
            _ = try WaveWriter(path: "/dev/full", rate: 16_000, channels: 2)
            Issue.record("wrote a header to /dev/full")
        } catch { #expect(error.code == "disk_full" && error.message.contains("No space left"), "\(error.message)") }
    }

    @Test("a session on a disk with less room than a call needs is refused with one line naming the folder", .enabled(if: Tmpfs.available))
    func refusedWhenFull() throws {
        let tmp = try #require(Tmpfs.mount(megabytes: 8), "tmpfs cannot be mounted here")
        defer { Tmpfs.unmount(tmp) }
        do {
            _ = try SessionLog(sessions: tmp + "/sessions", id: "20261201T000000Z-x-0001")
            Issue.record("began a session with 8 MB free")
        } catch {
            #expect(error.code == "disk_full")
            #expect(error.message.contains(tmp + "/sessions") && error.message.contains("full"), "\(error.message)")
        }
        #expect(!FileManager.default.fileExists(atPath: tmp + "/sessions/20261201T000000Z-x-0001"))
    }

    @Test("filling the disk mid-write keeps whole event lines, whole frames and a summary", .enabled(if: Tmpfs.available))
    func fillMidWrite() throws {
        let tmp = try #require(Tmpfs.mount(megabytes: 40), "tmpfs cannot be mounted here")
        defer { Tmpfs.unmount(tmp) }
        let log = try SessionLog(sessions: tmp + "/s", id: "20261201T000000Z-debt-threat-0001")
        let writer = try WaveWriter(path: log.wavPath, rate: 16_000, channels: 2)
        log.append(SessionEvent(t: 0, .callStart(.init(scenario: "debt-threat", agent: "ana", seed: 0, startedAt: "", rate: 16_000))))
        Tmpfs.fill(tmp)
        let second = [Int16](repeating: 1000, count: 32_000)
        var flushes = 0
        while writer.failure == nil && flushes < 10_000 {
            second.withUnsafeBufferPointer { writer.append($0) }
            writer.flush()
            flushes += 1
        }
        let line = SessionEvent(t: 1, .utterance(.init(text: String(repeating: "words ", count: 2000))))
        for _ in 0..<10_000 where log.writeFailure == nil { log.append(line) }
        #expect(writer.failure?.contains("No space left") == true)
        #expect(log.writeFailure?.contains("No space left") == true)
        let summary = CallSummary(id: log.id, scenario: "debt-threat", agent: "ana", seed: 1, started_at: "2026-12-01T00:00:00Z",
                                  duration_s: 1, outcome: "agent_ended", ended_by: "disk_full", score: nil,
                                  turn_gap_ms: .init(p50: nil, p95: nil, count: 0), barge_in_ms: [], xruns: 0,
                                  realtime: false, interrupted: false, transcript: [], session: nil)
        try log.writeSummary(summary)
        log.close()
        let audio = try WaveFile.read(path: log.wavPath)
        #expect(audio.channels == 2 && audio.samples.count % 2 == 0)
        let text = try String(contentsOfFile: log.directory + "/events.jsonl", encoding: .utf8)
        #expect(text.hasSuffix("\n"))
        for row in text.split(separator: "\n") { #expect((try? JSONDecoder().decode(SessionEvent.self, from: Data(row.utf8))) != nil) }
        let stored = try SessionStore(root: tmp + "/s").load(log.id)
        #expect(stored.summary.ended_by == "disk_full")
    }
}

extension Live {
    @Suite("A disk that fills during a call", .serialized)
    struct FullDiskCallTests {
        @Test("the call ends by itself (ended_by disk_full) with a readable session, whenever the disk fills",
              .enabled(if: Tmpfs.available), arguments: [150, 400, 900])
        func fillsMidCall(period: Int) throws {
            let tmp = try #require(Tmpfs.mount(megabytes: 40))
            defer { Tmpfs.unmount(tmp) }
            let scenario = try #require(LiveCallTests.catalog.scenarios.first { $0.id == "debt-threat" })
            let models = try LiveCallTests.models()
            let agent = try models.scriptedAgent(try ScriptStep.parse(try LiveCallTests.skilled("debt-threat")),
                                                 voice: .festival("cmu_us_slt_arctic_hts"), rate: 16_000)
            let memory = MemoryLine(farEnd: agent)
            let line = HookedLine(inner: memory, name: "memory") { if $0 == period { Tmpfs.fill(tmp) } }
            let seen = Mutex<[SessionEvent]>([])
            let live = try LiveCall(line: line, options: CallOptions(scenario: scenario, agent: "t", seed: 1, sessions: tmp + "/s"),
                                    models: models, onEvent: { event in seen.withLock { $0.append(event) } })
            memory.settled = { live.isSettled() }
            let summary = try live.run()
            #expect(summary.ended_by == "disk_full")
            let told = seen.withLock { $0.first { $0.type == "disk_full" } }
            #expect(told.map { if case let .diskFull(reason) = $0.kind { reason.contains("No space left on device") } else { false } } == true,
                    "\(String(describing: told))")
            // The session on disk: a summary saying so, whole event lines, a WAV of whole frames.
            let stored = try SessionStore(root: tmp + "/s").load(live.session.id)
            #expect(stored.summary.ended_by == "disk_full")
            // Ended soon after: the recorder finds out at its next write (a memory line runs faster than real time).
            let filled = Double(period) / 100
            #expect(stored.summary.duration_s >= filled && stored.summary.duration_s < filled + 3, "\(stored.summary.duration_s)")
            let audio = try WaveFile.read(path: live.session.wavPath)
            #expect(audio.seconds > 0 && audio.seconds <= stored.summary.duration_s + 0.5)
            let text = try String(contentsOfFile: live.session.directory + "/events.jsonl", encoding: .utf8)
            for row in text.split(separator: "\n") { #expect((try? JSONDecoder().decode(SessionEvent.self, from: Data(row.utf8))) != nil) }
            // Until there is room, no new call.
            do {
                _ = try LiveCall(line: MemoryLine(farEnd: ScriptedAgent(steps: [.silence(1)], rate: 16_000)),
                                 options: CallOptions(scenario: scenario, agent: "t", seed: 1, sessions: tmp + "/s"), models: models)
                Issue.record("a call began on a full disk")
            } catch { #expect(error.code == "disk_full", "\(error.message)") }
        }
    }
}

/// A small file system of our own to fill, where the machine lets us mount one (as root, as CI runs).
enum Tmpfs {
    /// Whether this machine lets the tests mount one (root with CAP_SYS_ADMIN; CI runs so).
    static let available: Bool = {
        guard let path = mount(megabytes: 1) else { return false }
        unmount(path)
        return true
    }()

    static func mount(megabytes: Int) -> String? {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("sparring-tmpfs-\(UUID().uuidString.prefix(8))").path
        guard (try? FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)) != nil else { return nil }
        guard Glibc.mount("tmpfs", path, "tmpfs", 0, "size=\(megabytes)m,mode=0700") == 0 else {
            try? FileManager.default.removeItem(atPath: path)
            return nil
        }
        return path
    }

    static func unmount(_ path: String) {
        _ = umount2(path, Int32(MNT_DETACH))
        try? FileManager.default.removeItem(atPath: path)
    }

    /// Writes a filler file until the file system refuses.
    static func fill(_ path: String) {
        let fd = open(path + "/filler", O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        guard fd >= 0 else { return }
        defer { close(fd) }
        let block = [UInt8](repeating: 0, count: 1 << 16)
        while block.withUnsafeBytes({ write(fd, $0.baseAddress, $0.count) }) > 0 {}
    }
}

extension LiveProcesses.DaemonTests {
    @Test("the disk fills mid-call: the call ends (disk_full) with its session readable, the client gets one line, the daemon answers, refuses calls until there is room, then works",
          .enabled(if: Tmpfs.available))
    func diskFillsUnderTheDaemon() async throws {
        let harness = try DaemonHarness()
        defer { harness.remove() }
        try FileManager.default.createDirectory(atPath: harness.sessions, withIntermediateDirectories: true)
        guard Glibc.mount("tmpfs", harness.sessions, "tmpfs", 0, "size=40m,mode=0700") == 0 else {
            Issue.record("cannot mount a tmpfs on \(harness.sessions)")
            return
        }
        defer { _ = umount2(harness.sessions, Int32(MNT_DETACH)) }
        try await harness.start()
        let far = DaemonHarness.Running(try harness.farEnd(script: "[silence 60]", speed: 1))
        let (client, out, err) = try Self.sparring(["call", "debt-threat"], harness: harness)
        // Seconds into the call, so there is a recording to keep.
        try await harness.waitForCall(atLeast: 3)
        Tmpfs.fill(harness.sessions)
        let shown = try await textToEnd(out.fileHandleForReading)
        let complaint = try await textToEnd(err.fileHandleForReading)
        try await waitForExit(client)
        far.farEnd.vanish()
        try await far.wait()
        try await harness.waitIdle(seconds: 20)
        #expect(client.terminationStatus != 0)
        // One line on the client's stderr; the live view showed why as it happened.
        #expect(complaint.hasPrefix("sparring: the disk is full") && complaint.split(separator: "\n").count == 1, "\(complaint)")
        #expect(shown.contains("No space left on device"), "\(shown)")
        let session = try #require(shown.split(separator: "\n").first { $0.hasPrefix("Session ") && !$0.contains("ringing") }?.dropFirst(8))
        let summary = try harness.summary(String(session))
        #expect(summary.ended_by == "disk_full")
        #expect(try WaveFile.read(path: "\(harness.sessions)/\(session)/call.wav").seconds > 1)
        // Still answering; a new call is refused with the reason while the disk is full.
        #expect(try await harness.status().calls == 1)
        let refused = try await harness.request(DaemonHarness.start("debt-threat"))
        #expect(refused.ok == false && refused.message?.contains("full") == true, "\(refused.message ?? "")")
        // Room again: the next call works.
        unlink(harness.sessions + "/filler")
        try await harness.callOverSilence("debt-threat")
        #expect(try await harness.stop() == 0)
    }
}
