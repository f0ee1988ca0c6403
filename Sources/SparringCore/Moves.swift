import Foundation
import Yams

/// Change to the caller's meters, by meter name ("anger": +8).
public typealias MeterDeltas = [String: Double]

/// Something an agent does in a call that the caller reacts to: greeting, empathy, "calm down".
public struct AgentMove: Sendable, Equatable {
    public var id: String
    public var title: String
    public var description: String
    /// Word groups that carry the move; several, because people say it many ways.
    public var phrases: [Phrase]
    /// Effect on the caller's meters wherever a scenario or phase does not say otherwise.
    public var effect: MeterDeltas
    /// A move that makes the caller feel heard (empathy, open question, summary).
    public var makesHeard: Bool
    /// A move that lands badly before the caller feels heard (solutions, facts).
    public var needsHeard: Bool
    /// Effect instead of `effect` when `needsHeard` and the caller does not feel heard yet.
    public var prematureEffect: MeterDeltas
    /// Line in the file that defined it, for problems about it.
    public var line: Int
    public var file: String

    public init(id: String, title: String, description: String = "", phrases: [Phrase], effect: MeterDeltas,
                makesHeard: Bool = false, needsHeard: Bool = false, prematureEffect: MeterDeltas = [:],
                file: String = "", line: Int = 0) {
        self.id = id
        self.title = title
        self.description = description
        self.phrases = phrases
        self.effect = effect
        self.makesHeard = makesHeard
        self.needsHeard = needsHeard
        self.prematureEffect = prematureEffect
        self.file = file
        self.line = line
    }
}

/// A normalized word group such as "nothing i can do".
public struct Phrase: Sendable, Equatable, CustomStringConvertible {
    public var words: [String]
    public init(_ text: String) { words = Words.normalize(text) }
    public var description: String { words.joined(separator: " ") }
}

/// Where and how a move was heard in an utterance: the evidence a score cites.
public struct MoveHit: Sendable, Equatable, Codable {
    public var move: String
    public var phrase: String
    /// The words of the utterance that carried it.
    public var words: String
    public var strength: Double
}

/// The shared library of agent moves that every scenario reuses and may extend.
public struct MoveLibrary: Sendable {
    public private(set) var moves: [String: AgentMove] = [:]
    public private(set) var order: [String] = []

    public init(_ moves: [AgentMove] = []) {
        for move in moves { add(move) }
    }

    public mutating func add(_ move: AgentMove) {
        if moves[move.id] == nil { order.append(move.id) }
        moves[move.id] = move
    }

    public subscript(id: String) -> AgentMove? { moves[id] }

    public var all: [AgentMove] { order.compactMap { moves[$0] } }

    /// Reads `moves.yaml`; returns the library and every problem found.
    public static func load(path: String, meters: Set<String>? = nil) -> (MoveLibrary, [Problem]) {
        let document: YAMLDocument
        do { document = try YAMLDocument.load(path: path) } catch { return (MoveLibrary(), [error]) }
        let reader = NodeReader(file: document.file)
        var library = MoveLibrary()
        if let top = reader.fields(document.root, "", allowed: ["moves"]) {
            for move in parseMoves(top["moves"], field: "moves", reader: reader) { library.add(move) }
            if top["moves"] == nil { reader.report(document.root, "moves", "missing") }
        }
        return (library, reader.problems)
    }

    static let moveFields: Set<String> = ["title", "description", "phrases", "effect", "makes_heard", "needs_heard", "premature_effect"]

    /// Parses a mapping of move id → definition, used by moves.yaml and by scenarios that add moves.
    static func parseMoves(_ node: Node?, field: String, reader: NodeReader) -> [AgentMove] {
        guard let pairs = reader.mapping(node, field) else { return [] }
        var result: [AgentMove] = []
        for (id, keyNode, value) in pairs {
            let path = reader.join(field, id)
            if !isIdentifier(id) { reader.report(keyNode, path, "move ids are lower-case words joined by _") }
            guard let fields = reader.fields(value, path, allowed: moveFields) else { continue }
            let phrases = reader.strings(fields["phrases"], reader.join(path, "phrases")) ?? []
            if phrases.isEmpty { reader.report(value, reader.join(path, "phrases"), "a move needs at least one phrase") }
            for (index, text) in phrases.enumerated() where Words.normalize(text).isEmpty {
                reader.report(fields["phrases"], "\(path).phrases[\(index)]", "phrase has no words")
            }
            let move = AgentMove(
                id: id,
                title: reader.string(fields["title"], reader.join(path, "title")) ?? id.replacingOccurrences(of: "_", with: " "),
                description: reader.string(fields["description"], reader.join(path, "description")) ?? "",
                phrases: phrases.map(Phrase.init).filter { !$0.words.isEmpty },
                effect: parseDeltas(fields["effect"], reader.join(path, "effect"), reader: reader),
                makesHeard: reader.bool(fields["makes_heard"], reader.join(path, "makes_heard")) ?? false,
                needsHeard: reader.bool(fields["needs_heard"], reader.join(path, "needs_heard")) ?? false,
                prematureEffect: parseDeltas(fields["premature_effect"], reader.join(path, "premature_effect"), reader: reader),
                file: reader.file, line: reader.line(keyNode))
            result.append(move)
        }
        return result
    }
}

func isIdentifier(_ text: String) -> Bool {
    guard let first = text.unicodeScalars.first, ("a"..."z").contains(first) else { return false }
    return text.unicodeScalars.allSatisfy { ("a"..."z").contains($0) || ("0"..."9").contains($0) || $0 == "_" || $0 == "-" }
}

/// Parses `{anger: +8, trust: -4}`; every value must be a number within ±100.
func parseDeltas(_ node: Node?, _ field: String, reader: NodeReader) -> MeterDeltas {
    guard let pairs = reader.mapping(node, field) else { return [:] }
    var result: MeterDeltas = [:]
    for (meter, _, value) in pairs {
        if let delta = reader.number(value, reader.join(field, meter), range: -100...100) { result[meter] = delta }
    }
    return result
}

/// Finds moves in an utterance with tolerance for what a recognizer does to words.
///
/// A phrase matches when its words appear in order, with at most two foreign
/// words between neighbours (one more per phrase word that is missing, since a
/// substituted word leaves a stranger in its place), and when what was found
/// weighs at least three quarters of the phrase, function words counting half.
/// Short phrases (one or two words) must match whole. Words are equal when
/// their light stems are, or when long words differ by one edit.
public struct MoveMatcher: Sendable {
    public var library: MoveLibrary
    public var maximumGap = 2
    public var requiredShare = 0.74

    public init(library: MoveLibrary) { self.library = library }

    public func recognize(_ text: String) -> [MoveHit] {
        recognize(words: Words.normalize(text))
    }

    public func recognize(words: [String]) -> [MoveHit] {
        guard !words.isEmpty else { return [] }
        let stems = words.map(Words.stem)
        var hits: [MoveHit] = []
        for move in library.all {
            var best: MoveHit?
            for phrase in move.phrases {
                guard let (strength, span) = match(phrase, words: words, stems: stems) else { continue }
                if strength > (best?.strength ?? 0) {
                    best = MoveHit(move: move.id, phrase: phrase.description,
                                   words: words[span].joined(separator: " "), strength: strength)
                }
            }
            if let best { hits.append(best) }
        }
        return hits
    }

    /// The share of the phrase found and the utterance span it covers, when enough was found.
    func match(_ phrase: Phrase, words: [String], stems: [String]) -> (Double, ClosedRange<Int>)? {
        let tokens = phrase.words
        let weights = tokens.map { Words.functionWords.contains($0) ? 0.5 : 1.0 }
        let total = weights.reduce(0, +)
        let tokenStems = tokens.map(Words.stem)
        // Tolerance is for long phrases with meaning-bearing words; a phrase of
        // function words alone ("can i have your") says nothing unless whole.
        let hasContent = weights.contains(1.0)
        let needed = tokens.count <= 2 || !hasContent ? total : total * requiredShare

        var best: (Double, ClosedRange<Int>)?
        // Try each place the phrase could start, then extend left to right; among
        // equal matches the latest start wins, so the cited words are the tightest.
        for start in words.indices {
            for first in tokens.indices where same(tokens[first], tokenStems[first], words[start], stems[start]) {
                var found = weights[first]
                var contentFound = weights[first] == 1.0
                var matchedCount = 1
                var last = start
                var missing = first          // phrase words before `first` count as missing
                var position = start + 1
                for next in (first + 1)..<tokens.count {
                    let limit = min(words.count, position + maximumGap + 1 + missing)
                    if let k = (position..<max(position, limit)).first(where: { same(tokens[next], tokenStems[next], words[$0], stems[$0]) }) {
                        found += weights[next]
                        contentFound = contentFound || weights[next] == 1.0
                        matchedCount += 1
                        last = k
                        position = k + 1
                        missing = 0
                    } else {
                        missing += 1
                    }
                }
                // Three-word phrases must be whole; longer ones may lose one word in three.
                let allowedMissing = (tokens.count - 1) / 3
                let share = found / total
                if found + 1e-9 >= needed, tokens.count - matchedCount <= allowedMissing, share >= (best?.0 ?? 0),
                   contentFound || !hasContent,
                   !negated(phrase, words: words, span: start...last) {
                    best = (share, start...last)
                }
            }
        }
        return best
    }

    static let negators: Set<String> = ["not", "never", "no"]

    /// "It is not your fault" is not blame: a negation just before or inside the
    /// span cancels a phrase that has none of its own.
    private func negated(_ phrase: Phrase, words: [String], span: ClosedRange<Int>) -> Bool {
        if phrase.words.contains(where: Self.negators.contains) { return false }
        let from = max(0, span.lowerBound - 2)
        return words[from...span.upperBound].contains(where: Self.negators.contains)
    }

    private func same(_ token: String, _ tokenStem: String, _ word: String, _ wordStem: String) -> Bool {
        if token == word || tokenStem == wordStem { return true }
        return token.count >= 5 && word.count >= 5 && withinEditDistance(token, word, 1)
    }
}
