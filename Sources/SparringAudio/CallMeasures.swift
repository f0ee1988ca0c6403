import Foundation
import SparringCore
import SparringSessions

/// What a live call measures as it goes, for its summary.
struct CallMeasures {
    /// From the agent's last voiced sample to the caller's first audible sample of the reply, ms.
    var gaps: [Double] = []
    /// From the agent's voice over the caller to the caller's voice stopping, ms.
    var bargeIns: [Double] = []
    var transcript: [CallSummary.Line] = []
}

extension CallSummary {
    /// The summary of a live call that ended: its measures, the engine's score and debrief,
    /// or why it is not scored.
    static func live(options: CallOptions, record: CallRecord, measures: CallMeasures, id: String, directory: String,
                     startedAt: Date, duration: Double, outcome: OutcomeKind, endedBy: String,
                     xruns: Int, realtime: Bool, overruns: Overruns?) -> CallSummary {
        // A call the agent never spoke in (or that never opened) measures nothing about the agent.
        let agentSpoke = record.utterances.contains { !$0.text.isEmpty }
        let score = agentSpoke ? Scorer.score(options.scenario, record) : nil
        let gaps = measures.gaps
        var summary = CallSummary(
            id: id, scenario: options.scenario.id, agent: options.agent, seed: options.seed,
            started_at: ISO8601DateFormatter().string(from: startedAt), duration_s: (duration * 100).rounded() / 100,
            outcome: outcome.rawValue, ended_by: endedBy, score: options.retry == nil ? score : nil,
            turn_gap_ms: .init(p50: percentile(gaps, 50).map { $0.rounded() }, p95: percentile(gaps, 95).map { $0.rounded() }, count: gaps.count),
            barge_in_ms: measures.bargeIns, xruns: xruns, realtime: realtime, interrupted: false,
            transcript: measures.transcript.sorted { $0.t < $1.t }, session: directory)
        summary.difficulty = options.scenario.difficulty.rawValue
        summary.overruns = overruns
        summary.title = options.scenario.title
        summary.situation = options.scenario.persona.situation.trimmingCharacters(in: .whitespacesAndNewlines)
        if let score { summary.turning_points = Debrief.turningPoints(options.scenario, record, score: score) }
        if let retry = options.retry {
            // A moment practised again is not a whole call: it is not scored, nor counted in pass rates.
            summary.retry = Debrief.compare(retry, record)
            summary.unscored = "a retry of moment \(retry.moment) of \(retry.session), not a whole call"
        } else if !agentSpoke {
            summary.unscored = endedBy == "device" && duration < options.ringSeconds
                ? "no call: the line failed before the caller could speak" : "no agent speech: the agent never spoke"
        }
        return summary
    }
}
