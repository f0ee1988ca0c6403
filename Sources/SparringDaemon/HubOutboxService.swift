import Foundation
import Logging
import ServiceLifecycle
import SparringCore
import SparringHubClient
import SparringSessions
import Synchronization

/// A nudge from the call desk: a call has ended, its session can be sent.
public final class HubOutboxSignal: Sendable {
    private let pending = Mutex(false)
    public init() {}
    public func poke() { pending.withLock { $0 = true } }
    /// Whether a poke came since the last look.
    func take() -> Bool { pending.withLock { was in defer { was = false }; return was } }
}

/// Sends finished calls to the team's hub when this machine has joined one (`sparring hub join`):
/// at start (what a restart left unsent), after every call, and while the hub cannot take them
/// again with doubling pauses (30 s up to an hour). What was sent and what failed is kept in the
/// outbox file `sparring hub status` reads. Without a hub it only looks for one now and then.
public struct HubOutboxService: Service {
    let sessions: String
    let credentials: String
    let outbox: String
    let signal: HubOutboxSignal
    let logger: Logger
    /// The pause after a failed try, doubled after each failure up to `longest`; `longest` is also
    /// how long a hub that took everything is left alone unless a call ends.
    let first: Duration
    let longest: Duration
    /// How often the pause is checked for a poke.
    let tick: Duration

    public init(sessions: String, credentials: String = HubCredentials.defaultPath(), outbox: String = HubOutbox.defaultPath(),
                signal: HubOutboxSignal, logger: Logger, first: Duration = .seconds(30), longest: Duration = .seconds(3600),
                tick: Duration = .seconds(1)) {
        self.sessions = sessions
        self.credentials = credentials
        self.outbox = outbox
        self.signal = signal
        self.logger = logger
        self.first = first
        self.longest = longest
        self.tick = tick
    }

    public func run() async throws {
        try? await cancelWhenGracefulShutdown { try await loop() }
    }

    func loop() async throws {
        var failurePause = first
        while true {
            var pause = longest
            if FileManager.default.fileExists(atPath: credentials) {
                do {
                    let client = try HubCredentials.load(from: credentials).client()
                    let report = await HubPush.run(client: client, store: SessionStore(root: sessions), outbox: outbox, attempts: 1)
                    if !report.sent.isEmpty {
                        logger.notice("hub: sessions sent", metadata: ["count": "\(report.sent.count)", "hub": "\(client.base.absoluteString)"])
                    }
                    if let (id, reason) = report.failed.min(by: { $0.key < $1.key }) {
                        logger.warning("hub: sessions not sent, trying again later",
                                       metadata: ["count": "\(report.failed.count)", "first": "\(id)", "reason": "\(reason)",
                                                  "retry_s": "\(failurePause.components.seconds)"])
                        pause = failurePause
                        failurePause = min(failurePause * 2, longest)
                    } else {
                        failurePause = first
                    }
                } catch {
                    logger.warning("hub: \(error.message)")
                }
            }
            // The pause is measured on the clock: a busy machine that wakes the loop late does not stretch it.
            let clock = ContinuousClock(), resume = clock.now + pause
            while clock.now < resume && !signal.take() {
                try await Task.sleep(for: tick)
            }
        }
    }
}
