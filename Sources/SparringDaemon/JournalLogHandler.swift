import Foundation
import Logging

/// swift-log to stderr, one line per message, in a form journald reads.
///
/// Under systemd (`$JOURNAL_STREAM` set) each line starts with the syslog
/// priority in angle brackets, which journald turns into the entry's
/// priority, and no timestamp, which journald adds. By hand, lines read
/// `sparringd[pid]: level: message key=value`. swift-log's own
/// `StreamLogHandler` always writes a timestamp and no priority, hence this.
public struct JournalLogHandler: LogHandler {
    public var logLevel: Logger.Level = .info
    public var metadata: Logger.Metadata = [:]
    private let label: String
    private let journal: Bool

    public init(label: String, journal: Bool = ProcessInfo.processInfo.environment["JOURNAL_STREAM"] != nil) {
        self.label = label
        self.journal = journal
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    static func priority(_ level: Logger.Level) -> Int {
        switch level {
        case .trace, .debug: 7
        case .info: 6
        case .notice: 5
        case .warning: 4
        case .error: 3
        case .critical: 2
        }
    }

    public func log(event: LogEvent) {
        FileHandle.standardError.write(Data(line(for: event).utf8))
    }

    /// The line written for `event`: message, then its fields as `key=value` sorted by key.
    func line(for event: LogEvent) -> String {
        let fields = metadata.merging(event.metadata ?? [:]) { _, new in new }
        let rendered = fields.keys.sorted().map { key in
            let value = "\(fields[key]!)"
            return value.contains(" ") || value.isEmpty ? "\(key)=\"\(value)\"" : "\(key)=\(value)"
        }.joined(separator: " ")
        // One entry per line: a message's own newlines would split it in the journal.
        let message = "\(event.message)".replacingOccurrences(of: "\n", with: " ")
        let fieldsText: String = rendered.isEmpty ? "" : " \(rendered)"
        return journal
            ? "<\(Self.priority(event.level))>\(message)\(fieldsText)\n"
            : "\(label)[\(getpid())]: \(event.level): \(message)\(fieldsText)\n"
    }
}
