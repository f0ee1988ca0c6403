import Foundation
import Testing
import SparringTestSupport
@testable import SparringAudio
@testable import SparringCore
@testable import SparringDaemon
@testable import SparringSessions

extension LiveProcesses {

    /// `sparringd` as a process on FIFO-backed ALSA PCMs, driven through its socket and `sparring call`.
    @Suite("The daemon", .serialized)
    struct DaemonTests {
        static func sparring(_ arguments: [String], harness: DaemonHarness) throws -> (Process, Pipe, Pipe) {
            try launch(DaemonHarness.binary("sparring"), arguments + ["--socket", harness.socket], environment: harness.environment)
        }

        /// Starts `executable`, its output and errors in pipes.
        static func launch(_ executable: String, _ arguments: [String], environment: [String: String]) throws -> (Process, Pipe, Pipe) {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: executable)
            process.arguments = arguments
            process.environment = environment
            let out = Pipe(), err = Pipe()
            process.standardOutput = out
            process.standardError = err
            try process.run()
            return (process, out, err)
        }

        @Test("sparring call: a skilled call streamed live, Ctrl-C-free; status before and after")
        func skilledCall() async throws {
            let harness = try DaemonHarness()
            defer { harness.remove() }
            try await harness.start()
            #expect(try await harness.status().state == "idle")
            // Only the agent's own user may reach the socket.
            let socketMode = try FileManager.default.attributesOfItem(atPath: harness.socket)[.posixPermissions] as? Int
            let directoryMode = try FileManager.default.attributesOfItem(atPath: (harness.socket as NSString).deletingLastPathComponent)[.posixPermissions] as? Int
            #expect(socketMode == 0o600 && directoryMode == 0o700)
            let far = DaemonHarness.Running(try harness.farEnd(script: try Live.LiveCallTests.skilled("debt-threat"), speed: 2))
            let (process, out, err) = try Self.sparring(["call", "debt-threat", "--seed", "1", "--json"], harness: harness)
            far.farEnd.onHangUp = { kill(process.processIdentifier, SIGINT) }
            let output = try await dataToEnd(out.fileHandleForReading)
            let errors = try await textToEnd(err.fileHandleForReading)
            try await waitForExit(process)
            try await far.wait()
            #expect(process.terminationStatus == 0, "\(errors)")
            let messages = try output.split(separator: 0x0A).map { try JSONDecoder().decode(ControlMessage.self, from: Data($0)) }
            let events = messages.compactMap(\.event)
            let summary = try #require(messages.last?.summary, "\(errors)\n\(harness.log)")
            #expect(summary.outcome == "agree", "\(summary.transcript)")
            #expect(summary.agent == "trainee")
            #expect(summary.xruns == 0)
            // The stream is the session's events, in order, as they happened.
            let logged = try harness.events(summary.id)
            #expect(events.filter { $0.type != "partial" } == logged)
            #expect(events.contains { $0.type == "partial" })
            #expect(events.first?.type == "call_start")
            let status = try await harness.status()
            #expect(status.state == "idle" && status.calls == 1)
            // The daemon's summary carries the debrief; a moment that cannot be practised is refused in one line.
            let points = try #require(summary.turning_points)
            #expect(points.contains { $0.kind == .best }, "\(points)")
            for (scenario, from, message) in [("debt-threat", "nonsense", "expected SESSION_ID:MOMENT"),
                                              ("tenant-repair", "\(summary.id):1", "is a call of 'debt-threat'"),
                                              ("debt-threat", "\(summary.id):99", "turning points 1 to")] {
                var request = DaemonHarness.start(scenario)
                request.from = from
                let reply = try await harness.request(request)
                #expect(reply.ok == false && reply.error == .missingField && reply.message?.contains(message) == true, "\(reply)")
            }
            #expect(try await harness.status().state == "idle")

            // And one it can: the caller starts again at the call's best moment, in its phase, with the line before it.
            let best = try #require(points.first { $0.kind == .best })
            let again = DaemonHarness.Running(try harness.farEnd(script: "I can hear how angry you are, and I understand.\n[silence 20]", speed: 2))
            var retry = DaemonHarness.start("debt-threat", seed: 2)
            retry.from = "\(summary.id):\(best.number)"
            let started = try await harness.request(retry)
            #expect(started.ok == true, "\(started.message ?? "")")
            try await harness.waitIdle()
            try await again.wait()
            let practised = try harness.summary(try #require(started.session))
            #expect(practised.retry?.session == summary.id && practised.retry?.moment == best.number && practised.score == nil,
                    "\(String(describing: practised.retry))")
            let retried = try harness.events(practised.id)
            #expect(retried.first { $0.type == "call_start" }?.callStart?.phase == best.phase)
            #expect(retried.first { $0.type == "caller_line_start" }?.text == best.callerLine)
            #expect(try await harness.stop() == 0)
        }

        @Test("sparring call on a terminal colours the caller's lines, and not when NO_COLOR is set")
        func noColor() async throws {
            let harness = try DaemonHarness()
            defer { harness.remove() }
            try await harness.start()
            for noColor in [false, true] {
                let far = DaemonHarness.Running(try harness.farEnd(script: "[silence 12]", speed: 1))
                // script(1) gives the command a pseudo-terminal, as a person's shell would.
                let process = Process()
                process.executableURL = URL(fileURLWithPath: "/usr/bin/script")
                let command = [DaemonHarness.binary("sparring"), "call", "debt-threat", "--seed", "1", "--socket", harness.socket]
                    .map { "'\($0)'" }.joined(separator: " ")
                process.arguments = ["-q", "-e", "-c", command, "/dev/null"]
                var environment = harness.environment
                environment["TERM"] = "xterm"
                environment["NO_COLOR"] = noColor ? "1" : nil
                process.environment = environment
                let out = Pipe(), input = Pipe()
                process.standardOutput = out
                process.standardInput = input
                try process.run()
                // The caller speaks first: once its line has begun, it has been shown.
                try await harness.waitForCall()
                let (hangup, _, _) = try Self.sparring(["hangup"], harness: harness)
                try await waitForExit(hangup)
                let shown = try await textToEnd(out.fileHandleForReading)
                try await waitForExit(process)
                try await far.wait()
                try await harness.waitIdle()
                #expect(shown.contains("caller"), "\(shown)")
                let coloured = shown.range(of: "\u{1B}\\[[0-9;]+m", options: .regularExpression) != nil
                #expect(coloured == !noColor, "NO_COLOR \(noColor): \(shown.debugDescription)")
            }
            #expect(try await harness.stop() == 0)
        }

        @Test("a control connection with no traffic for idle_timeout_s is closed; one that keeps asking stays open")
        func idleTimeout() async throws {
            let harness = try DaemonHarness(config: "idle_timeout_s: 2")
            defer { harness.remove() }
            try await harness.start()
            let quiet = try Self.rawConnect(harness.socket)
            defer { close(quiet) }
            let talking = try Self.rawConnect(harness.socket)
            defer { close(talking) }
            let request = Array("{\"v\":1,\"op\":\"status\",\"id\":1}\n".utf8)
            // A request every 300 ms for three seconds, from a thread of its own so that a busy test
            // process cannot stretch the pauses past the timeout.
            let answers = try await onOwnThread { () -> [Bool] in
                var answers: [Bool] = []
                for _ in 0..<10 {
                    guard write(talking, request, request.count) == request.count else { return answers + [false] }
                    var line: [UInt8] = []
                    var byte: UInt8 = 0
                    while read(talking, &byte, 1) == 1, byte != 0x0A { line.append(byte) }
                    answers.append(String(decoding: line, as: UTF8.self).contains("\"ok\":true"))
                    usleep(300_000)
                }
                return answers
            }
            #expect(answers == Array(repeating: true, count: 10), "\(answers)")
            // Over three seconds in: the quiet client was closed by the daemon, an end of file (its
            // own five-second read timeout would be an error instead).
            var byte: UInt8 = 0
            #expect(read(quiet, &byte, 1) == 0)
            #expect(try await harness.stop() == 0)
        }

        @Test("two clients racing to start: exactly one wins, the other hears busy; hang-up ends the call")
        func race() async throws {
            let harness = try DaemonHarness()
            defer { harness.remove() }
            try await harness.start()
            let far = DaemonHarness.Running(try harness.farEnd(script: "[silence 60]", speed: 1))
            async let first = harness.request(DaemonHarness.start("debt-threat", seed: 1))
            async let second = harness.request(DaemonHarness.start("tenant-repair", seed: 2))
            let replies = try await [first, second]
            #expect(replies.filter { $0.ok == true }.count == 1)
            let loser = try #require(replies.first { $0.ok == false })
            #expect(loser.error == .busy, "\(loser.message ?? "")")
            #expect(loser.message?.contains("trainee") == true, "\(loser.message ?? "")")
            let winner = try #require(replies.first { $0.ok == true }?.session)
            let status = try await harness.status()
            #expect(status.state == "in_call" && status.call?.session == winner)
            let (hangup, _, _) = try Self.sparring(["hangup"], harness: harness)
            try await waitForExit(hangup)
            #expect(hangup.terminationStatus == 0)
            try await harness.waitIdle()
            try await far.wait()
            #expect(try harness.summary(winner).ended_by == "agent")
            // Hanging up again is an error reply, not a crash.
            let again = try await harness.request(ControlRequest(op: "hangup"))
            #expect(again.ok == false && again.error == .noCall)
            #expect(try await harness.stop() == 0)
        }

        /// Sends `line` on a fresh connection, shuts down the sending side, and reads to the end.
        static func halfClosedRequest(_ path: String, _ line: String) throws -> String {
            let fd = try rawConnect(path)
            defer { close(fd) }
            _ = line.utf8CString.withUnsafeBufferPointer { write(fd, $0.baseAddress, $0.count - 1) }
            shutdown(fd, Int32(SHUT_WR))
            return readToEnd(fd)
        }

        static func readToEnd(_ fd: Int32) -> String {
            var received: [UInt8] = []
            var buffer = [UInt8](repeating: 0, count: 4096)
            while true {
                let n = read(fd, &buffer, buffer.count)
                guard n > 0 else { break }
                received += buffer[0..<n]
            }
            return String(decoding: received, as: UTF8.self)
        }

        /// A connected client socket with a 5 s read timeout.
        static func rawConnect(_ path: String) throws -> Int32 {
            try #require(ControlConnection.connectPlain(path: path, readTimeout: 5))
        }

        @Test("a flood of malformed and oversized requests during a call: every one answered, no xruns, status after")
        func flood() async throws {
            let harness = try DaemonHarness()
            defer { harness.remove() }
            try await harness.start()
            let far = DaemonHarness.Running(try harness.farEnd(script: "[silence 20]", speed: 1))
            let started = try await harness.request(DaemonHarness.start("debt-threat"))
            let session = try #require(started.session, "\(started.message ?? "")")
            let junk: [[UInt8]] = [
                Array("not json\n".utf8), Array("{\"v\":1}\n".utf8), Array("{\"v\":2,\"op\":\"status\"}\n".utf8),
                Array("{\"v\":1,\"op\":\"start\"}\n".utf8), Array("{\"v\":1,\"op\":\"dance\"}\n".utf8),
                Array("[1,2,3]\n".utf8), [0xFF, 0xFE, 0x00, 0x0A], Array("{\"v\":\"1\",\"op\":7}\n".utf8),
                Array("{\"v\":1,\"op\":\"start\",\"scenario\":\"debt-threat\"}\n".utf8),
            ]
            let perClient = 1_000
            var answered = 0
            var codes: [ControlErrorCode: Int] = [:]
            try await withThrowingTaskGroup(of: [ControlMessage].self) { group in
                for client in 0..<4 {
                    group.addTask {
                        try await ControlConnection.with(path: harness.socket) { connection in
                            var expected = 0
                            for index in 0..<perClient {
                                try await connection.sendRaw(junk[(index + client) % junk.count])
                                expected += 1
                            }
                            // One line far over the limit, in pieces, then a newline.
                            let chunk = [UInt8](repeating: UInt8(ascii: "x"), count: 256 << 10)
                            for _ in 0..<4 { try await connection.sendRaw(chunk) }
                            try await connection.sendRaw([0x0A])
                            expected += 1
                            var replies: [ControlMessage] = []
                            while replies.count < expected, let message = try await connection.next() {
                                if message.ok != nil { replies.append(message) }
                            }
                            return replies
                        }
                    }
                }
                for try await replies in group {
                    answered += replies.count
                    for reply in replies where reply.ok == false { codes[reply.error!, default: 0] += 1 }
                }
            }
            #expect(answered == 4 * (perClient + 1))
            #expect(codes[.oversized] == 4)
            #expect(codes[.busy] ?? 0 > 0 && codes[.malformed] ?? 0 > 0 && codes[.version] ?? 0 > 0 && codes[.unknownOp] ?? 0 > 0)
            let status = try await harness.status()
            #expect(status.state == "in_call" && status.call?.session == session)
            // One-shot clients (socat, nc -N) send a request and half-close: they still get the answer.
            for _ in 0..<20 {
                let reply = try Self.halfClosedRequest(harness.socket, "{\"v\":1,\"op\":\"status\"}\n")
                #expect(reply.contains("\"ok\":true") && reply.contains("in_call"), "\(reply)")
            }
            // A flood of connections held open: those past the cap are told so and closed; the rest still work.
            var held: [Int32] = []
            for _ in 0..<(ControlServer.maximumClients + 40) { held.append(try Self.rawConnect(harness.socket)) }
            let refused = Self.readToEnd(held.last!)
            #expect(refused.contains("too many clients"), "\(refused)")
            for fd in held { close(fd) }
            try await Task.sleep(for: .milliseconds(300))
            _ = try await harness.request(ControlRequest(op: "hangup"))
            try await harness.waitIdle()
            try await far.wait()
            #expect(try harness.summary(session).xruns == 0)
            #expect(try await harness.stop() == 0)
        }

        @Test("under a descriptor limit of 64, a flood of connections never takes the daemon to the limit, and it answers after")
        func descriptorLimit() async throws {
            let harness = try DaemonHarness()
            defer { harness.remove() }
            try await harness.start(descriptorLimit: 64)
            let pid = try #require(harness.process?.processIdentifier)
            func descriptors() -> Int { ((try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/fd")) ?? []).count }
            // Connections that never read: those past the daemon's cap are answered and closed;
            // the listener's backlog refuses the rest at once (non-blocking connects).
            var held: [Int32] = []
            for _ in 0..<300 { if let fd = ControlConnection.connectPlain(path: harness.socket, nonBlocking: true) { held.append(fd) } }
            try await Task.sleep(for: .seconds(1))
            let open = descriptors()
            // At the limit, accept would fail with EMFILE and the event loop retry it at full speed.
            #expect(open < 64, "the daemon holds \(open) descriptors of 64")
            print("descriptor limit 64: \(held.count) connections into the backlog, the daemon holds \(open) descriptors")
            for fd in held { close(fd) }
            try await Task.sleep(for: .milliseconds(500))
            #expect(try await harness.status().state == "idle")
            #expect(try await harness.stop() == 0)
        }

        @Test("the capture device missing at start: a clear reply naming it, the daemon stays up, the next call works")
        func missingDevice() async throws {
            let harness = try DaemonHarness()
            defer { harness.remove() }
            try await harness.start()
            try FileManager.default.removeItem(atPath: harness.agentFIFO)
            let failed = try await harness.request(DaemonHarness.start("debt-threat"))
            #expect(failed.ok == false && failed.error == .device)
            #expect(failed.message?.contains("line_in") == true, "\(failed.message ?? "")")
            #expect(failed.message?.contains("\n") == false)
            try await harness.waitIdle()
            // The device comes back.
            #expect(mkfifo(harness.agentFIFO, 0o600) == 0)
            try await harness.callOverSilence("debt-threat")
            #expect(try await harness.status().calls == 2)
            #expect(try await harness.stop() == 0)
        }
    }
}

extension LiveProcesses.DaemonTests {
    @Test("the line vanishes mid-call: the call ends with the reason in its session and on the client; the next call works")
    func vanishingLine() async throws {
        let harness = try DaemonHarness()
        defer { harness.remove() }
        try await harness.start()
        let far = DaemonHarness.Running(try harness.farEnd(script: "[silence 60]", speed: 1))
        let (client, out, err) = try Self.sparring(["call", "debt-threat"], harness: harness)
        try await harness.waitForCall()
        far.farEnd.vanish()
        try await far.wait()
        let shown = try await textToEnd(out.fileHandleForReading)
        let complaint = try await textToEnd(err.fileHandleForReading)
        try await waitForExit(client)
        try await harness.waitIdle(seconds: 20)
        // On the client: the reason, once, as the last line, and a failing exit status.
        #expect(client.terminationStatus != 0)
        #expect(complaint.hasPrefix("sparring: line_out: playback stopped"), "\(complaint)")
        #expect(complaint.split(separator: "\n").count == 1)
        let session = try #require(shown.split(separator: "\n").first { $0.hasPrefix("Session ") && !$0.contains("ringing") }?.dropFirst(8))
        // In the session: ended by the device, the reason logged, the audio up to the failure kept.
        let summary = try harness.summary(String(session))
        #expect(summary.ended_by == "device" && !summary.interrupted)
        let failure = try #require(try harness.events(String(session)).first { $0.type == "line_error" })
        guard case let .lineError(reason) = failure.kind else { Issue.record("\(failure)"); return }
        #expect(reason.hasPrefix("line_out: playback stopped"))
        let audio = try WaveFile.read(path: "\(harness.sessions)/\(session)/call.wav")
        // Nothing exchanged before the failure is lost. (The file plugin notices the
        // missing reader only when its write buffer flushes, so a little more is recorded.)
        #expect(audio.seconds > far.farEnd.seconds - 0.5, "\(audio.seconds) s recorded, \(far.farEnd.seconds) s exchanged")
        // The daemon stayed up, and the next call works.
        let next = DaemonHarness.Running(try harness.farEnd(script: "[silence 30]", speed: 4))
        let started = try await harness.request(DaemonHarness.start("debt-threat"))
        #expect(started.ok == true, "\(started.message ?? "")")
        try await harness.waitIdle()
        try await next.wait()
        #expect(try await harness.status().calls == 2)
        #expect(try await harness.stop() == 0)
    }
}

extension LiveProcesses.DaemonTests {
    @Test("SIGKILL mid-call: the next start repairs the session (valid WAV, events intact, marked interrupted)")
    func killedMidCall() async throws {
        let harness = try DaemonHarness()
        defer { harness.remove() }
        try await harness.start()
        let far = DaemonHarness.Running(try harness.farEnd(script: try Live.LiveCallTests.skilled("debt-threat"), speed: 1))
        let started = try await harness.request(DaemonHarness.start("debt-threat"))
        let session = try #require(started.session, "\(started.message ?? "")")
        try await harness.waitForCall(atLeast: 8)
        try await harness.stop(SIGKILL)
        try await far.wait()
        let directory = "\(harness.sessions)/\(session)"
        #expect(!FileManager.default.fileExists(atPath: directory + "/summary.json"))
        let before = try String(contentsOfFile: directory + "/events.jsonl", encoding: .utf8)
        let completeBefore = before.split(separator: "\n", omittingEmptySubsequences: false).dropLast().count

        try await harness.start()
        #expect(harness.log.contains("repaired interrupted session"), "\(harness.log)")
        let summary = try harness.summary(session)
        #expect(summary.interrupted && summary.ended_by == "crash" && summary.scenario == "debt-threat" && summary.agent == "trainee")
        #expect(summary.transcript.contains { $0.speaker == "caller" })
        let events = try harness.events(session)
        #expect(events.count == completeBefore)
        #expect(events.first?.type == "call_start")
        let audio = try WaveFile.read(path: directory + "/call.wav")
        #expect(audio.channels == 2)
        // At most the last half second is lost.
        #expect(audio.seconds > far.farEnd.seconds - 0.5, "\(audio.seconds) s kept of \(far.farEnd.seconds) s")
        let size = try FileManager.default.attributesOfItem(atPath: directory + "/call.wav")[.size] as? Int
        #expect(size == 44 + audio.samples.count * 2)
        #expect(try await harness.stop() == 0)
    }

    @Test("SIGTERM mid-call: the call ends cleanly, its session complete, the client gets the summary")
    func terminatedMidCall() async throws {
        let harness = try DaemonHarness()
        defer { harness.remove() }
        try await harness.start()
        let far = DaemonHarness.Running(try harness.farEnd(script: "[silence 60]", speed: 1))
        let (client, out, _) = try Self.sparring(["call", "debt-threat", "--json"], harness: harness)
        try await harness.waitForCall()
        #expect(try await harness.stop(SIGTERM) == 0)
        let output = try await dataToEnd(out.fileHandleForReading)
        try await waitForExit(client)
        try await far.wait()
        let messages = try output.split(separator: 0x0A).map { try JSONDecoder().decode(ControlMessage.self, from: Data($0)) }
        let summary = try #require(messages.last?.summary)
        #expect(summary.ended_by == "shutdown" && !summary.interrupted)
        #expect(try harness.summary(summary.id).ended_by == "shutdown")
        #expect(!FileManager.default.fileExists(atPath: harness.socket))
        #expect(harness.log.contains("ending the call in progress"))
    }

    @Test("SIGHUP reloads scenarios: a broken file is reported and skipped, a new one works, the rest keep working")
    func reload() async throws {
        let harness = try DaemonHarness()
        defer { harness.remove() }
        try await harness.start()
        let before = try await harness.status()
        let original = try String(contentsOfFile: Live.LiveCallTests.root.appendingPathComponent("scenarios/debt-threat.yaml").path, encoding: .utf8)
        try original.replacingOccurrences(of: "id: debt-threat", with: "id: debt-threat-again")
            .write(toFile: harness.userScenarios + "/again.yaml", atomically: true, encoding: .utf8)
        try "id: broken\ntitle: [unclosed\n".write(toFile: harness.userScenarios + "/broken.yaml", atomically: true, encoding: .utf8)
        // A caller whose voice eSpeak NG does not have is skipped, not a silent call.
        try "espeak_voice: en-gb\n".write(toFile: harness.userVoices + "/mute.yaml", atomically: true, encoding: .utf8)
        try original.replacingOccurrences(of: "id: debt-threat", with: "id: mute-caller").replacingOccurrences(of: "voice: debtor", with: "voice: mute")
            .write(toFile: harness.userScenarios + "/mute-caller.yaml", atomically: true, encoding: .utf8)
        kill(harness.process!.processIdentifier, SIGHUP)
        var after = before
        for _ in 0..<100 where after.scenarios == before.scenarios {
            try await Task.sleep(for: .milliseconds(100))
            after = try await harness.status()
        }
        #expect(after.scenarios == before.scenarios + 1)
        #expect(after.problems.count == 3 && after.problems.contains { $0.contains("broken.yaml:2") }, "\(after.problems)")
        #expect(after.problems.contains { $0.contains("mute.yaml:1: espeak_voice: eSpeak NG has no voice 'en-gb'") })
        #expect(harness.log.contains("mute-caller.yaml:12: persona.voice: voice 'mute' cannot speak"), "\(harness.log)")
        var brutal = DaemonHarness.start("tenant-repair")
        brutal.difficulty = "brutal"
        let unknownLevel = try await harness.request(brutal)
        #expect(unknownLevel.ok != true && unknownLevel.message == "unknown difficulty 'brutal' (strict, fair or empathic)")
        let refused = try await harness.request(DaemonHarness.start("mute-caller"))
        #expect(refused.ok != true && refused.message?.hasPrefix("scenario 'mute-caller' cannot be used:") == true, "\(refused.message ?? "")")
        let listed = try await harness.request(ControlRequest(op: "scenarios")).scenarios ?? []
        #expect(listed.contains { $0.id == "debt-threat-again" } && listed.contains { $0.id == "tenant-repair" })
        try await harness.callOverSilence("debt-threat-again")
        #expect(try await harness.stop() == 0)
    }

    @Test("many calls in a row in one daemon: open descriptors and memory do not grow")
    func manyCalls() async throws {
        let harness = try DaemonHarness()
        defer { harness.remove() }
        let original = try String(contentsOfFile: Live.LiveCallTests.root.appendingPathComponent("scenarios/debt-threat.yaml").path, encoding: .utf8)
        try original.replacingOccurrences(of: "id: debt-threat", with: "id: short-call")
            .replacingOccurrences(of: "    after: 6\n    hang_up_after: 2", with: "    after: 2\n    hang_up_after: 1")
            .write(toFile: harness.userScenarios + "/short.yaml", atomically: true, encoding: .utf8)
        try await harness.start()
        let calls = 12
        var samples: [(fds: Int, rssKiB: Int)] = []
        for index in 0..<calls {
            try await harness.callOverSilence("short-call", seed: UInt64(index + 1), speed: 6)
            samples.append(try await harness.resources())
        }
        print("sparringd after each of \(calls) calls: fds \(samples.map(\.fds)), RSS KiB \(samples.map(\.rssKiB))")
        #expect(try await harness.status().calls == calls)
        // The first calls warm caches and allocator arenas: descriptors settle by the third call, memory
        // keeps warming for several more (5–9 MiB over calls 3 to 12 on a 2-core machine, flat after
        // about the seventh). A leak is growth that does not flatten: the second half may add little.
        #expect(samples[2].fds == samples[calls - 1].fds)
        #expect(samples[calls - 1].rssKiB - samples[calls / 2].rssKiB < 4 * 1024)
        #expect(try await harness.stop() == 0)
    }
}

extension LiveProcesses.DaemonTests {
    /// `sparring run` on FIFO-backed ALSA PCMs (the daemon harness's line, no daemon).
    /// `realTime`: the line is held to real time (the harness lets its FIFO lines run faster).
    static func run(_ harness: DaemonHarness, _ scenario: String, capture: String, playback: String,
                    realTime: Bool = false) throws -> (Process, Pipe, Pipe) {
        var environment = harness.environment
        if realTime { environment.removeValue(forKey: "SPARRING_LINE_SPEED") }
        // Through perl (Debian's essential perl-base) to restore SIGPIPE's default action: this
        // test process ignores it, and a child inherits that, so sparring's own handling would go untested.
        return try launch("/usr/bin/perl", ["-e", "$SIG{PIPE} = 'DEFAULT'; exec @ARGV or die", DaemonHarness.binary("sparring"),
                                            "run", scenario, "--capture", capture, "--playback", playback,
                                            "--sessions", harness.sessions, "--seed", "1"], environment: environment)
    }

    @Test("sparring run: a playback pipe whose reader leaves ends the call with one line naming the device and a complete session, not SIGPIPE")
    func runPlaybackPipeCloses() async throws {
        let harness = try DaemonHarness()
        defer { harness.remove() }
        let far = DaemonHarness.Running(try harness.farEnd(script: "[silence 60]", speed: 1))
        let (process, out, err) = try Self.run(harness, "debt-threat", capture: "line_in", playback: "line_out")
        try await harness.waitForCall()
        far.farEnd.vanish()
        try await Self.expectDeviceEnd(process, out, err, device: "line_out", harness: harness)
        try await far.wait(seconds: 30)
    }

    @Test("sparring run: a capture file that reaches its end ends the call with one line naming the device and a complete session")
    func runCaptureFileEnds() async throws {
        let harness = try DaemonHarness()
        defer { harness.remove() }
        // Two seconds of audio in a file, through ALSA's file plugin, and nothing paces the line.
        let input = harness.directory.appendingPathComponent("two-seconds.raw").path
        FileManager.default.createFile(atPath: input, contents: Data(count: 2 * 16_000 * 2))
        let rc = harness.directory.appendingPathComponent(".asoundrc")
        try (try String(contentsOf: rc, encoding: .utf8)
             + "pcm.file_in { type file slave.pcm \"null\" file \"/dev/null\" infile \"\(input)\" format \"raw\" }\n")
            .write(to: rc, atomically: true, encoding: .utf8)
        let (process, out, err) = try Self.run(harness, "debt-threat", capture: "file_in", playback: "null", realTime: true)
        try await Self.expectDeviceEnd(process, out, err, device: "file_in", harness: harness)
    }

    /// Not killed by a signal, not run on: exit 1, one line naming the device, the session complete.
    static func expectDeviceEnd(_ process: Process, _ out: Pipe, _ err: Pipe, device: String, harness: DaemonHarness) async throws {
        let shown = try await textToEnd(out.fileHandleForReading)
        let complaint = try await textToEnd(err.fileHandleForReading)
        try await waitForExit(process, seconds: 30)
        #expect(process.terminationReason == .exit && process.terminationStatus == 1, "\(process.terminationReason) \(process.terminationStatus)")
        let lines = complaint.split(separator: "\n")
        #expect(lines.count == 1 && lines.first?.contains(device) == true, "\(complaint)")
        let session = try #require(complaint.components(separatedBy: "session saved in ").last?
            .trimmingCharacters(in: .whitespacesAndNewlines).split(separator: "/").last, "\(complaint) \(shown)")
        let summary = try harness.summary(String(session))
        #expect(summary.ended_by == "device" && !summary.interrupted && summary.duration_s < 20, "\(summary.ended_by) after \(summary.duration_s) s")
        #expect(try WaveFile.read(path: "\(harness.sessions)/\(session)/call.wav").seconds > 1)
    }
}
