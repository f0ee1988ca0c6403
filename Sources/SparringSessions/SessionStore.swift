import Foundation
import SparringCore

/// A supervisor's comment at a moment of a call, kept in the session's `annotations.jsonl`.
public struct Annotation: Codable, Sendable, Equatable {
    /// Seconds on the call clock.
    public var t: Double
    public var text: String
    public var by: String
    /// When it was written (ISO 8601).
    public var created_at: String

    public init(t: Double, text: String, by: String, created_at: String) {
        self.t = t
        self.text = text
        self.by = by
        self.created_at = created_at
    }
}

/// A session as read back from its directory.
public struct StoredSession: Sendable {
    public var id: String
    public var directory: String
    public var summary: CallSummary
    public var events: [SessionEvent]
    public var annotations: [Annotation]
    /// What a repair did when the session had been left by a crash, for the log.
    public var repaired: String?

    public var wavPath: String { directory + "/call.wav" }

    /// The recording, read without following a link.
    public func audio() throws(SparringError) -> WaveFile.Audio {
        try WaveFile.parse(try SessionStore.read(directory, "call.wav"), name: wavPath)
    }
}

/// The session directories: the source of truth supervisors read, annotate and delete.
///
/// Every id is checked before anything is touched: a bad id cannot name a
/// path outside the store, and no symbolic link is followed, neither a
/// session directory that is one nor a file inside a session. Directories
/// are 0700 and files 0600, since recordings hold voices.
public struct SessionStore: Sendable {
    public let root: String

    public init(root: String) {
        self.root = root.count > 1 && root.hasSuffix("/") ? String(root.dropLast()) : root
    }

    /// Longest id accepted; ours are about 40 characters.
    public static let maxIDLength = 128

    /// Checks that `id` can only name a directory directly inside the store.
    public static func validate(_ id: String) throws(SparringError) {
        // Shown on one line whatever it holds.
        let printable = id.unicodeScalars.map { $0.value >= 0x20 && $0.value < 0x7F ? String($0) : $0.escaped(asASCII: true) }.joined()
        let shown = printable.count > 60 ? String(printable.prefix(60)) + "…" : printable
        guard !id.isEmpty else { throw SparringError("bad_id", "session id is empty") }
        guard id.utf8.count <= maxIDLength else {
            throw SparringError("bad_id", "session id '\(shown)' is too long (\(id.utf8.count) bytes, at most \(maxIDLength))")
        }
        guard !id.hasPrefix(".") else { throw SparringError("bad_id", "session id '\(shown)' may not start with a dot") }
        let allowed = id.unicodeScalars.allSatisfy { scalar in
            scalar.isASCII && (CharacterSet.alphanumerics.contains(scalar) || scalar == "-" || scalar == "_" || scalar == ".")
        }
        guard allowed else {
            throw SparringError("bad_id", "session id '\(shown)' may hold only letters, digits, '-', '_' and '.' (no '/')")
        }
    }

    /// The directory of an existing session; the id is validated first and a link is never accepted.
    public func directory(of id: String) throws(SparringError) -> String {
        try Self.validate(id)
        let path = root + "/" + id
        var info = stat()
        guard lstat(path, &info) == 0 else { throw SparringError("no_session", "no session '\(id)' in \(root)") }
        guard (info.st_mode & S_IFMT) == S_IFDIR else {
            throw SparringError("bad_id", "\(path) is not a session directory (links are not followed)")
        }
        return path
    }

    /// The ids of every session directory (links and hidden entries skipped), oldest first.
    public func ids() -> [String] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: root)) ?? []
        return names.filter { name in
            guard (try? Self.validate(name)) != nil else { return false }
            var info = stat()
            return lstat(root + "/" + name, &info) == 0 && (info.st_mode & S_IFMT) == S_IFDIR
        }.sorted()
    }

    /// Reads a session whole; one left by a crash (no summary, events not locked) is repaired first.
    public func load(_ id: String) throws(SparringError) -> StoredSession {
        let directory = try directory(of: id)
        var repaired: String?
        switch try SessionRepair.repair(directory: directory) {
        case .inProgress: throw SparringError("recording", "session '\(id)' is still being recorded")
        case .repaired(let note): repaired = note
        case .complete: break
        }
        let summary = try SessionChecks.summary(try Self.read(directory, "summary.json"), file: directory + "/summary.json")
        let events: [SessionEvent] = Self.lines(try? Self.read(directory, "events.jsonl")).filter(\.isPlausible)
        let annotations: [Annotation] = Self.lines(try? Self.read(directory, "annotations.jsonl"))
        return StoredSession(id: id, directory: directory, summary: summary, events: events,
                             annotations: annotations.sorted { $0.t < $1.t }, repaired: repaired)
    }

    /// The moment `SESSION_ID:MOMENT` names, to practise again in `scenario`, and how hard its caller
    /// was to win over; one clear line when the session, the moment or the scenario does not fit.
    public func retry(_ text: String, scenario: String) throws(SparringError) -> (MomentRetry, Difficulty) {
        guard let (id, moment) = MomentRetry.parse(text) else {
            throw SparringError("bad_moment", "--from '\(DisplayText.terminal(text))': expected SESSION_ID:MOMENT, like 20261202T101500Z-debt-threat-1a2b:1")
        }
        let summary = try load(id).summary
        guard summary.scenario == scenario else {
            throw SparringError("bad_moment", "session \(id) is a call of '\(summary.scenario)', not '\(scenario)'")
        }
        guard let points = summary.turning_points, !points.isEmpty else {
            throw SparringError("bad_moment", "session \(id) has no turning points to practise (\(summary.noDebriefReason))")
        }
        guard let point = points.first(where: { $0.number == moment }) else {
            throw SparringError("bad_moment", "session \(id) has turning points 1 to \(points.count), not \(moment)")
        }
        return (MomentRetry(session: id, moment: moment, point: point), Difficulty(rawValue: summary.difficulty ?? "") ?? .fair)
    }

    /// Adds a comment at `t` seconds; refuses a moment outside the call.
    public func annotate(_ id: String, at t: Double, text: String, by: String, now: Date = Date()) throws(SparringError) -> Annotation {
        let session = try load(id)
        let trimmed = text.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !trimmed.isEmpty else { throw SparringError("bad_annotation", "the annotation text is empty") }
        if let problem = DisplayText.annotationProblem(trimmed) { throw SparringError("bad_annotation", "the annotation text \(problem)") }
        if let problem = DisplayText.nameProblem(by) { throw SparringError("bad_annotation", "--by: the name \(problem)") }
        guard t >= 0, t <= session.summary.duration_s + 0.5 else {
            throw SparringError("bad_annotation", "--at \(Clock.format(t)) is outside the call (0:00–\(Clock.format(session.summary.duration_s)))")
        }
        let annotation = Annotation(t: (t * 100).rounded() / 100, text: trimmed, by: by,
                                    created_at: ISO8601DateFormatter().string(from: now))
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        guard var line = try? encoder.encode(annotation) else { throw SparringError("bad_annotation", "cannot encode the annotation") }
        line.append(0x0A)
        let fd = open(session.directory + "/annotations.jsonl", O_WRONLY | O_CREAT | O_APPEND | O_NOFOLLOW | O_CLOEXEC, 0o600)
        guard fd >= 0 else {
            throw SparringError("io", "\(session.directory)/annotations.jsonl: cannot open (\(String(cString: strerror(errno))))")
        }
        defer { close(fd) }
        let written = line.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        guard written == line.count, fsync(fd) == 0 else {
            throw SparringError("io", "\(session.directory)/annotations.jsonl: cannot write (\(String(cString: strerror(errno))))")
        }
        return annotation
    }

    /// Removes a session; one still being recorded is refused.
    public func delete(_ id: String) throws(SparringError) {
        let directory = try directory(of: id)
        if SessionRetention.isRecording(directory) { throw SparringError("recording", "session '\(id)' is still being recorded") }
        do { try FileManager.default.removeItem(atPath: directory) } catch {
            throw SparringError("io", "cannot delete \(directory): \(error.localizedDescription)")
        }
    }

    /// Copies a session's files into `destination` (created; must not exist or be empty), 0700/0600 like the store.
    public func export(_ id: String, to destination: String, extra: [String: Data] = [:]) throws(SparringError) -> [String] {
        let session = try load(id)
        let manager = FileManager.default
        if let existing = try? manager.contentsOfDirectory(atPath: destination), !existing.isEmpty {
            throw SparringError("io", "\(destination) exists and is not empty")
        }
        do { try manager.createDirectory(atPath: destination, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700]) } catch {
            throw SparringError("io", "cannot create \(destination): \(error.localizedDescription)")
        }
        var files: [String: Data] = extra
        for name in ["call.wav", "events.jsonl", "summary.json", "annotations.jsonl"] where Self.exists(session.directory + "/" + name) {
            files[name] = try Self.read(session.directory, name)
        }
        for (name, data) in files.sorted(by: { $0.key < $1.key }) {
            let path = destination + "/" + name
            guard manager.createFile(atPath: path, contents: data, attributes: [.posixPermissions: 0o600]) else {
                throw SparringError("io", "cannot write \(path)")
            }
        }
        return files.keys.sorted()
    }

    /// Reads a file of a session without following a link.
    public static func read(_ directory: String, _ name: String) throws(SparringError) -> Data {
        // Only a regular file, never waited on (a FIFO), within a limit no call reaches: a recording
        // of two hours at 48 kHz, or 64 MiB of text.
        let limit = name == "call.wav" ? 1 << 30 : 64 << 20
        do { return try SafeFile.read(directory + "/" + name, limit: limit, followLinks: false) } catch {
            throw SparringError("io", error.description)
        }
    }

    static func exists(_ path: String) -> Bool {
        var info = stat()
        return lstat(path, &info) == 0
    }

    /// Decodes one JSON value per line, skipping lines that are not (a half-written last line).
    static func lines<T: Decodable>(_ data: Data?) -> [T] {
        guard let data else { return [] }
        let decoder = JSONDecoder()
        return data.split(separator: 0x0A).compactMap { try? decoder.decode(T.self, from: $0) }
    }
}

/// Figures as a person reads them: `90`, `42.6`, never `90.0`.
public func plainNumber(_ value: Double) -> String {
    value == value.rounded() && abs(value) < 1e15 ? String(Int(value)) : String(format: "%.1f", value)
}

/// Call-clock times as people write them: `M:SS` or `M:SS.s`, and back.
public enum Clock {
    /// `83.4` → `1:23.4` (tenths only when asked).
    public static func format(_ seconds: Double, tenths: Bool = false) -> String {
        // Never traps: a time read from a file may be anything (checked files keep within a day).
        let clamped = seconds.isFinite ? min(max(0, seconds), 1e9) : 0
        if tenths {
            let whole = Int((clamped * 10).rounded())
            return String(format: "%d:%02d.%d", whole / 600, (whole / 10) % 60, whole % 10)
        }
        let whole = Int(clamped.rounded(.down))
        return String(format: "%d:%02d", whole / 60, whole % 60)
    }

    /// `MM:SS`, `M:SS.ss`, `H:MM:SS` or plain seconds → seconds; nil when it is none of these.
    public static func parse(_ text: String) -> Double? {
        let parts = text.split(separator: ":", omittingEmptySubsequences: false).map(String.init)
        guard (1...3).contains(parts.count), parts.allSatisfy({ !$0.isEmpty }) else { return nil }
        guard let seconds = Double(parts.last!), seconds >= 0, seconds.isFinite else { return nil }
        if parts.count > 1 && seconds >= 60 { return nil }
        var total = seconds
        var scale = 60.0
        for part in parts.dropLast().reversed() {
            guard let value = Int(part), value >= 0 else { return nil }
            if scale == 60, parts.count == 3, value >= 60 { return nil }
            total += Double(value) * scale
            scale *= 60
        }
        return total
    }
}
