// The long soak: calls back to back for N minutes through a PulseAudio null
// sink (ALSA's pulse PCM), with a busy loop holding the other core, counting
// xruns. Pulse's null sinks run on PulseAudio's own timer, so the line is
// paced by a real audio server rather than by this process.
import Foundation
import Synchronization
import SparringAudio
import SparringCore
import SparringSpeech

/// The socket the soak's PulseAudio listens on (anonymous: the calls run with another HOME).
let pulseSocket = "unix:/tmp/sparring-soak-pulse"

/// Starts PulseAudio with the two null sinks unless it already answers on `pulseSocket`.
func startPulse() throws {
    if run("/usr/bin/pactl", ["-s", pulseSocket, "info"]) == 0 { return }
    let status = run("/usr/bin/pulseaudio", ["--daemonize=yes", "--exit-idle-time=-1", "-n",
                                             "--load=module-native-protocol-unix auth-anonymous=1 socket=\(pulseSocket.dropFirst(5))",
                                             "--load=module-null-sink sink_name=agent_line",
                                             "--load=module-null-sink sink_name=caller_line"])
    guard status == 0 else { throw BenchError("pulseaudio did not start (install pulseaudio and libasound2-plugins)") }
    for _ in 0..<50 where run("/usr/bin/pactl", ["-s", pulseSocket, "info"]) != 0 { usleep(100_000) }
}

struct BenchError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

@discardableResult
func run(_ path: String, _ arguments: [String]) -> Int32 {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: path)
    process.arguments = arguments
    process.standardOutput = FileHandle.nullDevice
    process.standardError = FileHandle.nullDevice
    do { try process.run() } catch { return -1 }
    process.waitUntilExit()
    return process.terminationStatus
}

/// Runs `sparring run` calls back to back for `minutes`, the agent's lines
/// looping into the agent sink; prints xruns per call and in total.
func soak(minutes: Double, scenario: String, binary: String, root: String, models: SpeechModels) throws {
    try startPulse()
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("sparring-soak-\(UUID())")
    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: directory) }
    try """
    pcm.soak_in { type pulse device "agent_line.monitor" }
    pcm.soak_out { type pulse device "caller_line" }
    pcm.soak_agent { type pulse device "agent_line" }

    """.write(to: directory.appendingPathComponent(".asoundrc"), atomically: true, encoding: .utf8)
    var environmentWithHome = ProcessInfo.processInfo.environment
    environmentWithHome["HOME"] = directory.path
    environmentWithHome["PULSE_SERVER"] = pulseSocket
    let environment = environmentWithHome

    // The agent: the skilled script's lines, four seconds apart, looped by aplay.
    let text = try String(contentsOfFile: "\(root)/scenarios/scripts/\(scenario).skilled.txt", encoding: .utf8)
    var agent: [Int16] = []
    for case let .say(line, _) in try ScriptStep.parse(text) {
        agent += try models.renderFestival(line, voice: "cmu_us_slt_arctic_hts", rate: 16_000)
        agent += [Int16](repeating: 0, count: 64_000)
    }
    let agentWav = directory.appendingPathComponent("agent.wav").path
    try WaveFile.write(.init(rate: 16_000, channels: 1, samples: agent), to: agentWav)

    let stop = Atomic<Bool>(false)
    let player = Thread {
        while !stop.load(ordering: .acquiring) {
            let aplay = Process()
            aplay.executableURL = URL(fileURLWithPath: "/usr/bin/aplay")
            aplay.arguments = ["-q", "-D", "soak_agent", agentWav]
            aplay.environment = environment
            aplay.standardError = FileHandle.nullDevice
            if (try? aplay.run()) == nil { return }
            aplay.waitUntilExit()
        }
    }
    player.start()
    // The other core, kept busy for the whole soak.
    let loader = Thread {
        var x: UInt64 = 1
        while !stop.load(ordering: .relaxed) { for _ in 0..<1_000_000 { x = x &* 6_364_136_223_846_793_005 &+ 1 } }
        if x == 0 { print("") }
    }
    loader.start()
    defer { stop.store(true, ordering: .releasing) }

    print("soak: \(scenario) calls back to back for \(minutes) min through PulseAudio null sinks, other core busy")
    let began = Date()
    var calls = 0, xruns = 0, seconds = 0.0, realtime = true
    while Date().timeIntervalSince(began) < minutes * 60 {
        let left = max(0.5, minutes - Date().timeIntervalSince(began) / 60)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: binary)
        process.arguments = ["run", scenario, "--capture", "soak_in", "--playback", "soak_out", "--json",
                             "--sessions", directory.appendingPathComponent("sessions").path,
                             "--max-minutes", String(format: "%.2f", left), "--seed", String(calls + 1)]
        process.environment = environment
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        let output = out.fileHandleForReading.readDataToEndOfFile()
        let errors = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        guard let summary = (try? JSONSerialization.jsonObject(with: output)) as? [String: Any] else {
            throw BenchError("soak: call \(calls + 1) failed: \(errors.trimmingCharacters(in: .whitespacesAndNewlines))")
        }
        calls += 1
        let callXruns = summary["xruns"] as? Int ?? 0
        xruns += callXruns
        seconds += summary["duration_s"] as? Double ?? 0
        realtime = realtime && (summary["realtime"] as? Bool ?? false)
        // The agent lines the caller heard: the line carries speech both ways, not just silence.
        let heard = (summary["transcript"] as? [[String: Any]] ?? []).filter { $0["speaker"] as? String == "agent" }.count
        print(String(format: "  call %d: %@, %.1f s, %d agent utterances heard, %d xruns", calls, summary["outcome"] as? String ?? "?",
                     summary["duration_s"] as? Double ?? 0, heard, callXruns))
    }
    print(String(format: "soak: %d calls, %.1f min of call audio in %.1f min, xruns %d   goal 0%@", calls, seconds / 60,
                 Date().timeIntervalSince(began) / 60, xruns, realtime ? "" : " (the audio thread did not get SCHED_FIFO)"))
}
