import Foundation
import Testing
import SparringTestSupport
@testable import SparringAudio
@testable import SparringCore
@testable import SparringSpeech
import SparringSessions

extension LiveLines {

    /// The same whole call as on the in-memory line, through real ALSA: `sparring run`
    /// on FIFO-backed `file` PCMs, with a paced test line on the other end.
    @Suite("Calls through FIFO-backed ALSA PCMs", .serialized)
    struct FIFOCallTests {
        static var binary: String {
            let here = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
            for candidate in [here, here.deletingLastPathComponent()] {
                let path = candidate.appendingPathComponent("sparring").path
                if FileManager.default.isExecutableFile(atPath: path) { return path }
            }
            return Live.LiveCallTests.root.appendingPathComponent(".build/debug/sparring").path
        }

        /// Handed over from the thread the call ran on, then only read.
        struct Outcome: @unchecked Sendable { var summary: [String: Any]; var agent: ScriptedAgent; var rendered: [[Int16]]; var status: Int32; var stderr: String; var lead: Int }

        /// A whole call, waited for on a thread of its own rather than on one of the test tasks' shared threads.
        static func call(_ scenario: String, script: String, speed: Double) async throws -> Outcome {
            try await onOwnThread { try blockingCall(scenario, script: script, speed: speed) }
        }

        static func blockingCall(_ scenario: String, script: String, speed: Double) throws -> Outcome {
            let directory = FileManager.default.temporaryDirectory.appendingPathComponent("sparring-fifo-\(UUID())")
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            let agentFIFO = directory.appendingPathComponent("agent.fifo").path
            let callerFIFO = directory.appendingPathComponent("caller.fifo").path
            guard mkfifo(agentFIFO, 0o600) == 0 && mkfifo(callerFIFO, 0o600) == 0 else { throw SparringTestError("mkfifo in \(directory.path): \(errno)") }
            try FIFOFarEnd.asoundrc(agentFIFO: agentFIFO, callerFIFO: callerFIFO)
                .write(to: directory.appendingPathComponent(".asoundrc"), atomically: true, encoding: .utf8)

            let models = try Live.LiveCallTests.models()
            let agent = try models.scriptedAgent(try ScriptStep.parse(script), voice: .festival("cmu_us_slt_arctic_hts"), rate: 16_000)
            let rendered = agent.lines
            let farEnd = FIFOFarEnd(agent: agent, agentFIFO: agentFIFO, callerFIFO: callerFIFO, speed: speed)

            let process = Process()
            process.executableURL = URL(fileURLWithPath: binary)
            process.arguments = ["run", scenario, "--capture", "line_in", "--playback", "line_out", "--json", "--max-minutes", "3", "--seed", "7",
                                 "--sessions", directory.appendingPathComponent("sessions").path,
                                 "--scenarios", Live.LiveCallTests.root.appendingPathComponent("scenarios").path,
                                 "--voices", Live.LiveCallTests.root.appendingPathComponent("voices").path]
            var environment = ProcessInfo.processInfo.environment
            environment["HOME"] = directory.path
            environment["SPARRING_LINE_SPEED"] = String(speed + 1)
            process.environment = environment
            let out = Pipe(), err = Pipe()
            process.standardOutput = out
            process.standardError = err
            try process.run()
            farEnd.onHangUp = { kill(process.processIdentifier, SIGINT) }
            let far = Thread { farEnd.run() }
            far.start()
            let outData = out.fileHandleForReading.readDataToEndOfFile()
            let errData = err.fileHandleForReading.readDataToEndOfFile()
            process.waitUntilExit()
            let summary = (try? JSONSerialization.jsonObject(with: outData)) as? [String: Any] ?? [:]
            return Outcome(summary: summary, agent: agent, rendered: rendered, status: process.terminationStatus,
                           stderr: String(decoding: errData, as: UTF8.self), lead: farEnd.lead)
        }

        @Test("a skilled call through ALSA: the caller agrees, both channels aligned, no xruns")
        func skilledCall() async throws {
            let script = try Live.LiveCallTests.skilled("debt-threat")
            let result = try await Self.call("debt-threat", script: script, speed: 2)
            #expect(result.status == 0, "\(result.stderr)")
            #expect(result.summary["outcome"] as? String == "agree", "\(result.summary["transcript"] ?? result.stderr)")
            #expect(result.summary["xruns"] as? Int == 0)
            let session = try #require(result.summary["session"] as? String)
            let audio = try WaveFile.read(path: session + "/call.wav")
            #expect(audio.channels == 2)
            // What the test line wrote reaches the call `lead` periods later, the same for every line.
            let agentChannel = audio.channel(0)
            let offset = result.lead * 160
            for (start, samples) in zip(result.agent.lineStarts, result.rendered) {
                let at = start + offset
                #expect(at + samples.count <= agentChannel.count)
                if at + samples.count <= agentChannel.count {
                    #expect(Array(agentChannel[at..<at + samples.count]) == samples, "agent line at frame \(start) not at +\(offset)")
                }
            }
            // The caller's channel is what the test line heard, after the two periods
            // of silence the line pre-fills into playback when it starts.
            let callerChannel = audio.channel(1)
            let heard = result.agent.heard
            let prefill = 2 * 160
            let n = min(callerChannel.count, heard.count - prefill)
            #expect(n > 16_000 * 30)
            #expect(Array(callerChannel[0..<n]) == Array(heard[prefill..<prefill + n]))
        }

        static func events(_ result: Outcome) throws -> [SessionEvent] {
            try Live.LiveCallTests.events(in: try #require(result.summary["session"] as? String, "\(result.stderr)"))
        }

        @Test("a dismissive agent through ALSA is escalated or hung up on; anger goes up")
        func dismissiveCall() async throws {
            let script = try String(contentsOfFile: Live.LiveCallTests.root.appendingPathComponent("scenarios/scripts/debt-threat.dismissive.txt").path, encoding: .utf8)
            let result = try await Self.call("debt-threat", script: script, speed: 2)
            #expect(result.status == 0, "\(result.stderr)")
            #expect(["hang_up", "escalate"].contains(result.summary["outcome"] as? String))
            let events = try Self.events(result)
            #expect(events.contains { $0.moves.contains { $0.move == "calm_down" } })
            let anger = events.compactMap { $0.meters?["anger"] }
            #expect(anger.count >= 2 && anger.last! > anger.first!, "\(anger)")
        }

        @Test("dead air through ALSA: the caller prompts on the audio clock, then hangs up, and the run ends by itself")
        func deadAir() async throws {
            let result = try await Self.call("debt-threat", script: "[silence 60]\n", speed: 2)
            #expect(result.status == 0, "\(result.stderr)")
            #expect(result.summary["outcome"] as? String == "hang_up")
            let events = try Self.events(result)
            let prompts = events.filter { $0.kind == .trigger("dead_air") }
            #expect(prompts.count >= 2)
            let openingEnd = try #require(events.first { $0.type == "caller_line_end" })
            #expect(abs(prompts[0].t - openingEnd.t - 6) < 0.1, "prompt at \(prompts[0].t), opening ended \(openingEnd.t)")
        }

        /// The 150 ms goal is the benchmark's (`make bench` prints it over many calls, in a release
        /// build). Here a debug build shares two cores with the rest of the tests and has measured
        /// 70–540 ms, so this test asks what a broken barge-in cannot do: that the caller fall silent
        /// while the agent is still saying the line that interrupted it.
        @Test("barge-in through ALSA: a yielding caller stops while the agent is still saying the line that interrupted it")
        func bargeIn() async throws {
            let result = try await Self.call("tenant-repair", script: "[interrupt] Good morning, you are through to the repairs team, my name is Sam.\n", speed: 1)
            #expect(result.status == 0, "\(result.stderr)")
            let events = try Self.events(result)
            #expect(events.first { $0.type == "barge_in" }?.kind == .bargeIn(yielded: true))
            let latency = try #require(events.lazy.compactMap { event -> Double? in
                if case let .bargeInStop(latency) = event.kind { latency } else { nil }
            }.first)
            let line = Double(try #require(result.rendered.first).count) / 16
            print("barge-in through ALSA: \(latency) ms in the call, over an agent line of \(Int(line)) ms")
            #expect(latency < line)
        }
    }

}
