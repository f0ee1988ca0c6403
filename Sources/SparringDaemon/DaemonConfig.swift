import Foundation
import SparringAudio
import SparringCore
import SparringSessions
import SparringSpeech

/// What `sparringd` runs with: the file, then the environment, then flags.
///
/// The file is YAML (`systemd/sparringd.yaml` documents every field). Each
/// layer overrides only what it sets. Problems carry the file, line and
/// field (or the variable's name) and are all reported in one pass.
public struct DaemonConfig: Sendable, Equatable {
    public var capture = "default"
    public var playback = "default"
    public var rate = 16_000
    public var sessions = SessionLog.defaultDirectory()
    /// Installed directories first, then the user's; later ones add to earlier ones.
    public var scenarios: [String]
    public var voices: [String]
    public var hangoverMs = Int(TurnEndPolicy.defaultBase * 1000)
    public var agent = CallOptions.defaultAgent
    /// Sessions older than this many days are deleted daily; 0 keeps them all.
    public var retentionDays = 0
    public var socket = DaemonConfig.defaultSocket()
    /// Longest call, in minutes.
    public var maxMinutes = CallOptions.defaultMaxMinutes
    /// A control connection with no traffic either way for this many seconds is closed.
    public var idleTimeoutSeconds = 600

    public static let rates = [8_000, 16_000, 22_050, 32_000, 44_100, 48_000]
    static let fields: Set<String> = ["capture", "playback", "rate", "sessions", "scenarios", "voices", "hangover_ms",
                                      "agent", "retention_days", "socket", "max_minutes", "idle_timeout_s"]

    public init() {
        scenarios = [Catalog.shippedDirectory("scenarios"), Catalog.userDirectory("scenarios")]
        voices = [Catalog.shippedDirectory("voices"), Catalog.userDirectory("voices")]
    }

    /// `$XDG_RUNTIME_DIR/sparring/control.sock` (or under /tmp for a user without one).
    public static func defaultSocket(environment: [String: String] = ProcessInfo.processInfo.environment) -> String {
        let runtime = environment["XDG_RUNTIME_DIR"].flatMap { $0.isEmpty ? nil : $0 } ?? "/tmp/sparring-\(getuid())"
        return runtime + "/sparring/control.sock"
    }

    /// `$XDG_CONFIG_HOME/sparring/NAME`: where a user adds scenarios and voices of their own.
    public static func userDirectory(_ name: String, environment: [String: String] = ProcessInfo.processInfo.environment) -> String {
        Catalog.userDirectory(name, environment: environment)
    }

    /// The config file used when none is named: the user's, then the installed one.
    public static func defaultFile(environment: [String: String] = ProcessInfo.processInfo.environment) -> String? {
        if let set = environment["SPARRING_CONFIG"], !set.isEmpty { return set }
        let executable = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().deletingLastPathComponent()
        let candidates = [userDirectory("sparringd.yaml", environment: environment),
                          executable.appendingPathComponent("../etc/sparring/sparringd.yaml").standardized.path,
                          "/etc/sparring/sparringd.yaml"]
        return candidates.first { FileManager.default.fileExists(atPath: $0) }
    }

    /// The sessions directory as configured for this user (the config file, then
    /// `SPARRING_SESSIONS`), where calls are written and supervisors read them.
    /// Problems in the file are left to `sparringd --check-config` to report.
    public static func configuredSessions(environment: [String: String] = ProcessInfo.processInfo.environment) -> String {
        var config = DaemonConfig()
        if let file = defaultFile(environment: environment) { _ = config.apply(file: file) }
        _ = config.apply(environment: environment)
        return config.sessions
    }

    /// Applies a YAML config file.
    public mutating func apply(file: String) -> [Problem] {
        let document: YAMLDocument
        do { document = try YAMLDocument.load(path: file) } catch { return [error] }
        let reader = NodeReader(file: file)
        guard let fields = reader.fields(document.root, "", allowed: Self.fields) else { return reader.problems }
        let home = NSHomeDirectory()
        func path(_ value: String) -> String { value.hasPrefix("~/") ? home + value.dropFirst(1) : value }
        if let value = reader.string(fields["capture"], "capture", required: fields["capture"] != nil) { capture = value }
        if let value = reader.string(fields["playback"], "playback", required: fields["playback"] != nil) { playback = value }
        if let node = fields["rate"], let value = reader.number(node, "rate") {
            if Self.rates.contains(Int(value)) { rate = Int(value) } else {
                reader.report(node, "rate", "\(Int(value)) Hz is not supported (one of \(Self.rates.map(String.init).joined(separator: ", ")))")
            }
        }
        if let value = reader.string(fields["sessions"], "sessions", required: fields["sessions"] != nil) { sessions = path(value) }
        if let value = reader.strings(fields["scenarios"], "scenarios") { scenarios = value.map(path) }
        if let value = reader.strings(fields["voices"], "voices") { voices = value.map(path) }
        if let value = reader.number(fields["hangover_ms"], "hangover_ms", range: 100...3_000) { hangoverMs = Int(value) }
        if let value = reader.string(fields["agent"], "agent", required: fields["agent"] != nil) { agent = value }
        if let value = reader.number(fields["retention_days"], "retention_days", range: 0...36_500) { retentionDays = Int(value) }
        if let value = reader.string(fields["socket"], "socket", required: fields["socket"] != nil) { socket = path(value) }
        if let value = reader.number(fields["max_minutes"], "max_minutes", range: 1...240) { maxMinutes = value }
        if let value = reader.number(fields["idle_timeout_s"], "idle_timeout_s", range: 1...86_400) { idleTimeoutSeconds = Int(value) }
        return reader.problems
    }

    /// Applies `SPARRING_*` variables (lists are `:`-separated, like PATH).
    public mutating func apply(environment: [String: String]) -> [Problem] {
        var problems: [Problem] = []
        func text(_ name: String) -> String? { environment[name].flatMap { $0.isEmpty ? nil : $0 } }
        func integer(_ name: String, _ range: ClosedRange<Int>) -> Int? {
            guard let value = text(name) else { return nil }
            guard let number = Int(value), range.contains(number) else {
                problems.append(Problem(file: "environment", line: 0, field: name, message: "expected a whole number in \(range.lowerBound)–\(range.upperBound), found '\(value)'"))
                return nil
            }
            return number
        }
        if let value = text("SPARRING_CAPTURE") { capture = value }
        if let value = text("SPARRING_PLAYBACK") { playback = value }
        if let value = integer("SPARRING_RATE", 8_000...48_000) {
            if Self.rates.contains(value) { rate = value } else {
                problems.append(Problem(file: "environment", line: 0, field: "SPARRING_RATE", message: "\(value) Hz is not supported"))
            }
        }
        if let value = text("SPARRING_SESSIONS") { sessions = value }
        if let value = text("SPARRING_SCENARIOS") { scenarios = value.split(separator: ":").map(String.init) }
        if let value = text("SPARRING_VOICES") { voices = value.split(separator: ":").map(String.init) }
        if let value = integer("SPARRING_HANGOVER_MS", 100...3_000) { hangoverMs = value }
        if let value = text("SPARRING_AGENT") { agent = value }
        if let value = integer("SPARRING_RETENTION_DAYS", 0...36_500) { retentionDays = value }
        if let value = text("SPARRING_SOCKET") { socket = value }
        return problems
    }

    /// Checks what the layers cannot check one by one; returns problems, none when the daemon can start.
    public func check() -> [Problem] {
        var problems: [Problem] = []
        if socket.utf8.count >= 108 {
            problems.append(Problem(file: "config", line: 0, field: "socket", message: "\(socket) is longer than a Unix socket path may be (107 bytes)"))
        }
        if scenarios.isEmpty { problems.append(Problem(file: "config", line: 0, field: "scenarios", message: "no scenarios directory")) }
        if voices.isEmpty { problems.append(Problem(file: "config", line: 0, field: "voices", message: "no voices directory")) }
        if let problem = sessionsProblem() { problems.append(problem) }
        return problems
    }

    /// The sessions folder (or the nearest folder above it that exists) must be writable. Under the
    /// systemd unit everything outside `ReadWritePaths` is read-only, so the fix is named.
    func sessionsProblem(writable: (String) -> Bool = { access($0, W_OK) == 0 }) -> Problem? {
        let folder = SafeFile.nearestExisting(sessions)
        guard !writable(folder) else { return nil }
        let message = "\(folder) cannot be written, so no call could be recorded in \(sessions). Under the systemd unit only "
            + "ReadWritePaths can be written: run `systemctl --user edit sparringd`, add `[Service]` and `ReadWritePaths=\(sessions)`, "
            + "then `systemctl --user restart sparringd`"
        return Problem(file: "config", line: 0, field: "sessions", message: message)
    }
}
