/// Runs a scenario many times in text to see whether its caller holds together:
/// skilled agents should reach agreement, dismissive ones never, whatever words
/// the skilled agent uses, with recognition errors and agents who start early.
///
/// The agents follow their scripts but answer the caller as anyone on a phone
/// would: a line the caller did not catch is said again; a caller who says the
/// agent is ahead of them ("What exactly are you offering?") hears the line
/// before again (from the scripted agents, not the uneven or restless ones);
/// and a caller left waiting when the script is over ("And then?") hears the
/// last line again, twice at most, before the agent hangs up.
public struct ScenarioCheck: Sendable {
    /// The kinds of agent a check sends to the caller.
    public enum AgentKind: String, Sendable, CaseIterable {
        /// The scenario's skilled script, word for word.
        case skilled
        /// The skilled script said in other people's words: each move drawn from the labelled corpus.
        case paraphrased
        /// The scenario's dismissive script.
        case dismissive
        /// An agent who slips and recovers: the skilled script with about a third of its lines
        /// replaced by the dismissive script's, to take the caller through moods the others
        /// never reach. It has no goal; its calls show the caller stays coherent there too.
        case uneven
        /// The skilled script as it goes on a real line: now and then a silence that runs into
        /// dead air, a line started over the caller, three lines run together into one long
        /// turn, and the closing question asked before the caller is ready. It has no goal;
        /// its calls reach the caller's triggers and early answers, which the others never do.
        case restless
    }

    /// Share of an uneven agent's lines taken from the dismissive script.
    static let slips = 0.3

    public struct Settings: Sendable {
        public var runs = 20
        /// Share of the agent's words the simulated recognizer gets wrong.
        public var wordErrors = 0.2
        /// Share of agent lines started early: in the pause after the caller's first sentence.
        public var earlyStarts = 0.15
        public var seed: UInt64 = 1
        public var difficulty: Difficulty = .fair
        /// Whether the agents answer the caller (see the type's comment); false: their scripts alone.
        public var answers = true
        public init() {}
    }

    /// What the calls of one kind of agent came to.
    public struct Tally: Sendable, Equatable {
        public var runs = 0
        public var outcomes: [String: Int] = [:]
        /// Calls in which a line that is not a refrain was said twice, by line.
        public var repeated: [String: Int] = [:]
        /// The first few calls that missed the goal (a skilled agent not agreeing, a dismissive one agreeing).
        public var misses: [[RehearsalTurn]] = []
        /// Agent lines whose moves are known (the paraphrased agent's) and, of those, lines in
        /// which the caller heard a move the line did not make.
        public var labelledLines = 0
        public var linesWithWrongMove = 0
        public var wrongMoveShare: Double { Double(linesWithWrongMove) / Double(max(1, labelledLines)) }
        /// Calls whose debrief names, as a turning point, a move that hurt which the agent's line
        /// did not make (the paraphrased agent's, whose moves are known): a false accusation.
        public var callsWithFalseHurt = 0
        public var falseHurtShare: Double { Double(callsWithFalseHurt) / Double(max(1, runs)) }
        public func share(_ outcome: OutcomeKind) -> Double { Double(outcomes[outcome.rawValue, default: 0]) / Double(max(1, runs)) }
    }

    public struct Report: Sendable {
        public var scenario: String
        public var tallies: [AgentKind: Tally] = [:]
        /// Lines no call said, with where they are written.
        public var neverSaid: [(place: String, text: String)] = []
    }

    public let scenario: Scenario
    public let skilled: [ScriptStep]
    public let dismissive: [ScriptStep]
    /// Single-move lines of the labelled corpus, by move.
    let paraphrases: [String: [String]]

    /// The moves each skilled line is meant to make (`# moves:` comments), one per spoken line.
    let intended: [[String]?]
    /// The scenario's move recognizer, hearing the script lines as written.
    let recognizer: MoveRecognizer

    public init(scenario: Scenario, skilled: [ScriptStep], dismissive: [ScriptStep], corpus: [LabelledLine],
                intended: [[String]?] = []) {
        self.scenario = scenario
        self.skilled = skilled
        self.intended = intended
        self.dismissive = dismissive
        recognizer = MoveRecognizer.make(scenario.moves)
        var byMove: [String: [String]] = [:]
        for line in corpus where line.moves.count == 1 { byMove[line.moves.first!, default: []].append(line.text) }
        paraphrases = byMove
    }

    /// The skilled script in other words: each line's moves, in the order said, each as a corpus line
    /// carrying that move; a line with a move the corpus lacks is kept as written.
    /// The moves are the author's (`# moves:`), else what the recognizer finds in the line.
    public func paraphrase(_ steps: [ScriptStep], random: inout SeededRandom) -> [ScriptStep] {
        paraphraseLabelled(steps, random: &random).map(\.step)
    }

    /// The paraphrased script, each spoken line with the moves it makes in the order said (nil for a silence).
    func paraphraseLabelled(_ steps: [ScriptStep], random: inout SeededRandom,
                            intended: [[String]?]? = nil) -> [(step: ScriptStep, moves: [String]?)] {
        let intended = intended ?? self.intended
        var spoken = 0
        return steps.map { step in
            guard case let .say(text, interrupting) = step else { return (step, nil) }
            defer { spoken += 1 }
            let moves = (intended.indices.contains(spoken) ? intended[spoken] : nil) ?? writtenMoves(text)
            guard !moves.isEmpty else { return (step, []) }
            var parts: [String] = []
            var keptOriginal = false
            for move in moves {
                if let choices = paraphrases[move], !choices.isEmpty {
                    parts.append(choices[Int(random.next() % UInt64(choices.count))])
                } else if !keptOriginal {
                    parts.append(text)
                    keptOriginal = true
                }
            }
            return (.say(parts.joined(separator: " "), interrupting: interrupting), moves)
        }
    }

    /// The moves a script line makes as written, in the order said (as the recognizer gives them).
    func writtenMoves(_ text: String) -> [String] {
        recognizer.recognize(text).map(\.move)
    }

    /// The moves of a line an agent said: its label, else what it makes as written.
    func scriptMoves(_ line: (step: ScriptStep, moves: [String]?)) -> Set<String> {
        if let moves = line.moves { return Set(moves) }
        guard case let .say(text, _) = line.step else { return [] }
        return Set(writtenMoves(text))
    }

    static let missesKept = 5
    /// How many times an agent whose lines ran out says its last line again before hanging up.
    static let followUps = 2
    /// The agents who answer a caller asking what is on offer with their line that carries the call on
    /// (the others model slips, and a restless agent's early closing question has no line before it worth saying).
    static let answersAhead: Set<AgentKind> = [.skilled, .paraphrased, .dismissive]
    /// Why the caller said a line asking what happens now ("So what now?", "And?"), asked for or not.
    static let askingCause = "reaction:neutral"

    /// What an agent answering the caller's last line gives: what the caller asked for (the early answer
    /// asks for what carries the call on), else, after a neutral reaction, what carries the call on from
    /// the phase; nil when the caller asked nothing.
    static func wanted(asked: Set<String>, cause: String, phase: Phase) -> Set<String>? {
        if !asked.isEmpty { return asked }
        return cause == askingCause || cause == CallerEngine.earlyCause ? phase.onwardMoves : nil
    }

    /// A line said again when the caller asked for it: right after the caller's question, never over it.
    static func sayAgain(_ step: ScriptStep) -> ScriptStep {
        guard case let .say(text, _) = step else { return step }
        return .say(text, interrupting: false)
    }

    /// The skilled script with some spoken lines swapped for the dismissive script's, in its order.
    func uneven(random: inout SeededRandom) -> [ScriptStep] {
        let slips = dismissive.filter { if case .say = $0 { true } else { false } }
        var next = 0
        return skilled.map { step in
            guard case .say = step, !slips.isEmpty, random.unit() < Self.slips else { return step }
            defer { next += 1 }
            return slips[next % slips.count]
        }
    }

    /// The skilled script with the slips of a real line (see `AgentKind.restless`).
    func restless(random: inout SeededRandom) -> [ScriptStep] {
        let spoken = skilled.compactMap { step -> String? in if case let .say(text, _) = step { text } else { nil } }
        guard spoken.count >= 3 else { return skilled }
        let deadAir = (scenario.triggers.deadAir?.after ?? 8) + 1
        var result: [ScriptStep] = []
        var index = 0
        var saidFirst = false
        while index < skilled.count {
            let step = skilled[index]
            index += 1
            guard case let .say(text, interrupting) = step else { result.append(step); continue }
            if !saidFirst {
                result.append(step)
                saidFirst = true
                // The closing question, before the caller has been heard.
                if random.unit() < 0.5, let last = spoken.last { result.append(.say(last, interrupting: false)) }
                continue
            }
            let roll = random.unit()
            if roll < 0.12 {
                result += [.silence(deadAir), step]
            } else if roll < 0.24 {
                result.append(.say(text, interrupting: true))
            } else if roll < 0.32 {
                // This line and the next two said in one breath: a long turn.
                var long = [text]
                while long.count < 3, index < skilled.count, case let .say(next, _) = skilled[index] { long.append(next); index += 1 }
                result.append(.say(long.joined(separator: " "), interrupting: interrupting))
            } else {
                result.append(step)
            }
        }
        return result
    }

    public func run(_ settings: Settings) -> Report {
        var report = Report(scenario: scenario.id)
        let refrains = Set(scenario.allLines.flatMap { $0.lines.notes.filter(\.value.refrain).map(\.key) })
        var said: Set<String> = []
        for kind in AgentKind.allCases {
            var tally = Tally()
            for run in 0..<settings.runs {
                let seed = settings.seed &+ UInt64(run) &* 7919 &+ UInt64(AgentKind.allCases.firstIndex(of: kind)!) &* 104_729
                var random = SeededRandom(seed: seed ^ 0x5eed)
                let labelled: [(step: ScriptStep, moves: [String]?)] = switch kind {
                case .skilled: skilled.map { ($0, nil) }
                case .paraphrased: paraphraseLabelled(skilled, random: &random)
                case .dismissive: dismissive.map { ($0, nil) }
                case .uneven: uneven(random: &random).map { ($0, nil) }
                case .restless: restless(random: &random).map { ($0, nil) }
                }
                var driver = RehearsalDriver(scenario: scenario.at(settings.difficulty), seed: seed)
                let noise = Box(RecognitionNoise(errorRate: settings.wordErrors, seed: seed))
                driver.hearing = { noise.value.hear($0) }
                driver.record(driver.open())
                // Each labelled line's moves, by when the agent began it.
                var madeAt: [Double: Set<String>] = [:]
                func say(_ step: ScriptStep, _ moves: [String]?, early: Bool) {
                    let before = driver.engine.record.utterances.count
                    let turn = early ? driver.stepEarly(step) : driver.step(step)
                    driver.record(turn)
                    guard let moves else { return }
                    tally.labelledLines += 1
                    if !Set(turn.moves).isSubset(of: moves) { tally.linesWithWrongMove += 1 }
                    if driver.engine.record.utterances.count > before, let said = driver.engine.record.utterances.last {
                        madeAt[said.start.seconds] = Set(moves)
                    }
                }
                // The lines said, each with the script's line it came from (the paraphrase's original).
                var spoken: [(step: ScriptStep, moves: [String]?, original: ScriptStep)] = []
                for (index, (step, moves)) in labelled.enumerated() where !driver.isOver {
                    say(step, moves, early: random.unit() < settings.earlyStarts)
                    guard settings.answers, case .say = step, !driver.isOver else { continue }
                    if driver.turns.last?.triggers.contains(TriggerKind.unclear.rawValue) == true {
                        // "Sorry, what was that?": anyone says it again.
                        say(Self.sayAgain(step), moves, early: false)
                    } else if Self.answersAhead.contains(kind), let cause = driver.engine.record.callerLines.last?.cause,
                              let wanted = Self.wanted(asked: driver.engine.askedMoves, cause: cause, phase: driver.engine.phase) {
                        // "Wait, what exactly are you offering?", "Just tell me when someone is coming!", "So what are
                        // you going to do?": the agent answers with the line it said that makes what the caller asks
                        // for (the offer it missed or was not ready for), the paraphrasing agent in other words again
                        // (its script's line, not the words it used before); told it is ahead with no such line, it
                        // goes back to the line before.
                        let answer = spoken.last { !scriptMoves(($0.step, $0.moves)).isDisjoint(with: wanted) }
                            ?? (cause == CallerEngine.earlyCause ? spoken.last : nil)
                        if let answer {
                            if kind == .paraphrased,
                               let again = paraphraseLabelled([answer.original], random: &random, intended: [answer.moves]).first {
                                say(Self.sayAgain(again.step), again.moves, early: false)
                            } else {
                                say(Self.sayAgain(answer.step), answer.moves, early: false)
                            }
                        }
                    }
                    spoken.append((step, moves, kind == .paraphrased ? skilled[index] : step))
                }
                // An agent does not leave a caller waiting on the line ("And then?"): with its lines said and the
                // call still open, it says its last line again, the paraphrasing agent in other words, twice at most.
                for _ in 0..<(settings.answers ? Self.followUps : 0) where !driver.isOver {
                    let again = kind == .paraphrased ? paraphraseLabelled(skilled, random: &random) : labelled
                    guard let last = again.last(where: { if case .say = $0.step { true } else { false } }) else { break }
                    say(Self.sayAgain(last.step), last.moves, early: false)
                }
                driver.hangUp()
                if !madeAt.isEmpty {
                    let points = Debrief.turningPoints(driver.engine.scenario, driver.engine.record)
                    let falseHurt = points.contains { point in
                        guard point.kind == .hurt, let made = madeAt[point.t] else { return false }
                        return !made.contains(point.move ?? "")
                    }
                    if falseHurt { tally.callsWithFalseHurt += 1 }
                }
                tally.runs += 1
                tally.outcomes[driver.engine.outcome?.rawValue ?? "none", default: 0] += 1
                let agreed = driver.engine.outcome == .agree
                if kind != .uneven, kind != .restless, agreed == (kind == .dismissive), tally.misses.count < Self.missesKept { tally.misses.append(driver.result().turns) }
                var counts: [String: Int] = [:]
                for line in driver.engine.record.callerLines where line.unsaid != true { counts[line.text, default: 0] += 1 }
                for (text, count) in counts where count > 1 && !refrains.contains(text) { tally.repeated[text, default: 0] += 1 }
                said.formUnion(driver.engine.record.callerLines.filter { $0.unsaid != true }.map(\.text))
            }
            report.tallies[kind] = tally
        }
        let lines = scenario.everyLine
        report.neverSaid = lines.filter { line in
            // A line with a {detail} is said filled in: it counts when a said line has its fixed words, in order.
            !said.contains(line.text) && !(line.text.contains("{") && said.contains { Self.fills(line.text, $0) })
        }.map { ($0.place, $0.text) }
        return report
    }

    /// Whether `said` is `line` with its `{detail}` markers filled in: its fixed words at the start,
    /// in between and at the end, each where the one before left off.
    static func fills(_ line: String, _ said: String) -> Bool {
        let pieces = CallMemory.pieces(of: line)
        var rest = Substring(said)
        for (index, piece) in pieces.enumerated() where piece.name == nil {
            if index == 0 {
                guard rest.hasPrefix(piece.text) else { return false }
                rest = rest.dropFirst(piece.text.count)
            } else if index == pieces.count - 1 {
                return rest.hasSuffix(piece.text)
            } else {
                guard let start = rest.indices.first(where: { rest[$0...].hasPrefix(piece.text) }) else { return false }
                rest = rest[start...].dropFirst(piece.text.count)
            }
        }
        return true
    }

    /// A reference for the noise closure, which the driver keeps as a Sendable function.
    private final class Box<Value>: @unchecked Sendable {
        var value: Value
        init(_ value: Value) { self.value = value }
    }
}
