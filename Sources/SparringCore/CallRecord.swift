/// What happened in a call, as the engine saw it: the material for scores and debriefs.
public struct CallRecord: Sendable, Codable, Equatable {
    public var utterances: [UtteranceRecord] = []
    public var callerLines: [CallerLineRecord] = []
    public var triggers: [TriggerRecord] = []
    public var moods: [MoodPoint] = []
    public var phases: [PhaseRecord] = []
    public var outcome: OutcomeKind?
    public var endedAt: CallTime?

    public init() {}

    /// Every utterance that carried `move`, in call order.
    public func occurrences(of move: String) -> [UtteranceRecord] {
        utterances.filter { $0.moves.contains { $0.move == move } }
    }
}

public struct UtteranceRecord: Sendable, Codable, Equatable {
    public var start: CallTime
    public var end: CallTime
    public var text: String
    public var confidence: Double
    public var moves: [MoveHit]
    public var phase: String
    /// Meters after the caller took this in.
    public var meters: [String: Double]
    /// Meters just before.
    public var before: [String: Double]
    /// How often the caller had felt heard once it took this in (see `Scenario.heardAfter`).
    public var heard: Int
}

public struct CallerLineRecord: Sendable, Codable, Equatable {
    public var t: CallTime
    public var text: String
    public var cause: String
    public var mood: MoodBand
    /// Dropped before it was spoken (the agent took the floor first); the caller may still say it later.
    public var unsaid: Bool?
}

public struct TriggerRecord: Sendable, Codable, Equatable {
    public var t: CallTime
    public var kind: TriggerKind
    /// For `repeated`, the move repeated.
    public var line: String?
    /// Meters just before and after it (for `repeated` and `unclear`, those of the utterance it came with).
    public var before: [String: Double]
    public var after: [String: Double]
}

public struct MoodPoint: Sendable, Codable, Equatable {
    public var t: CallTime
    public var meters: [String: Double]
    public var band: MoodBand
}

public struct PhaseRecord: Sendable, Codable, Equatable {
    public var t: CallTime
    public var phase: String
}
