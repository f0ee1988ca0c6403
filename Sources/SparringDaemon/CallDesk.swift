import Foundation
import Logging
import Synchronization
import SparringAudio
import SparringCore
import SparringSessions
import SparringSpeech

/// One call at a time on the configured headset, and the clients that watch it.
///
/// Requests from the control socket land here. Starting is decided under one
/// lock (so of two racing clients exactly one wins), the device is opened by
/// the call's own thread, and every event of the call is kept in a backlog
/// and sent to subscribed clients in order: a client that subscribes late, or
/// reconnects, sees the whole call so far. Sending never waits for a client:
/// each has a bounded outbox, and a client that does not read loses its oldest
/// lines, never the call's time.
public final class CallDesk: Sendable {
    /// A connected client: where its lines go, and how to close it.
    public struct Client: Sendable {
        let outbox: AsyncStream<Data>.Continuation
        let close: @Sendable () -> Void
        var subscribed = false
    }

    struct Call {
        /// What the call was started with; `status` adds what its events tell (`live`).
        var started: CallStatus
        var live = LiveStatus()
        var status: CallStatus {
            var status = started
            status.show(live)
            return status
        }
        let hangUp: @Sendable (String) -> Void
        var backlog: [Data] = []
    }

    struct State {
        var clients: [Int: Client] = [:]
        var nextClient = 0
        var call: Call?
        var starting: String?
        var calls = 0
        var catalog: Catalog
        var closed = false
        var idleWaiters: [CheckedContinuation<Void, Never>] = []
    }

    public let config: DaemonConfig
    let models: SpeechModels
    let logger: Logger
    private let state: Mutex<State>
    private let startedAt = Date()
    /// Lines kept for a slow client before its oldest are dropped.
    public static let outboxLimit = 4_096

    /// Told when a call has ended (the hub outbox sends its session).
    let callEnded: @Sendable () -> Void

    public init(config: DaemonConfig, models: SpeechModels, catalog: Catalog, logger: Logger, callEnded: @escaping @Sendable () -> Void = {}) {
        self.config = config
        self.models = models
        self.logger = logger
        self.callEnded = callEnded
        state = Mutex(State(catalog: catalog))
    }

    // MARK: - Clients

    /// Nil when `limit` clients are connected already.
    public func connect(limit: Int = .max, close: @escaping @Sendable () -> Void) -> (id: Int, lines: AsyncStream<Data>)? {
        let (stream, continuation) = AsyncStream.makeStream(of: Data.self, bufferingPolicy: .bufferingNewest(Self.outboxLimit))
        let id = state.withLock { state -> Int? in
            guard state.clients.count < limit else { return nil }
            state.nextClient += 1
            state.clients[state.nextClient] = Client(outbox: continuation, close: close)
            return state.nextClient
        }
        guard let id else { return nil }
        return (id, stream)
    }

    /// The client went away; a call it started goes on.
    public func disconnect(_ id: Int) {
        let client = state.withLock { $0.clients.removeValue(forKey: id) }
        client?.outbox.finish()
    }

    /// Ends every client connection once its queued lines are out (at shutdown, after the call ended).
    ///
    /// A client that does not read is closed after two seconds regardless.
    public func disconnectAll() {
        let clients = state.withLock { state in
            let all = state.clients.values
            state.clients.removeAll()
            return Array(all)
        }
        for client in clients {
            client.outbox.finish()
            Task {
                try? await Task.sleep(for: .seconds(2))
                client.close()
            }
        }
    }

    private func send(_ message: ControlMessage, to id: Int) {
        let line = message.line()
        state.withLock { _ = $0.clients[id]?.outbox.yield(line) }
    }

    // MARK: - Requests

    /// Answers one line from client `id`; the reply is queued on the client's outbox.
    public func receive(_ line: Data, from id: Int) async {
        switch ControlRequest.parse(line) {
        case let .failure(error):
            send(.failure(to: nil, error), to: id)
        case let .success(request):
            await handle(request, from: id)
        }
    }

    /// Answers a line that was too long to read.
    public func receiveOversized(from id: Int) {
        send(.failure(to: nil, ControlError(.oversized, "request longer than \(ControlProtocol.maxLineBytes) bytes; discarded")), to: id)
    }

    func handle(_ request: ControlRequest, from id: Int) async {
        switch request.op {
        case "start":
            await start(request, from: id)
        case "hangup":
            let hangUp = state.withLock { $0.call?.hangUp }
            guard let hangUp else { return send(.failure(to: request, ControlError(.noCall, "no call is on the line")), to: id) }
            logger.info("hang-up requested", metadata: ["client": "\(id)"])
            hangUp("agent")
            send(.reply(to: request), to: id)
        case "status":
            send(.reply(to: request) { $0.status = status() }, to: id)
        case "subscribe":
            let reply = ControlMessage.reply(to: request)
            let subscribed = state.withLock { state -> Bool in
                guard let call = state.call, state.clients[id] != nil else { return false }
                state.clients[id]!.outbox.yield(reply.line())
                for line in call.backlog { state.clients[id]!.outbox.yield(line) }
                state.clients[id]!.subscribed = true
                return true
            }
            if !subscribed { send(.failure(to: request, ControlError(.noCall, "no call is on the line to subscribe to")), to: id) }
        case "unsubscribe":
            state.withLock { $0.clients[id]?.subscribed = false }
            send(.reply(to: request), to: id)
        case "scenarios":
            let catalog = state.withLock { $0.catalog }
            send(.reply(to: request) { $0.scenarios = catalog.scenarios.map { ScenarioInfo(id: $0.id, title: $0.title, file: $0.file) } }, to: id)
        default:
            send(.failure(to: request, ControlError(.unknownOp, "unknown op")), to: id)
        }
    }

    public func status() -> DaemonStatus {
        state.withLock { state in
            DaemonStatus(state: state.call != nil ? "in_call" : (state.starting != nil ? "starting" : "idle"),
                         call: state.call?.status, pid: getpid(), protocol_version: ControlProtocol.version,
                         uptime_s: (Date().timeIntervalSince(startedAt) * 10).rounded() / 10, calls: state.calls,
                         scenarios: state.catalog.scenarios.count, problems: state.catalog.problems.map(\.description),
                         capture: config.capture, playback: config.playback, rate: config.rate, sessions: config.sessions)
        }
    }

    // MARK: - Calls

    private func start(_ request: ControlRequest, from id: Int) async {
        let agent = request.agent ?? config.agent
        let reserved: Result<Scenario, ControlError> = state.withLock { state in
            if state.closed { return .failure(ControlError(.shuttingDown, "sparringd is shutting down")) }
            if let call = state.call?.status {
                return .failure(ControlError(.busy, "busy: \(call.agent) is on a call (\(call.scenario), session \(call.session), \(Int(call.t)) s in)"))
            }
            if let other = state.starting { return .failure(ControlError(.busy, "busy: a call for \(other) is being set up")) }
            if let problem = DisplayText.nameProblem(agent) {
                return .failure(ControlError(.missingField, "agent: the name \(problem)"))
            }
            guard let difficulty = Difficulty(rawValue: request.difficulty ?? "fair") else {
                return .failure(ControlError(.missingField, "unknown difficulty '\(request.difficulty ?? "")' (strict, fair or empathic)"))
            }
            do throws(SparringError) {
                let scenario = try state.catalog.scenario(request.scenario ?? "").at(difficulty)
                state.starting = agent
                return .success(scenario)
            } catch {
                return .failure(ControlError(.unknownScenario, error.message))
            }
        }
        let scenario: Scenario
        switch reserved {
        case let .failure(error): return send(.failure(to: request, error), to: id)
        case let .success(found): scenario = found
        }

        var options = CallOptions(scenario: scenario, agent: agent, seed: request.seed ?? CallOptions.freshSeed(), sessions: config.sessions)
        options.maxMinutes = config.maxMinutes
        if let from = request.from {
            // A moment of an earlier call again: its caller, as hard to win over, in a short call.
            do throws(SparringError) {
                let (retry, difficulty) = try SessionStore(root: config.sessions).retry(from, scenario: scenario.id)
                options.scenario = scenario.at(difficulty)
                options.retry = retry
                options.maxMinutes = min(config.maxMinutes, CallOptions.retryMaxMinutes)
            } catch {
                state.withLock { $0.starting = nil }
                return send(.failure(to: request, ControlError(.missingField, error.message)), to: id)
            }
        }
        options.hangover = Double(config.hangoverMs) / 1000
        let live: LiveCall<ALSALine>
        do {
            live = try LiveCall(line: ALSALine(capture: config.capture, playback: config.playback, rate: config.rate),
                                options: options, models: models, onEvent: { [weak self] in self?.publish($0) })
        } catch {
            state.withLock { $0.starting = nil }
            logger.error("cannot start a call", metadata: ["reason": "\(error.message)"])
            return send(.failure(to: request, ControlError(.failed, error.message)), to: id)
        }
        let session = live.session.id
        state.withLock { state in
            state.starting = nil
            state.call = Call(started: CallStatus(session: session, scenario: scenario.id, agent: agent, seed: options.seed,
                                                 started_at: ISO8601DateFormatter().string(from: Date()), t: 0),
                              hangUp: { live.hangUp(reason: $0) })
        }
        logger.info("call started", metadata: ["session": "\(session)", "scenario": "\(scenario.id)", "agent": "\(agent)", "client": "\(id)"])

        // Nil once the line opened; otherwise why the call could not begin.
        let failure = await withCheckedContinuation { (continuation: CheckedContinuation<ControlError?, Never>) in
            let once = Once(continuation)
            live.onLineOpened = { error in
                once.resume(error.map { ControlError(.device, "\($0.description); session \(session) kept") })
            }
            startNamedThread("sp-call") { [self] in
                run(live, failedEarly: { once.resume($0) })
            }
        }
        if let failure { return send(.failure(to: request, failure), to: id) }
        // The reply, then the call so far and every event after it, in order.
        let reply = ControlMessage.reply(to: request) { $0.session = session }
        state.withLock { state in
            guard state.clients[id] != nil else { return }
            state.clients[id]!.outbox.yield(reply.line())
            guard request.subscribe ?? true, let call = state.call, call.started.session == session else { return }
            for line in call.backlog { state.clients[id]!.outbox.yield(line) }
            state.clients[id]!.subscribed = true
        }
    }

    /// The call's thread: runs it to its end, then tells subscribers and frees the line.
    /// `failedEarly` hears of an error that ended the call before its line opened (it is ignored after).
    private func run(_ live: LiveCall<ALSALine>, failedEarly: (ControlError) -> Void) {
        do {
            _ = try live.run()
        } catch {
            failedEarly(ControlError(.failed, error.message))
            logger.error("call ended on an error", metadata: ["session": "\(live.session.id)", "reason": "\(error.message)"])
        }
        var message = ControlMessage()
        message.summary = live.summary
        let line = message.line()
        let (waiters, clients): ([CheckedContinuation<Void, Never>], [Client]) = state.withLock { state in
            let watching = state.clients.filter(\.value.subscribed)
            for key in watching.keys { state.clients[key]!.subscribed = false }
            state.call = nil
            state.calls += 1
            let waiters = state.idleWaiters
            state.idleWaiters = []
            return (waiters, Array(watching.values))
        }
        for client in clients { client.outbox.yield(line) }
        if let summary = live.summary {
            logger.info("call ended", metadata: ["session": "\(summary.id)", "outcome": "\(summary.outcome)", "ended_by": "\(summary.ended_by)",
                                                 "duration_s": "\(summary.duration_s)", "xruns": "\(summary.xruns)"])
        }
        for waiter in waiters { waiter.resume() }
        callEnded()
    }

    private func publish(_ event: SessionEvent) {
        switch event.kind {
        case let .synthesisError(text, reason): logger.error("synthesis error: \(reason)", metadata: ["text": "\(text)"])
        case let .lineError(reason), let .diskFull(reason): logger.error("\(event.type.replacingOccurrences(of: "_", with: " ")): \(reason)")
        default: break
        }
        var message = ControlMessage()
        message.event = event
        let line = message.line()
        state.withLock { state in
            guard state.call != nil else { return }
            state.call!.live.apply(event)
            // Partial hypotheses are for watching live; the backlog keeps what the session keeps.
            if case .partial = event.kind {} else { state.call!.backlog.append(line) }
            for client in state.clients.values where client.subscribed { client.outbox.yield(line) }
        }
    }

    // MARK: - Lifecycle

    /// Refuses new calls, hangs up the current one and returns when its session is complete.
    public func closeAndEndCall() async {
        let hangUp: (@Sendable (String) -> Void)? = state.withLock { state in
            state.closed = true
            return state.call?.hangUp
        }
        guard let hangUp else { return }
        logger.notice("shutting down: ending the call in progress")
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let done = state.withLock { state -> Bool in
                if state.call == nil { return true }
                state.idleWaiters.append(continuation)
                return false
            }
            if done { continuation.resume() } else { hangUp("shutdown") }
        }
    }

    /// Replaces the scenarios and voices; a call in progress keeps the scenario it started with.
    public func reload(_ catalog: Catalog) {
        state.withLock { $0.catalog = catalog }
    }

    public var catalog: Catalog { state.withLock { $0.catalog } }
}

/// Resumes a continuation once, from whichever thread gets there first.
final class Once<Value: Sendable>: Sendable {
    private let continuation: Mutex<CheckedContinuation<Value, Never>?>
    init(_ continuation: CheckedContinuation<Value, Never>) { self.continuation = Mutex(continuation) }
    func resume(_ value: Value) {
        continuation.withLock { $0.take() }?.resume(returning: value)
    }
}
