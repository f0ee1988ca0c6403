import Foundation

/// Caller lines that could contradict what happened in a call.
///
/// A line that says the agent has not done something ("You haven't even asked
/// what I can pay", "Nobody has said sorry") is wrong once the agent has done
/// it. Such a line is found by reading what it says the agent did not do
/// ("you … not", "nobody …"), without the negation, with the scenario's own
/// move recognizer: if those words make a move that helps the caller and the
/// line is not kept for calls without that move (`unless: made(MOVE)`), it is
/// reported, as a warning, at its line.
public enum ScenarioLint {
    public struct Warning: Sendable, Equatable, CustomStringConvertible {
        public var file: String
        public var line: Int
        public var place: String
        public var text: String
        public var move: String

        public var description: String {
            "\(file):\(line): \(place): warning: \"\(text)\" says the agent has not made \(move); "
                + "add `unless: made(\(move))` so it is never said after they have"
        }
    }

    /// Lines no call can reach. One `file:line: field: warning: …` line each.
    /// - what a caller who yields when talked over would say on being interrupted (it stops and
    ///   lets the agent speak);
    /// - the first phase's lines for a mood the call never opens in: they are said when the call
    ///   opens, at the starting meters of its difficulty (a retry opens with the line said before
    ///   instead), unless a transition leads back to that phase.
    public static func unreachable(in scenario: Scenario) -> [String] {
        var warnings: [String] = []
        if scenario.persona.bargeIn == .yields, let lines = scenario.triggers.interrupted?.lines,
           let first = lines.texts.first {
            warnings.append("\(scenario.file):\(lines.lineNumbers[first] ?? 0): triggers.interrupted.lines: warning: never said: the caller "
                            + "yields when talked over (persona.barge_in: yields), stops and lets the agent speak; keep only the effect")
        }
        if let opening = scenario.phases.first,
           !scenario.phases.contains(where: { $0.transitions.contains { $0.target == .phase(opening.id) } }) {
            let starts = Difficulty.allCases.map { ($0, scenario.at($0).startingMeters["anger"] ?? 0) }
            let opens = Set(starts.map { scenario.mood(["anger": $0.1]) })
            let how = starts.map { "\(Int($0.1.rounded())) \($0.0.rawValue)" }.joined(separator: ", ")
            for band in MoodBand.allCases where !opens.contains(band) {
                guard let text = opening.lines.byMood[band]?.first else { continue }
                warnings.append("\(scenario.file):\(opening.lines.lineNumbers[text] ?? opening.line): phases.\(opening.id).lines.\(band.rawValue): "
                                + "warning: never said: the call opens \(opens.map(\.rawValue).sorted().joined(separator: " or ")) "
                                + "at every difficulty (anger \(how))")
            }
        }
        return warnings
    }

    /// Phases that do not say what the caller waits for: the debrief can only offer the move
    /// library's general lines there. One `file:line: field: warning: …` line each.
    public static func adviceGaps(in scenario: Scenario) -> [String] {
        scenario.phases.filter { $0.waitingFor == nil }.map { phase in
            "\(scenario.file):\(phase.line): phases.\(phase.id).waiting_for: warning: missing; the debrief can only offer "
                + "the move library's general lines for this phase"
        }
    }

    /// Agreement lines that name an amount, day or time outright. The caller's last word sums up
    /// what was agreed; a detail written into it ("Monday morning", "one fifty a month") is one the
    /// agent may never have said, and the caller would agree to a deal nobody offered. Such a
    /// detail is echoed from the agent's words (`{day}`, said only once one is `known(day)`) or
    /// left out. The line's text outside its `{…}` markers is read the way the agent's words are
    /// (`CallMemory.details`). One `file:line: field: warning: …` line each.
    public static func assumedDetails(in scenario: Scenario) -> [String] {
        var places: [(field: String, lines: MoodLines)] = []
        for phase in scenario.phases {
            for transition in phase.transitions where transition.target == .outcome(.agree) {
                places.append(("phases.\(phase.id).next", transition.lines))
            }
        }
        for rule in scenario.outcomes where rule.kind == .agree { places.append(("outcomes.agree", rule.lines)) }
        var warnings: [String] = []
        for (field, lines) in places {
            for text in lines.texts {
                let written = CallMemory.pieces(of: text).filter { $0.name == nil }.map(\.text).joined(separator: " ")
                let found = CallMemory.details(in: written)
                guard !found.isEmpty else { continue }
                let named = found.map { "\"\($0.1)\" (\($0.0 == .amount ? "an" : "a") \($0.0.rawValue))" }.joined(separator: ", ")
                var kinds: [String] = []
                for (slot, _) in found where !kinds.contains(slot.rawValue) { kinds.append(slot.rawValue) }
                warnings.append("\(scenario.file):\(lines.lineNumbers[text] ?? 0): \(field): warning: \"\(text)\" names \(named), which the agent "
                                + "may never have said; echo the agent's words (\(kinds.map { "{\($0)} with `when: known(\($0))`" }.joined(separator: ", "))) or leave it out")
            }
        }
        return warnings
    }

    /// How many examples a scenario's own move needs to be heard in other words. On held-out lines the
    /// shipped scenarios' own moves were missed in 74 % of the lines that make them with 8–16 examples
    /// each, in 29 % with 20–31 (`sparring moves eval --scenario-moves`).
    public static let enoughExamples = 20

    /// The scenario's own moves with fewer than `enoughExamples` examples. One `file:line: field: warning: …` line each.
    public static func fewExamples(in scenario: Scenario) -> [String] {
        scenario.ownMoves.filter { $0.examples.count < enoughExamples }.map { move in
            "\(scenario.file):\(move.line): moves.\(move.id).examples: warning: \(move.examples.count) of them; a move with fewer than "
                + "\(enoughExamples), in different words and sentence shapes, is often not heard when an agent says it in their own words"
        }
    }

    public static func contradictions(in scenario: Scenario) -> [Warning] {
        let recognizer = MoveRecognizer.make(scenario.moves)
        let helping = Set(scenario.moves.all.filter { !$0.angersCaller }.map(\.id))
        var warnings: [Warning] = []
        for (place, lines) in scenario.allLines {
            for text in lines.texts {
                var claimed: Set<String> = []
                // A denial names one thing the agent did not do: the move heard surest in it.
                for claim in claims(in: text) {
                    if let surest = recognizer.recognize([HeardHypothesis(words: claim)]).max(by: { $0.confidence < $1.confidence }) {
                        claimed.insert(surest.move)
                    }
                }
                claimed.formIntersection(helping)
                let note = lines.notes[text]
                for case let .made(move) in note?.unless ?? [] { claimed.remove(move) }
                for move in claimed.sorted() {
                    warnings.append(Warning(file: scenario.file, line: lines.lineNumbers[text] ?? 0,
                                            place: place, text: text, move: move))
                }
            }
        }
        return warnings
    }

    /// What a line says the agent has not done, as the agent would have done it: in each sentence
    /// where "you" (within three words, with an auxiliary: "you haven't", "you didn't", or "you
    /// never") or "nobody"/"no one" is the subject of a negation, the clause from that subject on
    /// without its negation, turned into the agent's words: the caller's "I" is the agent's "you"
    /// ("Nobody asked me what I can do." → "asked you what you can do"; "Sorry, before that… you
    /// haven't asked what I can manage." → "i have asked what you can manage": the caller's own
    /// "sorry" before it is not the agent's).
    static func claims(in text: String) -> [[String]] {
        var result: [[String]] = []
        for sentence in text.split(whereSeparator: { ".!?;".contains($0) }) {
            let words = Words.normalize(String(sentence))
            guard let index = words.firstIndex(where: MoveText.negators.contains) else { continue }
            let nobody = words[index] == "nobody" || words[index] == "noone"
                || (words[index] == "no" && words.indices.contains(index + 1) && words[index + 1] == "one")
            // "you have not asked", "you never said": a verb of the agent's denied; "I appreciate
            // you not making excuses" praises, and is not a denial.
            let auxiliary = index > 0 && Self.auxiliaries.contains(words[index - 1])
            let subject = words[max(0, index - 3)..<index].lastIndex(of: "you")
            let you = subject != nil && (auxiliary || words[index] == "never")
            guard nobody || you else { continue }
            let rest = words[(index + 1)...].drop { $0 == "one" && nobody }
            let before = you ? Array(words[subject!..<index]) : []
            let claim = before + rest.filter { !MoveText.negators.contains($0) && $0 != "even" && $0 != "once" }
            if !claim.isEmpty { result.append(claim.enumerated().map { $0 == 0 && $1 == "you" ? "i" : Self.agentsWord[$1] ?? $1 }) }
        }
        return result
    }

    /// The caller's words for the two speakers, as the agent says them.
    static let agentsWord = ["i": "you", "me": "you", "my": "your", "mine": "yours", "myself": "yourself", "am": "are",
                             "you": "me", "your": "my", "yours": "mine", "yourself": "myself"]

    static let auxiliaries: Set<String> = ["have", "has", "had", "did", "do", "does", "are", "were", "was", "will", "would", "can", "could"]
}
