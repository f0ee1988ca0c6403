import Foundation
import SparringCore
import SparringSessions

/// What the dashboard shows, computed from the sessions the viewer may see.
struct Dashboard {
    struct Week { var week: String; var label: String; var share: String }
    struct AgentRow { var agent: String; var team: String; var thisWeek: Int; var calls: Int; var passRate: String; var trend: [Week] }
    struct Cell { var label: String; var share: String }
    struct HeatRow { var agent: String; var cells: [Cell] }
    struct ScenarioRow { var scenario: String; var calls: Int; var passRate: String; var medianAnger: String }

    var heading: String
    /// The agents' rows: all of them, or a page (`paging` says which).
    var agents: [AgentRow]
    var paging: Paging?
    var criteria: [String]
    var heat: [HeatRow]
    var scenarios: [ScenarioRow]
    var sessions: [HubSession]

    static let weeks = 8

    /// Monday 00:00 UTC of the week holding `date`.
    static func weekStart(_ date: Date) -> Date {
        var calendar = Calendar(identifier: .iso8601)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        return calendar.dateInterval(of: .weekOfYear, for: date)?.start ?? date
    }

    static func day(_ date: Date) -> String {
        String(ISO8601DateFormatter.string(from: date, timeZone: TimeZone(identifier: "UTC")!, formatOptions: [.withFullDate]))
    }

    static func percent(_ part: Int, of whole: Int) -> String {
        whole == 0 ? "–" : "\(Int((Double(part) * 100 / Double(whole)).rounded())) %"
    }

    /// The share as a number with two decimals ("0.67"), for the style sheet. Written out by hand:
    /// String(format:) took a tenth of the hub's CPU (perf) on the admin's dashboard of 500 agents × 8 weeks.
    static func share(_ part: Int, of whole: Int) -> String {
        guard whole > 0 else { return "0" }
        let hundredths = Int((Double(part) * 100 / Double(whole)).rounded())
        let cents = hundredths % 100
        return "\(hundredths / 100).\(cents < 10 ? "0" : "")\(cents)"
    }

    /// Agents shown on one page of the dashboard (the CSV export has them all).
    static let agentsPerPage = 50

    /// Which agents a page of the dashboard shows, and the links to the pages beside it.
    struct Paging: Equatable {
        var first: Int, last: Int, total: Int
        /// Query strings of the pages before and after, nil at either end.
        var previous: String?, next: String?
    }

    /// Page `page` (1-based; out of range or unreadable is taken as the nearest page) of `total` agents,
    /// with links that keep the rest of `query` (the filters). Nil when one page holds them all.
    static func paging(total: Int, page: String?, query: String, perPage: Int = agentsPerPage) -> (range: Range<Int>, paging: Paging?) {
        let pages = max(1, (total + perPage - 1) / perPage)
        let number = min(pages, max(1, page.flatMap { Int($0) } ?? 1))
        let range = ((number - 1) * perPage)..<min(total, number * perPage)
        guard pages > 1 else { return (range, nil) }
        let kept = query.split(separator: "&").filter { !$0.hasPrefix("page=") && $0 != "page" }.map(String.init)
        func link(_ n: Int) -> String { (kept + ["page=\(n)"]).joined(separator: "&") }
        return (range, Paging(first: range.lowerBound + 1, last: range.upperBound, total: total,
                              previous: number > 1 ? link(number - 1) : nil, next: number < pages ? link(number + 1) : nil))
    }

    /// Which agents' rows a dashboard holds.
    enum Agents: Sendable {
        /// Every agent's (the CSV export).
        case all
        /// One page of the table: the page number as asked (nil for the first) and the rest of the query, for the links.
        case page(String?, query: String, size: Int = agentsPerPage)
    }
}

/// A row of a list of calls.
struct SessionRow {
    var id: String, started: String, agent: String, scenario: String, outcome: String, score: String
    init(_ session: HubSession) {
        id = session.id
        started = session.started_at.replacingOccurrences(of: "T", with: " ").replacingOccurrences(of: "Z", with: "")
        agent = session.agent
        scenario = session.scenario
        outcome = session.outcome
        let automatic = session.score.map { plainNumber($0) } ?? "–"
        score = session.override_score.map { "\(plainNumber($0)) (automatic \(automatic))" } ?? automatic
    }
}

struct DashboardPage {
    var title: String
    var viewer: Hub.HeaderViewer
    var heading: String
    var filter: HubFilter
    var query: String
    var agents: [Dashboard.AgentRow]
    /// Where this page is among the agents, when they take more than one.
    var paging: Dashboard.Paging?
    var criteria: [String]
    var heat: [Dashboard.HeatRow]
    var scenarios: [Dashboard.ScenarioRow]
    var sessions: [SessionRow]
}

struct AgentPage {
    struct Progress { var title: String; var first: String; var second: String }
    struct Attempt { var scenario: String; var calls: Int; var first: String; var firstID: String; var best: String; var bestID: String }
    var title: String
    var viewer: Hub.HeaderViewer
    var agent: String
    var progress: [Progress]
    var attempts: [Attempt]
    var sessions: [SessionRow]
}

extension Hub {
    /// The dashboard for `viewer`: without dates, the last eight weeks. Counting is the database's
    /// (grouped by agent and week, by scenario, by agent and criterion), so the page costs about the
    /// same whether a team made a hundred calls or a hundred thousand.
    func dashboard(for viewer: Viewer, filter: HubFilter, agents selection: Dashboard.Agents = .page(nil, query: ""),
                   now: Date = Date()) async throws -> Dashboard {
        let thisWeek = Dashboard.weekStart(now)
        let firstWeek = thisWeek.addingTimeInterval(-Double(Dashboard.weeks - 1) * 7 * 86400)
        var window = filter
        if (window.since ?? "").isEmpty && (window.until ?? "").isEmpty { window.since = Dashboard.day(firstWeek) }
        let scoped = window
        let starts = (0..<Dashboard.weeks).map { firstWeek.addingTimeInterval(Double($0) * 7 * 86400) }
        // The counts are independent: asked at once, on as many connections. Only a page of agents is
        // counted per week and criterion: those are a range of names in the database's order.
        async let listed = store.agents(for: viewer, filter: scoped)
        async let scenarioRows = store.scenarioStats(for: viewer, filter: scoped)
        async let recent = store.sessions(for: viewer, filter: scoped, limit: 200)
        let everyone = try await listed
        let page: (range: Range<Int>, paging: Dashboard.Paging?) = switch selection {
        case .all: (everyone.indices, nil)
        case let .page(number, query, size): Dashboard.paging(total: everyone.count, page: number, query: query, perPage: size)
        }
        let shown = everyone[page.range], paging = page.paging
        // Counted for the shown agents only: a range of names, unless they are all of them.
        let counted = shown.count < everyone.count ? shown.first.flatMap { first in shown.last.map { first.agent...$0.agent } } : nil
        let none = shown.isEmpty
        async let weeklyRows = none ? [] : store.agentWeeks(for: viewer, filter: scoped, agents: counted,
                                                            weekStarts: starts.map { Dashboard.day($0) + "T00:00:00Z" })
        async let failureRows = none ? [] : store.criterionFailures(for: viewer, filter: scoped, agents: counted)

        let weekly = Dictionary(grouping: try await weeklyRows, by: \.agent)
        let days = starts.map(Dashboard.day)
        let agents = shown.map { listed -> Dashboard.AgentRow in
            let rows = weekly[listed.agent] ?? []
            let trend = days.enumerated().map { week, day -> Dashboard.Week in
                let row = rows.first { $0.week == week }
                return .init(week: day, label: Dashboard.percent(row?.passed ?? 0, of: row?.scored ?? 0),
                             share: Dashboard.share(row?.passed ?? 0, of: row?.scored ?? 0))
            }
            let scored = rows.reduce(0) { $0 + $1.scored }, passed = rows.reduce(0) { $0 + $1.passed }
            return .init(agent: listed.agent, team: listed.team ?? "", thisWeek: rows.first { $0.week == Dashboard.weeks - 1 }?.calls ?? 0,
                         calls: rows.reduce(0) { $0 + $1.calls }, passRate: Dashboard.percent(passed, of: scored), trend: trend)
        }

        let failures = Dictionary(grouping: try await failureRows, by: \.agent)
        let titles = Dictionary(failures.values.joined().map { ($0.criterion, $0.title) }, uniquingKeysWith: { first, _ in first })
        let criteria = titles.keys.sorted()
        let heat = shown.compactMap { listed -> Dashboard.HeatRow? in
            guard let rows = failures[listed.agent] else { return nil }
            return Dashboard.HeatRow(agent: listed.agent, cells: criteria.map { criterion in
                let row = rows.first { $0.criterion == criterion }
                return Dashboard.Cell(label: Dashboard.percent(row?.failed ?? 0, of: row?.total ?? 0),
                                      share: Dashboard.share(row?.failed ?? 0, of: row?.total ?? 0))
            })
        }
        let scenarios = try await scenarioRows.map {
            Dashboard.ScenarioRow(scenario: $0.scenario, calls: $0.calls, passRate: Dashboard.percent($0.passed, of: $0.scored),
                                  medianAnger: $0.medianAnger.map { plainNumber($0.rounded()) } ?? "–")
        }
        let heading = switch viewer.role {
        case .admin: "Every team"
        case .supervisor: "Team \(viewer.team ?? "")"
        case .agent: "Your calls"
        }
        return Dashboard(heading: heading, agents: agents, paging: paging, criteria: criteria.map { titles[$0] ?? $0 }, heat: heat, scenarios: scenarios,
                         sessions: try await recent)
    }

    /// An agent's progress per criterion (their earlier calls against their later ones) and first against best attempts.
    func agentPage(_ agent: String, sessions: [HubSession], viewer: Viewer) async throws -> (progress: [AgentPage.Progress], attempts: [AgentPage.Attempt]) {
        let rows = try await store.criterionResults(for: viewer, agent: agent)
        var progress: [AgentPage.Progress] = []
        for (_, results) in Dictionary(grouping: rows, by: \.criterion).sorted(by: { $0.key < $1.key }) {
            let ordered = results.sorted { $0.startedAt < $1.startedAt }
            let half = (ordered.count + 1) / 2
            let first = ordered.prefix(half), second = ordered.dropFirst(half)
            progress.append(.init(title: ordered.first?.title ?? "",
                                  first: Dashboard.percent(first.filter(\.passed).count, of: first.count),
                                  second: Dashboard.percent(second.filter(\.passed).count, of: second.count)))
        }
        let attempts = Dictionary(grouping: sessions, by: \.scenario).sorted(by: { $0.key < $1.key }).compactMap { scenario, calls -> AgentPage.Attempt? in
            let ordered = calls.sorted { $0.started_at < $1.started_at }
            guard let first = ordered.first else { return nil }
            let best = ordered.max { ($0.override_score ?? $0.score ?? -1) < ($1.override_score ?? $1.score ?? -1) } ?? first
            func label(_ s: HubSession) -> String { (s.override_score ?? s.score).map { plainNumber($0) } ?? s.outcome }
            return .init(scenario: scenario, calls: calls.count, first: label(first), firstID: first.id, best: label(best), bestID: best.id)
        }
        return (progress, attempts)
    }
}
