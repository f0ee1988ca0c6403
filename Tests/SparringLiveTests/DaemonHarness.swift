import Foundation
import Synchronization
import Testing
import SparringTestSupport
@testable import SparringAudio
@testable import SparringCore
@testable import SparringDaemon
@testable import SparringSessions

/// A real `sparringd` process on FIFO-backed ALSA PCMs in a private directory.
///
/// The directory holds `.asoundrc` (line_in/line_out on two FIFOs), the
/// config file, the sessions, the socket, a user scenarios directory and the
/// daemon's log. Calls are answered by a `FIFOFarEnd` playing a script.
final class DaemonHarness: @unchecked Sendable {
    let directory: URL
    let agentFIFO: String
    let callerFIFO: String
    let sessions: String
    let socket: String
    let logPath: String
    let userScenarios: String
    let userVoices: String
    private(set) var process: Process?

    static func binary(_ name: String) -> String {
        let here = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        for candidate in [here, here.deletingLastPathComponent()] {
            let path = candidate.appendingPathComponent(name).path
            if FileManager.default.isExecutableFile(atPath: path) { return path }
        }
        return Live.LiveCallTests.root.appendingPathComponent(".build/debug/\(name)").path
    }

    init(config extra: String = "") throws {
        directory = URL(fileURLWithPath: "/tmp/sparring-daemon-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        agentFIFO = directory.appendingPathComponent("agent.fifo").path
        callerFIFO = directory.appendingPathComponent("caller.fifo").path
        sessions = directory.appendingPathComponent("sessions").path
        socket = directory.appendingPathComponent("run/sparring/control.sock").path
        logPath = directory.appendingPathComponent("sparringd.log").path
        userScenarios = directory.appendingPathComponent("config/sparring/scenarios").path
        userVoices = directory.appendingPathComponent("config/sparring/voices").path
        try FileManager.default.createDirectory(atPath: userScenarios, withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: userVoices, withIntermediateDirectories: true)
        #expect(mkfifo(agentFIFO, 0o600) == 0 && mkfifo(callerFIFO, 0o600) == 0)
        try FIFOFarEnd.asoundrc(agentFIFO: agentFIFO, callerFIFO: callerFIFO)
            .write(to: directory.appendingPathComponent(".asoundrc"), atomically: true, encoding: .utf8)
        let root = Live.LiveCallTests.root
        let config = """
            # written by the daemon tests
            capture: line_in
            playback: line_out
            sessions: \(sessions)
            scenarios: [\(root.appendingPathComponent("scenarios").path), \(userScenarios)]
            voices: [\(root.appendingPathComponent("voices").path), \(userVoices)]
            socket: \(socket)
            agent: trainee
            \(extra)
            """
        try config.write(to: directory.appendingPathComponent("sparringd.yaml"), atomically: true, encoding: .utf8)
    }

    var environment: [String: String] {
        var environment = ProcessInfo.processInfo.environment
        environment["HOME"] = directory.path
        environment["XDG_CONFIG_HOME"] = directory.appendingPathComponent("config").path
        environment["XDG_RUNTIME_DIR"] = directory.appendingPathComponent("run").path
        environment.removeValue(forKey: "NOTIFY_SOCKET")
        // The far ends play up to 6× real time; the daemon would take such a line for a dead one.
        environment["SPARRING_LINE_SPEED"] = "8"
        return environment
    }

    /// Starts the daemon and waits until its socket answers; with `descriptorLimit`, under that
    /// hard and soft limit on open descriptors (prlimit(1) then execs it: the pid is the daemon's).
    func start(descriptorLimit: Int? = nil) async throws {
        let process = Process()
        let arguments = [Self.binary("sparringd"), "--config", directory.appendingPathComponent("sparringd.yaml").path]
        if let descriptorLimit {
            process.executableURL = URL(fileURLWithPath: "/usr/bin/prlimit")
            process.arguments = ["--nofile=\(descriptorLimit):\(descriptorLimit)"] + arguments
        } else {
            process.executableURL = URL(fileURLWithPath: arguments[0])
            process.arguments = Array(arguments.dropFirst())
        }
        process.environment = environment
        FileManager.default.createFile(atPath: logPath, contents: nil)
        let log = try FileHandle(forWritingTo: URL(fileURLWithPath: logPath))
        log.seekToEndOfFile()
        process.standardError = log
        process.standardOutput = log
        try process.run()
        self.process = process
        for _ in 0..<600 {
            if ControlConnection.answers(path: socket) { return }
            if !process.isRunning { break }
            try await Task.sleep(for: .milliseconds(50))
        }
        Issue.record("sparringd did not come up: \(self.log)")
        throw DaemonError("sparringd did not come up")
    }

    var log: String { (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? "" }

    /// Sends `signal` and waits for the process to end; returns its exit status.
    @discardableResult
    func stop(_ signal: Int32 = SIGTERM) async throws -> Int32 {
        guard let process else { return 0 }
        kill(process.processIdentifier, signal)
        try await waitForExit(process)
        self.process = nil
        return process.terminationStatus
    }

    func request(_ request: ControlRequest) async throws -> ControlMessage {
        try await ControlConnection.with(path: socket) { try await $0.request(request) }
    }

    func status() async throws -> DaemonStatus {
        try #require(try await request(ControlRequest(op: "status")).status)
    }

    static func start(_ scenario: String, seed: UInt64 = 1, subscribe: Bool = false) -> ControlRequest {
        var request = ControlRequest(op: "start", id: .text("start-\(scenario)"))
        request.scenario = scenario
        request.seed = seed
        request.subscribe = subscribe
        return request
    }

    /// The far end of the next call, playing `script` (Festival voice) at `speed` times real time.
    func farEnd(script: String, speed: Double) throws -> FIFOFarEnd {
        let models = try Live.LiveCallTests.models()
        let agent = try models.scriptedAgent(try ScriptStep.parse(script), voice: .festival("cmu_us_slt_arctic_hts"), rate: 16_000)
        return FIFOFarEnd(agent: agent, agentFIFO: agentFIFO, callerFIFO: callerFIFO, speed: speed)
    }

    /// Runs a far end on its own thread; `done` is set when the call closed the line.
    final class Running: @unchecked Sendable {
        let farEnd: FIFOFarEnd
        private let done = Atomic<Bool>(false)
        var isDone: Bool { done.load(ordering: .acquiring) }
        init(_ farEnd: FIFOFarEnd) {
            self.farEnd = farEnd
            let thread = Thread { [self] in
                farEnd.run()
                done.store(true, ordering: .releasing)
            }
            thread.start()
        }
        func wait(seconds: Double = 240) async throws {
            let deadline = Date().addingTimeInterval(seconds)
            while !isDone && Date() < deadline { try await Task.sleep(for: .milliseconds(50)) }
            #expect(isDone, "the far end did not finish")
        }
    }

    /// One call of `scenario` with an agent who stays silent: started, expected to start, run to its end.
    func callOverSilence(_ scenario: String, seed: UInt64 = 1, speed: Double = 4) async throws {
        let far = Running(try farEnd(script: "[silence 30]", speed: speed))
        let started = try await request(Self.start(scenario, seed: seed))
        #expect(started.ok == true, "\(started.message ?? "")")
        try await waitIdle()
        try await far.wait()
    }

    func summary(_ session: String) throws -> CallSummary {
        try JSONDecoder().decode(CallSummary.self, from: Data(contentsOf: URL(fileURLWithPath: "\(sessions)/\(session)/summary.json")))
    }

    func events(_ session: String) throws -> [SessionEvent] {
        try Live.LiveCallTests.events(in: "\(sessions)/\(session)")
    }

    /// Waits until the call in progress has its caller's first line begun (in the session's events)
    /// and, when `seconds` is given, has reached it on its own clock (the time of its latest event),
    /// rather than for a stretch of wall time, which a busy machine can spend before the call has
    /// even opened. The call is the daemon's when it runs, else the one `sparring run` records here.
    func waitForCall(atLeast seconds: Double = 0, within limit: Double = 60) async throws {
        let deadline = Date().addingTimeInterval(limit)
        while Date() < deadline {
            if process != nil {
                if let call = try await status().call, call.t >= seconds, callerHasSpoken(in: call.session) { return }
            } else if ((try? FileManager.default.contentsOfDirectory(atPath: sessions)) ?? []).contains(where: callerHasSpoken) {
                return
            }
            try await Task.sleep(for: .milliseconds(50))
        }
        Issue.record("no call reached \(seconds) s with the caller speaking within \(limit) s")
    }

    /// Whether a caller line has begun in the session.
    func callerHasSpoken(in session: String) -> Bool {
        ((try? String(contentsOfFile: "\(sessions)/\(session)/events.jsonl", encoding: .utf8)) ?? "").contains("\"type\":\"caller_line_start\"")
    }

    /// Waits until the daemon is idle again (the call's session complete).
    func waitIdle(seconds: Double = 120) async throws {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if try await status().state == "idle" { return }
            try await Task.sleep(for: .milliseconds(100))
        }
        Issue.record("sparringd stayed busy")
    }

    /// Open file descriptors and resident memory of the daemon, from /proc.
    ///
    /// The client connection of the last status request may still be closing on
    /// the daemon's side, so descriptors are the fewest seen over half a second.
    func resources() async throws -> (fds: Int, rssKiB: Int) {
        guard let pid = process?.processIdentifier else { return (0, 0) }
        var fds = Int.max
        for _ in 0..<5 {
            fds = min(fds, (try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/fd").count) ?? 0)
            try await Task.sleep(for: .milliseconds(100))
        }
        let status = (try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8)) ?? ""
        let rss = status.split(separator: "\n").first { $0.hasPrefix("VmRSS:") }
            .flatMap { Int($0.split(separator: " ").dropFirst().first ?? "") } ?? 0
        return (fds, rss)
    }

    func remove() { try? FileManager.default.removeItem(at: directory) }
}

/// All that a child writes on `handle` until it closes it, read on a thread of its own.
func dataToEnd(_ handle: FileHandle) async throws -> Data {
    try await onOwnThread { handle.readDataToEndOfFile() }
}

/// All that a child writes on `handle` until it closes it, as text.
func textToEnd(_ handle: FileHandle) async throws -> String {
    String(decoding: try await dataToEnd(handle), as: UTF8.self)
}

func waitForExit(_ process: Process, seconds: Double = 120) async throws {
    let deadline = Date().addingTimeInterval(seconds)
    while process.isRunning && Date() < deadline { try await Task.sleep(for: .milliseconds(50)) }
    if process.isRunning {
        Issue.record("process \(process.processIdentifier) did not end")
        kill(process.processIdentifier, SIGKILL)
    }
    process.waitUntilExit()
}
