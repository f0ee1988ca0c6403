import Foundation
import SparringCore

/// Numbers read back from a session folder, checked before anything uses them.
///
/// A session folder may have been copied from another machine, edited, or
/// crafted. A number out of its range would trap a conversion or stall a loop
/// far from where it was read; here it becomes one problem naming the file and
/// the field, and the session is listed as damaged instead.
public enum SessionChecks {
    /// No call lasts a day; every time in a session is within one.
    static let longestCall = 86_400.0
    /// Milliseconds a gap or reaction may take and still be a measurement.
    static let longestMilliseconds = 3_600_000.0

    static func check(_ value: Double, _ field: String, in range: ClosedRange<Double>, file: String) throws(SparringError) {
        guard value.isFinite, range.contains(value) else {
            throw SparringError("bad_session", "\(file): \(field): \(value) is out of range (\(plainNumber(range.lowerBound))–\(plainNumber(range.upperBound)))")
        }
    }

    static func check(_ value: Int, _ field: String, in range: ClosedRange<Int>, file: String) throws(SparringError) {
        guard range.contains(value) else {
            throw SparringError("bad_session", "\(file): \(field): \(value) is out of range (\(range.lowerBound)–\(range.upperBound))")
        }
    }

    /// Every number of a summary in its range.
    static func validate(_ summary: CallSummary, file: String) throws(SparringError) {
        let day = 0...longestCall
        try check(summary.duration_s, "duration_s", in: day, file: file)
        try check(summary.xruns, "xruns", in: 0...1_000_000_000, file: file)
        if let overruns = summary.overruns {
            try check(overruns.capture, "overruns.capture", in: 0...Int(Int32.max), file: file)
            try check(overruns.recording, "overruns.recording", in: 0...Int(Int32.max), file: file)
        }
        try check(summary.turn_gap_ms.count, "turn_gap_ms.count", in: 0...1_000_000_000, file: file)
        if let p50 = summary.turn_gap_ms.p50 { try check(p50, "turn_gap_ms.p50", in: 0...longestMilliseconds, file: file) }
        if let p95 = summary.turn_gap_ms.p95 { try check(p95, "turn_gap_ms.p95", in: 0...longestMilliseconds, file: file) }
        for (index, value) in summary.barge_in_ms.enumerated() {
            try check(value, "barge_in_ms[\(index)]", in: 0...longestMilliseconds, file: file)
        }
        for (index, line) in summary.transcript.enumerated() { try check(line.t, "transcript[\(index)].t", in: day, file: file) }
        if let score = summary.score {
            try check(score.total, "score.total", in: 0...100, file: file)
            try check(score.passMark, "score.passMark", in: 0...100, file: file)
            for (id, criterion) in score.criteria {
                try check(criterion.weight, "score.criteria.\(id).weight", in: 0...1_000_000, file: file)
                for (index, item) in criterion.evidence.enumerated() {
                    try check(item.t.seconds, "score.criteria.\(id).evidence[\(index)].t", in: day, file: file)
                }
            }
        }
        for (index, point) in (summary.turning_points ?? []).enumerated() {
            let field = "turning_points[\(index)]"
            try check(point.t, "\(field).t", in: day, file: file)
            try check(point.end, "\(field).end", in: day, file: file)
            try check(point.weight, "\(field).weight", in: 0...10_000, file: file)
            try check(point.number, "\(field).number", in: 1...1_000, file: file)
            try check(point.heard, "\(field).heard", in: 0...1_000, file: file)
            for (name, value) in point.before { try check(value, "\(field).before.\(name)", in: 0...100, file: file) }
            for (name, value) in point.after { try check(value, "\(field).after.\(name)", in: 0...100, file: file) }
        }
        if let retry = summary.retry {
            try check(retry.moment, "retry.moment", in: 1...1_000, file: file)
            for (name, value) in retry.before.merging(retry.after, uniquingKeysWith: max).merging(retry.afterNow, uniquingKeysWith: max) {
                try check(value, "retry.\(name)", in: 0...100, file: file)
            }
        }
    }

    /// Reads and checks `summary.json`.
    public static func summary(_ data: Data, file: String) throws(SparringError) -> CallSummary {
        let summary: CallSummary
        do { summary = try JSONDecoder().decode(CallSummary.self, from: data) } catch {
            throw SparringError("bad_session", "\(file): not a summary (\(error))")
        }
        try validate(summary, file: file)
        return summary
    }
}

extension SessionEvent {
    /// Whether every time and number in the event is one a call could have made; an event that is not is skipped.
    public var isPlausible: Bool {
        func ok(_ value: Double?, _ range: ClosedRange<Double>) -> Bool { value.map { $0.isFinite && range.contains($0) } ?? true }
        func plausible(_ meters: [String: Double]?) -> Bool { meters?.values.allSatisfy { $0.isFinite && abs($0) <= 1e6 } ?? true }
        let day = 0...SessionChecks.longestCall, span = 0...SessionChecks.longestMilliseconds
        guard ok(t, day) else { return false }
        switch kind {
        case let .callStart(start): return (start.rate.map { (1...384_000).contains($0) } ?? true) && plausible(start.meters)
        case let .agentSpeechEnd(hold), let .tookTurnEarly(hold): return ok(hold, span)
        case let .bargeInStop(latency): return ok(latency, span)
        case let .callerLineStart(_, latency, _): return ok(latency, span)
        case let .utterance(utterance):
            return ok(utterance.latencyMs, span) && ok(utterance.confidence, -1e6...1e6)
                && utterance.moves.allSatisfy { ok($0.confidence, 0...1) }
                && utterance.words.allSatisfy { ok($0.start, day) && ok($0.end, day) && ok($0.confidence, -1e6...1e6) }
        case let .xrun(count), let .overrun(count, _): return count >= 0
        case let .callEnd(_, _, xruns): return xruns >= 0
        case let .mood(meters, _): return plausible(meters)
        default: return true
        }
    }
}
