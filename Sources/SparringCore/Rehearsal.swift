import Foundation
/// One step of an agent's script: a line to say, or a stretch of silence.
public enum ScriptStep: Sendable, Equatable {
    /// `interrupting` starts the line while the caller is still talking.
    case say(String, interrupting: Bool)
    case silence(Double)

    /// Parses a script: one agent line per line, `[silence 8]` for 8 s of silence,
    /// `[interrupt] words` to talk over the caller, `#` comments and blank lines skipped.
    public static func parse(_ text: String, file: String = "script") throws(Problems) -> [ScriptStep] {
        var steps: [ScriptStep] = []
        var problems: [Problem] = []
        for (index, raw) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = withoutComment(raw)
            if line.isEmpty { continue }
            if line.hasPrefix("[silence") {
                let inner = line.dropFirst("[silence".count).trimmingCharacters(in: .whitespaces)
                guard inner.hasSuffix("]"), let seconds = Double(inner.dropLast().trimmingCharacters(in: .whitespaces)),
                      seconds > 0, seconds <= 600 else {
                    problems.append(Problem(file: file, line: index + 1, field: "silence", message: "write [silence N] with N seconds from 0 to 600"))
                    continue
                }
                steps.append(.silence(seconds))
            } else if line.hasPrefix("[interrupt]") {
                let words = line.dropFirst("[interrupt]".count).trimmingCharacters(in: .whitespaces)
                if words.isEmpty {
                    problems.append(Problem(file: file, line: index + 1, field: "interrupt", message: "[interrupt] needs the words said"))
                    continue
                }
                steps.append(.say(words, interrupting: true))
            } else if line.hasPrefix("[") {
                problems.append(Problem(file: file, line: index + 1, field: "", message: "unknown directive (use [silence N] or [interrupt])"))
            } else {
                steps.append(.say(line, interrupting: false))
            }
        }
        if !problems.isEmpty { throw Problems(problems) }
        return steps
    }

    /// A script line without its comment: `#` at the start, or after a space, to the end of the line.
    static func withoutComment(_ raw: Substring) -> String {
        let line = raw.trimmingCharacters(in: .whitespaces)
        if line.hasPrefix("#") { return "" }
        guard let mark = line.range(of: " #") else { return line }
        return line[..<mark.lowerBound].trimmingCharacters(in: .whitespaces)
    }

    /// The moves an author meant each spoken line to make, from a trailing `# moves: a, b`
    /// comment; one entry per `.say` step of `parse`, nil where a line has none.
    public static func intendedMoves(_ text: String) -> [[String]?] {
        text.split(separator: "\n", omittingEmptySubsequences: false).compactMap { raw -> [String]?? in
            let line = withoutComment(raw)
            guard !line.isEmpty, !line.hasPrefix("[silence") else { return nil }
            guard let mark = raw.range(of: "# moves:"), !raw.trimmingCharacters(in: .whitespaces).hasPrefix("#") else { return .some(nil) }
            return .some(raw[mark.upperBound...].split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty })
        }
    }
}

/// One exchange of a rehearsal, as `sparring rehearse --json` prints it.
public struct RehearsalTurn: Sendable, Codable, Equatable {
    /// The agent's words; nil for the caller's opening and for silences.
    public var agent: String?
    public var silence_s: Double?
    public var moves: [String]
    public var caller: [String]
    public var mood: [String: Int]
    public var triggers: [String]
    public var phase: String

    enum CodingKeys: String, CodingKey { case agent, silence_s, moves, caller, mood, triggers, phase }

    /// `agent` is always present (null for the opening and silences), as readers of the JSON expect.
    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(agent, forKey: .agent)
        try c.encodeIfPresent(silence_s, forKey: .silence_s)
        try c.encode(moves, forKey: .moves)
        try c.encode(caller, forKey: .caller)
        try c.encode(mood, forKey: .mood)
        try c.encode(triggers, forKey: .triggers)
        try c.encode(phase, forKey: .phase)
    }
}

public struct RehearsalResult: Sendable, Codable {
    public var scenario: String
    public var seed: UInt64
    public var turns: [RehearsalTurn]
    public var outcome: String
    public var score: Score
    public var duration_s: Double
    /// The debrief's moments (see `Debrief`); empty when the agent never spoke.
    public var turning_points: [TurningPoint]
}

/// Runs the engine on a simulated call clock for text rehearsals and tests.
///
/// Lines take the time a person needs to say them (the caller at its voice's
/// rate, the agent at 150 words per minute); the agent starts 0.6 s after the
/// caller stops. The call's floor (`CallFloor`, the same machine a live call
/// runs) hears the agent's line as 10 ms periods of voice and the silence
/// after it, and decides when the agent takes the floor or barges in and when
/// the turn is over, with the hold a live call would wait. Every timing
/// trigger fires on this clock exactly as it would on the audio clock of a
/// live call.
public struct RehearsalDriver: Sendable {
    public private(set) var engine: CallerEngine
    public private(set) var now = CallTime.zero
    public private(set) var turns: [RehearsalTurn] = []
    public let seed: UInt64
    /// What the engine hears of each agent line, with word confidences (simulated recognition
    /// errors, `RecognitionNoise.hear`); nil: the typed text itself.
    public var hearing: (@Sendable (String) -> HeardHypothesis)?

    public static let agentSecondsPerWord = 0.4
    public static let responseGap = 0.6
    /// Periods per second the floor is told of: one sample each.
    static let periodsPerSecond = 100

    private var callerEnds: [CallTime] = []
    private var pending: RehearsalTurn
    /// Text has no room noise and no detector: a line is voice from its first period to its last.
    private(set) var floor = CallFloor(rate: RehearsalDriver.periodsPerSecond, usesDetector: false)

    public init(scenario: Scenario, seed: UInt64) {
        engine = CallerEngine(scenario: scenario, seed: seed)
        self.seed = seed
        pending = RehearsalTurn(agent: nil, silence_s: nil, moves: [], caller: [], mood: [:], triggers: [], phase: scenario.phases[0].id)
    }

    public var isOver: Bool { engine.isOver }

    /// Opens the call; returns the caller's opening turn.
    public mutating func open() -> RehearsalTurn {
        perform(engine.handle(.callOpened, at: now))
        return closeTurn()
    }

    public mutating func step(_ step: ScriptStep) -> RehearsalTurn {
        switch step {
        case let .silence(seconds):
            // Silence counts from when the caller stops talking.
            pending.silence_s = seconds
            advance(to: (callerEnds.last ?? now) + seconds)
        case let .say(text, interrupting):
            pending.agent = text
            if interrupting, let speaking = callerEnds.first {
                // Talk over the caller's current line one second before its end.
                advance(to: CallTime(seconds: max(now.seconds, speaking.seconds - 1.0)))
            } else {
                advance(to: (callerEnds.last ?? now) + Self.responseGap)
            }
            return speak(text)
        }
        return closeTurn()
    }

    private mutating func speak(_ text: String) -> RehearsalTurn {
        let heard = hearing.map { $0(text) }
        let start = now
        let words = max(1, Words.normalize(text).count)
        let voiceEnd = Int(((start.seconds + Double(words) * Self.agentSecondsPerWord) * Double(Self.periodsPerSecond)).rounded())
        // Silence up to now, then the voice, then silence until the floor ends the turn.
        while Double(floor.clock + 1) / Double(Self.periodsPerSecond) <= start.seconds + 1e-9 { listen(voiced: false) }
        while floor.clock < voiceEnd { listen(voiced: true) }
        var turn: CallFloor.TurnEnd?
        while turn == nil {
            listen(voiced: false)
            while let due = floor.due {
                switch due {
                case .pause: _ = floor.paused(after: heard.map { $0.words.joined(separator: " ") } ?? Words.normalize(text).joined(separator: " "))
                case .end: turn = floor.endTurn()
                }
            }
        }
        perform(engine.handle(.agentSpeechStopped, at: now))
        let utterance = heard.map {
            AgentUtterance(text: $0.words.joined(separator: " "), start: turn!.start, end: turn!.voiceEnd, hypotheses: [$0])
        } ?? AgentUtterance(text: text, start: turn!.start, end: turn!.voiceEnd)
        perform(engine.handle(.agentUtterance(utterance), at: now))
        return closeTurn()
    }

    /// One period on the floor, after the caller's line ends and timers due by then; what the floor
    /// decides about the agent's voice goes to the engine as a live call sends it.
    private mutating func listen(voiced: Bool) {
        // The floor hears of the caller from `perform`, after every engine action.
        advance(to: CallTime(frames: floor.clock + 1, rate: Self.periodsPerSecond))
        for action in floor.heard(samples: 1, voiced: voiced, periodic: voiced) {
            switch action {
            case .agentTakesFloor, .bargeIn: perform(engine.handle(.agentSpeechStarted, at: now))
            case .callerYields: perform(engine.handle(.agentResumed, at: now))
            case .speechStarted, .noise, .paused: break
            }
        }
    }

    /// Says a line too early, as an agent does who takes a pause for the end of the caller's turn:
    /// 0.4 s after the caller's first sentence when more follow, else right as the caller stops.
    public mutating func stepEarly(_ step: ScriptStep) -> RehearsalTurn {
        guard case let .say(text, _) = step, callerEnds.count > 1 else { return self.step(step) }
        pending.agent = text
        advance(to: CallTime(seconds: max(now.seconds, callerEnds[0].seconds + Self.earlyGap)))
        return speak(text)
    }

    /// The pause after one of the caller's sentences that an early agent takes for the end of the turn.
    public static let earlyGap = 0.4

    /// Ends the call from the agent's side if the caller has not ended it.
    /// Lets the caller finish, then ends the call from the agent's side if the caller has not.
    public mutating func hangUp() {
        advance(to: callerEnds.last ?? now)
        if !engine.isOver { perform(engine.handle(.agentHungUp, at: now)) }
    }

    public mutating func run(_ steps: [ScriptStep]) -> RehearsalResult {
        turns.append(open())
        for step in steps where !engine.isOver { turns.append(self.step(step)) }
        hangUp()
        return result()
    }

    public func result() -> RehearsalResult {
        RehearsalResult(scenario: engine.scenario.id, seed: seed, turns: turns,
                        outcome: engine.outcome?.rawValue ?? "none",
                        score: Scorer.score(engine.scenario, engine.record),
                        duration_s: (now.seconds * 10).rounded() / 10,
                        turning_points: engine.record.utterances.isEmpty ? [] : Debrief.turningPoints(engine.scenario, engine.record))
    }

    public mutating func record(_ turn: RehearsalTurn) { turns.append(turn) }

    /// Moves the clock to `target`, delivering caller line ends and timer ticks in order.
    private mutating func advance(to target: CallTime) {
        while !engine.isOver || !callerEnds.isEmpty {
            let nextEnd = callerEnds.first
            let deadline = engine.nextDeadline
            let next = [nextEnd, deadline, target].compactMap { $0 }.min()!
            if next > target || (next == target && nextEnd != target && deadline != target) { break }
            now = max(now, next)
            if let nextEnd, nextEnd <= now {
                callerEnds.removeFirst()
                perform(engine.handle(.callerLineFinished, at: now))
            } else if let deadline, deadline <= now {
                perform(engine.handle(.tick, at: now))
            } else {
                break
            }
        }
        now = max(now, target)
    }

    private mutating func perform(_ actions: [CallerAction]) {
        for action in actions {
            switch action {
            case let .say(line):
                let start = max(now, callerEnds.last ?? now)
                let words = Double(max(1, Words.normalize(line.text).count))
                callerEnds.append(start + words * 60 / Double(line.prosody.rate))
                pending.caller.append(line.text)
            case .stopSpeaking:
                // The caller stops mid-line and drops the rest, as the engine already knows.
                callerEnds.removeAll()
            case let .heard(_, moves):
                pending.moves = moves.map(\.move)
            case let .triggered(kind):
                pending.triggers.append(kind.rawValue)
            case .moodChanged, .phaseChanged, .bargeIn, .end:
                break
            }
        }
        // As a live call tells it after every action: a caller who answers had its turn.
        floor.caller(speaking: engine.isCallerSpeaking)
    }

    private mutating func closeTurn() -> RehearsalTurn {
        var turn = pending
        turn.mood = engine.meters.mapValues { Int($0.rounded()) }
        turn.phase = engine.phaseID
        pending = RehearsalTurn(agent: nil, silence_s: nil, moves: [], caller: [], mood: [:], triggers: [], phase: engine.phaseID)
        return turn
    }
}
