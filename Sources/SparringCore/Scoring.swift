/// A call's score against its scenario's rubric, each criterion with the evidence it rests on.
public struct Score: Sendable, Codable, Equatable {
    public var total: Double
    public var passed: Bool
    public var passMark: Double
    public var criteria: [String: CriterionResult]
    /// Criterion ids in rubric order, for printing.
    public var order: [String]

    enum CodingKeys: String, CodingKey { case total, passed, passMark = "pass_mark", criteria, order }

    public init(total: Double, passed: Bool, passMark: Double, criteria: [String: CriterionResult], order: [String]) {
        self.total = total
        self.passed = passed
        self.passMark = passMark
        self.criteria = criteria
        self.order = order
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        total = try c.decode(Double.self, forKey: .total)
        passed = try c.decode(Bool.self, forKey: .passed)
        passMark = try c.decode(Double.self, forKey: .passMark)
        criteria = try c.decode([String: CriterionResult].self, forKey: .criteria)
        // Summaries written before the rubric order was kept list criteria by id.
        order = (try c.decodeIfPresent([String].self, forKey: .order)) ?? criteria.keys.sorted()
    }
}

public struct CriterionResult: Sendable, Codable, Equatable {
    public var title: String
    public var weight: Double
    public var passed: Bool
    /// Why, in a sentence.
    public var note: String
    /// The moments that decided it: times and the words said.
    public var evidence: [EvidenceItem]
}

public struct EvidenceItem: Sendable, Codable, Equatable {
    public var t: CallTime
    public var text: String
}

public enum Scorer {
    public static func score(_ scenario: Scenario, _ record: CallRecord) -> Score {
        var results: [String: CriterionResult] = [:]
        var earned = 0.0, possible = 0.0
        for criterion in scenario.rubric.criteria {
            let (passed, note, evidence) = judge(criterion.evidence, scenario, record)
            results[criterion.id] = CriterionResult(title: criterion.title, weight: criterion.weight, passed: passed,
                                                    note: note, evidence: evidence)
            possible += criterion.weight
            if passed { earned += criterion.weight }
        }
        let total = possible > 0 ? (earned / possible * 1000).rounded() / 10 : 0
        return Score(total: total, passed: total >= scenario.rubric.passMark, passMark: scenario.rubric.passMark,
                     criteria: results, order: scenario.rubric.criteria.map(\.id))
    }

    private static func item(_ u: UtteranceRecord, _ move: String) -> EvidenceItem {
        let words = u.moves.first { $0.move == move }?.words ?? u.text
        return EvidenceItem(t: u.start, text: "\(move): \"\(words)\"")
    }

    private static func judge(_ evidence: Evidence, _ scenario: Scenario, _ record: CallRecord)
        -> (Bool, String, [EvidenceItem]) {
        let name = { (id: String) in scenario.moves[id]?.title ?? id }
        switch evidence {
        case let .move(move, count, within):
            var found = record.occurrences(of: move)
            if let within { found = found.filter { $0.start.seconds <= within } }
            let items = found.map { item($0, move) }
            let when = within.map { " within \(format($0)) s" } ?? ""
            return (found.count >= count, "\(name(move))\(when): \(found.count) of \(count) needed", items)
        case let .anyMove(moves):
            let found = record.utterances.filter { u in u.moves.contains { moves.contains($0.move) } }
            let items = found.compactMap { u in u.moves.first { moves.contains($0.move) }.map { item(u, $0.move) } }
            return (!found.isEmpty, found.isEmpty ? "none of \(moves.map(name).joined(separator: ", "))" : "made \(found.count) time(s)", items)
        case let .order(first, before):
            let firstAt = record.occurrences(of: first).first
            let laterAt = record.utterances.first { u in u.moves.contains { before.contains($0.move) } }
            var items: [EvidenceItem] = []
            if let firstAt { items.append(item(firstAt, first)) }
            if let laterAt, let hit = laterAt.moves.first(where: { before.contains($0.move) }) { items.append(item(laterAt, hit.move)) }
            guard let firstAt else { return (false, "\(name(first)) never came", items) }
            if let laterAt, laterAt.start < firstAt.start {
                let early = laterAt.moves.map(\.move).filter(before.contains).map(name).joined(separator: ", ")
                return (false, "\(early) came before \(name(first))", items)
            }
            return (true, "\(name(first)) came first", items)
        case let .absent(moves):
            var items: [EvidenceItem] = []
            for u in record.utterances {
                for hit in u.moves where moves.contains(hit.move) { items.append(item(u, hit.move)) }
            }
            return (items.isEmpty, items.isEmpty ? "none made" : "\(items.count) time(s)", items)
        case let .outcome(kinds):
            let outcome = record.outcome?.rawValue ?? "none"
            let items = record.endedAt.map { [EvidenceItem(t: $0, text: "outcome: \(outcome)")] } ?? []
            return (record.outcome.map(kinds.contains) ?? false, "ended: \(outcome)", items)
        case let .finalMeters(condition):
            let last = record.moods.last?.meters ?? [:]
            let values = condition.meters.map { "\($0) \(Int((last[$0] ?? 0).rounded()))" }.joined(separator: ", ")
            let items = record.moods.last.map { [EvidenceItem(t: $0.t, text: values)] } ?? []
            return (condition.holds(last), "at the end \(values) (needed \(condition))", items)
        case let .noTriggers(kinds):
            let fired = record.triggers.filter { kinds.contains($0.kind) }
            return (fired.isEmpty, fired.isEmpty ? "none fired" : "\(fired.count) fired",
                    fired.map { EvidenceItem(t: $0.t, text: $0.kind.rawValue) })
        }
    }
}
