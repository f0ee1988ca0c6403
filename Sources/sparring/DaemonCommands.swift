import ArgumentParser
import Foundation
import Synchronization
import SparringCore
import SparringDaemon
import SparringSessions

/// Where the daemon listens; every command that talks to it takes this.
struct SocketOption: ParsableArguments {
    @Option(help: "sparringd's control socket (default: $SPARRING_SOCKET, or $XDG_RUNTIME_DIR/sparring/control.sock).")
    var socket: String?

    var path: String {
        socket ?? ProcessInfo.processInfo.environment["SPARRING_SOCKET"].flatMap { $0.isEmpty ? nil : $0 } ?? DaemonConfig.defaultSocket()
    }

    /// Runs `body` on a connection; a missing daemon or a failed reply is one clear line.
    func with<T: Sendable>(_ body: (ControlConnection) async throws -> T) async throws -> T {
        do { return try await ControlConnection.with(path: path, body) } catch let error as DaemonError {
            throw Terminal.fail(error.description, code: error.unreachable ? Terminal.unavailable : Terminal.failure)
        }
    }
}

extension ControlMessage {
    /// The reply's failure as one line and a non-zero exit, or nothing when it succeeded.
    func check() throws {
        guard ok == false else { return }
        throw Terminal.fail(message ?? error?.rawValue ?? "request failed")
    }
}

struct CallCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "call",
        abstract: "A practice call on the headset through sparringd, shown live; Ctrl-C hangs up.",
        discussion: "On a terminal the view keeps a status line (timer, who speaks, anger and trust); in a pipe it prints one event per line.")

    @Argument(help: "Scenario id (see `sparring scenarios`).") var scenario: String
    @Option(help: "Agent name recorded with the session (default: the daemon's).") var agent: String?
    @Option(help: "Seed for the caller's choices (default: random).") var seed: UInt64?
    @Option(help: "How hard the caller is to win over: strict, fair or empathic.") var difficulty: Difficulty = .fair
    @Option(help: ArgumentHelp("Practise a moment of an earlier call again: the caller starts in that moment's phase and mood, with the line said before it (see `sparring show ID --debrief`).", valueName: "SESSION_ID:MOMENT"))
    var from: String?
    @Flag(help: "Stream the call's events and its summary as JSON lines.") var json = false
    @OptionGroup var socket: SocketOption

    func run() async throws {
        let view = CallView(mode: json ? .json : (isatty(STDOUT_FILENO) == 1 ? .terminal : .plain))
        let summary: CallSummary? = try await socket.with { connection in
            var request = ControlRequest(op: "start", id: .number(1))
            request.scenario = scenario
            request.agent = agent
            request.seed = seed
            request.difficulty = difficulty.rawValue
            request.from = from
            request.subscribe = true
            try await connection.send(request)
            let reply = try await connection.reply()
            try reply.check()
            view.started(session: reply.session ?? "")

            // Ctrl-C asks the daemon to hang up; the summary still arrives.
            signal(SIGINT, SIG_IGN)
            let sender = connection.sender
            let interrupt = DispatchSource.makeSignalSource(signal: SIGINT, queue: .global())
            interrupt.setEventHandler { Task { try? await sender.send(ControlRequest(op: "hangup", id: .number(2))) } }
            interrupt.resume()
            defer { interrupt.cancel() }
            let ticker = Task {
                while !Task.isCancelled {
                    try await Task.sleep(for: .milliseconds(250))
                    view.tick()
                }
            }
            defer { ticker.cancel() }
            while let message = try await connection.next() {
                if let event = message.event { view.show(event) }
                if let summary = message.summary { return summary }
                if message.ok == false, let text = message.message { view.note(text) }
            }
            return nil
        }
        guard let summary else {
            throw Terminal.fail("sparringd went away during the call; its session is repaired when sparringd starts again")
        }
        view.finish()
        if json {
            var message = ControlMessage()
            message.summary = summary
            FileHandle.standardOutput.write(message.line())
        } else {
            try LiveView.summary(summary, json: false, command: "call")
        }
        try LiveView.requireRecorded(summary)
        if summary.ended_by == "device" {
            throw Terminal.fail(view.lineError ?? "the line failed during the call; session \(summary.id) kept")
        }
    }
}

/// The live view of `sparring call`: scrolling events above a redrawn status line on a terminal.
final class CallView: Sendable {
    enum Mode { case terminal, plain, json }
    struct Screen {
        var live = LiveStatus()
        var receivedAt = Date()
        var session = ""
        var ended = false
    }
    let mode: Mode
    private let screen = Mutex(Screen())

    init(mode: Mode) { self.mode = mode }

    private func write(_ text: String) { FileHandle.standardOutput.write(Data(text.utf8)) }

    func started(session: String) {
        screen.withLock { $0.session = session }
        if mode != .json { write("Session \(session): ringing…\n") }
    }

    func note(_ text: String) {
        screen.withLock { _ in if mode == .terminal { write("\r\u{1B}[2K") }; write("sparring: \(text)\n") }
    }

    func show(_ event: SessionEvent) {
        screen.withLock { screen in
            screen.live.apply(event)
            screen.receivedAt = Date()
            switch mode {
            case .json:
                var message = ControlMessage()
                message.event = event
                FileHandle.standardOutput.write(message.line())
            case .plain:
                if let (text, _) = LiveView.describe(event) { write(text + "\n") }
            case .terminal:
                write("\r\u{1B}[2K")
                if let (text, problem) = LiveView.describe(event) { write(colour(text, event: event, problem: problem) + "\n") }
                write(status(screen))
            }
        }
    }

    /// Why the line failed, when it did.
    var lineError: String? { screen.withLock { $0.live.lineError } }

    /// Redraws the status line so the timer runs between events.
    func tick() {
        guard mode == .terminal else { return }
        screen.withLock { screen in
            guard !screen.ended else { return }
            write("\r\u{1B}[2K" + status(screen))
        }
    }

    func finish() {
        screen.withLock { screen in
            screen.ended = true
            if mode == .terminal { write("\r\u{1B}[2K") }
        }
    }

    private func colour(_ text: String, event: SessionEvent, problem: Bool) -> String {
        let code: String
        switch event.kind {
        case .callerLineStart: code = "33"
        case .utterance: code = "36"
        case .outcome: code = "1"
        default: code = problem ? "31" : "2"
        }
        return paint(code, text)
    }

    private func paint(_ code: String, _ text: String) -> String {
        Terminal.colours ? "\u{1B}[\(code)m\(text)\u{1B}[0m" : text
    }

    private func status(_ screen: Screen) -> String {
        let live = screen.live
        let now = live.t + Date().timeIntervalSince(screen.receivedAt)
        let who: String
        switch live.speaking {
        case "agent": who = paint("36", "● you") + (live.partial.isEmpty ? "" : " “\(live.partial.suffix(40))”")
        case "caller": who = paint("33", "● caller")
        default: who = "○ silence"
        }
        let meters = ["anger", "trust"].compactMap { name -> String? in
            guard let value = live.meters?[name] else { return nil }
            let filled = Int((value / 10).rounded())
            return "\(name) \(String(repeating: "█", count: max(0, min(10, filled))))\(String(repeating: "░", count: max(0, 10 - filled))) \(Int(value.rounded()))"
        }.joined(separator: "  ")
        return "\(CallTime(seconds: now).description)  \(who)  \(meters)  (\(live.mood ?? "calm"))"
    }
}

struct HangupCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "hangup", abstract: "Hang up the call sparringd is running.")
    @OptionGroup var socket: SocketOption

    func run() async throws {
        let status = try await socket.with { connection in
            try await connection.request(ControlRequest(op: "status")).status
        }
        try await socket.with { connection in try await connection.request(ControlRequest(op: "hangup")).check() }
        print("Hung up\(status?.call.map { " the call in session \($0.session)" } ?? "").")
    }
}

struct StatusCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "status", abstract: "What sparringd is doing.")
    @Flag(help: "Print the status object as JSON.") var json = false
    @OptionGroup var socket: SocketOption

    func run() async throws {
        let reply = try await socket.with { connection in try await connection.request(ControlRequest(op: "status")) }
        try reply.check()
        guard let status = reply.status else { throw Terminal.fail("sparringd sent no status") }
        if json { print(try Terminal.json(status)); return }
        print("sparringd (pid \(status.pid), protocol \(status.protocol_version)) up \(Int(status.uptime_s)) s, \(status.calls) calls served")
        print("Line: \(status.capture) → \(status.playback) at \(status.rate) Hz; sessions in \(status.sessions)")
        print("Scenarios: \(status.scenarios)\(status.problems.isEmpty ? "" : " (\(status.problems.count) files skipped)")")
        if let call = status.call {
            let meters = (call.meters ?? [:]).keys.sorted().map { "\($0) \(Int(call.meters![$0]!.rounded()))" }.joined(separator: ", ")
            print("On a call: \(call.agent) in \(call.scenario), \(CallTime(seconds: call.t).description) in, mood \(call.mood ?? "calm")\(meters.isEmpty ? "" : " (\(meters))"), session \(call.session)")
        } else {
            print("Idle: no call on the line.")
        }
    }
}
