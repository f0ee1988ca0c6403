import Foundation
import Synchronization
import Testing
import SparringTestSupport
@testable import SparringCore
@testable import SparringSessions

extension LiveRecorded {

    /// `sparring sessions/show/annotate/replay/report/export/delete` on sessions
    /// recorded by real calls (`sparring simulate`: Festival agent, PocketSphinx,
    /// engine, eSpeak NG caller), replayed through FIFO-backed ALSA PCMs, the
    /// report opened in headless Chromium.
    @Suite("Supervisors' tools on recorded calls", .serialized)
    struct SupervisorTests {
        typealias Run = ChildRun

        /// The calls every test here reads: recorded once per test run.
        final class Calls: @unchecked Sendable {
            let root: String
            let sessions: String
            let summaries: [CallSummary]

            init(root: String, sessions: String, summaries: [CallSummary]) {
                self.root = root
                self.sessions = sessions
                self.summaries = summaries
            }

            /// Three calls by `sparring simulate`, one after the other, so they are listed in this order.
            static func record() async throws -> Calls {
                let root = "/tmp/sparring-supervisor-\(UUID().uuidString.prefix(8))"
                let sessions = root + "/sessions"
                try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
                var summaries: [CallSummary] = []
                let calls = [("debt-threat", "skilled", "ana", 7), ("debt-threat", "dismissive", "ben", 3), ("tenant-repair", "skilled", "ana", 2)]
                for (scenario, kind, agent, seed) in calls {
                    let run = try await SupervisorTests.sparring(["simulate", scenario, "--script", "scenarios/scripts/\(scenario).\(kind).txt",
                                                                  "--agent", agent, "--seed", "\(seed)", "--sessions", sessions, "--json"], home: root)
                    #expect(run.status == 0, "\(run.err)")
                    let line = try #require(run.out.split(separator: "\n").last)
                    summaries.append(try JSONDecoder().decode(CallSummary.self, from: Data(line.utf8)))
                }
                return Calls(root: root, sessions: sessions, summaries: summaries)
            }
        }
        nonisolated(unsafe) static var recorded: Calls?
        static func calls() async throws -> Calls {
            if let recorded { return recorded }
            let made = try await Calls.record()
            recorded = made
            return made
        }

        /// `sparring` run to its end from the repository, with a private home, on a thread of its own.
        static func sparring(_ arguments: [String], home: String) async throws -> Run {
            var environment = ProcessInfo.processInfo.environment
            environment["HOME"] = home
            environment["XDG_CONFIG_HOME"] = home + "/config"
            environment["XDG_DATA_HOME"] = home + "/data"
            return try await ChildProcess.finish(DaemonHarness.binary("sparring"), arguments, environment: environment,
                                                 directory: Live.LiveCallTests.root)
        }

        func sparring(_ arguments: [String], sessions: String? = nil) async throws -> Run {
            let calls = try await Self.calls()
            return try await Self.sparring(arguments + ["--sessions", sessions ?? calls.sessions], home: calls.root)
        }

        func list(_ filters: [String], sessions: String? = nil) async throws -> [String] {
            let run = try await sparring(["sessions"] + filters + ["--json"], sessions: sessions)
            #expect(run.status == 0, "\(run.err)")
            let rows = try JSONDecoder().decode([IndexedSession].self, from: Data(run.out.utf8))
            return rows.map(\.id)
        }

        @Test("sessions lists the recorded calls newest first; filters agree with the summaries; --reindex after deleting the database gives the same answers")
        func index() async throws {
            let calls = try await Self.calls()
            let byNewest = calls.summaries.sorted { ($0.started_at, $0.id) > ($1.started_at, $1.id) }
            #expect(try await list([]) == byNewest.map(\.id))
            let failed = byNewest.filter { $0.score?.passed == false }.map(\.id)
            #expect(!failed.isEmpty, "the dismissive call should fail its rubric")
            let queries: [[String]] = [[], ["--agent", "ana"], ["--agent", "ben"], ["--scenario", "tenant-repair"], ["--failed"],
                                       ["--outcome", calls.summaries[1].outcome], ["--since", "2026-01-01"], ["--since", "2999-01-01"],
                                       ["--agent", "ana", "--scenario", "debt-threat"]]
            var answers: [[String]] = []
            for query in queries { answers.append(try await list(query)) }
            #expect(answers[1] == byNewest.filter { $0.agent == "ana" }.map(\.id))
            #expect(answers[2] == [calls.summaries[1].id])
            #expect(answers[3] == [calls.summaries[2].id])
            #expect(answers[4] == failed)
            #expect(answers[5] == byNewest.filter { $0.outcome == calls.summaries[1].outcome }.map(\.id))
            #expect(answers[6] == answers[0] && answers[7].isEmpty)
            #expect(answers[8] == [calls.summaries[0].id])
            let table = try await sparring(["sessions"])
            #expect(table.out.hasPrefix("ID ") && table.out.contains("debt-threat") && table.out.split(separator: "\n").count == 4, "\(table.out)")

            try FileManager.default.removeItem(atPath: calls.sessions + "/.index.sqlite")
            #expect(try await list(["--reindex"]) == answers[0])
            try FileManager.default.removeItem(atPath: calls.sessions + "/.index.sqlite")
            var again: [[String]] = []
            for query in queries { again.append(try await list(query)) }
            #expect(again == answers)
        }

        @Test("show prints the transcript, moves, moods, score with evidence and turn gaps; an annotation shows in show, replay cues and report")
        func showAndAnnotate() async throws {
            let calls = try await Self.calls()
            let summary = calls.summaries[0]
            let shown = try await sparring(["show", summary.id])
            #expect(shown.status == 0, "\(shown.err)")
            for line in summary.transcript.prefix(3) { #expect(shown.out.contains(line.text), "\(line.text)") }
            #expect(shown.out.contains("move: ") && shown.out.contains("(like \"") && shown.out.contains("· mood "))
            #expect(shown.out.contains("Score \(plainNumber(summary.score?.total ?? -1)) of 100"))
            #expect(shown.out.contains("Turn gaps: p50 \(Int(summary.turn_gap_ms.p50 ?? -1)) ms"))
            let json = try await sparring(["show", summary.id, "--json"])
            let object = try #require(try JSONSerialization.jsonObject(with: Data(json.out.utf8)) as? [String: Any])
            #expect((object["summary"] as? [String: Any])?["id"] as? String == summary.id)
            #expect(((object["events"] as? [Any])?.count ?? 0) > 10)

            let note = try await sparring(["annotate", summary.id, "--at", "0:15", "--by", "sue", "Good", "acknowledgement", "here"])
            #expect(note.status == 0, "\(note.err)")
            let again = try await sparring(["show", summary.id])
            #expect(again.out.contains("✎ note by sue: Good acknowledgement here"))
            #expect(again.out.contains("  0:15.0  ✎ note by sue"))
            let outside = try await sparring(["annotate", summary.id, "--at", "59:00", "late"])
            #expect(outside.status == 1 && outside.err.contains("outside the call"))
            let badTime = try await sparring(["annotate", summary.id, "--at", "1:99", "x"])
            #expect(badTime.status == 1 && badTime.err.contains("expected MM:SS"))
        }

        // MARK: Replay through FIFO-backed ALSA PCMs

        /// A private HOME whose `.asoundrc` names `replay_out`, a file PCM writing into a FIFO.
        final class ReplayLine: @unchecked Sendable {
            /// What a replay gave, handed over from the thread it ran on.
            struct Heard: @unchecked Sendable { var status: Int32; var samples: [Int16]; var lines: [(String, Double)]; var err: String }

            let home: String
            let fifo: String
            init() throws {
                home = "/tmp/sparring-replay-\(UUID().uuidString.prefix(8))"
                fifo = home + "/out.fifo"
                try FileManager.default.createDirectory(atPath: home, withIntermediateDirectories: true)
                #expect(mkfifo(fifo, 0o600) == 0)
                try "pcm.replay_out { type file slave.pcm \"null\" file \"\(fifo)\" format \"raw\" }\n"
                    .write(toFile: home + "/.asoundrc", atomically: true, encoding: .utf8)
            }
            deinit { try? FileManager.default.removeItem(atPath: home) }

            /// Runs `sparring replay … --device replay_out`, reading the FIFO at `pace` times real time
            /// (unpaced when infinite); returns the samples heard and each printed line with the
            /// position of the audio read from the FIFO when the line arrived.
            func replay(_ arguments: [String], sessions: String, pace: Double = .infinity, interruptAfter: Double? = nil) async throws -> Heard {
                try await onOwnThread { [self] in
                    let (status, samples, lines, err) = try blockingReplay(arguments, sessions: sessions, pace: pace, interruptAfter: interruptAfter)
                    return Heard(status: status, samples: samples, lines: lines, err: err)
                }
            }

            func blockingReplay(_ arguments: [String], sessions: String, pace: Double, interruptAfter: Double?) throws -> (Int32, [Int16], [(String, Double)], String) {
                let process = Process()
                process.executableURL = URL(fileURLWithPath: DaemonHarness.binary("sparring"))
                process.arguments = ["replay"] + arguments + ["--device", "replay_out", "--sessions", sessions]
                var environment = ProcessInfo.processInfo.environment
                environment["HOME"] = home
                process.environment = environment
                let out = Pipe(), err = Pipe()
                process.standardOutput = out
                process.standardError = err
                // The pipe is made small (F_SETPIPE_SZ, 4 KiB = 128 ms) before the replay can fill it,
                // through a descriptor of our own that also keeps the reader from an early end of file.
                let keep = open(fifo, O_RDWR)
                guard keep >= 0 && fcntl(keep, 1031, 4096) == 4096 else { throw SparringTestError("\(fifo): cannot hold it open with a 4 KiB pipe (\(errno))") }
                try process.run()
                let heard = Atomic<Int>(0)
                let samples = Mutex([Int16]())
                let fifo = self.fifo
                let pid = process.processIdentifier
                let done = DispatchSemaphore(value: 0)
                Thread.detachNewThread {
                    let fd = open(fifo, O_RDONLY)
                    defer { close(fd); done.signal() }
                    guard fd >= 0 else { return }
                    var chunk = [Int16](repeating: 0, count: 160)
                    var leftover: UInt8?
                    let started = DispatchTime.now().uptimeNanoseconds
                    var total = 0
                    var interrupted = false
                    while true {
                        let n = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
                        if n <= 0 { break }
                        var bytes = [UInt8](repeating: 0, count: n)
                        chunk.withUnsafeBytes { raw in for i in 0..<n { bytes[i] = raw[i] } }
                        if let first = leftover { bytes.insert(first, at: 0); leftover = nil }
                        if bytes.count % 2 == 1 { leftover = bytes.removeLast() }
                        let values = stride(from: 0, to: bytes.count, by: 2).map { Int16(bitPattern: UInt16(bytes[$0]) | UInt16(bytes[$0 + 1]) << 8) }
                        samples.withLock { $0.append(contentsOf: values) }
                        total += values.count
                        heard.store(total, ordering: .releasing)
                        if let interruptAfter, Double(total) / 16_000 >= interruptAfter, !interrupted {
                            interrupted = true
                            kill(pid, SIGINT)
                        }
                        if pace.isFinite {
                            let due = started + UInt64(Double(total) / 16_000 / pace * 1e9)
                            let now = DispatchTime.now().uptimeNanoseconds
                            if due > now { usleep(UInt32((due - now) / 1_000)) }
                        }
                    }
                }
                var lines: [(String, Double)] = []
                var pending = Data()
                let handle = out.fileHandleForReading
                while true {
                    let data = handle.availableData
                    if data.isEmpty { break }
                    pending.append(data)
                    while let newline = pending.firstIndex(of: 0x0A) {
                        let line = String(decoding: pending[pending.startIndex..<newline], as: UTF8.self)
                        lines.append((line, Double(heard.load(ordering: .acquiring)) / 16_000))
                        pending.removeSubrange(pending.startIndex...newline)
                    }
                }
                let errText = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
                process.waitUntilExit()
                // The replay has closed its end: the reader drains the pipe and sees end of file.
                close(keep)
                done.wait()
                return (process.terminationStatus, samples.withLock { $0 }, lines, errText)
            }
        }

        @Test("replay returns exactly the recorded audio per channel and mixed, and --from starts where asked")
        func replayExact() async throws {
            let calls = try await Self.calls()
            let id = calls.summaries[0].id
            let audio = try WaveFile.read(path: "\(calls.sessions)/\(id)/call.wav")
            let line = try ReplayLine()
            let expected: [(String, [Int16])] = [("agent", audio.channel(0)), ("caller", audio.channel(1)), ("both", audio.mixdown())]
            for (channel, samples) in expected {
                let run = try await line.replay([id, "--channel", channel], sessions: calls.sessions)
                #expect(run.status == 0, "\(run.err)")
                #expect(run.samples.count == samples.count, "\(channel): \(run.samples.count) vs \(samples.count)")
                #expect(run.samples == samples, "\(channel): the replayed audio differs from the recording")
                #expect(run.lines.last?.0.hasPrefix("end of the recording at") == true)
            }
            #expect(expected[2].1.contains { $0 != 0 } && expected[0].1 != expected[1].1)
            let from = try await line.replay([id, "--channel", "caller", "--from", "0:10.5"], sessions: calls.sessions)
            #expect(from.samples == Array(audio.channel(1)[168_000...]))
            let cues = from.lines.dropFirst().filter { $0.0.hasPrefix("[") }
            #expect(!cues.isEmpty)
            #expect(cues.allSatisfy { Clock.parse(String($0.0.dropFirst().prefix { $0 != "]" }))! >= 10.5 })

            // One turning point of the debrief, both voices, a few seconds either side of it.
            let dismissive = calls.summaries[1]
            let point = try #require(dismissive.turning_points?.first)
            let wave = try WaveFile.read(path: "\(calls.sessions)/\(dismissive.id)/call.wav")
            let (start, end) = SessionReport.clip(point, duration: dismissive.duration_s)
            let mixed = wave.mixdown()
            let first = Int((start * Double(wave.rate)).rounded()), last = min(mixed.count, Int((end * Double(wave.rate)).rounded()))
            let clip = try await line.replay([dismissive.id, "--moment", "1"], sessions: calls.sessions)
            #expect(clip.status == 0, "\(clip.err)")
            #expect(clip.samples == Array(mixed[first..<last]), "clip of \(clip.samples.count) samples, not \(last - first)")
            #expect(clip.lines.last?.0.hasPrefix("end of the clip at") == true)
            let none = try await line.replay([dismissive.id, "--moment", "9"], sessions: calls.sessions)
            #expect(none.status == 1 && none.err.contains("has turning points 1 to"), "\(none.err)")
        }

        @Test("replay prints each utterance, caller line, mood change and annotation as its audio is heard")
        func replayAligned() async throws {
            let calls = try await Self.calls()
            let summary = calls.summaries[2]
            _ = try await sparring(["annotate", summary.id, "--at", "0:20", "--by", "sue", "listen", "from", "here"])
            let line = try ReplayLine()
            // 4× real time from 0:05: the reader's pace sets the pace of the replay.
            let run = try await line.replay([summary.id, "--from", "0:05"], sessions: calls.sessions, pace: 4)
            #expect(run.status == 0, "\(run.err)")
            let cues = run.lines.filter { $0.0.hasPrefix("[") }
            #expect(cues.contains { $0.0.contains("note by sue: listen from here") })
            #expect(cues.contains { $0.0.contains("] caller: ") } && cues.contains { $0.0.contains("] agent: ") } && cues.contains { $0.0.contains("] mood: ") })
            var worst = 0.0
            for (text, heardAt) in cues {
                let t = try #require(Clock.parse(String(text.dropFirst().prefix { $0 != "]" })))
                guard t < summary.duration_s - 0.5 else { continue }  // the last cues come with the drain
                worst = max(worst, abs((5 + heardAt) - t))
            }
            // One 80 ms ALSA buffer, a 4 KiB pipe (128 ms) and a read period; at 4× pace.
            #expect(worst < 0.35, "a cue was printed \(worst) s away from its audio")
            print("replay alignment: worst cue \(String(format: "%.3f", worst)) s from its audio over \(cues.count) cues")
        }

        /// A call whose caller says one 440 Hz tone for 4 s: length and pitch are easy to read.
        static func toneSession() throws -> (store: String, id: String) {
            let store = "/tmp/sparring-tone-\(UUID().uuidString.prefix(8))"
            let id = "20261120T100000Z-tone-0001"
            let log = try SessionLog(sessions: store, id: id)
            log.append(SessionEvent(t: 0, .callStart(.init(scenario: "tone", agent: "t", seed: 0, startedAt: "2026-11-20T10:00:00Z", rate: 16_000))))
            let writer = try WaveWriter(path: log.wavPath, rate: 16_000, channels: 2)
            var tone = [Int16](repeating: 0, count: 128_000)
            for i in 0..<64_000 {
                let phase = 2 * Double.pi * 440 * Double(i) / 16_000
                tone[i * 2 + 1] = Int16(9_000 * sin(phase))
            }
            tone.withUnsafeBufferPointer { writer.append($0) }
            writer.close()
            try log.writeSummary(CallSummary(id: id, scenario: "tone", agent: "t", seed: 1, started_at: "2026-11-20T10:00:00Z", duration_s: 4,
                                             outcome: "agree", ended_by: "caller", score: nil, turn_gap_ms: .init(p50: nil, p95: nil, count: 0),
                                             barge_in_ms: [], xruns: 0, realtime: false, interrupted: false, transcript: [], session: nil))
            log.close()
            return (store, id)
        }

        @Test("Ctrl-C stops a replay at once, cleanly, saying where")
        func replayInterrupted() async throws {
            let (store, id) = try Self.toneSession()
            defer { try? FileManager.default.removeItem(atPath: store) }
            let line = try ReplayLine()
            // Read at real time; SIGINT once a second of audio has been heard.
            let run = try await line.replay([id, "--channel", "caller"], sessions: store, pace: 1, interruptAfter: 1.0)
            #expect(run.status == 0, "\(run.err)")
            #expect(run.lines.last?.0.hasPrefix("stopped at 0:01") == true, "\(run.lines.map(\.0))")
            #expect(run.samples.count > 16_000 && run.samples.count < 32_000, "\(run.samples.count) samples heard")
        }

        @Test("--speed keeps the pitch and changes the length; out-of-range speeds are refused")
        func replaySpeed() async throws {
            let (store, id) = try Self.toneSession()
            defer { try? FileManager.default.removeItem(atPath: store) }
            let line = try ReplayLine()
            for speed in [0.5, 1.5, 2.0] {
                let run = try await line.replay([id, "--channel", "caller", "--speed", "\(speed)"], sessions: store)
                #expect(run.status == 0, "\(run.err)")
                let expected = 64_000 / speed
                #expect(abs(Double(run.samples.count) - expected) / expected < 0.03, "speed \(speed): \(run.samples.count) samples, expected ~\(Int(expected))")
                // Pitch from rising zero crossings in the middle (away from the edges).
                let middle = run.samples[(run.samples.count / 4)..<(run.samples.count * 3 / 4)]
                var crossings = 0
                var previous = middle.first ?? 0
                for sample in middle.dropFirst() {
                    if previous < 0 && sample >= 0 { crossings += 1 }
                    previous = sample
                }
                let hertz = Double(crossings) / (Double(middle.count) / 16_000)
                #expect(abs(hertz - 440) < 15, "speed \(speed): the tone came out at \(hertz) Hz")
            }
            let bad = try await line.replay([id, "--speed", "3"], sessions: store)
            #expect(bad.status == 1 && bad.err.contains("--speed 3.0: must be between 0.5 and 2"), "\(bad.err)")
            let late = try await line.replay([id, "--from", "9:00"], sessions: store)
            #expect(late.status == 1 && late.err.contains("past the end"), "\(late.err)")
        }

        // MARK: Crash safety and bad ids

        @Test("a session cut as SIGKILL leaves it is repaired, listed, shown and replayed")
        func crashedSession() async throws {
            let calls = try await Self.calls()
            let original = calls.summaries[1]
            let store = calls.root + "/crashed"
            let directory = store + "/" + original.id
            try FileManager.default.createDirectory(atPath: store, withIntermediateDirectories: true)
            try FileManager.default.copyItem(atPath: "\(calls.sessions)/\(original.id)", toPath: directory)
            try FileManager.default.removeItem(atPath: directory + "/summary.json")
            // Half an event line and a recording cut mid-frame, its header counting more than is there.
            let eventsPath = directory + "/events.jsonl"
            let events = try Data(contentsOf: URL(fileURLWithPath: eventsPath))
            let cutEvents = events.count * 2 / 3
            try events.prefix(cutEvents).write(to: URL(fileURLWithPath: eventsPath))
            let wavPath = directory + "/call.wav"
            let size = try #require(try FileManager.default.attributesOfItem(atPath: wavPath)[.size] as? Int)
            #expect(truncate(wavPath, off_t(size * 2 / 3 + 3)) == 0)
            let keptFrames = (size * 2 / 3 + 3 - 44) / 4

            let listed = try await sparring(["sessions", "--json"], sessions: store)
            #expect(listed.status == 0)
            #expect(listed.err.contains("repaired \(original.id)"), "\(listed.err)")
            let rows = try JSONDecoder().decode([IndexedSession].self, from: Data(listed.out.utf8))
            let row = try #require(rows.first)
            #expect(row.interrupted && row.ended_by == "crash" && row.agent == "ben" && row.scenario == "debt-threat")
            let shown = try await sparring(["show", original.id], sessions: store)
            #expect(shown.status == 0 && shown.out.contains("interrupted: repaired after a crash"))
            #expect(shown.out.contains(original.transcript[0].text))
            // A crash leaves no debrief, and the debrief says why.
            let debrief = try await sparring(["show", original.id, "--debrief"], sessions: store)
            #expect(debrief.status == 0 && debrief.out.contains("No turning points: the call was interrupted before it could be debriefed"),
                    "\(debrief.out)")
            let line = try ReplayLine()
            let replay = try await line.replay([original.id, "--channel", "both"], sessions: store)
            #expect(replay.status == 0, "\(replay.err)")
            #expect(replay.samples.count == keptFrames)
            let recorded = try WaveFile.read(path: "\(calls.sessions)/\(original.id)/call.wav")
            #expect(replay.samples == Array(recorded.mixdown().prefix(keptFrames)))
        }

        @Test("bad ids get one clear line from every command and touch nothing")
        func badIDs() async throws {
            let calls = try await Self.calls()
            _ = try await list([])
            func snapshot() throws -> [String] {
                let enumerator = FileManager.default.enumerator(atPath: calls.root)
                var entries: [String] = []
                while let path = enumerator?.nextObject() as? String {
                    var info = stat()
                    lstat(calls.root + "/" + path, &info)
                    entries.append("\(path) \(info.st_size) \(info.st_mtim.tv_sec).\(info.st_mtim.tv_nsec)")
                }
                return entries.sorted()
            }
            let before = try snapshot()
            let outside = calls.root + "-outside.html"
            let ids = ["../sessions", "/etc", String(repeating: "x", count: 300), "20990101T000000Z-nothing-0000", "..", "a/../../b"]
            let commands: [[String]] = [["show"], ["replay"], ["annotate", "--at", "0:01", "note"], ["report", "-o", outside],
                                        ["export", "-o", calls.root + "-export"], ["delete", "--yes"]]
            for id in ids {
                for command in commands {
                    let arguments = [command[0], id] + command.dropFirst()
                    let run = try await sparring(arguments)
                    #expect(run.status == 1, "\(arguments): \(run.status)")
                    let lines = run.err.split(separator: "\n")
                    #expect(lines.count == 1, "\(arguments): \(run.err)")
                    #expect(lines.first?.contains("session id") == true || lines.first?.contains("no session") == true, "\(run.err)")
                    #expect(run.out.isEmpty)
                }
            }
            #expect(try snapshot() == before)
            #expect(!FileManager.default.fileExists(atPath: outside) && !FileManager.default.fileExists(atPath: calls.root + "-export"))
        }

        @Test("export copies the call with its report; delete removes it from folders and index; prune keeps recent calls")
        func exportDeletePrune() async throws {
            let calls = try await Self.calls()
            let store = calls.root + "/copy"
            try FileManager.default.copyItem(atPath: calls.sessions, toPath: store)
            let id = calls.summaries[1].id
            let out = calls.root + "/export"
            let exported = try await sparring(["export", id, "-o", out], sessions: store)
            #expect(exported.status == 0, "\(exported.err)")
            #expect(Set(try FileManager.default.contentsOfDirectory(atPath: out)).isSuperset(of: ["call.wav", "events.jsonl", "summary.json", "report.html"]))
            let unasked = try await sparring(["delete", id], sessions: store)
            #expect(unasked.status == 1 && unasked.err.contains("needs --yes"))
            let deleted = try await sparring(["delete", id, "--yes"], sessions: store)
            #expect(deleted.status == 0, "\(deleted.err)")
            #expect(try await list([], sessions: store) == (try await list([])).filter { $0 != id })
            let pruned = try await sparring(["sessions", "prune", "--older-than", "1"], sessions: store)
            #expect(pruned.status == 0 && pruned.out.contains("0 sessions older than 1 days deleted"), "\(pruned.out)")
            let all = try await sparring(["sessions", "prune", "--older-than", "0"], sessions: store)
            #expect(all.out.contains("2 sessions older than 0 days deleted"), "\(all.out)")
            #expect(try await list([], sessions: store).isEmpty)
        }
    }
}
