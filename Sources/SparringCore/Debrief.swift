/// A moment that changed the call: what the agent did, what it did to the caller, and what a
/// skilled agent could have done there instead.
public struct TurningPoint: Sendable, Codable, Equatable {
    public enum Kind: String, Sendable, Codable {
        /// A move that angered the caller or cost trust (calm down, rules, blame, pressure, caving in).
        case hurt
        /// A solution or facts before the caller felt heard.
        case early
        /// Talking over the caller, dead air, a monologue, the same move again and again.
        case trigger
        /// What the caller waited for in a phase never came.
        case missed
        /// The largest drop in anger (of at least `Debrief.bestAtLeast` points).
        case best
    }

    /// 1-based, in the order shown: the MOMENT of `--from SESSION:MOMENT`.
    public var number: Int
    public var kind: Kind
    /// Where the moment lies on the call clock, in seconds (an agent turn from its start to its end).
    public var t: Double
    public var end: Double
    public var phase: String
    /// What the agent said (recognized words), for moments that are an agent turn.
    public var said: String?
    /// The move made (hurt, early, best), the move missed, or for triggers the trigger's kind.
    public var move: String?
    /// One line: what happened.
    public var headline: String
    public var before: [String: Double]
    public var after: [String: Double]
    public var moodBefore: MoodBand
    public var moodAfter: MoodBand
    /// How much it moved the call: anger raised plus trust lost, 15 more for the act that ended a
    /// call without agreement; for the best moment, the drop in anger. Moments are ranked by it.
    public var weight: Double
    /// The rubric criterion it touched, and whether the call passed it.
    public var criterion: String?
    public var criterionTitle: String?
    public var criterionPassed: Bool?
    /// What the caller was waiting for in this phase.
    public var need: String?
    /// A conscious alternative: what a skilled agent could have said here.
    public var alternative: String?
    public var alternativeMove: String?
    /// The caller's last line before the moment: a retry of the moment opens with it.
    public var callerLine: String?
    /// How often the caller had felt heard before the moment (a retry starts from it).
    public var heard: Int = 0

    enum CodingKeys: String, CodingKey {
        case number, kind, t, end, phase, said, move, headline, before, after
        case moodBefore = "mood_before", moodAfter = "mood_after", weight, criterion
        case criterionTitle = "criterion_title", criterionPassed = "criterion_passed", need, alternative
        case alternativeMove = "alternative_move", callerLine = "caller_line", heard
    }

    /// "Stayed calm (not passed)": the criterion it touched and how the call fared on it.
    public var criterionText: String? {
        criterionTitle.map { $0 + (criterionPassed.map { $0 ? " (passed)" : " (not passed)" } ?? "") }
    }

    /// "anger 40 → 55, trust 30 → 22": the meters that moved, in name order.
    public var meterChange: String {
        let names = Set(before.keys).union(after.keys).sorted()
        let moved = names.filter { abs((after[$0] ?? 0) - (before[$0] ?? 0)) >= 0.5 }
        return Self.change(of: moved.isEmpty ? names : moved, from: before, to: after)
    }

    /// "anger 40 → 55, trust 30 → 22" for the meters `names`, in that order.
    static func change(of names: [String], from before: [String: Double], to after: [String: Double]) -> String {
        names.map { "\($0) \(Int((before[$0] ?? 0).rounded())) → \(Int((after[$0] ?? 0).rounded()))" }.joined(separator: ", ")
    }
}

/// Finds a call's turning points: the moves that hurt it, the triggers, what the caller waited
/// for in vain, and its best moment; ranks them by what they did to the meters and the outcome,
/// and for each names a conscious alternative from the scenario's `waiting_for` lines or the
/// move library's `instead` lines. A pure function of the scenario and the call's record.
public enum Debrief {
    /// How many of the worst moments a debrief shows; the best moment comes on top of these.
    public static let worst = 3
    /// The least drop in anger that makes a best moment: a greeting's couple of points is not a turn.
    static let bestAtLeast = 5.0
    /// The least a moment must move the meters (anger raised plus trust lost) to be a turning point:
    /// a move the caller barely felt did not turn the call.
    static let leastWeight = 3.0
    /// Added to the weight of the act that ended a call without agreement.
    static let endingWeight = 15.0

    /// `score`: the call's score when the caller has it already.
    public static func turningPoints(_ scenario: Scenario, _ record: CallRecord, score: Score? = nil) -> [TurningPoint] {
        let score = score ?? Scorer.score(scenario, record)
        var moments: [TurningPoint] = []
        var byUtterance: [Int: TurningPoint] = [:]

        // Agent turns: a move that hurt, a solution too early, and the best turn.
        var best: (index: Int, gain: Double)?
        for (index, u) in record.utterances.enumerated() {
            let before = u.before
            let net = change(before, u.meters)
            guard let phase = scenario.phase(u.phase) else { continue }
            let hurting = u.moves.filter { hurts(scenario, phase, $0.move) }
            let strongestFirst = hurting.map(\.move).sorted { size(scenario, phase, $0) > size(scenario, phase, $1) }
            if net > 0, let worst = strongestFirst.first {
                let titles = strongestFirst.map { scenario.moves[$0]?.title ?? $0 }
                byUtterance[index] = moment(.hurt, u, move: worst, scenario,
                                            headline: ([titles[0]] + titles.dropFirst().map(\.lowercasedFirst)).joined(separator: "; "))
            } else if net > 0, let early = u.moves.first(where: { scenario.moves[$0.move]?.needsHeard == true }) {
                let title = scenario.moves[early.move]?.title ?? early.move
                byUtterance[index] = moment(.early, u, move: early.move, scenario,
                                            headline: "\(title), before the caller felt heard")
            }
            let calmed = (before["anger"] ?? 0) - (u.meters["anger"] ?? 0)
            if byUtterance[index] == nil, !u.moves.isEmpty, calmed >= bestAtLeast, calmed > (best?.gain ?? 0) {
                best = (index, calmed)
            }
        }
        // What the caller waited for: a stretch of a phase in which the agent never made it. A
        // solution too early in that stretch is the same lesson, and is told there; a move that
        // hurt is a moment of its own.
        let hurtTurns = Set(byUtterance.filter { $0.value.kind == .hurt }.keys)
        for (point, absorbed) in missed(scenario, record, counted: hurtTurns) {
            moments.append(point)
            for index in absorbed { byUtterance[index] = nil }
        }
        moments += byUtterance.values

        // Triggers: each act once, with the meters it moved; the prompts of one silence are one act.
        var triggers: [TriggerRecord] = []
        for trigger in record.triggers {
            if trigger.kind == .deadAir, let last = triggers.last, last.kind == .deadAir,
               !record.utterances.contains(where: { $0.start > last.t && $0.start < trigger.t }) {
                triggers[triggers.count - 1].after = trigger.after
                continue
            }
            triggers.append(trigger)
        }
        for trigger in triggers {
            let headline: String
            switch trigger.kind {
            case .interrupted: headline = "Talked over the caller"
            case .deadAir: headline = "Dead air: the caller was left waiting"
            case .monologue: headline = "Talked too long without letting the caller in"
            case .repeated: headline = "The same move again and again (\(scenario.moves[trigger.line ?? ""]?.title ?? trigger.line ?? "a move"))"
            case .unclear: continue
            }
            let net = change(trigger.before, trigger.after)
            let hungUp = trigger.kind == .deadAir && record.outcome == .hangUp
                && !record.utterances.contains { $0.start > trigger.t }
            guard net > 0 || hungUp else { continue }
            let phase = phase(at: trigger.t, record, scenario)
            var point = TurningPoint(
                number: 0, kind: .trigger, t: trigger.t.seconds, end: trigger.t.seconds, phase: phase, said: nil,
                move: trigger.kind.rawValue, headline: headline, before: trigger.before, after: trigger.after,
                moodBefore: scenario.mood(trigger.before), moodAfter: scenario.mood(trigger.after), weight: max(0, net))
            if trigger.kind == .repeated, let u = record.utterances.last(where: { $0.start <= trigger.t }) {
                // The repetition is the turn itself; a turn that is a moment already is not counted twice.
                if moments.contains(where: { $0.t == u.start.seconds }) { continue }
                point.t = u.start.seconds
                point.end = u.end.seconds
                point.said = u.text
            }
            moments.append(point)
        }

        // The act that ended the call without agreement weighs most.
        if let outcome = record.outcome, [.hangUp, .escalate, .unresolved].contains(outcome), let endedAt = record.endedAt {
            if let last = moments.indices.filter({ moments[$0].t <= endedAt.seconds }).max(by: { moments[$0].t < moments[$1].t }),
               endedAt.seconds - moments[last].end <= 15 {
                moments[last].weight += endingWeight
            }
        }

        var ranked = moments.filter { $0.weight >= leastWeight }.sorted { ($0.weight, -$0.t) > ($1.weight, -$1.t) }
        ranked = Array(ranked.prefix(worst))
        if let best {
            let u = record.utterances[best.index]
            let move = u.moves.max { gainOf(scenario, u.phase, $0.move) < gainOf(scenario, u.phase, $1.move) }?.move
            ranked.append(moment(.best, u, move: move, scenario,
                                 headline: "Best moment: " + (move.flatMap { scenario.moves[$0]?.title } ?? "what you said here")))
            ranked[ranked.count - 1].weight = best.gain
        }
        for index in ranked.indices {
            ranked[index].number = index + 1
            advise(&ranked[index], scenario, record, score)
        }
        return ranked
    }

    // MARK: - Moments

    private static func moment(_ kind: TurningPoint.Kind, _ u: UtteranceRecord, move: String?,
                               _ scenario: Scenario, headline: String) -> TurningPoint {
        TurningPoint(number: 0, kind: kind, t: u.start.seconds, end: u.end.seconds, phase: u.phase, said: u.text, move: move,
                     headline: headline, before: u.before, after: u.meters, moodBefore: scenario.mood(u.before),
                     moodAfter: scenario.mood(u.meters), weight: max(0, change(u.before, u.meters)))
    }

    /// Per visit to a phase that waits for something: when two or more of the agent's turns there
    /// (other than those in `counted`) made none of it, or the call ended there without agreement
    /// after one, a moment at the first of them, with the turns it covers.
    private static func missed(_ scenario: Scenario, _ record: CallRecord, counted: Set<Int>) -> [(TurningPoint, [Int])] {
        var result: [(TurningPoint, [Int])] = []
        var visits: [[Int]] = []
        for (index, u) in record.utterances.enumerated() {
            if let last = visits.last?.last, record.utterances[last].phase == u.phase { visits[visits.count - 1].append(index) } else { visits.append([index]) }
        }
        for (number, visit) in visits.enumerated() {
            guard let phase = scenario.phase(record.utterances[visit[0]].phase), !phase.expects.isEmpty else { continue }
            let waited = Set(phase.expects).union(phase.onwardMoves)
            let made = Set(visit.flatMap { record.utterances[$0].moves.map(\.move) })
            // What makes the caller feel heard first: that is what a caller waits for most.
            let unmade = phase.expects.filter { !made.contains($0) }
            guard let missing = unmade.first(where: { scenario.moves[$0]?.makesHeard == true }) ?? unmade.first else { continue }
            let idle = visit.filter { index in
                !counted.contains(index) && record.utterances[index].moves.allSatisfy { !waited.contains($0.move) }
            }
            let endedHere = number == visits.count - 1 && record.outcome != nil && record.outcome != .agree
            guard idle.count >= 2 || (endedHere && !idle.isEmpty) else { continue }
            let first = record.utterances[idle[0]], last = record.utterances[idle[idle.count - 1]]
            let weight = idle.map { max(0, change(record.utterances[$0].before, record.utterances[$0].meters)) }.reduce(0, +)
            let title = scenario.moves[missing]?.title ?? missing
            result.append((TurningPoint(
                number: 0, kind: .missed, t: first.start.seconds, end: last.end.seconds, phase: phase.id, said: first.text,
                move: missing, headline: "The caller waited for this and it never came: \(title.lowercasedFirst)",
                before: first.before, after: last.meters, moodBefore: scenario.mood(first.before), moodAfter: scenario.mood(last.meters),
                weight: weight + (endedHere ? 1 : 0)), idle))
        }
        return result
    }

    // MARK: - Advice

    /// Fills in the criterion, what the caller waited for, a conscious alternative and the caller's line before.
    private static func advise(_ point: inout TurningPoint, _ scenario: Scenario, _ record: CallRecord, _ score: Score) {
        let phase = scenario.phase(point.phase)
        point.need = phase?.waitingFor?.need
        if let id = criterion(for: point, scenario) {
            point.criterion = id
            point.criterionTitle = score.criteria[id]?.title
            point.criterionPassed = score.criteria[id]?.passed
        }
        point.callerLine = record.callerLines.last { $0.unsaid != true && $0.t.seconds <= point.t }?.text
        // As the engine counted it, up to the turn before the moment.
        point.heard = record.utterances.last { $0.start.seconds < point.t }?.heard ?? 0
        let scenarioLines = phase?.waitingFor?.say ?? []
        let libraryLines = scenario.moves.all.flatMap(\.instead)
        func pick(_ moves: [String]) -> Alternative? {
            for move in moves {
                if let line = scenarioLines.first(where: { $0.move == move }) { return line }
            }
            return nil
        }
        var choice: Alternative?
        switch point.kind {
        case .hurt:
            let instead = point.move.flatMap { scenario.moves[$0]?.instead } ?? []
            // In the scenario's words when it gives them: the kind of move that helps in its place,
            // else what the caller waits for in this phase; the library's general line last.
            choice = pick(instead.map(\.move)) ?? scenarioLines.first ?? instead.first
        case .early:
            let listening = scenario.moves.all.filter(\.makesHeard).map(\.id)
            choice = pick(listening) ?? libraryLines.first { scenario.moves[$0.move]?.makesHeard == true }
        case .trigger:
            let kind = TriggerKind(rawValue: point.move ?? "")
            switch kind {
            case .interrupted?, .monologue?:
                choice = pick(["listening_summary", "open_question", "acknowledge_feelings"]) ?? scenarioLines.first
            case .repeated?:
                let worn = record.triggers.first { $0.kind == .repeated && $0.t.seconds >= point.t }?.line
                choice = scenarioLines.first { $0.move != worn }
            default:
                choice = scenarioLines.first
            }
            choice = choice ?? libraryLines.first { scenario.moves[$0.move]?.makesHeard == true }
        case .missed:
            let move = point.move ?? ""
            choice = pick([move]) ?? libraryLines.first { $0.move == move }
                ?? scenario.moves[move].flatMap { m in m.examples.first.map { Alternative(move: m.id, text: $0) } }
        case .best:
            choice = nil
        }
        point.alternative = choice?.text
        point.alternativeMove = choice?.move
    }

    /// The rubric criterion a moment bears on most directly.
    private static func criterion(for point: TurningPoint, _ scenario: Scenario) -> String? {
        let move = point.move ?? ""
        let criteria = scenario.rubric.criteria
        func first(_ matches: (Evidence) -> Bool) -> String? { criteria.first { matches($0.evidence) }?.id }
        switch point.kind {
        case .hurt:
            return first { if case let .absent(moves) = $0 { moves.contains(move) } else { false } }
                ?? first { if case .finalMeters = $0 { true } else { false } }
        case .early:
            return first { if case let .order(_, before) = $0 { before.contains(move) } else { false } }
                ?? first { if case let .absent(moves) = $0 { moves.contains(move) } else { false } }
        case .trigger:
            return first { if case let .noTriggers(kinds) = $0 { kinds.contains { $0.rawValue == move } } else { false } }
                ?? first { if case .finalMeters = $0 { true } else { false } }
        case .missed, .best:
            return first { evidence in
                switch evidence {
                case let .move(m, _, _): m == move
                case let .anyMove(moves): moves.contains(move)
                case let .order(f, _): f == move
                default: false
                }
            }
        }
    }

    // MARK: - Meters

    /// Anger raised plus trust lost; negative when the caller warmed.
    static func change(_ before: [String: Double], _ after: [String: Double]) -> Double {
        let anger = (after["anger"] ?? 0) - (before["anger"] ?? 0)
        let trust = (after["trust"] ?? 0) - (before["trust"] ?? 0)
        return ((anger - trust) * 10).rounded() / 10
    }

    private static func hurts(_ scenario: Scenario, _ phase: Phase, _ move: String) -> Bool {
        AgentMove.hurts(scenario.effect(of: move, in: phase))
    }

    private static func size(_ scenario: Scenario, _ phase: Phase, _ move: String) -> Double {
        scenario.effect(of: move, in: phase).values.map(abs).reduce(0, +)
    }

    private static func gainOf(_ scenario: Scenario, _ phaseID: String, _ move: String) -> Double {
        guard let phase = scenario.phase(phaseID) else { return 0 }
        let e = scenario.effect(of: move, in: phase)
        return (e["trust"] ?? 0) - (e["anger"] ?? 0)
    }

    private static func phase(at t: CallTime, _ record: CallRecord, _ scenario: Scenario) -> String {
        record.phases.last { $0.t <= t }?.phase ?? scenario.phases[0].id
    }
}

extension String {
    var lowercasedFirst: String { prefix(1).lowercased() + dropFirst() }
}

/// A moment of an earlier call to practise again: the session, which of its turning points, and the point itself.
public struct MomentRetry: Sendable, Codable, Equatable {
    public var session: String
    public var moment: Int
    public var point: TurningPoint
    public init(session: String, moment: Int, point: TurningPoint) {
        self.session = session
        self.moment = moment
        self.point = point
    }

    /// Parses `SESSION_ID:MOMENT`; nil when it is not of that shape.
    public static func parse(_ text: String) -> (session: String, moment: Int)? {
        guard let colon = text.lastIndex(of: ":"), let moment = Int(text[text.index(after: colon)...]), moment >= 1,
              colon > text.startIndex else { return nil }
        return (String(text[..<colon]), moment)
    }
}

/// How a retried moment went, against the first time: saved in the retry's summary.
public struct RetryResult: Sendable, Codable, Equatable {
    public var session: String
    public var moment: Int
    public var headline: String
    /// The first time: what was said and the meters around it.
    public var said: String?
    public var before: [String: Double]
    public var after: [String: Double]
    /// This time: the agent's first turn and the meters once the caller had taken it in.
    public var saidNow: String?
    public var afterNow: [String: Double]
    public var better: Bool
    /// One line for a person: "Better: anger 68 → 60 this time, 68 → 84 the first time."
    public var verdict: String

    enum CodingKeys: String, CodingKey {
        case session, moment, headline, said, before, after, saidNow = "said_now", afterNow = "after_now", better, verdict
    }
}

extension Debrief {
    /// Compares the retry of `retry.point` (its record) with the first time. The moment is the
    /// retry's first agent turn and whatever fired before it; a retry the agent never spoke in is
    /// not better.
    public static func compare(_ retry: MomentRetry, _ record: CallRecord) -> RetryResult {
        let point = retry.point
        let first = record.utterances.first
        let settled = first?.meters ?? record.triggers.last?.after ?? point.before
        // Meters are cumulative: anything that fired before the first turn is in its meters.
        let now = change(point.before, settled), then = change(point.before, point.after)
        let better = first != nil && (point.kind == .best ? now <= then : now < then)
        func describe(_ after: [String: Double]) -> String {
            TurningPoint.change(of: ["anger", "trust"].filter { point.before[$0] != nil }, from: point.before, to: after)
        }
        let verdict: String
        if first == nil {
            verdict = "Not tried: you did not speak in the retry."
        } else {
            verdict = "\(better ? "Better" : point.kind == .best ? "Not as good" : "No better"): \(describe(settled)) this time, "
                + "\(describe(point.after)) the first time."
        }
        return RetryResult(session: retry.session, moment: retry.moment, headline: point.headline, said: point.said,
                           before: point.before, after: point.after, saidNow: first?.text, afterNow: settled,
                           better: better, verdict: verdict)
    }
}
