import Foundation
import SparringCore
import SparringSessions

/// Where the hub keeps its metadata: people, devices, uploaded sessions and what supervisors add to them.
///
/// Two stores answer it: SQLite (`SQLiteHubStore`, the default in the data
/// folder) and PostgreSQL (`PostgresHubStore`, for a team), with the same
/// tables. Uploaded sessions are never updated: annotations, replies and
/// overrides are rows of their own. Every query of sessions is narrowed to
/// what the asker may see (`HubQueries.conditions`).
protocol HubDatabase: Sendable {
    /// Whether the database answers within `seconds` (a file on this machine always answers); `/healthz` asks it.
    func reachable(within seconds: Double) async -> Bool
    func addUser(_ name: String, role: Viewer.Role, team: String?, passwordHash: String) async throws
    /// The user and their password hash, for sign-in.
    func user(_ name: String) async throws -> (Viewer, String)?
    /// Keeps a one-time enrolment code (its hash) for `agent`, valid until `expires`.
    func addEnrollment(codeHash: String, agent: String, team: String?, expires: Date) async throws
    /// Trades an unexpired enrolment code for a device: the code is used up, the token's hash kept.
    /// Nil when the code is unknown, used or expired.
    func redeem(codeHash: String, tokenHash: String) async throws -> Viewer?
    /// The agent a live device token belongs to.
    func device(tokenHash: String) async throws -> Viewer?
    /// Ends every device and unused enrolment code of `agent`; the number of devices revoked.
    func revoke(agent: String) async throws -> Int
    func addWebSession(tokenHash: String, user: String, csrf: String, expires: Date) async throws
    /// The person signed in with a cookie, and the CSRF token their forms must carry.
    func webSession(tokenHash: String) async throws -> (Viewer, String)?
    func removeWebSession(tokenHash: String) async throws
    /// The content hash of a stored session, if the hub has it (whoever may see it).
    func contentHash(of id: String) async throws -> String?
    /// Stores a new session once: the same id with the same content is a duplicate, with other content a conflict.
    func insert(_ new: NewSession) async throws(SparringError) -> UploadResult
    /// What `viewer` may see, newest first, filtered.
    /// At most `limit` sessions, newest first (ties by id); with `before`, those listed after that
    /// session (the next page), or none when the viewer may not see it, as when it does not exist.
    func sessions(for viewer: Viewer, filter: HubFilter, limit: Int, before: String?) async throws -> [HubSession]
    /// Per agent and rubric criterion, how many of the calls `viewer` may see failed it; with `agents`,
    /// only for the agents whose names fall in that range (a page of the dashboard).
    func criterionFailures(for viewer: Viewer, filter: HubFilter, agents: ClosedRange<String>?) async throws -> [HubQueries.CriterionFailures]
    /// Every criterion result of `agent`'s calls that `viewer` may see.
    func criterionResults(for viewer: Viewer, agent: String) async throws -> [HubQueries.CriterionResult]
    /// One session with what the hub keeps of it, or nil when it does not exist or `viewer` may not see it.
    func session(_ id: String, for viewer: Viewer) async throws -> HubSessionDetail?
    func annotate(_ id: String, t: Double, author: String, text: String, replyTo: Int64?) async throws -> HubAnnotation
    /// The annotation `id` of session `session`, if there is one.
    func annotation(_ id: Int64, in session: String) async throws -> HubAnnotation?
    func override(_ id: String, author: String, score: Double, reason: String) async throws -> HubOverride
    /// Ids and content hashes of every session `agent` has on the hub, so a device sends only what is missing.
    func uploaded(by agent: String) async throws -> [String: String]
    /// Calls per agent and week (index into `weekStarts`, -1 before the first), counted in the database;
    /// with `agents`, only for the agents whose names fall in that range.
    func agentWeeks(for viewer: Viewer, filter: HubFilter, agents: ClosedRange<String>?, weekStarts: [String]) async throws -> [HubQueries.AgentWeek]
    /// Every agent with calls `viewer` may see, in the database's order of names, with their team.
    func agents(for viewer: Viewer, filter: HubFilter) async throws -> [HubQueries.AgentTeam]
    /// Calls, scored and passed calls, and the median anger at the end, per scenario.
    func scenarioStats(for viewer: Viewer, filter: HubFilter) async throws -> [HubQueries.ScenarioStats]
}

extension HubDatabase {
    func sessions(for viewer: Viewer, filter: HubFilter = HubFilter(), limit: Int = Hub.pageSize) async throws -> [HubSession] {
        try await sessions(for: viewer, filter: filter, limit: limit, before: nil)
    }
}

/// What both stores share of their SQL.
enum HubQueries {
    struct CriterionFailures: Sendable { var agent: String; var criterion: String; var title: String; var failed: Int; var total: Int }
    struct CriterionResult: Sendable { var criterion: String; var title: String; var passed: Bool; var startedAt: String }

    struct AgentTeam: Sendable, Equatable { var agent: String; var team: String? }
    struct AgentWeek: Sendable { var agent: String; var team: String?; var week: Int; var calls: Int; var scored: Int; var passed: Int }
    struct ScenarioStats: Sendable { var scenario: String; var calls: Int; var scored: Int; var passed: Int; var medianAnger: Double? }

    static func now() -> String { ISO8601DateFormatter().string(from: Date()) }

    /// The columns of a `HubSession`, in the order both stores read them (the override is the latest one).
    static let sessionColumns = """
        sessions.id, sessions.agent, sessions.team, sessions.scenario, sessions.started_at, sessions.duration_s,
        sessions.outcome, sessions.score, sessions.passed, sessions.difficulty, sessions.audio_bytes, sessions.wav_bytes, sessions.end_anger,
        (SELECT score FROM overrides WHERE overrides.session = sessions.id ORDER BY overrides.id DESC LIMIT 1) AS override_score
        """

    /// The tables, the same in SQLite and PostgreSQL but for how an id counts up (`serial`).
    /// Criterion rows repeat their call's agent, team, scenario, outcome and start (calls never change),
    /// so the dashboard counts them without a join.
    static func schema(serial: String) -> String {
        """
        CREATE TABLE users (name TEXT PRIMARY KEY, role TEXT NOT NULL, team TEXT, password_hash TEXT NOT NULL, created_at TEXT NOT NULL);
        CREATE TABLE enrollments (code_hash TEXT PRIMARY KEY, agent TEXT NOT NULL, team TEXT, expires_at DOUBLE PRECISION NOT NULL);
        CREATE TABLE devices (token_hash TEXT PRIMARY KEY, agent TEXT NOT NULL, team TEXT, created_at TEXT NOT NULL, revoked_at TEXT);
        CREATE TABLE sessions (id TEXT PRIMARY KEY, agent TEXT NOT NULL, team TEXT, scenario TEXT NOT NULL,
                               started_at TEXT NOT NULL, duration_s DOUBLE PRECISION NOT NULL,
                               outcome TEXT NOT NULL, score DOUBLE PRECISION, passed BOOLEAN, difficulty TEXT, end_anger DOUBLE PRECISION,
                               content_hash TEXT NOT NULL, audio TEXT, audio_bytes BIGINT, wav_bytes BIGINT,
                               summary TEXT NOT NULL, events TEXT NOT NULL, uploaded_at TEXT NOT NULL);
        CREATE INDEX sessions_by_agent ON sessions (agent, started_at);
        CREATE INDEX sessions_by_team ON sessions (team, started_at);
        CREATE INDEX sessions_by_started ON sessions (started_at);
        CREATE TABLE session_criteria (session TEXT NOT NULL REFERENCES sessions (id), criterion TEXT NOT NULL,
                                       title TEXT NOT NULL, passed BOOLEAN NOT NULL, agent TEXT NOT NULL, team TEXT,
                                       scenario TEXT NOT NULL, outcome TEXT NOT NULL, started_at TEXT NOT NULL,
                                       PRIMARY KEY (session, criterion));
        CREATE INDEX criteria_by_agent ON session_criteria (agent, started_at);
        CREATE TABLE annotations (id \(serial), session TEXT NOT NULL REFERENCES sessions (id),
                                  t DOUBLE PRECISION NOT NULL, author TEXT NOT NULL, text TEXT NOT NULL,
                                  reply_to BIGINT REFERENCES annotations (id), created_at TEXT NOT NULL);
        CREATE INDEX annotations_by_session ON annotations (session, t);
        CREATE TABLE overrides (id \(serial), session TEXT NOT NULL REFERENCES sessions (id),
                                author TEXT NOT NULL, score DOUBLE PRECISION NOT NULL, reason TEXT NOT NULL, created_at TEXT NOT NULL);
        CREATE INDEX overrides_by_session ON overrides (session, id);
        CREATE TABLE web_sessions (token_hash TEXT PRIMARY KEY, user_name TEXT NOT NULL REFERENCES users (name),
                                   csrf TEXT NOT NULL, expires_at DOUBLE PRECISION NOT NULL)
        """
    }

    /// Indexes that hold every column the dashboard counts, so its counts read the indexes alone
    /// (index-only scans) instead of the sessions' rows, which carry the call's summary and events.
    /// Agent first: a page of the dashboard counts a range of agents' calls.
    /// Plain index columns rather than INCLUDE, which SQLite does not have.
    static let countingIndexes = """
        CREATE INDEX sessions_counted ON sessions (agent, started_at, team, scenario, outcome, passed, end_anger);
        CREATE INDEX criteria_counted ON session_criteria (agent, started_at, criterion, passed, team, scenario, outcome, title)
        """

    /// Calls per agent and week: the week is found by comparing `started_at` with each week's start (ISO 8601 text sorts as time).
    static func agentWeeks(for viewer: Viewer, filter: HubFilter, agents: ClosedRange<String>?, weekStarts: [String]) -> (sql: String, arguments: [String]) {
        let (conditions, arguments) = Self.conditions(for: viewer, filter: filter, agents: agents)
        let cases = weekStarts.indices.reversed().map { "WHEN sessions.started_at >= ? THEN \($0)" }.joined(separator: " ")
        return ("""
            SELECT sessions.agent, MIN(sessions.team) AS team, CASE \(cases) ELSE -1 END AS week, COUNT(*) AS calls,
                   SUM(CASE WHEN sessions.passed IS NULL THEN 0 ELSE 1 END) AS scored,
                   SUM(CASE WHEN sessions.passed THEN 1 ELSE 0 END) AS passed
            FROM sessions WHERE \(conditions) GROUP BY sessions.agent, week
            """, weekStarts.reversed() + arguments)
    }

    /// The agents with calls, in the database's order (a page of the dashboard is a range of it).
    static func agents(for viewer: Viewer, filter: HubFilter) -> (sql: String, arguments: [String]) {
        let (conditions, arguments) = Self.conditions(for: viewer, filter: filter)
        return ("""
            SELECT sessions.agent, MIN(sessions.team) AS team FROM sessions WHERE \(conditions)
            GROUP BY sessions.agent ORDER BY sessions.agent
            """, arguments)
    }

    /// Per scenario and whole anger at the end (NULL where the call has none): calls, scored and passed.
    /// One pass gives both the scenario's counts (the sum over its angers) and the histogram its
    /// median is read from, so neither database sorts every call (and SQLite, which has no median, needs none).
    static func scenarioAngers(for viewer: Viewer, filter: HubFilter) -> (sql: String, arguments: [String]) {
        let (conditions, arguments) = Self.conditions(for: viewer, filter: filter)
        return ("""
            SELECT sessions.scenario, CAST(ROUND(sessions.end_anger) AS DOUBLE PRECISION) AS anger, COUNT(*) AS calls,
                   SUM(CASE WHEN sessions.passed IS NULL THEN 0 ELSE 1 END) AS scored,
                   SUM(CASE WHEN sessions.passed THEN 1 ELSE 0 END) AS passed
            FROM sessions WHERE \(conditions) GROUP BY sessions.scenario, anger
            """, arguments)
    }

    /// One row of `scenarioAngers`.
    struct ScenarioAnger: Sendable { var scenario: String; var anger: Double?; var calls: Int; var scored: Int; var passed: Int }

    /// The scenarios' counts and median anger from the rows of `scenarioAngers`, by scenario name.
    static func scenarioStats(_ rows: [ScenarioAnger]) -> [ScenarioStats] {
        Dictionary(grouping: rows, by: \.scenario).sorted { $0.key < $1.key }.map { scenario, rows in
            ScenarioStats(scenario: scenario, calls: rows.reduce(0) { $0 + $1.calls }, scored: rows.reduce(0) { $0 + $1.scored },
                          passed: rows.reduce(0) { $0 + $1.passed },
                          medianAnger: median(rows.compactMap { row in row.anger.map { ($0, row.calls) } }))
        }
    }

    /// The median of values given as (value, count).
    static func median(_ histogram: [(Double, Int)]) -> Double? {
        let sorted = histogram.sorted { $0.0 < $1.0 }
        let total = sorted.reduce(0) { $0 + $1.1 }
        guard total > 0 else { return nil }
        func value(at index: Int) -> Double {
            var seen = 0
            for (value, count) in sorted {
                seen += count
                if index < seen { return value }
            }
            return sorted.last!.0
        }
        return total % 2 == 1 ? value(at: total / 2) : (value(at: total / 2 - 1) + value(at: total / 2)) / 2
    }

    /// Failed share per agent and criterion. Criterion rows carry their call's agent, team, scenario,
    /// outcome and start, so they are counted without a join, under the same conditions as sessions.
    static func criterionFailures(_ conditions: String) -> String {
        """
        SELECT sessions.agent, sessions.criterion, MIN(sessions.title) AS title,
               SUM(CASE WHEN sessions.passed THEN 0 ELSE 1 END) AS failed, COUNT(*) AS total
        FROM session_criteria AS sessions WHERE \(conditions) GROUP BY sessions.agent, sessions.criterion
        """
    }

    static func criterionResults(_ conditions: String) -> String {
        """
        SELECT sessions.criterion, sessions.title, sessions.passed, sessions.started_at
        FROM session_criteria AS sessions WHERE \(conditions)
        """
    }

    /// The WHERE clause of what `viewer` may see, narrowed by `filter`.
    /// `?` placeholders; the PostgreSQL store numbers them.
    static func conditions(for viewer: Viewer, filter: HubFilter, agents: ClosedRange<String>? = nil, before: String? = nil) -> (sql: String, arguments: [String]) {
        let scope = viewer.sessionScope
        var conditions = [scope.sql]
        var arguments = scope.arguments
        for (column, value) in [("sessions.agent = ?", filter.agent), ("sessions.team = ?", filter.team),
                                ("sessions.scenario = ?", filter.scenario), ("sessions.outcome = ?", filter.outcome),
                                ("sessions.started_at >= ?", filter.since), ("sessions.started_at < ?", filter.until)] {
            if let value, !value.isEmpty {
                conditions.append(column)
                arguments.append(value)
            }
        }
        if let agents {
            conditions.append("sessions.agent >= ? AND sessions.agent <= ?")
            arguments += [agents.lowerBound, agents.upperBound]
        }
        if let before, !before.isEmpty {
            // After that session in the list's order (newest first, ties by id), found among what the asker may see.
            let pageScope = viewer.sessionScope(of: "page")
            conditions.append("(sessions.started_at, sessions.id) < (SELECT page.started_at, page.id FROM sessions AS page WHERE page.id = ? AND \(pageScope.sql))")
            arguments += [before] + pageScope.arguments
        }
        return (conditions.joined(separator: " AND "), arguments)
    }
}

/// Who is asking: a signed-in person or an agent's device. What they may see follows from it.
public struct Viewer: Sendable, Equatable {
    public enum Role: String, Sendable, CaseIterable, Codable {
        case admin, supervisor, agent
    }
    public var name: String
    public var role: Role
    public var team: String?

    public init(name: String, role: Role, team: String?) {
        self.name = name
        self.role = role
        self.team = team
    }

    /// The condition on `sessions` rows this viewer may see, with its arguments. Every query of
    /// sessions goes through it, so what a person may not see is never read.
    var sessionScope: (sql: String, arguments: [String]) { sessionScope(of: "sessions") }

    /// The same condition on the sessions table under another name in a query (`table`).
    func sessionScope(of table: String) -> (sql: String, arguments: [String]) {
        switch role {
        case .admin: ("1 = 1", [])
        case .supervisor: ("\(table).team = ?", [team ?? ""])
        case .agent: ("\(table).agent = ?", [name])
        }
    }
}

/// A comment at a moment of a call, or an agent's reply to one.
public struct HubAnnotation: Codable, Sendable, Equatable {
    public var id: Int64
    public var session: String
    public var t: Double
    public var author: String
    public var text: String
    public var reply_to: Int64?
    public var created_at: String
}

/// A supervisor's score in place of the automatic one, with why.
public struct HubOverride: Codable, Sendable, Equatable {
    public var session: String
    public var author: String
    public var score: Double
    public var reason: String
    public var created_at: String
}

/// A finished upload, ready to be stored: the parsed parts and where its audio went.
public struct NewSession: Sendable {
    var summary: CallSummaryRecord
    var agent: String
    var team: String?
    var contentHash: String
    var audio: String?
    var audioBytes: Int?
    var wavBytes: Int?
    var summaryJSON: String
    var eventsJSONL: String
    /// The caller's anger when the call ended, from the last mood change.
    var endAnger: Double?
    /// Each rubric criterion of the score: id, title, passed.
    var criteria: [(String, String, Bool)]
}

/// The fields of summary.json the hub indexes.
public struct CallSummaryRecord: Sendable {
    var id: String
    var scenario: String
    var started_at: String
    var duration_s: Double
    var outcome: String
    var score: Double?
    var passed: Bool?
    var difficulty: String?
}

/// What became of an upload.
public enum UploadResult: String, Sendable, Codable {
    /// Stored now.
    case stored
    /// The hub had this call, with the same content, already: nothing changed.
    case duplicate
}

/// A session as its page and `GET /api/v1/sessions/ID` show it.
public struct HubSessionDetail: Sendable {
    public var session: HubSession
    public var summary: String
    public var events: String
    public var audio: String?
    public var annotations: [HubAnnotation]
    public var overrides: [HubOverride]
}

/// Filters of the session list and the dashboard; nil or empty fields do not filter.
public struct HubFilter: Sendable, Equatable, Codable {
    public var team: String?
    public var agent: String?
    public var scenario: String?
    public var outcome: String?
    /// ISO 8601 date: calls started on or after it.
    public var since: String?
    /// ISO 8601 date: calls started before it.
    public var until: String?
    public init(team: String? = nil, agent: String? = nil, scenario: String? = nil, outcome: String? = nil,
                since: String? = nil, until: String? = nil) {
        self.team = team
        self.agent = agent
        self.scenario = scenario
        self.outcome = outcome
        self.since = since
        self.until = until
    }
}
