import Foundation
import Testing
@testable import SparringAudio
@testable import SparringCore
@testable import SparringSpeech

extension Live {

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
            return LiveCallTests.root.appendingPathComponent(".build/debug/sparring").path
        }

        struct Outcome { var summary: [String: Any]; var agent: ScriptedAgent; var rendered: [[Int16]]; var status: Int32; var stderr: String; var lead: Int }

        static func call(_ scenario: String, script: String, speed: Double) throws -> Outcome {
            let directory = FileManager.default.temporaryDirectory.appendingPathComponent("sparring-fifo-\(UUID())")
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            let agentFIFO = directory.appendingPathComponent("agent.fifo").path
            let callerFIFO = directory.appendingPathComponent("caller.fifo").path
            #expect(mkfifo(agentFIFO, 0o600) == 0 && mkfifo(callerFIFO, 0o600) == 0)
            try FIFOFarEnd.asoundrc(agentFIFO: agentFIFO, callerFIFO: callerFIFO)
                .write(to: directory.appendingPathComponent(".asoundrc"), atomically: true, encoding: .utf8)

            let models = try LiveCallTests.models()
            let agent = try models.scriptedAgent(try ScriptStep.parse(script), voice: .festival("cmu_us_slt_arctic_hts"), rate: 16_000)
        let rendered = agent.lines
            let farEnd = FIFOFarEnd(agent: agent, agentFIFO: agentFIFO, callerFIFO: callerFIFO, speed: speed)

            let process = Process()
            process.executableURL = URL(fileURLWithPath: binary)
            process.arguments = ["run", scenario, "--capture", "line_in", "--playback", "line_out", "--json", "--max-minutes", "3",
                                 "--sessions", directory.appendingPathComponent("sessions").path,
                                 "--scenarios", LiveCallTests.root.appendingPathComponent("scenarios").path,
                                 "--voices", LiveCallTests.root.appendingPathComponent("voices").path]
            var environment = ProcessInfo.processInfo.environment
            environment["HOME"] = directory.path
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
        func skilledCall() throws {
            let script = try LiveCallTests.skilled("debt-threat")
            let result = try Self.call("debt-threat", script: script, speed: 2)
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
    }

}
