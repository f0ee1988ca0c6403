import Foundation
import Yams

/// Reads scenario files against a move library and a set of voices, and finds every problem.
///
/// Structure problems (types, missing and unknown fields) and meaning problems
/// (unknown moves, voices, meters or phases, unreachable phases, missing
/// outcomes, thresholds out of order) are all reported with file:line and field.
public struct ScenarioLoader: Sendable {
    public var library: MoveLibrary
    public var voices: [String: VoiceProfile]
    /// Voices that were read but cannot speak, with why: a scenario using one is reported, not loaded.
    public var mute: [String: Problem]

    public init(library: MoveLibrary, voices: [String: VoiceProfile], mute: [String: Problem] = [:]) {
        self.library = library
        self.voices = voices
        self.mute = mute
    }

    static let topFields: Set<String> = [
        "id", "title", "persona", "meters", "moods", "heard_after", "max_turns", "moves", "effects",
        "reactions", "triggers", "outcomes", "phases", "rubric",
    ]

    public func load(path: String) -> (Scenario?, [Problem]) {
        do {
            return parse(try YAMLDocument.load(path: path))
        } catch {
            return (nil, [error])
        }
    }

    public func parse(_ document: YAMLDocument) -> (Scenario?, [Problem]) {
        let r = NodeReader(file: document.file)
        let root = document.root
        guard let top = r.fields(root, "", allowed: Self.topFields) else { return (nil, r.problems) }

        let id = r.string(top["id"], "id", required: true, parent: root) ?? ""
        if !id.isEmpty && !isIdentifier(id) { r.report(top["id"], "id", "ids are lower-case letters, digits, - and _") }
        let title = r.string(top["title"], "title", required: true, parent: root) ?? ""

        // Moves: the shared library, extended by the scenario's own.
        var moves = library
        for move in MoveLibrary.parseMoves(top["moves"], field: "moves", reader: r) {
            if library[move.id] != nil { r.report(line: move.line, "moves.\(move.id)", "already defined in the shared move library; pick another id") }
            moves.add(move)
        }
        for problem in moves.insteadProblems(file: r.file) { r.report(line: problem.line, problem.field, problem.message) }
        let check = Checker(reader: r, moves: moves)

        // Meters and moods.
        var meters: [MeterSpec] = []
        for (name, keyNode, value) in r.mapping(top["meters"], "meters") ?? [] {
            let path = "meters.\(name)"
            if !isIdentifier(name) { r.report(keyNode, path, "meter names are lower-case words") }
            guard let f = r.fields(value, path, allowed: ["start", "drift"]) else { continue }
            let start = r.number(f["start"], "\(path).start", required: true, parent: value, range: 0...100) ?? 0
            let drift = r.number(f["drift"], "\(path).drift", range: -20...20) ?? 0
            meters.append(MeterSpec(name: name, start: start, driftPerMinute: drift))
        }
        if top["meters"] == nil { r.report(root, "meters", "missing (anger and trust at least)") }
        for needed in ["anger", "trust"] where top["meters"] != nil && !meters.contains(where: { $0.name == needed }) {
            r.report(top["meters"], "meters.\(needed)", "missing; every caller has anger and trust")
        }
        check.meters = Set(meters.map(\.name))
        for move in moves.all where move.file == r.file {
            check.deltas(move.effect, node: nil, line: move.line, "moves.\(move.id).effect")
        }

        var irritatedAt = 40.0, furiousAt = 75.0
        if let f = r.fields(top["moods"], "moods", allowed: ["irritated", "furious"]) {
            irritatedAt = r.number(f["irritated"], "moods.irritated", range: 0...100) ?? irritatedAt
            furiousAt = r.number(f["furious"], "moods.furious", range: 0...100) ?? furiousAt
            if irritatedAt >= furiousAt {
                r.report(top["moods"], "moods", "bad threshold: irritated (\(format(irritatedAt))) must be below furious (\(format(furiousAt)))")
            }
        }

        // Persona and voice.
        var persona: Persona?
        if let f = r.fields(top["persona"], "persona", allowed: ["name", "situation", "voice", "barge_in"]) {
            let name = r.string(f["name"], "persona.name", required: true, parent: top["persona"])
            let situation = r.string(f["situation"], "persona.situation", required: true, parent: top["persona"])
            let voiceName = r.string(f["voice"], "persona.voice", required: true, parent: top["persona"])
            var bargeIn = BargeInStyle.yields
            if let text = r.string(f["barge_in"], "persona.barge_in") {
                if let style = BargeInStyle(rawValue: text) { bargeIn = style } else {
                    r.report(f["barge_in"], "persona.barge_in", "'\(text)' is not yields or pushes")
                }
            }
            var voice: VoiceProfile?
            if let voiceName {
                voice = voices[voiceName]
                if let why = mute[voiceName] {
                    r.report(f["voice"], "persona.voice", "voice '\(voiceName)' cannot speak (\(why.description))")
                } else if voice == nil {
                    let known = voices.keys.sorted().joined(separator: ", ")
                    r.report(f["voice"], "persona.voice", "unknown voice '\(voiceName)' (known: \(known.isEmpty ? "none" : known))")
                }
            }
            if let name, let situation, let voice {
                persona = Persona(name: name, situation: situation, voice: voice, bargeIn: bargeIn)
            }
        } else if top["persona"] == nil {
            r.report(root, "persona", "missing")
        }

        let heardAfter = Int(r.number(top["heard_after"], "heard_after", range: 0...10) ?? 1)
        let maxTurns = Int(r.number(top["max_turns"], "max_turns", range: 1...200) ?? 20)

        var effects: [String: MeterDeltas] = [:]
        for (move, keyNode, value) in r.mapping(top["effects"], "effects") ?? [] {
            check.move(move, node: keyNode, "effects.\(move)")
            effects[move] = parseDeltas(value, "effects.\(move)", reader: r)
            check.deltas(effects[move]!, node: value, "effects.\(move)")
        }

        // Reactions.
        var reactions = Reactions(positive: MoodLines(), negative: MoodLines(), neutral: MoodLines())
        if let f = r.fields(top["reactions"], "reactions", allowed: ["positive", "negative", "neutral", "early", "goodbye"]) {
            reactions.positive = moodLines(f["positive"], "reactions.positive", r)
            reactions.negative = moodLines(f["negative"], "reactions.negative", r)
            reactions.neutral = moodLines(f["neutral"], "reactions.neutral", r)
            if f["early"] != nil { reactions.early = moodLines(f["early"], "reactions.early", r) }
            if f["goodbye"] != nil { reactions.goodbye = moodLines(f["goodbye"], "reactions.goodbye", r) }
        }
        for (kind, lines) in [("positive", reactions.positive), ("negative", reactions.negative), ("neutral", reactions.neutral)]
        where lines.isEmpty {
            r.report(top["reactions"] ?? root, "reactions.\(kind)", "missing: the caller needs something to say when no phase line fits")
        }

        let triggers = parseTriggers(top["triggers"], r, check)

        // Outcome rules.
        var outcomes: [OutcomeRule] = []
        for (index, node) in (r.sequence(top["outcomes"], "outcomes") ?? []).enumerated() {
            let path = "outcomes[\(index)]"
            guard let f = r.fields(node, path, allowed: ["kind", "when", "phases", "lines"]) else { continue }
            let kind = outcomeKind(f["kind"], "\(path).kind", r, parent: node)
            let condition = check.condition(f["when"], "\(path).when", required: true, parent: node)
            let lines = moodLines(f["lines"], "\(path).lines", r)
            if lines.isEmpty { r.report(node, "\(path).lines", "missing: the caller's last words") }
            if let kind, let condition {
                outcomes.append(OutcomeRule(kind: kind, condition: condition, phases: r.strings(f["phases"], "\(path).phases") ?? [], lines: lines))
            }
        }

        // Phases.
        var phases: [Phase] = []
        let phaseNodes = r.sequence(top["phases"], "phases") ?? []
        if top["phases"] == nil { r.report(root, "phases", "missing") }
        if top["phases"] != nil && phaseNodes.isEmpty { r.report(top["phases"], "phases", "a scenario needs at least one phase") }
        for (index, node) in phaseNodes.enumerated() {
            if let phase = parsePhase(node, index: index, r, check) { phases.append(phase) }
        }
        var seen: Set<String> = []
        for phase in phases where !seen.insert(phase.id).inserted {
            r.report(line: phase.line, "phases.\(phase.id)", "duplicate phase id")
        }
        if let first = phases.first, first.lines.isEmpty {
            r.report(line: first.line, "phases.\(first.id).lines", "the first phase needs lines: the caller speaks first")
        }
        for phase in phases {
            for transition in phase.transitions {
                if case let .phase(target) = transition.target, !seen.contains(target) {
                    r.report(line: transition.line, "phases.\(phase.id).next.to", "unknown phase '\(target)'")
                }
            }
        }
        for rule in outcomes {
            for name in rule.phases where !seen.contains(name) {
                r.report(line: 0, "outcomes.phases", "unknown phase '\(name)'")
            }
        }
        reportUnreachable(phases, r)

        // Every call must be able to end well and badly.
        let agreeReachable = outcomes.contains { $0.kind == .agree }
            || phases.contains { $0.transitions.contains { $0.target == .outcome(.agree) } }
        let failReachable = outcomes.contains { $0.kind == .hangUp || $0.kind == .escalate }
            || phases.contains { $0.transitions.contains { $0.target == .outcome(.hangUp) || $0.target == .outcome(.escalate) } }
        if top["phases"] != nil || top["outcomes"] != nil {
            if !agreeReachable { r.report(top["outcomes"] ?? root, "outcomes", "missing outcome: nothing leads to agree") }
            if !failReachable { r.report(top["outcomes"] ?? root, "outcomes", "missing outcome: nothing leads to hang_up or escalate") }
        }

        let rubric = parseRubric(top["rubric"], r, check, root: root)

        guard r.problems.isEmpty, let persona, let rubric, let (deadAir, hangUpAfter, monologue, interrupted, repeated, unclear) = triggers else {
            return (nil, r.problems)
        }
        let scenario = Scenario(
            id: id, title: title, file: document.file, persona: persona, meters: meters,
            irritatedAt: irritatedAt, furiousAt: furiousAt, heardAfter: heardAfter, outcomes: outcomes,
            phases: phases,
            triggers: Triggers(deadAir: deadAir, deadAirHangUpAfter: hangUpAfter, monologue: monologue,
                               interrupted: interrupted, repeated: repeated, unclear: unclear ?? Triggers.defaultUnclear),
            effects: effects, reactions: reactions, maxTurns: maxTurns, rubric: rubric, moves: moves)
        // A line that waits on a move the scenario does not know would wait forever.
        for (_, lines) in scenario.allLines {
            for (text, note) in lines.notes.sorted(by: { $0.value.line < $1.value.line }) {
                for (key, conditions) in [("when", note.when), ("unless", note.unless)] {
                    for case let .made(move) in conditions where moves[move] == nil {
                        r.report(line: note.line, "\(note.field).\(key)", "unknown move '\(move)' in the condition of '\(text)'")
                    }
                }
                for move in note.asks where moves[move] == nil {
                    r.report(line: note.line, "\(note.field).asks", "unknown move '\(move)' asked for in '\(text)'")
                }
            }
        }
        if !r.problems.isEmpty { return (nil, r.problems) }
        return (scenario, [])
    }

    // MARK: - Parts

    private func parsePhase(_ node: Node, index: Int, _ r: NodeReader, _ check: Checker) -> Phase? {
        let allowed: Set<String> = ["id", "lines", "expects", "effects", "reactions", "idle", "next", "waiting_for"]
        guard let f = r.fields(node, "phases[\(index)]", allowed: allowed) else { return nil }
        guard let id = r.string(f["id"], "phases[\(index)].id", required: true, parent: node) else { return nil }
        let path = "phases.\(id)"
        let expects = r.strings(f["expects"], "\(path).expects") ?? []
        for move in expects { check.move(move, node: f["expects"], "\(path).expects") }
        var effects: [String: MeterDeltas] = [:]
        for (move, keyNode, value) in r.mapping(f["effects"], "\(path).effects") ?? [] {
            check.move(move, node: keyNode, "\(path).effects.\(move)")
            effects[move] = parseDeltas(value, "\(path).effects.\(move)", reader: r)
            check.deltas(effects[move]!, node: value, "\(path).effects.\(move)")
        }
        var reactions: [String: MoodLines] = [:]
        for (move, keyNode, value) in r.mapping(f["reactions"], "\(path).reactions") ?? [] {
            check.move(move, node: keyNode, "\(path).reactions.\(move)")
            reactions[move] = moodLines(value, "\(path).reactions.\(move)", r)
        }
        var transitions: [Transition] = []
        for (t, tn) in (r.sequence(f["next"], "\(path).next") ?? []).enumerated() {
            let tp = "\(path).next[\(t)]"
            guard let tf = r.fields(tn, tp, allowed: ["on", "when", "to", "outcome", "lines"]) else { continue }
            let on = r.strings(tf["on"], "\(tp).on") ?? []
            for move in on { check.move(move, node: tf["on"], "\(tp).on") }
            let condition = check.condition(tf["when"], "\(tp).when")
            let target: Transition.Target?
            switch (tf["to"], tf["outcome"]) {
            case let (to?, nil): target = r.string(to, "\(tp).to", required: true).map { .phase($0) }
            case let (nil, outcome?): target = outcomeKind(outcome, "\(tp).outcome", r, parent: tn).map { .outcome($0) }
            case (.some, .some):
                r.report(tn, tp, "give either to (a phase) or outcome, not both"); target = nil
            case (nil, nil):
                r.report(tn, tp, "missing to (a phase) or outcome"); target = nil
            }
            if let target {
                transitions.append(Transition(onMoves: on, condition: condition, target: target,
                                              lines: moodLines(tf["lines"], "\(tp).lines", r), line: r.line(tn)))
            }
        }
        var waitingFor: WaitingFor?
        if let wn = f["waiting_for"], let wf = r.fields(wn, "\(path).waiting_for", allowed: ["need", "say"]) {
            let need = r.string(wf["need"], "\(path).waiting_for.need", required: true, parent: wn)
            let say = MoveLibrary.alternatives(wf["say"], field: "\(path).waiting_for.say", reader: r)
            if wf["say"] == nil { r.report(wn, "\(path).waiting_for.say", "missing: lines a skilled agent could say here, by move") }
            for alternative in say {
                let field = "\(path).waiting_for.say.\(alternative.move)"
                guard let move = check.moves[alternative.move] else {
                    r.report(line: alternative.line, field, "unknown move '\(alternative.move)'")
                    continue
                }
                if move.hurts { r.report(line: alternative.line, field, "'\(move.id)' hurts the call; name a move that helps") }
            }
            if let need { waitingFor = WaitingFor(need: need, say: say, line: r.line(wn)) }
        }
        return Phase(id: id, lines: moodLines(f["lines"], "\(path).lines", r), expects: expects, effects: effects,
                     reactions: reactions, idle: moodLines(f["idle"], "\(path).idle", r), transitions: transitions,
                     line: r.line(node), waitingFor: waitingFor)
    }

    private func reportUnreachable(_ phases: [Phase], _ r: NodeReader) {
        guard let first = phases.first else { return }
        var reached: Set<String> = [first.id]
        var frontier = [first.id]
        while let id = frontier.popLast() {
            guard let phase = phases.first(where: { $0.id == id }) else { continue }
            for transition in phase.transitions {
                if case let .phase(next) = transition.target, reached.insert(next).inserted { frontier.append(next) }
            }
        }
        for phase in phases where !reached.contains(phase.id) {
            r.report(line: phase.line, "phases.\(phase.id)", "unreachable phase: no transition leads here from '\(first.id)'")
        }
    }

    private typealias ParsedTriggers = (Trigger?, Int, Trigger?, Trigger?, Trigger?, Trigger?)

    private func parseTriggers(_ node: Node?, _ r: NodeReader, _ check: Checker) -> ParsedTriggers? {
        guard let node else { return (nil, 3, nil, nil, nil, nil) }
        let problemsBefore = r.problems.count
        guard let f = r.fields(node, "triggers", allowed: ["dead_air", "monologue", "interrupted", "repeated", "unclear"]) else { return nil }
        var hangUpAfter = 3
        func trigger(_ key: String, afterField: String?, range: ClosedRange<Double>, linesRequired: Bool = true) -> Trigger? {
            guard let tn = f[key] else { return nil }
            var allowed: Set<String> = ["lines", "effect"]
            if let afterField { allowed.insert(afterField) }
            if key == "dead_air" { allowed.insert("hang_up_after") }
            guard let tf = r.fields(tn, "triggers.\(key)", allowed: allowed) else { return nil }
            let after = afterField.flatMap { r.number(tf[$0], "triggers.\(key).\($0)", required: true, parent: tn, range: range) } ?? 0
            if key == "dead_air" {
                hangUpAfter = Int(r.number(tf["hang_up_after"], "triggers.dead_air.hang_up_after", range: 1...10) ?? 3)
            }
            let lines = moodLines(tf["lines"], "triggers.\(key).lines", r)
            if lines.isEmpty && linesRequired { r.report(tn, "triggers.\(key).lines", "missing: what the caller says when it fires") }
            let effect = parseDeltas(tf["effect"], "triggers.\(key).effect", reader: r)
            check.deltas(effect, node: tf["effect"], "triggers.\(key).effect")
            return Trigger(after: after, lines: lines, effect: effect)
        }
        let deadAir = trigger("dead_air", afterField: "after", range: 1...120)
        let monologue = trigger("monologue", afterField: "after", range: 3...300)
        // A caller who yields when talked over stops and says nothing: `interrupted` may have an effect alone.
        let interrupted = trigger("interrupted", afterField: nil, range: 0...0, linesRequired: false)
        let repeated = trigger("repeated", afterField: "count", range: 2...10)
        let unclear = trigger("unclear", afterField: nil, range: 0...0)
        if r.problems.count > problemsBefore { return nil }
        return (deadAir, hangUpAfter, monologue, interrupted, repeated, unclear)
    }

    private func parseRubric(_ node: Node?, _ r: NodeReader, _ check: Checker, root: Node) -> Rubric? {
        guard let node else { r.report(root, "rubric", "missing"); return nil }
        guard let f = r.fields(node, "rubric", allowed: ["pass_mark", "criteria"]) else { return nil }
        let passMark = r.number(f["pass_mark"], "rubric.pass_mark", required: true, parent: node, range: 0...100) ?? 0
        var criteria: [Criterion] = []
        let nodes = r.sequence(f["criteria"], "rubric.criteria") ?? []
        if nodes.isEmpty { r.report(node, "rubric.criteria", "a rubric needs at least one criterion") }
        let evidenceKinds: Set<String> = ["move", "count", "within_s", "any_move", "first", "before", "absent", "outcome", "meters", "no_triggers"]
        for (index, cn) in nodes.enumerated() {
            guard let cf = r.fields(cn, "rubric.criteria[\(index)]", allowed: ["id", "title", "weight", "evidence"]) else { continue }
            guard let id = r.string(cf["id"], "rubric.criteria[\(index)].id", required: true, parent: cn) else { continue }
            let path = "rubric.\(id)"
            let title = r.string(cf["title"], "\(path).title", required: true, parent: cn) ?? id
            let weight = r.number(cf["weight"], "\(path).weight", required: true, parent: cn, range: 0.1...100) ?? 0
            guard let ef = r.fields(cf["evidence"], "\(path).evidence", allowed: evidenceKinds) else {
                if cf["evidence"] == nil { r.report(cn, "\(path).evidence", "missing: say what counts") }
                continue
            }
            let ep = "\(path).evidence"
            var evidence: Evidence?
            if let moveNode = ef["move"], let move = r.string(moveNode, "\(ep).move") {
                check.move(move, node: moveNode, "\(ep).move")
                let count = Int(r.number(ef["count"], "\(ep).count", range: 1...50) ?? 1)
                evidence = .move(move, count: count, withinSeconds: r.number(ef["within_s"], "\(ep).within_s", range: 1...3600))
            } else if let any = r.strings(ef["any_move"], "\(ep).any_move") {
                for move in any { check.move(move, node: ef["any_move"], "\(ep).any_move") }
                evidence = .anyMove(any)
            } else if let firstNode = ef["first"], let first = r.string(firstNode, "\(ep).first") {
                check.move(first, node: firstNode, "\(ep).first")
                let before = r.strings(ef["before"], "\(ep).before") ?? []
                if before.isEmpty { r.report(firstNode, "\(ep).before", "missing: the moves that must come later") }
                for move in before { check.move(move, node: ef["before"], "\(ep).before") }
                evidence = .order(first: first, before: before)
            } else if let absent = r.strings(ef["absent"], "\(ep).absent") {
                for move in absent { check.move(move, node: ef["absent"], "\(ep).absent") }
                evidence = .absent(absent)
            } else if let kinds = r.strings(ef["outcome"], "\(ep).outcome") {
                var outcomes: [OutcomeKind] = []
                for kind in kinds {
                    if let k = OutcomeKind(rawValue: kind) { outcomes.append(k) } else {
                        r.report(ef["outcome"], "\(ep).outcome", "unknown outcome '\(kind)'")
                    }
                }
                evidence = .outcome(outcomes)
            } else if ef["meters"] != nil, let condition = check.condition(ef["meters"], "\(ep).meters") {
                evidence = .finalMeters(condition)
            } else if let names = r.strings(ef["no_triggers"], "\(ep).no_triggers") {
                var kinds: [TriggerKind] = []
                for name in names {
                    if let k = TriggerKind(rawValue: name) { kinds.append(k) } else {
                        r.report(ef["no_triggers"], "\(ep).no_triggers", "unknown trigger '\(name)'")
                    }
                }
                evidence = .noTriggers(kinds)
            } else if !r.problems.contains(where: { $0.field.hasPrefix(ep) }) {
                r.report(cf["evidence"], ep, "needs one of move, any_move, first/before, absent, outcome, meters, no_triggers")
            }
            if let evidence {
                if criteria.contains(where: { $0.id == id }) { r.report(cn, path, "duplicate criterion id") }
                criteria.append(Criterion(id: id, title: title, weight: weight, evidence: evidence, line: r.line(cn)))
            }
        }
        return Rubric(passMark: passMark, criteria: criteria)
    }

    private func outcomeKind(_ node: Node?, _ field: String, _ r: NodeReader, parent: Node) -> OutcomeKind? {
        guard let text = r.string(node, field, required: true, parent: parent) else { return nil }
        guard let kind = OutcomeKind(rawValue: text), kind == .agree || kind == .hangUp || kind == .escalate else {
            r.report(node, field, "unknown outcome '\(text)' (expected agree, hang_up or escalate)")
            return nil
        }
        return kind
    }

    /// Lines as a list (any mood) or a mapping by mood. A line is a text, or
    /// `{say: TEXT, when: CONDITIONS, unless: CONDITIONS, refrain: BOOL, asks: MOVES}` where a
    /// condition is `made(MOVE)` or `known(amount|day|time|name)` (a text or a list), and
    /// `asks` names the moves the line asks the agent for (a move or a list).
    private func moodLines(_ node: Node?, _ field: String, _ r: NodeReader) -> MoodLines {
        guard let node else { return MoodLines() }
        var notes: [String: LineNote] = [:]
        var lineNumbers: [String: Int] = [:]
        func lines(_ node: Node, _ field: String) -> [String] {
            if case .scalar = node {
                guard let text = r.string(node, field) else { return [] }
                lineNumbers[text] = lineNumbers[text] ?? r.line(node)
                return [text]
            }
            guard let items = r.sequence(node, field) else { return [] }
            var result: [String] = []
            for (index, item) in items.enumerated() {
                let path = "\(field)[\(index)]"
                guard case .mapping = item else {
                    if let text = r.string(item, path, required: true) {
                        result.append(text)
                        lineNumbers[text] = lineNumbers[text] ?? r.line(item)
                    }
                    continue
                }
                guard let f = r.fields(item, path, allowed: ["say", "when", "unless", "refrain", "asks"]),
                      let text = r.string(f["say"], "\(path).say", required: true, parent: item) else { continue }
                func conditions(_ key: String) -> [LineCondition] {
                    (r.strings(f[key], "\(path).\(key)") ?? []).compactMap { written in
                        if let condition = LineCondition.parse(written) { return condition }
                        r.report(f[key], "\(path).\(key)", "'\(written)' is not made(MOVE) or known(amount|day|time|name)")
                        return nil
                    }
                }
                notes[text] = LineNote(when: conditions("when"), unless: conditions("unless"),
                                       refrain: r.bool(f["refrain"], "\(path).refrain") ?? false,
                                       asks: r.strings(f["asks"], "\(path).asks") ?? [], line: r.line(item), field: path)
                result.append(text)
                lineNumbers[text] = lineNumbers[text] ?? r.line(item)
            }
            for text in result {
                for name in CallMemory.placeholderNames(in: text) where MemorySlot(rawValue: name) == nil {
                    r.report(node, field, "'{\(name)}' in '\(text)' is not a detail the caller remembers (amount, day, time, name)")
                }
            }
            return result
        }
        if case .mapping = node {
            var result: [MoodBand: [String]] = [:]
            for (name, keyNode, value) in r.mapping(node, field) ?? [] {
                guard let band = MoodBand(rawValue: name) else {
                    r.report(keyNode, "\(field).\(name)", "unknown mood (expected calm, irritated or furious)")
                    continue
                }
                result[band] = lines(value, "\(field).\(name)")
            }
            var moodLines = MoodLines(result, notes: notes)
            moodLines.lineNumbers = lineNumbers
            return moodLines
        }
        var moodLines = MoodLines([.calm: lines(node, field)], notes: notes)
        moodLines.lineNumbers = lineNumbers
        return moodLines
    }
}

/// Checks references (moves, meters) and conditions against what the scenario defines.
private final class Checker {
    let reader: NodeReader
    let moves: MoveLibrary
    var meters: Set<String> = []

    init(reader: NodeReader, moves: MoveLibrary) {
        self.reader = reader
        self.moves = moves
    }

    func move(_ id: String, node: Node?, _ field: String) {
        if moves[id] == nil { reader.report(node, field, "unknown move '\(id)'") }
    }

    func deltas(_ deltas: MeterDeltas, node: Node?, line: Int? = nil, _ field: String) {
        for meter in deltas.keys.sorted() where !meters.contains(meter) {
            if let line { reader.report(line: line, "\(field).\(meter)", "unknown meter '\(meter)'") }
            else { reader.report(node, "\(field).\(meter)", "unknown meter '\(meter)'") }
        }
    }

    func condition(_ node: Node?, _ field: String, required: Bool = false, parent: Node? = nil) -> Condition? {
        guard let text = reader.string(node, field, required: required, parent: parent) else { return nil }
        switch Condition.parse(text) {
        case let .failure(error):
            reader.report(node, field, error.message)
            return nil
        case let .success(condition):
            for meter in condition.meters where !meters.contains(meter) {
                reader.report(node, field, "unknown meter '\(meter)'")
            }
            return condition
        }
    }
}
