import ArgumentParser
import Foundation
import Logging
import SparringCore
import SparringDaemon
import SparringSpeech

/// The practice daemon: models loaded once, one call at a time on the headset, a control socket.
@main
struct SparringDaemonCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sparringd",
        abstract: "Serve practice calls on the headset to `sparring call`, with the models loaded once.",
        discussion: """
            Settings come from the config file (--config, $SPARRING_CONFIG, ~/.config/sparring/sparringd.yaml, \
            then the installed etc/sparring/sparringd.yaml), then SPARRING_* variables, then these flags.
            """,
        version: SparringVersion.current)

    @Option(help: "Config file (YAML).") var config: String?
    @Flag(name: .customLong("check-config"), help: "Validate the configuration, print it, and exit.") var checkConfig = false
    @Option(help: "ALSA capture PCM (the headset microphone).") var capture: String?
    @Option(help: "ALSA playback PCM (the headset ear).") var playback: String?
    @Option(help: "Sample rate of the line in Hz.") var rate: Int?
    @Option(help: "Directory for session folders.") var sessions: String?
    @Option(help: "Control socket path.") var socket: String?
    @Flag(help: "Log debug messages.") var verbose = false

    func resolve() -> (DaemonConfig, [Problem], String?) {
        var resolved = DaemonConfig()
        var problems: [Problem] = []
        let environment = ProcessInfo.processInfo.environment
        let file = config ?? DaemonConfig.defaultFile(environment: environment)
        if let file { problems += resolved.apply(file: file) }
        problems += resolved.apply(environment: environment)
        if let capture { resolved.capture = capture }
        if let playback { resolved.playback = playback }
        if let rate {
            if DaemonConfig.rates.contains(rate) { resolved.rate = rate } else {
                problems.append(Problem(file: "command line", line: 0, field: "--rate", message: "\(rate) Hz is not supported"))
            }
        }
        if let sessions { resolved.sessions = sessions }
        if let socket { resolved.socket = socket }
        problems += resolved.check()
        return (resolved, problems, file)
    }

    func run() async throws {
        let level: Logger.Level = verbose ? .debug : .info
        LoggingSystem.bootstrap { label in
            var handler = JournalLogHandler(label: label)
            handler.logLevel = level
            return handler
        }
        let logger = Logger(label: "sparringd")
        let (resolved, problems, file) = resolve()
        if checkConfig {
            for problem in problems { print("sparringd: \(problem.description)") }
            print("config file: \(file ?? "(none)")")
            print("capture: \(resolved.capture)\nplayback: \(resolved.playback)\nrate: \(resolved.rate)")
            print("sessions: \(resolved.sessions)\nsocket: \(resolved.socket)")
            print("scenarios: \(resolved.scenarios.joined(separator: ", "))\nvoices: \(resolved.voices.joined(separator: ", "))")
            print("hangover_ms: \(resolved.hangoverMs)\nagent: \(resolved.agent)\nretention_days: \(resolved.retentionDays)\nmax_minutes: \(resolved.maxMinutes)")
            let catalog = Catalog.load(scenarios: resolved.scenarios, voices: resolved.voices, audition: VoiceAudition.standalone())
            for problem in catalog.problems { print("sparringd: skipped: \(problem.description)") }
            print("scenarios found: \(catalog.scenarios.map(\.id).joined(separator: ", "))")
            if catalog.scenarios.isEmpty { print("sparringd: no scenario can be loaded from \(resolved.scenarios.joined(separator: ", "))") }
            if !problems.isEmpty || catalog.scenarios.isEmpty { throw ExitCode(1) }
            return
        }
        if !problems.isEmpty {
            for problem in problems { logger.critical("configuration: \(problem.description)") }
            throw ExitCode(1)
        }
        do {
            try await Daemon(config: resolved, logger: logger).run()
        } catch let error as DaemonError {
            logger.critical("\(error.description)")
            throw ExitCode(1)
        }
    }
}
