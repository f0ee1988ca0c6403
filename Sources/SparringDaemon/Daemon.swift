import Foundation
import Logging
import ServiceLifecycle
import SparringAudio
import SparringCore
import SparringSessions
import SparringSpeech
import UnixSignals

/// `sparringd`: loads the models once, then serves calls until SIGTERM.
///
/// Start-up: repair sessions a crash left behind, load the recognizer and the
/// synthesizer, load scenarios and voices (a broken file is logged and
/// skipped), listen on the control socket, tell systemd it is ready. Then a
/// `ServiceGroup` runs the socket, the call desk, the watchdog, SIGHUP
/// reloads and retention. SIGTERM and SIGINT shut down gracefully: the call
/// in progress ends with its session complete before the socket closes.
public struct Daemon: Sendable {
    public let config: DaemonConfig
    public let logger: Logger

    public init(config: DaemonConfig, logger: Logger) {
        self.config = config
        self.logger = logger
    }

    /// Scenarios and voices, each voice heard speaking first: a scenario whose voice cannot speak is skipped and logged.
    func loadCatalog(models: SpeechModels) -> Catalog {
        let catalog = Catalog.load(scenarios: config.scenarios, voices: config.voices, audition: models.audition)
        for problem in catalog.problems { logger.warning("skipped: \(problem.description)") }
        logger.info("scenarios loaded", metadata: ["count": "\(catalog.scenarios.count)", "problems": "\(catalog.problems.count)",
                                                   "ids": "\(catalog.scenarios.map(\.id).joined(separator: ","))"])
        // The move models are trained off the call path (a call would otherwise wait for its scenario's).
        let scenarios = catalog.scenarios, logger = self.logger
        DispatchQueue.global(qos: .utility).async {
            let began = DispatchTime.now().uptimeNanoseconds
            for scenario in scenarios { MoveRecognizer.make(scenario.moves).prepare() }
            logger.info("move models trained", metadata: ["ms": "\((DispatchTime.now().uptimeNanoseconds - began) / 1_000_000)"])
        }
        return catalog
    }

    /// Raises the soft limit on open descriptors to the hard one (at most 65,536): the control
    /// socket caps its clients well below it, so accepting never meets EMFILE, where the
    /// event loop would retry the listening socket at full speed.
    static func raiseDescriptorLimit() {
        var limit = rlimit()
        guard getrlimit(__rlimit_resource_t(RLIMIT_NOFILE.rawValue), &limit) == 0 else { return }
        let wanted = min(limit.rlim_max, 65_536)
        if limit.rlim_cur < wanted {
            limit.rlim_cur = wanted
            _ = setrlimit(__rlimit_resource_t(RLIMIT_NOFILE.rawValue), &limit)
        }
    }

    public func run() async throws {
        umask(0o077)
        signal(SIGPIPE, SIG_IGN)
        Self.raiseDescriptorLimit()
        let began = DispatchTime.now().uptimeNanoseconds
        let notifier = SystemdNotifier()
        repairSessions()
        let models: SpeechModels
        do { models = try SpeechModels() } catch {
            throw DaemonError("cannot load the speech models: \(error.description)")
        }
        let outbox = HubOutboxSignal()
        let desk = CallDesk(config: config, models: models, catalog: loadCatalog(models: models), logger: logger, callEnded: { outbox.poke() })
        let logger = self.logger
        let server = ControlServer(path: config.socket, desk: desk, logger: logger, idleTimeoutSeconds: config.idleTimeoutSeconds) {
            let ms = Double(DispatchTime.now().uptimeNanoseconds - began) / 1e6
            logger.notice("ready", metadata: ["start_ms": "\(Int(ms))", "socket": "\(config.socket)", "capture": "\(config.capture)",
                                              "playback": "\(config.playback)", "rate": "\(config.rate)"])
            notifier.notify("READY=1\nSTATUS=waiting for a call\nMAINPID=\(getpid())")
        }
        let services: [ServiceGroupConfiguration.ServiceConfiguration] = [
            .init(service: server),
            .init(service: DeskService(desk: desk, notifier: notifier)),
            .init(service: WatchdogService(notifier: notifier)),
            .init(service: ReloadService(daemon: self, desk: desk, notifier: notifier)),
            .init(service: RetentionService(config: config, logger: logger)),
            .init(service: HubOutboxService(sessions: config.sessions, signal: outbox, logger: logger)),
        ]
        var configuration = ServiceGroupConfiguration(services: services, gracefulShutdownSignals: [.sigterm, .sigint], logger: logger)
        configuration.maximumGracefulShutdownDuration = .seconds(60)
        let group = ServiceGroup(configuration: configuration)
        try await group.run()
        logger.notice("stopped")
    }

    /// Sessions a killed daemon (or `sparring run`) left half-written are made whole and marked interrupted.
    func repairSessions() {
        for (id, result) in SessionRepair.repairAll(sessions: config.sessions) {
            switch result {
            case let .success(.repaired(what)): logger.notice("repaired interrupted session", metadata: ["session": "\(id)", "repair": "\(what)"])
            case .success(.inProgress): logger.info("session still recording in another process", metadata: ["session": "\(id)"])
            case .success(.complete): break
            case let .failure(error): logger.error("cannot repair session", metadata: ["session": "\(id)", "reason": "\(error.message)"])
            }
        }
    }
}

/// Ends the call in progress first when the daemon shuts down (it is shut down before the socket).
struct DeskService: Service {
    let desk: CallDesk
    let notifier: SystemdNotifier

    func run() async throws {
        try? await gracefulShutdown()
        notifier.notify("STOPPING=1\nSTATUS=ending the call in progress")
        await desk.closeAndEndCall()
    }
}

/// SIGHUP reloads scenarios and voices; the call in progress is not touched.
struct ReloadService: Service {
    let daemon: Daemon
    let desk: CallDesk
    let notifier: SystemdNotifier

    func run() async throws {
        let signals = await UnixSignalsSequence(trapping: .sighup)
        await cancelWhenGracefulShutdown {
            for await _ in signals {
                notifier.notify("RELOADING=1")
                daemon.logger.notice("SIGHUP: reloading scenarios and voices")
                desk.reload(daemon.loadCatalog(models: desk.models))
                notifier.notify("READY=1\nSTATUS=reloaded")
            }
        }
    }
}

/// Applies `retention_days` at start and then daily.
struct RetentionService: Service {
    let config: DaemonConfig
    let logger: Logger

    func run() async throws {
        guard config.retentionDays > 0 else {
            try? await gracefulShutdown()
            return
        }
        try? await cancelWhenGracefulShutdown {
            while true {
                let removed = SessionRetention.prune(sessions: config.sessions, olderThan: config.retentionDays)
                if !removed.isEmpty {
                    logger.notice("retention: removed old sessions", metadata: ["count": "\(removed.count)", "older_than_days": "\(config.retentionDays)"])
                }
                try await Task.sleep(for: .seconds(86_400))
            }
        }
    }
}
