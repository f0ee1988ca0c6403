import Foundation
// Internal: GRDB's SQL operators must not leak into every module that imports this one.
internal import GRDB
import SparringCore

/// One row of the index: what supervisors search and sort sessions by.
public struct IndexedSession: Codable, Sendable, Equatable {
    public var id: String
    public var agent: String
    public var scenario: String
    public var started_at: String
    public var duration_s: Double
    public var outcome: String
    public var ended_by: String
    public var score: Double?
    public var passed: Bool?
    public var gap_p50_ms: Double?
    public var gap_p95_ms: Double?
    public var xruns: Int
    public var interrupted: Bool
    public var annotations: Int
    /// Modification stamps of summary.json and annotations.jsonl when indexed: a change re-reads the session.
    public var stamp: String

    init(_ session: StoredSession, stamp: String) {
        let summary = session.summary
        id = session.id
        agent = summary.agent
        scenario = summary.scenario
        started_at = summary.started_at
        duration_s = summary.duration_s
        outcome = summary.outcome
        ended_by = summary.ended_by
        score = summary.score?.total
        passed = summary.score?.passed
        gap_p50_ms = summary.turn_gap_ms.p50
        gap_p95_ms = summary.turn_gap_ms.p95
        xruns = summary.xruns
        interrupted = summary.interrupted
        annotations = session.annotations.count
        self.stamp = stamp
    }
}

extension IndexedSession {
    static let columns = ["id", "agent", "scenario", "started_at", "duration_s", "outcome", "ended_by", "score", "passed",
                          "gap_p50_ms", "gap_p95_ms", "xruns", "interrupted", "annotations", "stamp"]

    init(row: Row) {
        id = row["id"]; agent = row["agent"]; scenario = row["scenario"]; started_at = row["started_at"]
        duration_s = row["duration_s"]; outcome = row["outcome"]; ended_by = row["ended_by"]
        score = row["score"]; passed = row["passed"]; gap_p50_ms = row["gap_p50_ms"]; gap_p95_ms = row["gap_p95_ms"]
        xruns = row["xruns"]; interrupted = row["interrupted"]; annotations = row["annotations"]; stamp = row["stamp"]
    }

    var arguments: StatementArguments {
        [id, agent, scenario, started_at, duration_s, outcome, ended_by, score, passed, gap_p50_ms, gap_p95_ms,
         xruns, interrupted, annotations, stamp]
    }
}

/// What `sparring sessions` filters by; nil fields do not filter.
public struct SessionFilter: Sendable, Equatable {
    public var agent: String?
    public var scenario: String?
    /// ISO 8601 date or date-time; sessions started at or after it.
    public var since: String?
    public var outcome: String?
    /// Only scored calls below their pass mark.
    public var failedOnly = false
    public init(agent: String? = nil, scenario: String? = nil, since: String? = nil, outcome: String? = nil, failedOnly: Bool = false) {
        self.agent = agent
        self.scenario = scenario
        self.since = since
        self.outcome = outcome
        self.failedOnly = failedOnly
    }
}

/// An SQLite index (GRDB) over the session directories, kept in `<store>/.index.sqlite`,
/// or, when the sessions folder cannot be written (a shared, read-only one), in
/// `$XDG_CACHE_HOME/sparring/index/` under a name derived from the folder's path.
///
/// The directories stay the source of truth: `refresh` brings the index in
/// line with them (new, changed and removed sessions; a session left by a
/// crash is repaired on the way), and `rebuild` throws the index away and
/// reads every session again. Nothing else writes to a session.
public final class SessionIndex {
    public let store: SessionStore
    public let path: String
    private let database: DatabaseQueue

    public init(store: SessionStore, environment: [String: String] = ProcessInfo.processInfo.environment) throws(SparringError) {
        self.store = store
        do {
            if !FileManager.default.fileExists(atPath: store.root) {
                try FileManager.default.createDirectory(atPath: store.root, withIntermediateDirectories: true,
                                                        attributes: [.posixPermissions: 0o700])
            }
            path = try Self.location(for: store.root, environment: environment)
            // Created 0600 before SQLite opens it; SQLite gives its journal the same mode.
            let fd = open(path, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0o600)
            guard fd >= 0 else { throw SparringError("index", "\(path): cannot open (\(String(cString: strerror(errno))))") }
            close(fd)
            database = try DatabaseQueue(path: path)
            try Self.migrator.migrate(database)
        } catch let error as SparringError {
            throw error
        } catch {
            throw SparringError("index", "\(store.root): the session index: \(error)")
        }
    }

    /// `<root>/.index.sqlite` when the folder can be written, else a file of the user's cache
    /// named by the folder's resolved path (so two read-only folders never share an index).
    static func location(for root: String, environment: [String: String]) throws -> String {
        if access(root, W_OK) == 0 { return root + "/.index.sqlite" }
        let resolved = URL(fileURLWithPath: root).resolvingSymlinksInPath().path
        let hash = CacheFolder.stableHash(resolved)
        let directory = CacheFolder.path("index", environment: environment)
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        let name = URL(fileURLWithPath: resolved).lastPathComponent
        return directory + "/\(name)-\(String(hash, radix: 16)).sqlite"
    }

    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1") { db in
            try db.create(table: "session") { t in
                t.primaryKey("id", .text)
                t.column("agent", .text).notNull().indexed()
                t.column("scenario", .text).notNull().indexed()
                t.column("started_at", .text).notNull().indexed()
                t.column("duration_s", .double).notNull()
                t.column("outcome", .text).notNull()
                t.column("ended_by", .text).notNull()
                t.column("score", .double)
                t.column("passed", .boolean)
                t.column("gap_p50_ms", .double)
                t.column("gap_p95_ms", .double)
                t.column("xruns", .integer).notNull()
                t.column("interrupted", .boolean).notNull()
                t.column("annotations", .integer).notNull()
                t.column("stamp", .text).notNull()
            }
            try db.create(table: "annotation") { t in
                t.column("session_id", .text).notNull().indexed().references("session", onDelete: .cascade)
                t.column("t", .double).notNull()
                t.column("text", .text).notNull()
                t.column("by", .text).notNull()
                t.column("created_at", .text).notNull()
            }
        }
        return migrator
    }

    /// What a refresh did.
    public struct Changes: Sendable, Equatable {
        public var added: [String] = []
        public var updated: [String] = []
        public var removed: [String] = []
        /// Sessions repaired after a crash, with what was done.
        public var repaired: [String: String] = [:]
        /// Sessions that could not be read, with the reason (left out of the index).
        public var unreadable: [String: String] = [:]
    }

    /// Brings the index in line with the directories; sessions still being recorded are left out.
    @discardableResult
    public func refresh() throws(SparringError) -> Changes {
        var changes = Changes()
        let ids = store.ids()
        let known: [String: String]
        do {
            known = try database.read { db in
                try Dictionary(uniqueKeysWithValues: Row.fetchAll(db, sql: "SELECT id, stamp FROM session").map { ($0["id"] as String, $0["stamp"] as String) })
            }
        } catch { throw SparringError("index", "\(path): \(error)") }
        var rows: [(IndexedSession, [Annotation])] = []
        for id in ids {
            let directory = store.root + "/" + id
            let stamp = Self.stamp(directory)
            if known[id] == stamp { continue }
            if SessionRetention.isRecording(directory) { continue }
            do {
                let session = try store.load(id)
                if let note = session.repaired { changes.repaired[id] = note }
                rows.append((IndexedSession(session, stamp: Self.stamp(directory)), session.annotations))
                if known[id] == nil { changes.added.append(id) } else { changes.updated.append(id) }
            } catch {
                changes.unreadable[id] = error.message
            }
        }
        let present = Set(ids)
        changes.removed = known.keys.filter { !present.contains($0) }.sorted()
        do {
            try database.write { db in
                for id in changes.removed { try db.execute(sql: "DELETE FROM session WHERE id = ?", arguments: [id]) }
                let insert = "INSERT OR REPLACE INTO session (\(IndexedSession.columns.joined(separator: ", "))) VALUES (\(IndexedSession.columns.map { _ in "?" }.joined(separator: ", ")))"
                for (row, annotations) in rows {
                    try db.execute(sql: "DELETE FROM annotation WHERE session_id = ?", arguments: [row.id])
                    try db.execute(sql: insert, arguments: row.arguments)
                    for a in annotations {
                        try db.execute(sql: "INSERT INTO annotation (session_id, t, text, by, created_at) VALUES (?, ?, ?, ?, ?)",
                                       arguments: [row.id, a.t, a.text, a.by, a.created_at])
                    }
                }
            }
        } catch { throw SparringError("index", "\(path): \(error)") }
        return changes
    }

    /// Empties the index and reads every session again.
    @discardableResult
    public func rebuild() throws(SparringError) -> Changes {
        do {
            try database.write { db in
                try db.execute(sql: "DELETE FROM annotation")
                try db.execute(sql: "DELETE FROM session")
            }
        } catch { throw SparringError("index", "\(path): \(error)") }
        return try refresh()
    }

    /// Sessions matching the filter, newest first.
    public func list(_ filter: SessionFilter = SessionFilter()) throws(SparringError) -> [IndexedSession] {
        var conditions: [String] = []
        var arguments: [(any DatabaseValueConvertible)?] = []
        if let agent = filter.agent { conditions.append("agent = ?"); arguments.append(agent) }
        if let scenario = filter.scenario { conditions.append("scenario = ?"); arguments.append(scenario) }
        if let outcome = filter.outcome { conditions.append("outcome = ?"); arguments.append(outcome) }
        if filter.failedOnly { conditions.append("passed = 0") }
        if let since = filter.since {
            guard let start = Self.instant(since) else {
                throw SparringError("bad_date", "--since '\(since)': expected a date like 2026-11-01 or 2026-11-01T09:30:00Z")
            }
            // started_at is ISO 8601 in UTC, so text order is time order.
            conditions.append("started_at >= ?")
            arguments.append(start)
        }
        let whereClause = conditions.isEmpty ? "" : " WHERE " + conditions.joined(separator: " AND ")
        let sql = "SELECT * FROM session\(whereClause) ORDER BY started_at DESC, id DESC"
        do {
            return try database.read { db in
                try Row.fetchAll(db, sql: sql, arguments: StatementArguments(arguments)).map(IndexedSession.init(row:))
            }
        } catch { throw SparringError("index", "\(path): \(error)") }
    }

    /// Annotations matching a text, across sessions (session id, annotation).
    public func annotations(containing text: String) throws(SparringError) -> [(String, Annotation)] {
        do {
            return try database.read { db in
                try Row.fetchAll(db, sql: "SELECT * FROM annotation WHERE text LIKE ? ORDER BY session_id, t", arguments: ["%\(text)%"]).map { row in
                    (row["session_id"] as String, Annotation(t: row["t"], text: row["text"], by: row["by"], created_at: row["created_at"]))
                }
            }
        } catch { throw SparringError("index", "\(path): \(error)") }
    }

    /// `2026-11-01` (midnight UTC) or a full ISO 8601 time → the same instant as `started_at` writes it.
    static func instant(_ text: String) -> String? {
        let full = ISO8601DateFormatter()
        if let date = full.date(from: text) { return full.string(from: date) }
        let day = ISO8601DateFormatter()
        day.formatOptions = [.withFullDate]
        if let date = day.date(from: text) { return full.string(from: date) }
        return nil
    }

    static func stamp(_ directory: String) -> String {
        func mtime(_ name: String) -> String {
            var info = stat()
            guard lstat(directory + "/" + name, &info) == 0 else { return "-" }
            return "\(info.st_mtim.tv_sec).\(info.st_mtim.tv_nsec):\(info.st_size)"
        }
        return mtime("summary.json") + "|" + mtime("annotations.jsonl")
    }
}
