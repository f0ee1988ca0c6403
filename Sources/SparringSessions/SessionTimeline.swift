import SparringCore

/// One moment of a call as a supervisor reads it: a line said, a mood change, a trigger, a note.
///
/// `show`, `replay` and the HTML report all walk the same timeline, so an
/// event type is read off `events.jsonl` in one place only.
public struct TimelineEntry: Sendable, Equatable {
    public enum Kind: String, Sendable {
        case agent, caller, mood, phase, trigger, bargeIn, bargeInStop, outcome, xrun, lineError, note

        /// Between label and detail where the detail is a phrase of its own: `barge-in: the caller yielded`.
        public var joiner: String { self == .bargeIn || self == .lineError ? ": " : " " }

        /// The word a line of text starts with for this kind.
        public var label: String {
            switch self {
            case .bargeIn: "barge-in"
            case .bargeInStop: "caller stopped"
            case .lineError: "line error"
            default: rawValue
            }
        }
    }

    public var t: Double
    public var kind: Kind
    /// What was said or written; for the other kinds, what happened ("calm (anger 40, trust 45)", "dead_air").
    public var detail: String
    public var moves: [MoveHit] = []
    public var confidence: Double?
    /// For notes, who wrote it.
    public var by: String?
}

extension StoredSession {
    /// Every moment worth reading, in call order; at the same moment events come first, then notes.
    public var timeline: [TimelineEntry] {
        var entries: [TimelineEntry] = []
        for event in events {
            func entry(_ kind: TimelineEntry.Kind, _ detail: String?) {
                if let detail { entries.append(TimelineEntry(t: event.t, kind: kind, detail: detail)) }
            }
            switch event.kind {
            case let .utterance(utterance):
                entries.append(TimelineEntry(t: event.t, kind: .agent, detail: utterance.text, moves: utterance.moves,
                                             confidence: utterance.confidence))
            case let .callerLineStart(text, _, _): entry(.caller, text)
            case let .mood(meters, mood): entry(.mood, mood + meterList(meters))
            case let .phase(phase): entry(.phase, phase)
            case let .trigger(trigger): entry(.trigger, trigger)
            case let .bargeIn(yielded): entry(.bargeIn, yielded ? "the caller yielded" : "the caller pushed on")
            case .tookTurnEarly: entry(.bargeIn, "the caller answered into the agent's pause and gave the floor back")
            case let .bargeInStop(latency): entry(.bargeInStop, "\(Int(latency)) ms after the agent began")
            case let .outcome(outcome): entry(.outcome, outcome)
            case let .xrun(count): entry(.xrun, "\(count)")
            case let .lineError(reason): entry(.lineError, reason)
            default: break
            }
        }
        for note in annotations {
            entries.append(TimelineEntry(t: note.t, kind: .note, detail: note.text, by: note.by))
        }
        // Stable: events keep their logged order, notes follow the events of their moment.
        return entries.enumerated().sorted { ($0.element.t, $0.offset) < ($1.element.t, $1.offset) }.map(\.element)
    }
}

/// ` (anger 40, trust 45)`, meters in name order; empty without meters.
public func meterList(_ meters: [String: Double]?) -> String {
    guard let meters, !meters.isEmpty else { return "" }
    return " (" + meters.keys.sorted().map { "\($0) \(plainNumber(meters[$0]!))" }.joined(separator: ", ") + ")"
}
