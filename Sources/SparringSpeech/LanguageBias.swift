import Foundation
import SparringCore

/// A small bigram language model of what is likely said in one scenario.
///
/// Interpolated with PocketSphinx's generic English model, it makes the words
/// of the moves (and of the caller's situation, which agents echo) likelier, so
/// move recognition holds on real and synthetic speech. Written as ARPA text
/// with absolute discounting (D = 0.5) and back-off weights that make every
/// distribution sum to one. Written here rather than taken from a toolkit:
/// Debian ships no LM builder library, and the model is a few hundred words.
public struct LanguageBias: Sendable {
    public var sentences: [[String]]

    public init(sentences: [String]) {
        self.sentences = sentences.map(Words.normalize).filter { !$0.isEmpty }
    }

    /// The same model over only the words `knows` accepts (what the recognizer can spell).
    public func keeping(_ knows: (String) -> Bool) -> LanguageBias {
        var kept = self
        kept.sentences = sentences.map { $0.filter(knows) }.filter { !$0.isEmpty }
        return kept
    }

    /// What agents are likely to say with these moves: their phrases and examples.
    public static func text(for library: MoveLibrary) -> [String] {
        library.all.flatMap { $0.phrases.map(\.description) + $0.examples }
    }

    /// What agents in this scenario are likely to say: every move's phrases and examples, and
    /// the caller's situation and lines (agents name the caller's problem back).
    public static func text(for scenario: Scenario) -> [String] {
        var text = Self.text(for: scenario.moves)
        text += scenario.persona.situation.split(whereSeparator: { ".!?".contains($0) }).map(String.init)
        func add(_ lines: MoodLines) { text += lines.byMood.values.flatMap { $0 } }
        for phase in scenario.phases {
            add(phase.lines); add(phase.idle)
            phase.reactions.values.forEach(add)
            phase.transitions.forEach { add($0.lines) }
        }
        scenario.outcomes.forEach { add($0.lines) }
        return text
    }

    public var arpa: String {
        let discount = 0.5
        var unigram: [String: Double] = [:]
        var bigram: [String: [String: Double]] = [:]
        for sentence in sentences {
            let tokens = ["<s>"] + sentence + ["</s>"]
            for token in tokens.dropFirst() { unigram[token, default: 0] += 1 }
            for (a, b) in zip(tokens, tokens.dropFirst()) { bigram[a, default: [:]][b, default: 0] += 1 }
        }
        let vocabulary = unigram.keys.sorted()
        let total = unigram.values.reduce(0, +)
        // Add-one unigrams over the vocabulary.
        var p1: [String: Double] = [:]
        for word in vocabulary { p1[word] = (unigram[word]! + 1) / (total + Double(vocabulary.count)) }
        var backoff: [String: Double] = [:]
        var lines2: [String] = []
        for history in (["<s>"] + vocabulary) where bigram[history] != nil {
            let followers = bigram[history]!
            let count = followers.values.reduce(0, +)
            var seenMass = 0.0
            for (word, c) in followers.sorted(by: { $0.key < $1.key }) {
                let p = (c - discount) / count
                lines2.append(String(format: "%.5f %@ %@", log10(p), history, word))
                seenMass += p1[word] ?? 0
            }
            let left = discount * Double(followers.count) / count
            backoff[history] = left / max(1e-9, 1 - seenMass)
        }
        var out = "\\data\\\nngram 1=\(vocabulary.count + 1)\nngram 2=\(lines2.count)\n\n\\1-grams:\n"
        out += String(format: "-99.00000 <s> %.5f\n", log10(backoff["<s>"] ?? 1))
        for word in vocabulary {
            if word == "</s>" { out += String(format: "%.5f </s>\n", log10(p1[word]!)); continue }
            out += String(format: "%.5f %@ %.5f\n", log10(p1[word]!), word, log10(backoff[word] ?? 1))
        }
        out += "\n\\2-grams:\n" + lines2.joined(separator: "\n") + "\n\n\\end\\\n"
        return out
    }
}
