import Foundation
import Mustache
import SparringSessions
import Testing
@testable import SparringHub

/// The rows the templates repeat give each field by name without reflection; these
/// check that every stored field is given, as reflection would give it.
@Suite("Page values")
struct PageValueTests {
    func sameAsMirror<T: MustacheParent>(_ value: T) {
        let fields = Mirror(reflecting: value).children
        #expect(!fields.isEmpty)
        for field in fields {
            guard let label = field.label else { continue }
            let given = value.child(named: label)
            #expect(given != nil, "\(T.self).\(label) is not given to the templates")
            #expect(given.map { String(describing: $0) } == String(describing: field.value), "\(T.self).\(label)")
        }
        #expect(value.child(named: "no such field") == nil)
    }

    @Test("every field of the dashboard's, agent page's and session page's rows reaches the templates")
    func rows() {
        let week = Dashboard.Week(week: "2026-11-30", label: "67 %", share: "0.67")
        sameAsMirror(week)
        sameAsMirror(Dashboard.AgentRow(agent: "alice", team: "north", thisWeek: 3, calls: 9, passRate: "67 %", trend: [week]))
        let cell = Dashboard.Cell(label: "50 %", share: "0.50")
        sameAsMirror(cell)
        sameAsMirror(Dashboard.HeatRow(agent: "bob", cells: [cell]))
        sameAsMirror(Dashboard.ScenarioRow(scenario: "debt-threat", calls: 4, passRate: "25 %", medianAnger: "45"))
        sameAsMirror(SessionRow(HubSession(id: "s1", agent: "alice", team: "north", scenario: "debt-threat", started_at: "2026-11-30T10:00:00Z",
                                           duration_s: 60, outcome: "agree", score: 80, passed: true, difficulty: "fair", override_score: 60,
                                           end_anger: 30, audio_bytes: nil, wav_bytes: nil)))
        sameAsMirror(SessionPage.Talk(speaker: "agent", x: "1.5", y: 4, width: "20", t: "0.5", clock: "0:00"))
        sameAsMirror(SessionPage.Line(speaker: "caller", t: "1.0", clock: "0:01", text: "Hello?"))
    }

    @Test("a scenario's counts sum over its angers, and calls without an anger count but have no say in the median")
    func scenarioStats() {
        let stats = HubQueries.scenarioStats([
            .init(scenario: "b", anger: 40, calls: 2, scored: 2, passed: 1),
            .init(scenario: "a", anger: nil, calls: 5, scored: 3, passed: 3),
            .init(scenario: "b", anger: 70, calls: 1, scored: 1, passed: 0),
            .init(scenario: "b", anger: nil, calls: 4, scored: 0, passed: 0),
        ])
        #expect(stats.map(\.scenario) == ["a", "b"])
        #expect(stats[0].calls == 5 && stats[0].scored == 3 && stats[0].passed == 3 && stats[0].medianAnger == nil)
        #expect(stats[1].calls == 7 && stats[1].scored == 3 && stats[1].passed == 1 && stats[1].medianAnger == 40)
    }

    @Test("the dashboard shows fifty agents a page, keeps the filters in its links, and takes a page out of range as the nearest")
    func agentPages() {
        let first = Dashboard.paging(total: 120, page: nil, query: "team=north")
        #expect(first.range == 0..<50)
        #expect(first.paging == Dashboard.Paging(first: 1, last: 50, total: 120, previous: nil, next: "team=north&page=2"))
        let last = Dashboard.paging(total: 120, page: "3", query: "team=north&page=2&since=2026-11-01")
        #expect(last.range == 100..<120)
        #expect(last.paging == Dashboard.Paging(first: 101, last: 120, total: 120, previous: "team=north&since=2026-11-01&page=2", next: nil))
        #expect(Dashboard.paging(total: 120, page: "99", query: "").range == 100..<120)
        #expect(Dashboard.paging(total: 120, page: "-4", query: "").range == 0..<50)
        #expect(Dashboard.paging(total: 120, page: "two", query: "").range == 0..<50)
        #expect(Dashboard.paging(total: 30, page: "2", query: "").range == 0..<30)
        #expect(Dashboard.paging(total: 30, page: nil, query: "").paging == nil)
        #expect(Dashboard.paging(total: 0, page: nil, query: "").range == 0..<0)
    }

    @Test("shares reach the style sheet with two decimals")
    func shares() {
        #expect(Dashboard.share(2, of: 3) == "0.67")
        #expect(Dashboard.share(1, of: 20) == "0.05")
        #expect(Dashboard.share(3, of: 3) == "1.00")
        #expect(Dashboard.share(0, of: 7) == "0.00")
        #expect(Dashboard.share(0, of: 0) == "0")
    }
}
