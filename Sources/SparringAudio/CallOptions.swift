import Foundation
import SparringCore
import SparringSpeech

/// Settings of one live call.
public struct CallOptions: Sendable {
    public var scenario: Scenario
    public var agent: String
    public var seed: UInt64
    public var sessions: String
    public var maxMinutes: Double = CallOptions.defaultMaxMinutes
    /// The shortest silence that ends the agent's turn (after a question, or
    /// for an agent who does not pause); `TurnEndPolicy` holds longer after
    /// unfinished words and as long as this agent's own mid-turn pauses.
    public var hangover = TurnEndPolicy.defaultBase
    /// False: every turn ends after exactly `hangover` of silence.
    public var adaptiveTurnEnd = true
    /// Interpolate the scenario's bias model with the generic one.
    public var bias = true
    /// Synthesize the start of the likely reply while the agent pauses (see `CallerSpeech.prepare`).
    public var prepareReplies = true
    /// Time the line rings before the caller speaks.
    public var ringSeconds = 1.0
    /// Practise a moment of an earlier call again: the caller starts there.
    public var retry: MomentRetry?

    /// The agent's name when none is given, for `sparring run` and sparringd alike.
    public static let defaultAgent = ProcessInfo.processInfo.environment["USER"].flatMap { $0.isEmpty ? nil : $0 } ?? "agent"
    /// A practice call ends after this many minutes, for `sparring run` and sparringd alike.
    public static let defaultMaxMinutes = 30.0
    /// A retried moment is a short call unless a limit is given.
    public static let retryMaxMinutes = 3.0
    /// A seed for a practice call: every call of a scenario should not be the same call.
    public static func freshSeed() -> UInt64 { UInt64.random(in: 1...999_999) }

    public init(scenario: Scenario, agent: String, seed: UInt64, sessions: String) {
        self.scenario = scenario
        self.agent = agent
        self.seed = seed
        self.sessions = sessions
    }
}
