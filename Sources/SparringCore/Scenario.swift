import Foundation

/// A difficult caller with a goal the agent must reach: persona, meters, phases, triggers, rubric.
public struct Scenario: Sendable {
    public var id: String
    public var title: String
    public var file: String
    public var persona: Persona
    public var meters: [MeterSpec]
    /// Anger from which the caller is irritated, and from which furious.
    public var irritatedAt: Double
    public var furiousAt: Double
    /// Listening moves needed before solutions and facts are welcome.
    public var heardAfter: Int
    /// Rules checked after every reaction, in order; the first that holds ends the call.
    public var outcomes: [OutcomeRule]
    public var phases: [Phase]
    public var triggers: Triggers
    /// Scenario-wide effects that replace the move library's defaults.
    public var effects: [String: MeterDeltas]
    /// Caller replies when a move has no phase-specific reaction, by how the reply landed.
    public var reactions: Reactions
    /// The call ends without agreement after this many agent turns.
    public var maxTurns: Int
    public var rubric: Rubric
    /// The move library this scenario was resolved against, its own moves included.
    public var moves: MoveLibrary
    /// The moves this scenario's file defines (take_responsibility, book_repair…), in library order.
    public var ownMoves: [AgentMove] { moves.all.filter { $0.file == file } }
    /// How hard the caller is to win over; `at(_:)` sets it for a call.
    public var difficulty: Difficulty = .fair

    /// The same caller at another difficulty.
    public func at(_ difficulty: Difficulty) -> Scenario {
        var copy = self
        copy.difficulty = difficulty
        return copy
    }

    public func phase(_ id: String) -> Phase? { phases.first { $0.id == id } }

    /// The meters when the call opens: their starting values, shifted by the difficulty, within 0–100.
    public var startingMeters: [String: Double] {
        let shift = difficulty.startShift
        return Dictionary(uniqueKeysWithValues: meters.map { spec in
            let offset = spec.name == "anger" ? shift.anger : spec.name == "trust" ? shift.trust : 0
            return (spec.name, min(100, max(0, spec.start + offset)))
        })
    }

    /// The caller's mood with these meters: furious, irritated or calm by anger.
    public func mood(_ meters: [String: Double]) -> MoodBand {
        let anger = meters["anger"] ?? 0
        return anger >= furiousAt ? .furious : anger >= irritatedAt ? .irritated : .calm
    }

    /// What a move does to the meters in `phase`: the phase's effect, else the scenario's, else the library's.
    public func effect(of move: String, in phase: Phase) -> MeterDeltas {
        phase.effects[move] ?? effects[move] ?? moves[move]?.effect ?? [:]
    }
    public var meterNames: [String] { meters.map(\.name) }

    /// Every set of lines the caller can say, with where it is written (`phase:ID`,
    /// `reaction:MOVE`, `trigger:KIND`, `outcome:KIND`…, as a line's `cause` names it).
    public var allLines: [(place: String, lines: MoodLines)] {
        var all: [(place: String, lines: MoodLines)] = []
        for phase in phases {
            all.append(("phase:\(phase.id)", phase.lines))
            for (move, lines) in phase.reactions.sorted(by: { $0.key < $1.key }) { all.append(("phase:\(phase.id) reaction:\(move)", lines)) }
            all.append(("phase:\(phase.id) idle", phase.idle))
            for transition in phase.transitions { all.append(("phase:\(phase.id) transition line \(transition.line)", transition.lines)) }
        }
        all += [("reaction:positive", reactions.positive), ("reaction:negative", reactions.negative),
                ("reaction:neutral", reactions.neutral), ("reaction:early", reactions.early), ("reaction:goodbye", reactions.goodbye)]
        let timed: [(TriggerKind, Trigger?)] = [(.deadAir, triggers.deadAir), (.monologue, triggers.monologue),
                                                (.interrupted, triggers.interrupted), (.repeated, triggers.repeated),
                                                (.unclear, triggers.unclear)]
        for (kind, trigger) in timed { if let trigger { all.append(("trigger:\(kind.rawValue)", trigger.lines)) } }
        for rule in outcomes { all.append(("outcome:\(rule.kind.rawValue)", rule.lines)) }
        return all
    }

    /// Phases with fewer than `minimum` lines the caller can say in a mood (a list for any mood
    /// counts for each): ten calls of such a phase sound alike.
    public func thinPhases(minimum: Int = 3) -> [(phase: String, mood: MoodBand, lines: Int)] {
        phases.flatMap { phase in
            MoodBand.allCases.compactMap { band in
                let count = phase.lines.lines(for: band).count
                return count < minimum ? (phase.id, band, count) : nil
            }
        }
    }

    /// Every line the caller can say, where it is written and the mood it is written for.
    public var everyLine: [(place: String, mood: MoodBand, text: String)] {
        allLines.flatMap { place, lines in
            MoodBand.allCases.flatMap { band in (lines.byMood[band] ?? []).map { (place, band, $0) } }
        }
    }
}

/// How the caller takes what the agent does, after the debt collectors' advice to balance
/// strict, fair and empathic: a strict caller starts angrier and less trusting, feels every
/// slight more and every kindness less; an empathic one the other way round. Fair is the
/// scenario as written.
public enum Difficulty: String, Sendable, Codable, CaseIterable {
    case empathic, fair, strict

    /// Added to the meters' starting values.
    public var startShift: (anger: Double, trust: Double) {
        switch self {
        case .empathic: (-8, 6)
        case .fair: (0, 0)
        case .strict: (8, -6)
        }
    }

    /// Scale of what calms the caller or wins trust, and of what angers or costs trust.
    public var gainScale: Double { switch self { case .empathic: 1.2; case .fair: 1; case .strict: 0.8 } }
    public var lossScale: Double { switch self { case .empathic: 0.8; case .fair: 1; case .strict: 1.25 } }

    /// A meter change as this caller takes it: `anger` rising and `trust` falling are losses.
    public func scaled(_ meter: String, _ delta: Double) -> Double {
        let loss = meter == "anger" ? delta > 0 : delta < 0
        return delta * (loss ? lossScale : gainScale)
    }
}

public struct Persona: Sendable {
    public var name: String
    /// What the agent would see on screen before the call.
    public var situation: String
    public var voice: VoiceProfile
    public var bargeIn: BargeInStyle
}

/// What the caller does when the agent talks over them.
public enum BargeInStyle: String, Sendable, Codable {
    /// Stops talking and lets the agent speak.
    case yields
    /// Keeps talking, and gets angrier for being interrupted.
    case pushes
}

public struct MeterSpec: Sendable {
    public var name: String
    public var start: Double
    /// Points per minute the meter moves by itself (waiting makes a caller angrier).
    public var driftPerMinute: Double
}

/// Caller lines by mood; a mood without lines borrows from the nearest mood that has some.
public struct MoodLines: Sendable, Equatable {
    public var byMood: [MoodBand: [String]]
    /// What a line depends on, by its text; a line without a note can always be said, once.
    public var notes: [String: LineNote] = [:]
    /// Where each line is written in its file, by its text (absent for built-in lines).
    public var lineNumbers: [String: Int] = [:]

    public init(_ byMood: [MoodBand: [String]] = [:], notes: [String: LineNote] = [:]) {
        self.byMood = byMood
        self.notes = notes
    }
    public init(all: [String]) { byMood = [.calm: all] }

    public var isEmpty: Bool { byMood.values.allSatisfy(\.isEmpty) }

    /// Every line once, calm ones first, then irritated, then furious.
    public var texts: [String] {
        var seen: Set<String> = []
        return MoodBand.allCases.flatMap { byMood[$0] ?? [] }.filter { seen.insert($0).inserted }
    }

    public func lines(for band: MoodBand) -> [String] {
        if let exact = byMood[band], !exact.isEmpty { return exact }
        let order: [MoodBand] = switch band {
        case .calm: [.irritated, .furious]
        case .irritated: [.calm, .furious]
        case .furious: [.irritated, .calm]
        }
        for other in order { if let lines = byMood[other], !lines.isEmpty { return lines } }
        return []
    }
}

/// When a caller line fits the call so far, and what it asks for: written in a scenario as
/// `{say: TEXT, when: made(MOVE), unless: known(amount), refrain: true, asks: [MOVE…]}`.
public struct LineNote: Sendable, Equatable {
    /// All must hold for the line to be said.
    public var when: [LineCondition] = []
    /// None may hold.
    public var unless: [LineCondition] = []
    /// A refrain may be said more than once in a call; any other line is said once at most.
    public var refrain = false
    /// Moves the line asks the agent for ("Just tell me when someone is coming!" asks for a booking):
    /// made in the agent's answer they are what the caller wanted, never premature.
    public var asks: [String] = []
    /// Where it is written, for problems found once the whole scenario is read.
    public var line = 0
    public var field = ""
}

/// What a caller line may depend on: what the agent has done and said so far in the call.
public enum LineCondition: Sendable, Equatable, CustomStringConvertible {
    /// The agent made this move (`made(ask_affordability)`).
    case made(String)
    /// The agent said a value of this kind (`known(amount)`), which `{amount}` echoes.
    case known(MemorySlot)

    public static func parse(_ text: String) -> LineCondition? {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        guard trimmed.hasSuffix(")"), let open = trimmed.firstIndex(of: "(") else { return nil }
        let name = trimmed[..<open].trimmingCharacters(in: .whitespaces)
        let argument = trimmed[trimmed.index(after: open)..<trimmed.index(before: trimmed.endIndex)].trimmingCharacters(in: .whitespaces)
        guard !argument.isEmpty else { return nil }
        switch name {
        case "made", "asked": return .made(argument)
        case "known": return MemorySlot(rawValue: argument).map { .known($0) }
        default: return nil
        }
    }

    public var description: String {
        switch self {
        case let .made(move): "made(\(move))"
        case let .known(slot): "known(\(slot.rawValue))"
        }
    }
}

/// Kinds of detail the caller remembers from the agent's words and may echo as `{slot}`.
public enum MemorySlot: String, Sendable, CaseIterable, Codable {
    /// A payment: money ("150 pounds") or a sum per month or week ("a hundred and fifty" a month).
    case amount
    /// A day: "Friday", "tomorrow", "the first".
    case day
    /// A time of day: "ten o'clock", "the morning".
    case time
    /// The agent's name, from "my name is Sam".
    case name
}

public enum OutcomeKind: String, Sendable, Codable, CaseIterable {
    /// The caller accepts what was agreed: the goal.
    case agree
    /// The caller hangs up.
    case hangUp = "hang_up"
    /// The caller demands a manager.
    case escalate
    /// The scenario ran out of turns without agreement.
    case unresolved
    /// The agent ended the call (hung up, Ctrl-C, time limit).
    case agentEnded = "agent_ended"
}

public struct OutcomeRule: Sendable {
    public var kind: OutcomeKind
    public var condition: Condition
    /// Phases in which the rule applies; empty means all.
    public var phases: [String]
    /// The caller's last words.
    public var lines: MoodLines
}

public struct Phase: Sendable {
    public var id: String
    /// What the caller says on entering the phase.
    public var lines: MoodLines
    /// Moves the phase expects from a good agent (for authors and the live view).
    public var expects: [String]
    /// Effects that replace the scenario's and library's for moves made in this phase.
    public var effects: [String: MeterDeltas]
    /// Caller replies to particular moves in this phase.
    public var reactions: [String: MoodLines]
    /// Caller reply when nothing recognizable was said in this phase.
    public var idle: MoodLines
    public var transitions: [Transition]
    public var line: Int
    /// What the caller needs from the agent here, and lines a skilled agent could say: the debrief's advice.
    public var waitingFor: WaitingFor?

    /// The moves that carry the call on from this phase: any of its transitions'.
    public var onwardMoves: Set<String> { Set(transitions.flatMap(\.onMoves)) }
}

/// A phase's `waiting_for`: what the caller needs here, in a sentence, and what a skilled agent
/// could say in this scenario's words, by the move each line makes (the debrief offers these
/// before the library's general lines).
public struct WaitingFor: Sendable, Equatable {
    public var need: String
    public var say: [Alternative]
    public var line: Int
    public init(need: String, say: [Alternative], line: Int = 0) {
        self.need = need
        self.say = say
        self.line = line
    }
}

public struct Transition: Sendable {
    public enum Target: Sendable, Equatable {
        case phase(String)
        case outcome(OutcomeKind)
    }
    /// Any of these moves fires it; empty fires on any utterance.
    public var onMoves: [String]
    public var condition: Condition?
    public var target: Target
    /// The caller's reply when it fires (else the next phase's lines, or the outcome's).
    public var lines: MoodLines
    public var line: Int
}

public struct Trigger: Sendable {
    public var after: Double
    public var lines: MoodLines
    public var effect: MeterDeltas
}

public struct Triggers: Sendable {
    /// Agent silent while the caller waits for an answer.
    public var deadAir: Trigger?
    /// After this many dead-air prompts in a row the caller hangs up.
    public var deadAirHangUpAfter: Int
    /// Agent talking without a pause; the caller cuts in.
    public var monologue: Trigger?
    /// Agent talking over the caller.
    public var interrupted: Trigger?
    /// The same move this many utterances in a row (`after` counts utterances).
    public var repeated: Trigger?
    /// The caller did not make out what the agent said (the recognizer was unsure, or heard a word or two): asks once.
    public var unclear: Trigger

    /// What a caller says on a bad line when the scenario does not say.
    public static let defaultUnclear = Trigger(after: 0, lines: MoodLines([
        .calm: ["Sorry, what was that?", "You're breaking up a bit. Say that again?", "Sorry, I didn't catch that."],
        .irritated: ["What? I didn't get that.", "You're breaking up. What did you say?", "Say that again?"],
        .furious: ["What? Speak up!", "I can't hear you. What?", "What did you just say?"],
    ]), effect: [:])

    public init(deadAir: Trigger?, deadAirHangUpAfter: Int, monologue: Trigger?, interrupted: Trigger?, repeated: Trigger?,
                unclear: Trigger = Triggers.defaultUnclear) {
        self.deadAir = deadAir
        self.deadAirHangUpAfter = deadAirHangUpAfter
        self.monologue = monologue
        self.interrupted = interrupted
        self.repeated = repeated
        self.unclear = unclear
    }
}

public struct Reactions: Sendable {
    public var positive: MoodLines
    public var negative: MoodLines
    public var neutral: MoodLines
    /// A move the caller is not ready for yet (agreement asked before anything is on the table).
    public var early: MoodLines = Reactions.defaultEarly
    /// The caller's goodbye when the agent closes a call that reached no outcome.
    public var goodbye: MoodLines = Reactions.defaultGoodbye

    public init(positive: MoodLines, negative: MoodLines, neutral: MoodLines,
                early: MoodLines = Reactions.defaultEarly, goodbye: MoodLines = Reactions.defaultGoodbye) {
        self.positive = positive
        self.negative = negative
        self.neutral = neutral
        self.early = early
        self.goodbye = goodbye
    }

    public static let defaultEarly = MoodLines([
        .calm: ["Wait, what exactly are you suggesting?", "Hold on. We're not there yet.", "Slow down a bit. What are you actually offering?"],
        .irritated: ["Wait. What exactly are you offering?", "Hang on, not so fast.", "Hold on, you're skipping ahead."],
        .furious: ["Whoa, wait. Offering what, exactly?", "Not so fast!", "Hang on, what are you even talking about?"],
    ])

    public static let defaultGoodbye = MoodLines([
        .calm: ["Okay. Bye then.", "Right. Goodbye."],
        .irritated: ["Fine. Goodbye.", "Right. Bye."],
        .furious: ["Yeah, whatever. Bye.", "Don't bother. Goodbye."],
    ])
}

/// Weighted criteria with a pass mark; each states what evidence counts.
public struct Rubric: Sendable {
    public var passMark: Double
    public var criteria: [Criterion]
}

public struct Criterion: Sendable {
    public var id: String
    public var title: String
    public var weight: Double
    public var evidence: Evidence
    public var line: Int
}

/// What a criterion looks for in the call record.
public enum Evidence: Sendable {
    /// The move was made, at least `count` times, within the first `withinSeconds` if given.
    case move(String, count: Int, withinSeconds: Double?)
    /// Any one of these moves was made.
    case anyMove([String])
    /// `first` was made, and before any `before` move.
    case order(first: String, before: [String])
    /// None of these moves was made.
    case absent([String])
    /// The call ended in one of these outcomes.
    case outcome([OutcomeKind])
    /// The meters at the end satisfy this.
    case finalMeters(Condition)
    /// None of these timing triggers fired.
    case noTriggers([TriggerKind])
}

public enum TriggerKind: String, Sendable, Codable, CaseIterable {
    case deadAir = "dead_air"
    case monologue
    case interrupted
    case repeated
    case unclear
}
