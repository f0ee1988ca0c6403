import Foundation
import SparringCore
import SparringSessions

/// The debrief as text: a few lines at the end of a call, the whole of it in `show --debrief`.
enum DebriefView {
    static let question = "Did you respond consciously?"

    /// The turning points in a few lines each, with how to practise one again (`command` is `run` or `call`).
    static func brief(_ summary: CallSummary, command: String) -> String {
        var out = ""
        if let retry = summary.retry { out += "Retry of \(retry.session) moment \(retry.moment) (\(retry.headline)): \(retry.verdict)\n" }
        let points = summary.turning_points ?? []
        out += brief(points)
        if let worst = points.first(where: { $0.kind != .best }) {
            out += "Practise a moment again: sparring \(command) \(summary.scenario) --from \(summary.id):\(worst.number)"
                + " (all of it: sparring show \(summary.id) --debrief)\n"
        }
        return out
    }

    static func brief(_ points: [TurningPoint]) -> String {
        guard !points.isEmpty else { return "" }
        var out = "\nTurning points. \(question)\n"
        for point in points {
            out += "  \(point.number). \(Clock.format(point.t))  \(point.headline) (\(point.meterChange))\n"
            if let alternative = point.alternative { out += "     Instead: \"\(alternative)\"\n" }
        }
        return out
    }

    /// Every turning point with what was said, the mood before and after, the criterion it
    /// touched, what the caller waited for and a conscious alternative.
    static func full(_ summary: CallSummary) -> String {
        var out = "Debrief of \(summary.id): \(summary.title ?? summary.scenario). \(question)\n"
        if let retry = summary.retry {
            out += "\nThis call practised moment \(retry.moment) of \(retry.session) again: \(retry.headline)\n"
            if let said = retry.said { out += "  The first time you said: \"\(said)\"\n" }
            if let now = retry.saidNow { out += "  This time you said:      \"\(now)\"\n" }
            out += "  \(retry.verdict)\n"
        }
        guard let points = summary.turning_points else {
            return out + "\nNo turning points: " + summary.noDebriefReason + ".\n"
        }
        if points.isEmpty { return out + "\nNo turning points: nothing in the call moved the caller much either way.\n" }
        for point in points {
            out += "\n\(point.number). \(point.headline)\n"
            out += "   At \(Clock.format(point.t, tenths: true)), phase \(point.phase)\n"
            if let line = point.callerLine { out += "   The caller had said: \"\(line)\"\n" }
            if let said = point.said { out += "   You said: \"\(said)\"\n" }
            out += "   The caller: \(point.moodBefore.rawValue) → \(point.moodAfter.rawValue) (\(point.meterChange))\n"
            if let criterion = point.criterionText { out += "   Criterion: \(criterion)\n" }
            if let need = point.need, point.kind != .best { out += "   The caller was waiting for: \(need)\n" }
            if let alternative = point.alternative {
                let move = point.alternativeMove.map { " (\($0.replacingOccurrences(of: "_", with: " ")))" } ?? ""
                out += "   A conscious alternative\(move): \"\(alternative)\"\n"
            }
            out += "   Hear it: sparring replay \(summary.id) --moment \(point.number)\n"
            out += "   Practise it: sparring run \(summary.scenario) --from \(summary.id):\(point.number)\n"
        }
        return out
    }
}
