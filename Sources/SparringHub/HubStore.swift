import Foundation
internal import GRDB
import SparringCore
import SparringSessions

/// The hub's metadata in SQLite through GRDB: the default, for a hub one person can try with one command.
///
/// WAL mode, so pages read while uploads write.
final class SQLiteHubStore: HubDatabase {
    let pool: DatabasePool

    init(path: String) throws(SparringError) {
        do {
            var configuration = Configuration()
            configuration.busyMode = .timeout(10)
            configuration.prepareDatabase { db in try db.execute(sql: "PRAGMA foreign_keys = ON") }
            pool = try DatabasePool(path: path, configuration: configuration)
            try Self.migrator.migrate(pool)
        } catch {
            throw SparringError("hub_store", "\(path): cannot open the hub's database (\(error))")
        }
        chmod(path, 0o600)
    }

    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("1 people, devices, sessions") { db in
            try db.execute(sql: HubQueries.schema(serial: "INTEGER PRIMARY KEY AUTOINCREMENT"))
        }
        migrator.registerMigration("2 indexes the dashboard counts from") { db in
            try db.execute(sql: HubQueries.countingIndexes)
        }
        return migrator
    }

    /// Whether the database file answers; it is on this machine, so there is no deadline to keep.
    func reachable(within seconds: Double) async -> Bool {
        (try? await pool.read { db in try Int.fetchOne(db, sql: "SELECT 1") }) == 1
    }

    // MARK: people

    func addUser(_ name: String, role: Viewer.Role, team: String?, passwordHash: String) async throws {
        try await pool.write { db in
            try db.execute(sql: """
                INSERT INTO users (name, role, team, password_hash, created_at) VALUES (?, ?, ?, ?, ?)
                ON CONFLICT (name) DO UPDATE SET role = excluded.role, team = excluded.team, password_hash = excluded.password_hash
                """, arguments: [name, role.rawValue, team, passwordHash, HubQueries.now()])
        }
    }

    /// The user and their password hash, for sign-in.
    func user(_ name: String) async throws -> (Viewer, String)? {
        try await pool.read { db in
            guard let row = try Row.fetchOne(db, sql: "SELECT name, role, team, password_hash FROM users WHERE name = ?", arguments: [name]),
                  let role = Viewer.Role(rawValue: row["role"]) else { return nil }
            return (Viewer(name: row["name"], role: role, team: row["team"]), row["password_hash"])
        }
    }

    // MARK: devices

    /// Keeps a one-time enrolment code (its hash) for `agent`, valid until `expires`.
    func addEnrollment(codeHash: String, agent: String, team: String?, expires: Date) async throws {
        try await pool.write { db in
            try db.execute(sql: "DELETE FROM enrollments WHERE expires_at < ?", arguments: [Date().timeIntervalSince1970])
            try db.execute(sql: "INSERT INTO enrollments (code_hash, agent, team, expires_at) VALUES (?, ?, ?, ?)",
                           arguments: [codeHash, agent, team, expires.timeIntervalSince1970])
        }
    }

    /// Trades an unexpired enrolment code for a device: the code is used up, the token's hash kept.
    /// Nil when the code is unknown, used or expired.
    func redeem(codeHash: String, tokenHash: String) async throws -> Viewer? {
        try await pool.write { db in
            guard let row = try Row.fetchOne(db, sql: "SELECT agent, team, expires_at FROM enrollments WHERE code_hash = ?",
                                             arguments: [codeHash]) else { return nil }
            try db.execute(sql: "DELETE FROM enrollments WHERE code_hash = ?", arguments: [codeHash])
            guard (row["expires_at"] as Double) >= Date().timeIntervalSince1970 else { return nil }
            let agent: String = row["agent"], team: String? = row["team"]
            try db.execute(sql: "INSERT INTO devices (token_hash, agent, team, created_at) VALUES (?, ?, ?, ?)",
                           arguments: [tokenHash, agent, team, HubQueries.now()])
            return Viewer(name: agent, role: .agent, team: team)
        }
    }

    /// The agent a live device token belongs to.
    func device(tokenHash: String) async throws -> Viewer? {
        try await pool.read { db in
            try Row.fetchOne(db, sql: "SELECT agent, team FROM devices WHERE token_hash = ? AND revoked_at IS NULL",
                             arguments: [tokenHash]).map { Viewer(name: $0["agent"], role: .agent, team: $0["team"]) }
        }
    }

    /// Ends every device and unused enrolment code of `agent`; the number of devices revoked.
    func revoke(agent: String) async throws -> Int {
        try await pool.write { db in
            try db.execute(sql: "DELETE FROM enrollments WHERE agent = ?", arguments: [agent])
            try db.execute(sql: "UPDATE devices SET revoked_at = ? WHERE agent = ? AND revoked_at IS NULL", arguments: [HubQueries.now(), agent])
            return db.changesCount
        }
    }

    // MARK: sign-in sessions

    func addWebSession(tokenHash: String, user: String, csrf: String, expires: Date) async throws {
        try await pool.write { db in
            try db.execute(sql: "DELETE FROM web_sessions WHERE expires_at < ?", arguments: [Date().timeIntervalSince1970])
            try db.execute(sql: "INSERT INTO web_sessions (token_hash, user_name, csrf, expires_at) VALUES (?, ?, ?, ?)",
                           arguments: [tokenHash, user, csrf, expires.timeIntervalSince1970])
        }
    }

    /// The person signed in with a cookie, and the CSRF token their forms must carry.
    func webSession(tokenHash: String) async throws -> (Viewer, String)? {
        try await pool.read { db in
            guard let row = try Row.fetchOne(db, sql: """
                SELECT users.name, users.role, users.team, web_sessions.csrf FROM web_sessions
                JOIN users ON users.name = web_sessions.user_name
                WHERE web_sessions.token_hash = ? AND web_sessions.expires_at >= ?
                """, arguments: [tokenHash, Date().timeIntervalSince1970]),
                let role = Viewer.Role(rawValue: row["role"]) else { return nil }
            return (Viewer(name: row["name"], role: role, team: row["team"]), row["csrf"])
        }
    }

    func removeWebSession(tokenHash: String) async throws {
        try await pool.write { db in try db.execute(sql: "DELETE FROM web_sessions WHERE token_hash = ?", arguments: [tokenHash]) }
    }

    // MARK: sessions

    /// The content hash of a stored session, if the hub has it (whoever may see it).
    func contentHash(of id: String) async throws -> String? {
        try await pool.read { db in try String.fetchOne(db, sql: "SELECT content_hash FROM sessions WHERE id = ?", arguments: [id]) }
    }

    /// Stores a new session once: the same id with the same content is a duplicate, with other content a conflict.
    func insert(_ new: NewSession) async throws(SparringError) -> UploadResult {
        do {
            return try await pool.write { db in
                if let existing = try String.fetchOne(db, sql: "SELECT content_hash FROM sessions WHERE id = ?", arguments: [new.summary.id]) {
                    if existing == new.contentHash { return .duplicate }
                    throw SparringError("conflict", "session \(new.summary.id) is on the hub already, with other content")
                }
                let s = new.summary
                try db.execute(sql: """
                    INSERT INTO sessions (id, agent, team, scenario, started_at, duration_s, outcome, score, passed, difficulty,
                                          end_anger, content_hash, audio, audio_bytes, wav_bytes, summary, events, uploaded_at)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                    """, arguments: [s.id, new.agent, new.team, s.scenario, s.started_at, s.duration_s, s.outcome, s.score, s.passed,
                                     s.difficulty, new.endAnger, new.contentHash, new.audio, new.audioBytes, new.wavBytes,
                                     new.summaryJSON, new.eventsJSONL, HubQueries.now()])
                for (criterion, title, passed) in new.criteria {
                    try db.execute(sql: """
                        INSERT INTO session_criteria (session, criterion, title, passed, agent, team, scenario, outcome, started_at)
                        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
                        """, arguments: [s.id, criterion, title, passed, new.agent, new.team, s.scenario, s.outcome, s.started_at])
                }
                return .stored
            }
        } catch let error as SparringError {
            throw error
        } catch {
            throw SparringError("hub_store", "cannot store session \(new.summary.id) (\(error))")
        }
    }


    static func session(_ row: Row) -> HubSession {
        HubSession(id: row["id"], agent: row["agent"], team: row["team"], scenario: row["scenario"], started_at: row["started_at"],
                   duration_s: row["duration_s"], outcome: row["outcome"], score: row["score"], passed: row["passed"],
                   difficulty: row["difficulty"], override_score: row["override_score"], end_anger: row["end_anger"],
                   audio_bytes: row["audio_bytes"], wav_bytes: row["wav_bytes"])
    }

    /// What `viewer` may see, newest first, filtered.
    func sessions(for viewer: Viewer, filter: HubFilter, limit: Int, before: String?) async throws -> [HubSession] {
        let (conditions, strings) = HubQueries.conditions(for: viewer, filter: filter, before: before)
        var query = StatementArguments(strings)
        _ = query.append(contentsOf: [max(1, min(limit, 10_000))])
        let arguments = query
        let sql = "SELECT \(HubQueries.sessionColumns) FROM sessions WHERE \(conditions) ORDER BY sessions.started_at DESC, sessions.id DESC LIMIT ?"
        return try await pool.read { db in try Row.fetchAll(db, sql: sql, arguments: arguments).map(Self.session) }
    }

    /// Per agent and rubric criterion, how many of the calls `viewer` may see failed it.
    func criterionFailures(for viewer: Viewer, filter: HubFilter, agents: ClosedRange<String>?) async throws -> [HubQueries.CriterionFailures] {
        let (conditions, strings) = HubQueries.conditions(for: viewer, filter: filter, agents: agents)
        let arguments = StatementArguments(strings)
        return try await pool.read { db in
            try Row.fetchAll(db, sql: """
                \(HubQueries.criterionFailures(conditions))
                """, arguments: arguments).map {
                HubQueries.CriterionFailures(agent: $0["agent"], criterion: $0["criterion"], title: $0["title"], failed: $0["failed"], total: $0["total"])
            }
        }
    }

    /// Every criterion result of `agent`'s calls that `viewer` may see.
    func criterionResults(for viewer: Viewer, agent: String) async throws -> [HubQueries.CriterionResult] {
        let (conditions, strings) = HubQueries.conditions(for: viewer, filter: HubFilter(agent: agent))
        let arguments = StatementArguments(strings)
        return try await pool.read { db in
            try Row.fetchAll(db, sql: """
                \(HubQueries.criterionResults(conditions))
                """, arguments: arguments).map {
                HubQueries.CriterionResult(criterion: $0["criterion"], title: $0["title"], passed: $0["passed"], startedAt: $0["started_at"])
            }
        }
    }

    /// One session with what the hub keeps of it, or nil when it does not exist or `viewer` may not see it.
    func session(_ id: String, for viewer: Viewer) async throws -> HubSessionDetail? {
        let scope = viewer.sessionScope
        var query: StatementArguments = [id]
        _ = query.append(contentsOf: StatementArguments(scope.arguments))
        let arguments = query
        return try await pool.read { db in
            guard let row = try Row.fetchOne(db, sql: """
                SELECT \(HubQueries.sessionColumns), sessions.summary, sessions.events, sessions.audio FROM sessions
                WHERE sessions.id = ? AND \(scope.sql)
                """, arguments: arguments) else { return nil }
            let annotations = try Row.fetchAll(db, sql: """
                SELECT id, session, t, author, text, reply_to, created_at FROM annotations WHERE session = ? ORDER BY t, id
                """, arguments: [id]).map {
                HubAnnotation(id: $0["id"], session: $0["session"], t: $0["t"], author: $0["author"], text: $0["text"],
                              reply_to: $0["reply_to"], created_at: $0["created_at"])
            }
            let overrides = try Row.fetchAll(db, sql: "SELECT session, author, score, reason, created_at FROM overrides WHERE session = ? ORDER BY id",
                                             arguments: [id]).map {
                HubOverride(session: $0["session"], author: $0["author"], score: $0["score"], reason: $0["reason"], created_at: $0["created_at"])
            }
            return HubSessionDetail(session: Self.session(row), summary: row["summary"], events: row["events"], audio: row["audio"],
                                    annotations: annotations, overrides: overrides)
        }
    }

    func annotate(_ id: String, t: Double, author: String, text: String, replyTo: Int64?) async throws -> HubAnnotation {
        try await pool.write { db in
            let created = HubQueries.now()
            try db.execute(sql: "INSERT INTO annotations (session, t, author, text, reply_to, created_at) VALUES (?, ?, ?, ?, ?, ?)",
                           arguments: [id, t, author, text, replyTo, created])
            return HubAnnotation(id: db.lastInsertedRowID, session: id, t: t, author: author, text: text, reply_to: replyTo, created_at: created)
        }
    }

    /// The annotation `id` of session `session`, if there is one.
    func annotation(_ id: Int64, in session: String) async throws -> HubAnnotation? {
        try await pool.read { db in
            try Row.fetchOne(db, sql: "SELECT id, session, t, author, text, reply_to, created_at FROM annotations WHERE id = ? AND session = ?",
                             arguments: [id, session]).map {
                HubAnnotation(id: $0["id"], session: $0["session"], t: $0["t"], author: $0["author"], text: $0["text"],
                              reply_to: $0["reply_to"], created_at: $0["created_at"])
            }
        }
    }

    func override(_ id: String, author: String, score: Double, reason: String) async throws -> HubOverride {
        try await pool.write { db in
            let created = HubQueries.now()
            try db.execute(sql: "INSERT INTO overrides (session, author, score, reason, created_at) VALUES (?, ?, ?, ?, ?)",
                           arguments: [id, author, score, reason, created])
            return HubOverride(session: id, author: author, score: score, reason: reason, created_at: created)
        }
    }

    /// Ids and content hashes of every session `agent` has on the hub, so a device sends only what is missing.
    func uploaded(by agent: String) async throws -> [String: String] {
        try await pool.read { db in
            Dictionary(uniqueKeysWithValues: try Row.fetchAll(db, sql: "SELECT id, content_hash FROM sessions WHERE agent = ?", arguments: [agent])
                .map { ($0["id"] as String, $0["content_hash"] as String) })
        }
    }

    func agentWeeks(for viewer: Viewer, filter: HubFilter, agents: ClosedRange<String>?, weekStarts: [String]) async throws -> [HubQueries.AgentWeek] {
        let (sql, strings) = HubQueries.agentWeeks(for: viewer, filter: filter, agents: agents, weekStarts: weekStarts)
        let arguments = StatementArguments(strings)
        return try await pool.read { db in
            try Row.fetchAll(db, sql: sql, arguments: arguments).map {
                HubQueries.AgentWeek(agent: $0["agent"], team: $0["team"], week: $0["week"], calls: $0["calls"], scored: $0["scored"], passed: $0["passed"])
            }
        }
    }

    func agents(for viewer: Viewer, filter: HubFilter) async throws -> [HubQueries.AgentTeam] {
        let (sql, strings) = HubQueries.agents(for: viewer, filter: filter)
        let arguments = StatementArguments(strings)
        return try await pool.read { db in
            try Row.fetchAll(db, sql: sql, arguments: arguments).map { HubQueries.AgentTeam(agent: $0["agent"], team: $0["team"]) }
        }
    }

    func scenarioStats(for viewer: Viewer, filter: HubFilter) async throws -> [HubQueries.ScenarioStats] {
        let (sql, strings) = HubQueries.scenarioAngers(for: viewer, filter: filter)
        let arguments = StatementArguments(strings)
        let rows = try await pool.read { db in
            try Row.fetchAll(db, sql: sql, arguments: arguments).map {
                HubQueries.ScenarioAnger(scenario: $0["scenario"], anger: $0["anger"], calls: $0["calls"], scored: $0["scored"], passed: $0["passed"])
            }
        }
        return HubQueries.scenarioStats(rows)
    }
}
