/// What the agent said, as the recognizer (or a rehearsal script) delivered it.
public struct AgentUtterance: Sendable, Equatable {
    public var text: String
    public var start: CallTime
    public var end: CallTime
    public var confidence: Double
    /// What the recognizer heard, best hypothesis first, with per-word confidences; empty for typed text.
    public var hypotheses: [HeardHypothesis]

    public init(text: String, start: CallTime, end: CallTime, confidence: Double = 1, hypotheses: [HeardHypothesis] = []) {
        self.text = text
        self.start = start
        self.end = end
        self.confidence = confidence
        self.hypotheses = hypotheses
    }

    /// The readings move recognition weighs: the recognizer's, or the text itself.
    public var readings: [HeardHypothesis] { hypotheses.isEmpty ? [HeardHypothesis(text: text)] : hypotheses }

    /// Whether a person on the phone would have made it out: not when the recognizer was unsure
    /// of its words (mean word confidence under 0.5), nor a word or two it was not sure of.
    /// Typed text is always clear.
    public var isClear: Bool {
        guard let confidence = hypotheses.first?.confidence, !confidence.isEmpty else { return true }
        let mean = confidence.reduce(0, +) / Double(confidence.count)
        return mean >= 0.5 && (confidence.count > 2 || mean >= 0.75)
    }
}

/// Everything the engine reacts to. Barge-in is derived: agent speech starting while the caller talks.
public enum CallEvent: Sendable, Equatable {
    /// The line is open: the caller speaks first.
    case callOpened
    /// The agent started speaking: over the caller, a sustained voice (a cough does not count); otherwise speech as PocketSphinx hears it.
    case agentSpeechStarted
    /// The agent went on right after a pause the pipeline took for the end of
    /// the turn: the caller's reply was too early, so the caller gives the
    /// floor back, whatever its persona does on a barge-in, and takes no offence.
    case agentResumed
    case agentSpeechStopped
    /// A whole agent turn, recognized.
    case agentUtterance(AgentUtterance)
    /// The caller's oldest queued line has been heard to its end.
    case callerLineFinished
    /// Time passed; timing triggers are checked. Send one at `nextDeadline` at the latest.
    case tick
    /// The agent ended the call (hang-up, Ctrl-C, time limit).
    case agentHungUp
}

/// A caller line to be spoken, with the voice and prosody of the caller's mood.
public struct CallerLine: Sendable, Equatable, Codable {
    public var text: String
    /// eSpeak NG voice name with variant, such as `en-us+m3`.
    public var voice: String
    public var prosody: Prosody
    public var mood: MoodBand
    /// Why the caller says it: `phase:NAME`, `reaction`, `trigger:dead_air`, `outcome:hang_up`…
    public var cause: String
}

public enum CallerAction: Sendable, Equatable {
    case say(CallerLine)
    /// Drop whatever of the caller's speech is still queued (a yielding caller was interrupted).
    case stopSpeaking
    /// The engine's reading of an agent utterance: the moves it found.
    case heard(text: String, moves: [MoveHit])
    case moodChanged(meters: [String: Double], band: MoodBand)
    case phaseChanged(String)
    case triggered(TriggerKind)
    /// The agent talked over the caller; `yielded` says whether the caller stopped.
    case bargeIn(yielded: Bool)
    /// The call is over once the lines already said have been spoken.
    case end(OutcomeKind)
}

/// The scripted difficult caller: (state, event, call time) → actions. No I/O, no wall clock.
///
/// The same scenario, seed and agent behaviour always give the same call.
public struct CallerEngine: Sendable {
    public let scenario: Scenario
    public let recognizer: MoveRecognizer
    public private(set) var meters: [String: Double]
    public private(set) var phaseID: String
    public private(set) var record = CallRecord()
    public private(set) var outcome: OutcomeKind?

    private var random: SeededRandom
    private var heardCount = 0
    private var lastDriftAt = CallTime.zero
    private var agentSpeaking = false
    private var agentSpeechStart = CallTime.zero
    private var monologueFired = false
    /// When the caller finished and the floor passed to the agent; nil while anyone speaks.
    private var quietSince: CallTime?
    private var deadAirPrompts = 0
    private var recentMoves: [Set<String>] = []
    /// The caller's last reply asked the agent to say it again; it asks once, then makes do.
    private var askedToRepeat = false
    /// What the agent did and said so far; lines depend on it and echo it.
    public private(set) var memory = CallMemory()
    /// How often each line was said (lines dropped before they were spoken do not count).
    private var timesSaid: [String: Int] = [:]
    /// The texts of the queued lines, oldest (the one playing) first, and where each is in `record.callerLines`.
    private var queuedTexts: [(text: String, record: Int)] = []
    private var queuedCallerLines: Int { queuedTexts.count }
    private var lastCallerLineEnd: CallTime?
    private var lastInterruptedAt: CallTime?
    /// Moves made before the caller was ready for them: they count once the call gets there.
    private var ahead: Set<String> = []
    /// What the caller's lines since the agent last spoke asked for (`asks`), by the line's place in
    /// `record.callerLines` (a line dropped before it was begun asked nothing).
    private var askedFor: [(record: Int, moves: Set<String>)] = []
    /// A retried moment's first line, said instead of the phase's lines when the call opens.
    private var openingLine: String?

    /// An agent who starts within this long of the end of one of the caller's sentences
    /// takes the floor in a pause: the caller lets them speak, and takes no offence.
    public static let pauseGrace = 0.6
    /// One interruption is one act: barge-ins within this long of the last one the caller
    /// reacted to are not held against the agent again.
    public static let interruptCooldown = 5.0
    /// Transitions one utterance can carry the caller through (an offer and its close in one breath).
    static let maxHops = 3

    public init(scenario: Scenario, seed: UInt64) {
        self.scenario = scenario
        recognizer = MoveRecognizer.make(scenario.moves)
        random = SeededRandom(seed: seed)
        meters = scenario.startingMeters
        phaseID = scenario.phases[0].id
    }

    /// The caller at a moment of an earlier call, to practise it again: in that moment's phase, with
    /// its meters and as often heard, opening with the line said before it.
    public init(scenario: Scenario, seed: UInt64, retrying point: TurningPoint) {
        self.init(scenario: scenario, seed: seed)
        if scenario.phase(point.phase) != nil { phaseID = point.phase }
        for (name, value) in point.before where meters[name] != nil { meters[name] = clamp(value) }
        heardCount = point.heard
        openingLine = point.callerLine
    }

    public var mood: MoodBand { scenario.mood(meters) }

    public var isOver: Bool { outcome != nil }
    public var isCallerSpeaking: Bool { queuedCallerLines > 0 }
    public var phase: Phase { scenario.phase(phaseID)! }

    /// The latest call time at which the next `.tick` must arrive for triggers to fire on time.
    public var nextDeadline: CallTime? {
        guard outcome == nil else { return nil }
        if agentSpeaking {
            guard let monologue = scenario.triggers.monologue, !monologueFired else { return nil }
            return agentSpeechStart + monologue.after
        }
        guard let quietSince, queuedCallerLines == 0, let deadAir = scenario.triggers.deadAir else { return nil }
        return quietSince + deadAir.after
    }

    public mutating func handle(_ event: CallEvent, at now: CallTime) -> [CallerAction] {
        guard outcome == nil else {
            if event == .callerLineFinished, !queuedTexts.isEmpty { queuedTexts.removeFirst() }
            return []
        }
        drift(to: now)
        var actions: [CallerAction] = []
        switch event {
        case .callOpened:
            record.moods.append(MoodPoint(t: now, meters: meters, band: mood))
            if let line = openingLine {
                say(MoodLines(all: [line]), cause: "retry", at: now, into: &actions)
            } else {
                say(phase.lines, cause: "phase:\(phaseID)", at: now, into: &actions)
            }
        case .agentSpeechStarted:
            agentStarted(at: now, into: &actions)
        case .agentResumed:
            guard queuedCallerLines > 0 else {
                agentStarted(at: now, into: &actions)
                break
            }
            dropQueued(keepingPlaying: true, into: &actions)
            agentStarted(at: now, into: &actions)
        case .agentSpeechStopped:
            agentSpeaking = false
            if queuedCallerLines == 0 { quietSince = now }
        case let .agentUtterance(utterance):
            respond(to: utterance, at: now, into: &actions)
        case .callerLineFinished:
            if !queuedTexts.isEmpty { queuedTexts.removeFirst() }
            lastCallerLineEnd = now
            if queuedCallerLines == 0 && !agentSpeaking { quietSince = now }
        case .tick:
            checkTimers(at: now, into: &actions)
        case .agentHungUp:
            finish(.agentEnded, at: now, into: &actions)
        }
        return actions
    }

    // MARK: - Agent speech

    private mutating func agentStarted(at now: CallTime, into actions: inout [CallerAction]) {
        agentSpeaking = true
        agentSpeechStart = now
        monologueFired = false
        quietSince = nil
        deadAirPrompts = 0
        guard queuedCallerLines > 0 else { return }
        // Between two of the caller's sentences: the agent took the floor in a pause, as people do.
        if let end = lastCallerLineEnd, now - end <= Self.pauseGrace {
            dropQueued(keepingPlaying: false, into: &actions)
            return
        }
        // The agent talks over the caller.
        let yields = scenario.persona.bargeIn == .yields
        actions.append(.bargeIn(yielded: yields))
        if let last = lastInterruptedAt, now - last < Self.interruptCooldown {
            // Still the same interruption: the caller has already reacted to it.
            if yields { dropQueued(keepingPlaying: true, into: &actions) }
            return
        }
        lastInterruptedAt = now
        let before = meters
        record.triggers.append(TriggerRecord(t: now, kind: .interrupted, line: nil, before: meters, after: meters))
        defer { record.triggers[record.triggers.count - 1].after = meters }
        actions.append(.triggered(.interrupted))
        if let trigger = scenario.triggers.interrupted {
            // A caller who pushes through takes it harder than one who lets the agent speak.
            apply(trigger.effect, scale: yields ? 1 : 1.5)
            if yields {
                dropQueued(keepingPlaying: true, into: &actions)
            } else {
                sayAgain(trigger.lines, cause: "trigger:interrupted", at: now, into: &actions)
            }
        } else if yields {
            dropQueued(keepingPlaying: true, into: &actions)
        }
        reportMood(since: before, at: now, into: &actions)
        checkOutcomes(at: now, into: &actions)
    }

    /// The caller stops talking. Lines not yet begun were never said: they may still be said later.
    private mutating func dropQueued(keepingPlaying: Bool, into actions: inout [CallerAction]) {
        for (index, queued) in queuedTexts.enumerated() where !(keepingPlaying && index == 0) {
            timesSaid[queued.text, default: 1] -= 1
            record.callerLines[queued.record].unsaid = true
        }
        queuedTexts.removeAll()
        actions.append(.stopSpeaking)
    }

    private mutating func respond(to utterance: AgentUtterance, at now: CallTime, into actions: inout [CallerAction]) {
        agentSpeaking = false
        let hits = recognizer.recognize(utterance.readings, expecting: expectedMoves)
        actions.append(.heard(text: utterance.text, moves: hits))
        if hits.isEmpty && !utterance.isClear && !askedToRepeat {
            // Nothing made out on a bad line: a person asks, and does not hold it against the agent.
            askedToRepeat = true
            record.utterances.append(UtteranceRecord(
                start: utterance.start, end: utterance.end, text: utterance.text, confidence: utterance.confidence,
                moves: [], phase: phaseID, meters: meters, before: meters, heard: heardCount))
            record.triggers.append(TriggerRecord(t: now, kind: .unclear, line: utterance.text, before: meters, after: meters))
            actions.append(.triggered(.unclear))
            say(scenario.triggers.unclear.lines, cause: "trigger:unclear", at: now, allowRepeat: true, into: &actions)
            return endIfOutOfTurns(at: now, into: &actions)
        }
        askedToRepeat = false
        // What the caller just asked for is answered now, or no longer asked.
        let asked = askedMoves
        askedFor.removeAll()
        let before = meters
        let phase = self.phase
        let ids = Set(hits.map(\.move))
        memory.hear(utterance.text, moves: hits.map(\.move))

        // The same move again and again stops meaning anything.
        recentMoves.append(ids)
        var repeatedMove: String?
        if let repeated = scenario.triggers.repeated {
            let window = Int(repeated.after)
            if recentMoves.count >= window {
                let last = recentMoves.suffix(window)
                repeatedMove = hits.map(\.move).first { move in last.allSatisfy { $0.contains(move) } }
            }
        }

        var total: MeterDeltas = [:]
        var strongest: (move: String, size: Double)?
        var madeHeard = false
        for hit in hits {
            guard let move = scenario.moves[hit.move] else { continue }
            var effect = scenario.effect(of: move.id, in: phase)
            // A move the caller just asked for is never premature: it is what they wanted.
            if move.needsHeard && heardCount < scenario.heardAfter && !move.prematureEffect.isEmpty && !asked.contains(move.id) {
                effect = move.prematureEffect
            }
            if move.id == repeatedMove, let repeated = scenario.triggers.repeated { effect = repeated.effect }
            for (meter, delta) in effect { total[meter, default: 0] += delta }
            let size = effect.values.map(abs).reduce(0, +)
            if size > (strongest?.size ?? -1) { strongest = (move.id, size) }
            if move.makesHeard && (effect["anger"] ?? 0) <= 0 { madeHeard = true }
        }
        if madeHeard { heardCount += 1 }
        apply(total)
        let valence = (total["trust"] ?? 0) - (total["anger"] ?? 0)

        record.utterances.append(UtteranceRecord(
            start: utterance.start, end: utterance.end, text: utterance.text, confidence: utterance.confidence,
            moves: hits, phase: phaseID, meters: meters, before: before, heard: heardCount))
        reportMood(since: before, at: now, into: &actions)

        if let repeatedMove, let repeated = scenario.triggers.repeated {
            // Counted once: the next repetition needs a whole new run of the move.
            recentMoves.removeAll()
            record.triggers.append(TriggerRecord(t: now, kind: .repeated, line: repeatedMove, before: before, after: meters))
            actions.append(.triggered(.repeated))
            if checkOutcomes(at: now, into: &actions) { return }
            // The worn-out move carries nothing, but another move in the same breath ("… are you
            // happy with that?") still carries the call on, and the caller answers that instead.
            if followTransitions(ids.subtracting([repeatedMove]), at: now, into: &actions) {
                return endIfOutOfTurns(at: now, into: &actions)
            }
            sayAgain(repeated.lines, cause: "trigger:repeated", at: now, into: &actions)
            return endIfOutOfTurns(at: now, into: &actions)
        }
        if checkOutcomes(at: now, into: &actions) { return }

        if followTransitions(ids, at: now, into: &actions) {
            return endIfOutOfTurns(at: now, into: &actions)
        }

        // No transition: the caller reacts to what landed.
        let early = ids.intersection(movesAhead(of: phase))
        var replied = false
        if let strongest, let lines = phase.reactions[strongest.move] {
            replied = say(lines, cause: "reaction:\(strongest.move)", at: now, into: &actions)
        }
        if !replied, !early.isEmpty, valence > -1 {
            replied = say(scenario.reactions.early, cause: Self.earlyCause, at: now, into: &actions)
            // "Wait, what are you offering?" asks for what carries the call on from here.
            if replied { askedFor.append((record.callerLines.count - 1, phase.onwardMoves)) }
        }
        if !replied, ids.contains(Self.invitingMove), valence > -1 {
            // Asked to talk, the caller tells more of their story (a line of this phase not yet said)
            // rather than answer "Okay." to "How have things been for you lately?".
            replied = say(phase.lines, cause: "reaction:\(Self.invitingMove)", at: now, into: &actions)
        }
        if !replied, ids.contains(Self.closingMove), valence > -1, record.utterances.count > 1 {
            // The agent closes the call: the caller says goodbye rather than wait on the line. Not on
            // the agent's first words: nobody opens with goodbye, so "Good day, I'm Peter" is a greeting.
            say(scenario.reactions.goodbye, cause: "reaction:goodbye", at: now, into: &actions)
            return finish(.agentEnded, at: now, into: &actions)
        }
        if !replied {
            let generic: [(MoodLines, String)] = valence <= -1 ? [(scenario.reactions.negative, "negative")]
                : valence >= 1 ? [(scenario.reactions.positive, "positive")]
                : [(phase.idle, "neutral"), (scenario.reactions.neutral, "neutral")]
            for (lines, kind) in generic + [(scenario.reactions.neutral, "neutral")] where !replied {
                replied = say(lines, cause: "reaction:\(kind)", at: now, into: &actions)
            }
            if !replied {
                // Every fitting line has been said: the least worn one again, rather than silence.
                let lines = valence <= -1 ? scenario.reactions.negative : valence >= 1 ? scenario.reactions.positive : scenario.reactions.neutral
                say(lines, cause: "reaction:\(valence <= -1 ? "negative" : valence >= 1 ? "positive" : "neutral")", at: now,
                    allowRepeat: true, into: &actions)
            }
        }
        endIfOutOfTurns(at: now, into: &actions)
    }

    /// What the caller is waiting for now: the moves the phase expects, those that carry the call
    /// on from it, and those it just asked for. They are heard more readily, as a person hears what
    /// they expect.
    var expectedMoves: Set<String> {
        Set(phase.expects).union(phase.onwardMoves).union(askedMoves)
    }

    /// What the caller's lines since the agent last spoke asked for, of the lines it began saying.
    var askedMoves: Set<String> {
        Set(askedFor.filter { record.callerLines[$0.record].unsaid != true }.flatMap(\.moves))
    }

    /// The library's move for ending a call politely.
    static let closingMove = "closing"
    /// The library's move that invites the caller to talk.
    static let invitingMove = "open_question"
    /// Why the caller said a line asking what is on offer: a move came before it was ready for it.
    public static let earlyCause = "reaction:early"

    /// Moves that carry the call on from a phase still ahead (reachable from this one), but not from this one.
    private func movesAhead(of phase: Phase) -> Set<String> {
        var reached: Set<String> = []
        var frontier = [phase.id]
        while let id = frontier.popLast() {
            for transition in scenario.phase(id)?.transitions ?? [] {
                if case let .phase(next) = transition.target, next != phase.id, reached.insert(next).inserted { frontier.append(next) }
            }
        }
        let later = scenario.phases.filter { reached.contains($0.id) }.flatMap(\.onwardMoves)
        return Set(later).subtracting(phase.onwardMoves)
    }

    /// Fires the first transition the moves and meters allow, and goes on through the next
    /// phase when the same utterance, or a move made before the caller was ready, carries the
    /// call further: an offer and "does that work for you?" in one breath is an offer and a close,
    /// and an offer the caller was not ready for counts once trust has grown. A move the caller
    /// was not ready for only ever carries the call forward (never round the same phase again).
    /// The lines of a phase passed straight through are not said. True when one fired.
    private mutating func followTransitions(_ ids: Set<String>, at now: CallTime, into actions: inout [CallerAction]) -> Bool {
        var pending = ids
        defer {
            // Whatever could still carry the call somewhere is remembered for when the caller gets there.
            ahead.formUnion(pending.intersection(scenario.phases.flatMap(\.onwardMoves)))
        }
        var fired = false
        for hop in 0..<Self.maxHops {
            let phase = self.phase
            func available(_ transition: Transition) -> Set<String> {
                transition.target == .phase(phase.id) ? pending : pending.union(ahead)
            }
            guard let transition = phase.transitions.first(where: { transition in
                let fits = transition.onMoves.isEmpty ? hop == 0 && !ids.isEmpty : !available(transition).isDisjoint(with: transition.onMoves)
                return fits && (transition.condition?.holds(meters) ?? true)
            }) else { break }
            fired = true
            let used = available(transition).intersection(transition.onMoves)
            pending.subtract(used)
            ahead.subtract(used)
            switch transition.target {
            case let .outcome(kind):
                say(transition.lines.isEmpty ? outcomeLines(kind) : transition.lines, cause: "outcome:\(kind.rawValue)", at: now,
                    allowRepeat: true, into: &actions)
                finish(kind, at: now, into: &actions)
                return true
            case let .phase(next):
                let stays = next == phaseID
                if stays {
                    // The caller is not ready for it yet; it still counts when they are.
                    ahead.formUnion(used)
                } else {
                    phaseID = next
                    record.phases.append(PhaseRecord(t: now, phase: next))
                    actions.append(.phaseChanged(next))
                }
                let onward = pending.union(ahead)
                let continues = !stays && self.phase.transitions.contains { transition in
                    transition.target != .phase(next) && !onward.isDisjoint(with: transition.onMoves)
                        && (transition.condition?.holds(meters) ?? true)
                }
                if continues { continue }
                var replied = !transition.lines.isEmpty && say(transition.lines, cause: "reaction", at: now, into: &actions)
                if !stays { replied = say(self.phase.lines, cause: "phase:\(next)", at: now, into: &actions) || replied }
                if !replied {
                    for lines in [self.phase.idle, scenario.reactions.neutral] where !replied {
                        replied = say(lines, cause: "reaction:neutral", at: now, into: &actions)
                    }
                }
                return true
            }
        }
        return fired
    }

    private mutating func endIfOutOfTurns(at now: CallTime, into actions: inout [CallerAction]) {
        if outcome == nil && record.utterances.count >= scenario.maxTurns {
            finish(.unresolved, at: now, into: &actions)
        }
    }

    // MARK: - Timing triggers

    private mutating func checkTimers(at now: CallTime, into actions: inout [CallerAction]) {
        let before = meters
        // Compared exactly as `nextDeadline` computes them, so a tick at the deadline always fires.
        if agentSpeaking, !monologueFired, let monologue = scenario.triggers.monologue,
           now >= agentSpeechStart + monologue.after {
            monologueFired = true
            actions.append(.triggered(.monologue))
            apply(monologue.effect)
            record.triggers.append(TriggerRecord(t: now, kind: .monologue, line: nil, before: before, after: meters))
            reportMood(since: before, at: now, into: &actions)
            if checkOutcomes(at: now, into: &actions) { return }
            sayAgain(monologue.lines, cause: "trigger:monologue", at: now, into: &actions)
            return
        }
        guard !agentSpeaking, queuedCallerLines == 0, let since = quietSince, let deadAir = scenario.triggers.deadAir,
              now >= since + deadAir.after else { return }
        deadAirPrompts += 1
        record.triggers.append(TriggerRecord(t: now, kind: .deadAir, line: nil, before: meters, after: meters))
        actions.append(.triggered(.deadAir))
        if deadAirPrompts > scenario.triggers.deadAirHangUpAfter {
            say(outcomeLines(.hangUp), cause: "outcome:hang_up", at: now, allowRepeat: true, into: &actions)
            finish(.hangUp, at: now, into: &actions)
            return
        }
        apply(deadAir.effect)
        record.triggers[record.triggers.count - 1].after = meters
        reportMood(since: before, at: now, into: &actions)
        if checkOutcomes(at: now, into: &actions) { return }
        say(deadAir.lines, cause: "trigger:dead_air", at: now, allowRepeat: true, into: &actions)
    }

    // MARK: - Outcomes

    /// Ends the call when an outcome rule holds; true when it did.
    @discardableResult
    private mutating func checkOutcomes(at now: CallTime, into actions: inout [CallerAction]) -> Bool {
        for rule in scenario.outcomes where rule.phases.isEmpty || rule.phases.contains(phaseID) {
            guard rule.condition.holds(meters) else { continue }
            say(rule.lines, cause: "outcome:\(rule.kind.rawValue)", at: now, allowRepeat: true, into: &actions)
            finish(rule.kind, at: now, into: &actions)
            return true
        }
        return false
    }

    private func outcomeLines(_ kind: OutcomeKind) -> MoodLines {
        scenario.outcomes.first { $0.kind == kind }?.lines ?? MoodLines()
    }

    private mutating func finish(_ kind: OutcomeKind, at now: CallTime, into actions: inout [CallerAction]) {
        outcome = kind
        record.outcome = kind
        record.endedAt = now
        actions.append(.end(kind))
    }

    // MARK: - Meters and lines

    private mutating func drift(to now: CallTime) {
        let minutes = (now - lastDriftAt) / 60
        guard minutes > 0 else { return }
        lastDriftAt = now
        for spec in scenario.meters where spec.driftPerMinute != 0 {
            meters[spec.name] = clamp((meters[spec.name] ?? 0) + spec.driftPerMinute * minutes)
        }
    }

    private mutating func apply(_ deltas: MeterDeltas, scale: Double = 1) {
        for (meter, delta) in deltas {
            meters[meter] = clamp((meters[meter] ?? 0) + scenario.difficulty.scaled(meter, delta * scale))
        }
    }

    private func clamp(_ value: Double) -> Double { min(100, max(0, value)) }

    private mutating func reportMood(since before: [String: Double], at now: CallTime, into actions: inout [CallerAction]) {
        let changed = meters.contains { name, value in abs(value - (before[name] ?? value)) >= 0.5 }
        guard changed else { return }
        record.moods.append(MoodPoint(t: now, meters: meters, band: mood))
        actions.append(.moodChanged(meters: meters, band: mood))
    }

    /// The caller's answer to an act it has met before (interrupted, the same move again, a long turn):
    /// a line of the trigger not said yet, else one of the scenario's negative reactions not said
    /// yet, and only when those are all said, the trigger's least worn line again.
    @discardableResult
    private mutating func sayAgain(_ lines: MoodLines, cause: String, at now: CallTime, into actions: inout [CallerAction]) -> Bool {
        say(lines, cause: cause, at: now, into: &actions)
            || say(scenario.reactions.negative, cause: cause, at: now, into: &actions)
            || say(lines, cause: cause, at: now, allowRepeat: true, into: &actions)
    }

    /// Says a line for the current mood that fits what happened in the call and has not been said
    /// (unless it is a refrain, or `allowRepeat` for last words); false when none fits.
    @discardableResult
    private mutating func say(_ lines: MoodLines, cause: String, at now: CallTime, allowRepeat: Bool = false,
                              into actions: inout [CallerAction]) -> Bool {
        let band = mood
        let candidates = lines.lines(for: band).filter { memory.allows($0, lines.notes[$0]) }
        guard !candidates.isEmpty else { return false }
        let fresh = candidates.filter { timesSaid[$0, default: 0] == 0 || lines.notes[$0]?.refrain == true }
        let pool: [String]
        if !fresh.isEmpty {
            pool = fresh
        } else if allowRepeat {
            // The least said, and of those the one said longest ago.
            let least = candidates.map { timesSaid[$0, default: 0] }.min()!
            let worn = candidates.filter { timesSaid[$0, default: 0] == least }
            pool = [worn.min { a, b in
                (record.callerLines.lastIndex { $0.text == a } ?? -1) < (record.callerLines.lastIndex { $0.text == b } ?? -1)
            }!]
        } else {
            return false
        }
        let chosen = pool[Int(random.next() % UInt64(pool.count))]
        timesSaid[chosen, default: 0] += 1
        let text = memory.fill(chosen)
        let voice = scenario.persona.voice
        let line = CallerLine(text: text, voice: voice.espeakName, prosody: voice.prosody(for: band), mood: band, cause: cause)
        queuedTexts.append((chosen, record.callerLines.count))
        if let asks = lines.notes[chosen]?.asks, !asks.isEmpty { askedFor.append((record.callerLines.count, Set(asks))) }
        quietSince = nil
        record.callerLines.append(CallerLineRecord(t: now, text: text, cause: cause, mood: band))
        actions.append(.say(line))
        return true
    }
}
