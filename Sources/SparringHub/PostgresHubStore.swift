import Foundation
import Logging
import NIOSSL
import PostgresNIO
import Synchronization
import SparringCore
import SparringSessions

/// The hub's metadata in PostgreSQL through postgres-nio, for a team: the same tables as SQLite.
///
/// The client is a pool that reconnects by itself, so a database restarted
/// under a running hub is used again as soon as it answers.
final class PostgresHubStore: HubDatabase {
    let client: PostgresClient
    let runner: Task<Void, Never>
    let logger: Logger

    /// Connects to `url` (`postgres://USER:PASSWORD@HOST:PORT/DATABASE?sslmode=disable|prefer|require`)
    /// and brings its tables up to date.
    static func open(_ url: String, startupTimeout: Double, logger: Logger) async throws(SparringError) -> PostgresHubStore {
        let store = PostgresHubStore(client: PostgresClient(configuration: try configuration(url), backgroundLogger: logger), logger: logger)
        // A database that does not answer is a start-up failure in seconds, not a wait on the pool's retries.
        let outcome = await within(seconds: startupTimeout) { () -> String? in
            do { try await store.migrate() } catch { return String(reflecting: error).prefix(300).description }
            return nil
        }
        guard let outcome, outcome == nil else {
            store.runner.cancel()
            let reason = outcome.flatMap { $0 } ?? "no answer within \(plainNumber(startupTimeout)) s"
            throw SparringError("hub_store", "\(redacted(url)): cannot prepare the database (\(reason))")
        }
        return store
    }

    init(client: PostgresClient, logger: Logger) {
        self.client = client
        self.logger = logger
        // Started at once, up to its first wait: the pool is running before the first query asks it for a connection.
        runner = Task.immediate { await client.run() }
    }

    deinit { runner.cancel() }

    /// The URL without its password, for messages.
    static func redacted(_ url: String) -> String {
        guard var components = URLComponents(string: url) else { return "the database URL" }
        if components.password != nil { components.password = "…" }
        return components.string ?? "the database URL"
    }

    static func configuration(_ url: String) throws(SparringError) -> PostgresClient.Configuration {
        guard let components = URLComponents(string: url), ["postgres", "postgresql"].contains(components.scheme ?? ""),
              let host = components.host, !host.isEmpty, let user = components.user, !user.isEmpty else {
            throw SparringError("bad_database", "--database '\(redacted(url))': expected postgres://USER[:PASSWORD]@HOST[:PORT]/DATABASE")
        }
        let database = components.path.hasPrefix("/") ? String(components.path.dropFirst()) : components.path
        let mode = components.queryItems?.first { $0.name == "sslmode" }?.value ?? "prefer"
        let tls: PostgresClient.Configuration.TLS
        switch mode {
        case "disable": tls = .disable
        case "prefer": tls = .prefer(.makeClientConfiguration())
        case "require": tls = .require(.makeClientConfiguration())
        default: throw SparringError("bad_database", "--database: sslmode '\(mode)' is not disable, prefer or require")
        }
        var configuration = PostgresClient.Configuration(host: host, port: components.port ?? 5432, username: user,
                                                         password: components.password, database: database.isEmpty ? nil : database, tls: tls)
        configuration.options.connectTimeout = .seconds(5)
        return configuration
    }

    static let migrations: [(Int, String)] = [
        (1, HubQueries.schema(serial: "BIGSERIAL PRIMARY KEY")),
        (2, HubQueries.countingIndexes),
    ]

    /// Applies the migrations not yet applied, one transaction each, under a lock so two hubs starting together do not race.
    func migrate() async throws {
        try await client.withTransaction(logger: logger) { connection in
            try await connection.query("SELECT pg_advisory_xact_lock(8470)", logger: logger)
            try await connection.query("CREATE TABLE IF NOT EXISTS hub_migrations (version INTEGER PRIMARY KEY, applied_at TEXT NOT NULL)", logger: logger)
            var applied: Set<Int> = []
            for try await version in try await connection.query("SELECT version FROM hub_migrations", logger: logger).decode(Int.self) {
                applied.insert(version)
            }
            for (version, sql) in Self.migrations where !applied.contains(version) {
                for statement in sql.split(separator: ";").map({ $0.trimmingCharacters(in: .whitespacesAndNewlines) }) where !statement.isEmpty {
                    try await connection.query(PostgresQuery(unsafeSQL: statement), logger: logger)
                }
                try await connection.query("INSERT INTO hub_migrations (version, applied_at) VALUES (\(version), \(HubQueries.now()))", logger: logger)
            }
        }
    }

    /// A query written with `?` placeholders (shared with SQLite), numbered for PostgreSQL.
    static func numbered(_ sql: String, _ arguments: [String], extra: [Int] = []) -> PostgresQuery {
        var binds = PostgresBindings()
        for argument in arguments { binds.append(argument) }
        for number in extra { binds.append(number) }
        var text = ""
        var index = 0
        for character in sql {
            if character == "?" {
                index += 1
                text += "$\(index)"
            } else {
                text.append(character)
            }
        }
        return PostgresQuery(unsafeSQL: text, binds: binds)
    }

    /// Whether a query is answered within `seconds`: a database that is down makes the pool wait for a
    /// connection, and the health check must say so rather than wait with it.
    func reachable(within seconds: Double) async -> Bool {
        await Self.within(seconds: seconds) { [client, logger] in
            for try await one in try await client.query("SELECT 1", logger: logger).decode(Int.self) { return one == 1 }
            return false
        } ?? false
    }

    /// `operation`'s result, or nil when it fails or takes longer than `seconds`. The answer comes at
    /// the deadline whatever the operation does: it is cancelled then, but not waited for, since a
    /// query queued for a connection need not notice its cancellation soon.
    static func within<T: Sendable>(seconds: Double, _ operation: @escaping @Sendable () async throws -> T) async -> T? {
        let answered = OnceFlag()
        return await withCheckedContinuation { (continuation: CheckedContinuation<T?, Never>) in
            @Sendable func answer(_ value: T?) {
                let first = answered.set.withLock { done in
                    defer { done = true }
                    return !done
                }
                if first { continuation.resume(returning: value) }
            }
            let work = Task { try await operation() }
            let timer = Task {
                try? await Task.sleep(nanoseconds: UInt64(seconds * 1e9))
                work.cancel()
                answer(nil)
            }
            Task {
                answer(try? await work.value)
                timer.cancel()
            }
        }
    }

    func addUser(_ name: String, role: Viewer.Role, team: String?, passwordHash: String) async throws {
        try await client.query("""
            INSERT INTO users (name, role, team, password_hash, created_at) VALUES (\(name), \(role.rawValue), \(team), \(passwordHash), \(HubQueries.now()))
            ON CONFLICT (name) DO UPDATE SET role = excluded.role, team = excluded.team, password_hash = excluded.password_hash
            """, logger: logger)
    }

    func user(_ name: String) async throws -> (Viewer, String)? {
        let rows = try await client.query("SELECT name, role, team, password_hash FROM users WHERE name = \(name)", logger: logger)
        for try await (name, role, team, hash) in rows.decode((String, String, String?, String).self) {
            guard let role = Viewer.Role(rawValue: role) else { return nil }
            return (Viewer(name: name, role: role, team: team), hash)
        }
        return nil
    }

    func addEnrollment(codeHash: String, agent: String, team: String?, expires: Date) async throws {
        try await client.query("DELETE FROM enrollments WHERE expires_at < \(Date().timeIntervalSince1970)", logger: logger)
        try await client.query("""
            INSERT INTO enrollments (code_hash, agent, team, expires_at) VALUES (\(codeHash), \(agent), \(team), \(expires.timeIntervalSince1970))
            """, logger: logger)
    }

    func redeem(codeHash: String, tokenHash: String) async throws -> Viewer? {
        // The DELETE decides: of two devices racing with one code, one gets the row.
        let rows = try await client.query("DELETE FROM enrollments WHERE code_hash = \(codeHash) RETURNING agent, team, expires_at", logger: logger)
        for try await (agent, team, expires) in rows.decode((String, String?, Double).self) {
            guard expires >= Date().timeIntervalSince1970 else { return nil }
            try await client.query("""
                INSERT INTO devices (token_hash, agent, team, created_at) VALUES (\(tokenHash), \(agent), \(team), \(HubQueries.now()))
                """, logger: logger)
            return Viewer(name: agent, role: .agent, team: team)
        }
        return nil
    }

    func device(tokenHash: String) async throws -> Viewer? {
        let rows = try await client.query("SELECT agent, team FROM devices WHERE token_hash = \(tokenHash) AND revoked_at IS NULL", logger: logger)
        for try await (agent, team) in rows.decode((String, String?).self) { return Viewer(name: agent, role: .agent, team: team) }
        return nil
    }

    func revoke(agent: String) async throws -> Int {
        try await client.query("DELETE FROM enrollments WHERE agent = \(agent)", logger: logger)
        let rows = try await client.query("UPDATE devices SET revoked_at = \(HubQueries.now()) WHERE agent = \(agent) AND revoked_at IS NULL RETURNING agent",
                                          logger: logger)
        var count = 0
        for try await _ in rows { count += 1 }
        return count
    }

    func addWebSession(tokenHash: String, user: String, csrf: String, expires: Date) async throws {
        try await client.query("DELETE FROM web_sessions WHERE expires_at < \(Date().timeIntervalSince1970)", logger: logger)
        try await client.query("""
            INSERT INTO web_sessions (token_hash, user_name, csrf, expires_at) VALUES (\(tokenHash), \(user), \(csrf), \(expires.timeIntervalSince1970))
            """, logger: logger)
    }

    func webSession(tokenHash: String) async throws -> (Viewer, String)? {
        let rows = try await client.query("""
            SELECT users.name, users.role, users.team, web_sessions.csrf FROM web_sessions
            JOIN users ON users.name = web_sessions.user_name
            WHERE web_sessions.token_hash = \(tokenHash) AND web_sessions.expires_at >= \(Date().timeIntervalSince1970)
            """, logger: logger)
        for try await (name, role, team, csrf) in rows.decode((String, String, String?, String).self) {
            guard let role = Viewer.Role(rawValue: role) else { return nil }
            return (Viewer(name: name, role: role, team: team), csrf)
        }
        return nil
    }

    func removeWebSession(tokenHash: String) async throws {
        try await client.query("DELETE FROM web_sessions WHERE token_hash = \(tokenHash)", logger: logger)
    }

    func contentHash(of id: String) async throws -> String? {
        for try await hash in try await client.query("SELECT content_hash FROM sessions WHERE id = \(id)", logger: logger).decode(String.self) {
            return hash
        }
        return nil
    }

    func insert(_ new: NewSession) async throws(SparringError) -> UploadResult {
        let s = new.summary
        do {
            return try await client.withTransaction(logger: logger) { connection in
                let inserted = try await connection.query("""
                    INSERT INTO sessions (id, agent, team, scenario, started_at, duration_s, outcome, score, passed, difficulty,
                                          end_anger, content_hash, audio, audio_bytes, wav_bytes, summary, events, uploaded_at)
                    VALUES (\(s.id), \(new.agent), \(new.team), \(s.scenario), \(s.started_at), \(s.duration_s), \(s.outcome), \(s.score),
                            \(s.passed), \(s.difficulty), \(new.endAnger), \(new.contentHash), \(new.audio), \(new.audioBytes), \(new.wavBytes),
                            \(new.summaryJSON), \(new.eventsJSONL), \(HubQueries.now()))
                    ON CONFLICT (id) DO NOTHING RETURNING id
                    """, logger: logger)
                var stored = false
                for try await _ in inserted { stored = true }
                guard stored else {
                    for try await existing in try await connection.query("SELECT content_hash FROM sessions WHERE id = \(s.id)", logger: logger)
                        .decode(String.self) where existing != new.contentHash {
                        throw SparringError("conflict", "session \(s.id) is on the hub already, with other content")
                    }
                    return UploadResult.duplicate
                }
                for (criterion, title, passed) in new.criteria {
                    try await connection.query("""
                        INSERT INTO session_criteria (session, criterion, title, passed, agent, team, scenario, outcome, started_at)
                        VALUES (\(s.id), \(criterion), \(title), \(passed), \(new.agent), \(new.team), \(s.scenario), \(s.outcome), \(s.started_at))
                        """, logger: logger)
                }
                return UploadResult.stored
            }
        } catch let error as SparringError {
            throw error
        } catch {
            throw SparringError("hub_store", "cannot store session \(s.id) (\(String(reflecting: error).prefix(300)))")
        }
    }

    typealias SessionColumns = (String, String, String?, String, String, Double, String, Double?, Bool?, String?, Int?, Int?, Double?, Double?)

    static func session(_ c: SessionColumns) -> HubSession {
        HubSession(id: c.0, agent: c.1, team: c.2, scenario: c.3, started_at: c.4, duration_s: c.5, outcome: c.6, score: c.7, passed: c.8,
                   difficulty: c.9, override_score: c.13, end_anger: c.12, audio_bytes: c.10, wav_bytes: c.11)
    }

    func sessions(for viewer: Viewer, filter: HubFilter, limit: Int, before: String?) async throws -> [HubSession] {
        let (conditions, arguments) = HubQueries.conditions(for: viewer, filter: filter, before: before)
        let query = Self.numbered("""
            SELECT \(HubQueries.sessionColumns) FROM sessions WHERE \(conditions) ORDER BY sessions.started_at DESC, sessions.id DESC LIMIT ?
            """, arguments, extra: [max(1, min(limit, 10_000))])
        var result: [HubSession] = []
        for try await row in try await client.query(query, logger: logger).decode(SessionColumns.self) { result.append(Self.session(row)) }
        return result
    }

    func criterionFailures(for viewer: Viewer, filter: HubFilter, agents: ClosedRange<String>?) async throws -> [HubQueries.CriterionFailures] {
        let (conditions, arguments) = HubQueries.conditions(for: viewer, filter: filter, agents: agents)
        let query = Self.numbered("""
            \(HubQueries.criterionFailures(conditions))
            """, arguments)
        var result: [HubQueries.CriterionFailures] = []
        for try await (agent, criterion, title, failed, total) in try await client.query(query, logger: logger).decode((String, String, String, Int, Int).self) {
            result.append(.init(agent: agent, criterion: criterion, title: title, failed: failed, total: total))
        }
        return result
    }

    func criterionResults(for viewer: Viewer, agent: String) async throws -> [HubQueries.CriterionResult] {
        let (conditions, arguments) = HubQueries.conditions(for: viewer, filter: HubFilter(agent: agent))
        let query = Self.numbered("""
            \(HubQueries.criterionResults(conditions))
            """, arguments)
        var result: [HubQueries.CriterionResult] = []
        for try await (criterion, title, passed, started) in try await client.query(query, logger: logger).decode((String, String, Bool, String).self) {
            result.append(.init(criterion: criterion, title: title, passed: passed, startedAt: started))
        }
        return result
    }

    func session(_ id: String, for viewer: Viewer) async throws -> HubSessionDetail? {
        let scope = viewer.sessionScope
        let query = Self.numbered("""
            SELECT \(HubQueries.sessionColumns), sessions.summary, sessions.events, sessions.audio FROM sessions
            WHERE sessions.id = ? AND \(scope.sql)
            """, [id] + scope.arguments)
        var found: (HubSession, String, String, String?)?
        for try await row in try await client.query(query, logger: logger)
            .decode((String, String, String?, String, String, Double, String, Double?, Bool?, String?, Int?, Int?, Double?, Double?,
                     String, String, String?).self) {
            found = (Self.session((row.0, row.1, row.2, row.3, row.4, row.5, row.6, row.7, row.8, row.9, row.10, row.11, row.12, row.13)),
                     row.14, row.15, row.16)
        }
        guard let (session, summary, events, audio) = found else { return nil }
        var annotations: [HubAnnotation] = []
        for try await (aid, t, author, text, replyTo, created) in try await client.query("""
            SELECT id, t, author, text, reply_to, created_at FROM annotations WHERE session = \(id) ORDER BY t, id
            """, logger: logger).decode((Int64, Double, String, String, Int64?, String).self) {
            annotations.append(HubAnnotation(id: aid, session: id, t: t, author: author, text: text, reply_to: replyTo, created_at: created))
        }
        var overrides: [HubOverride] = []
        for try await (author, score, reason, created) in try await client.query("""
            SELECT author, score, reason, created_at FROM overrides WHERE session = \(id) ORDER BY id
            """, logger: logger).decode((String, Double, String, String).self) {
            overrides.append(HubOverride(session: id, author: author, score: score, reason: reason, created_at: created))
        }
        return HubSessionDetail(session: session, summary: summary, events: events, audio: audio, annotations: annotations, overrides: overrides)
    }

    func annotate(_ id: String, t: Double, author: String, text: String, replyTo: Int64?) async throws -> HubAnnotation {
        let created = HubQueries.now()
        for try await newID in try await client.query("""
            INSERT INTO annotations (session, t, author, text, reply_to, created_at) VALUES (\(id), \(t), \(author), \(text), \(replyTo), \(created))
            RETURNING id
            """, logger: logger).decode(Int64.self) {
            return HubAnnotation(id: newID, session: id, t: t, author: author, text: text, reply_to: replyTo, created_at: created)
        }
        throw SparringError("hub_store", "the annotation was not stored")
    }

    func annotation(_ id: Int64, in session: String) async throws -> HubAnnotation? {
        for try await (t, author, text, replyTo, created) in try await client.query("""
            SELECT t, author, text, reply_to, created_at FROM annotations WHERE id = \(id) AND session = \(session)
            """, logger: logger).decode((Double, String, String, Int64?, String).self) {
            return HubAnnotation(id: id, session: session, t: t, author: author, text: text, reply_to: replyTo, created_at: created)
        }
        return nil
    }

    func override(_ id: String, author: String, score: Double, reason: String) async throws -> HubOverride {
        let created = HubQueries.now()
        try await client.query("""
            INSERT INTO overrides (session, author, score, reason, created_at) VALUES (\(id), \(author), \(score), \(reason), \(created))
            """, logger: logger)
        return HubOverride(session: id, author: author, score: score, reason: reason, created_at: created)
    }

    func uploaded(by agent: String) async throws -> [String: String] {
        var result: [String: String] = [:]
        for try await (id, hash) in try await client.query("SELECT id, content_hash FROM sessions WHERE agent = \(agent)", logger: logger)
            .decode((String, String).self) {
            result[id] = hash
        }
        return result
    }

    func agentWeeks(for viewer: Viewer, filter: HubFilter, agents: ClosedRange<String>?, weekStarts: [String]) async throws -> [HubQueries.AgentWeek] {
        let (sql, arguments) = HubQueries.agentWeeks(for: viewer, filter: filter, agents: agents, weekStarts: weekStarts)
        var result: [HubQueries.AgentWeek] = []
        for try await (agent, team, week, calls, scored, passed) in try await client.query(Self.numbered(sql, arguments), logger: logger)
            .decode((String, String?, Int, Int, Int, Int).self) {
            result.append(.init(agent: agent, team: team, week: week, calls: calls, scored: scored, passed: passed))
        }
        return result
    }

    func agents(for viewer: Viewer, filter: HubFilter) async throws -> [HubQueries.AgentTeam] {
        let (sql, arguments) = HubQueries.agents(for: viewer, filter: filter)
        var result: [HubQueries.AgentTeam] = []
        for try await (agent, team) in try await client.query(Self.numbered(sql, arguments), logger: logger).decode((String, String?).self) {
            result.append(.init(agent: agent, team: team))
        }
        return result
    }

    func scenarioStats(for viewer: Viewer, filter: HubFilter) async throws -> [HubQueries.ScenarioStats] {
        let (sql, arguments) = HubQueries.scenarioAngers(for: viewer, filter: filter)
        var rows: [HubQueries.ScenarioAnger] = []
        for try await (scenario, anger, calls, scored, passed) in try await client.query(Self.numbered(sql, arguments), logger: logger)
            .decode((String, Double?, Int, Int, Int).self) {
            rows.append(.init(scenario: scenario, anger: anger, calls: calls, scored: scored, passed: passed))
        }
        return HubQueries.scenarioStats(rows)
    }
}

/// A flag set once, from any task: who set it first.
private final class OnceFlag: Sendable {
    let set = Mutex(false)
}
