import Foundation
import SparringCore
import SparringSessions

/// One call's page: player, timeline, transcript, score with evidence, annotations and override.
struct SessionPage {
    struct Talk { var speaker: String; var x: String; var y: Int; var width: String; var t: String; var clock: String }
    struct Line { var speaker: String; var t: String; var clock: String; var text: String }
    struct Evidence { var t: String; var clock: String; var text: String }
    struct Criterion { var title: String; var state: String; var note: String; var evidence: [Evidence] }
    struct Reply { var author: String; var text: String }
    struct Note { var id: Int64; var session: String; var t: String; var clock: String; var author: String; var text: String; var replies: [Reply]; var csrf: String }
    struct Override { var score: String; var author: String; var reason: String }

    var title: String
    var viewer: Hub.HeaderViewer
    var id: String
    var scenario: String
    var agent: String
    var started: String
    var duration: String
    var outcome: String
    var difficulty: String?
    var score: String
    var override: Override?
    var audio: String?
    var talk: [Talk]
    var anger: String
    var trust: String
    var lines: [Line]
    var criteria: [Criterion]
    var annotations: [Note]
    var csrf: String
    var canOverride: Bool

    init(_ detail: HubSessionDetail, viewer: Viewer, csrf: String) throws {
        let summary = try SessionChecks.summary(Data(detail.summary.utf8), file: "summary.json")
        let events = detail.events.split(separator: "\n").compactMap { try? JSONDecoder().decode(SessionEvent.self, from: Data($0.utf8)) }
        let session = detail.session
        let length = max(summary.duration_s, events.last?.t ?? 0, 1)
        func x(_ t: Double) -> Double { 40 + 950 * min(max(t / length, 0), 1) }
        func number(_ value: Double) -> String { String(format: "%.1f", value) }

        title = "\(session.scenario) · \(session.agent)"
        self.viewer = Hub.HeaderViewer(name: viewer.name, role: viewer.role.rawValue, csrf: csrf)
        id = session.id
        scenario = summary.title ?? session.scenario
        agent = session.agent
        started = session.started_at
        duration = Clock.format(summary.duration_s)
        outcome = summary.outcome
        difficulty = summary.difficulty
        score = summary.score.map { "\(plainNumber($0.total)) (\($0.passed ? "passed" : "not passed"))" } ?? (summary.unscored ?? "not scored")
        override = detail.overrides.last.map { Override(score: plainNumber($0.score), author: $0.author, reason: $0.reason) }
        audio = detail.audio == nil ? nil : "/sessions/\(session.id)/audio"

        // Who talked when: agent speech and caller lines as bars, from their start and end events.
        var talk: [Talk] = []
        var open: [String: Double] = [:]
        for event in events {
            switch event.kind {
            case .agentSpeechStart, .callerLineStart: open[event.kind.speaker!] = event.t
            case .agentSpeechEnd, .callerLineEnd:
                let speaker = event.kind.speaker!
                if let start = open.removeValue(forKey: speaker) {
                    talk.append(Talk(speaker: speaker, x: number(x(start)), y: speaker == "agent" ? 2 : 22,
                                     width: number(max(1, x(event.t) - x(start))), t: number(start), clock: Clock.format(start)))
                }
            default: break
            }
        }
        self.talk = talk

        // Anger and trust, 0–100, drawn under the bars.
        func plot(_ meter: String) -> String {
            events.compactMap { event -> String? in
                guard let value = event.meters?[meter], value.isFinite else { return nil }
                return "\(number(x(event.t))),\(number(136 - min(max(value, 0), 100) * 0.96))"
            }.joined(separator: " ")
        }
        anger = plot("anger")
        trust = plot("trust")

        lines = summary.transcript.map { Line(speaker: $0.speaker, t: number($0.t), clock: Clock.format($0.t), text: $0.text) }
        criteria = summary.score.map { score in
            score.order.compactMap { id in
                score.criteria[id].map { result in
                    Criterion(title: result.title, state: result.passed ? "passed" : "failed", note: result.note,
                              evidence: result.evidence.map { Evidence(t: number($0.t.seconds), clock: Clock.format($0.t.seconds), text: $0.text) })
                }
            }
        } ?? []
        let roots = detail.annotations.filter { $0.reply_to == nil }
        annotations = roots.map { root in
            Note(id: root.id, session: session.id, t: number(root.t), clock: Clock.format(root.t), author: root.author, text: root.text,
                 replies: detail.annotations.filter { $0.reply_to == root.id }.map { Reply(author: $0.author, text: $0.text) }, csrf: csrf)
        }
        self.csrf = csrf
        canOverride = viewer.role != .agent
    }
}
