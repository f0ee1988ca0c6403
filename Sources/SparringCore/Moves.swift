import Foundation
import Yams

/// Change to the caller's meters, by meter name ("anger": +8).
public typealias MeterDeltas = [String: Double]

/// Something an agent does in a call that the caller reacts to: greeting, empathy, "calm down".
public struct AgentMove: Sendable, Equatable {
    public var id: String
    public var title: String
    public var description: String
    /// Short word groups that carry the move ("calm down"); each is also an example.
    public var phrases: [Phrase]
    /// Whole lines an agent might say that make the move, in many words: what the move recognizer learns from.
    public var examples: [String]
    /// Effect on the caller's meters wherever a scenario or phase does not say otherwise.
    public var effect: MeterDeltas
    /// A move that makes the caller feel heard (empathy, open question, summary).
    public var makesHeard: Bool
    /// A move that lands badly before the caller feels heard (solutions, facts).
    public var needsHeard: Bool
    /// Effect instead of `effect` when `needsHeard` and the caller does not feel heard yet.
    public var prematureEffect: MeterDeltas
    /// For a move that hurts: what a skilled agent says in its place, as lines of the moves that help.
    public var instead: [Alternative]
    /// Line in the file that defined it, for problems about it.
    public var line: Int
    public var file: String

    public init(id: String, title: String, description: String = "", phrases: [Phrase], examples: [String] = [],
                effect: MeterDeltas, makesHeard: Bool = false, needsHeard: Bool = false, prematureEffect: MeterDeltas = [:],
                instead: [Alternative] = [], file: String = "", line: Int = 0) {
        self.id = id
        self.title = title
        self.description = description
        self.phrases = phrases
        self.examples = examples
        self.effect = effect
        self.makesHeard = makesHeard
        self.needsHeard = needsHeard
        self.prematureEffect = prematureEffect
        self.instead = instead
        self.file = file
        self.line = line
    }

    /// Whether the move, by its own effect, angers the caller (the recognizer asks more evidence for it).
    public var angersCaller: Bool { (effect["anger"] ?? 0) > 0 }

    /// Whether the move, by its own effect, hurts the call: it costs trust (caving in calms the
    /// caller but costs it), or angers the caller more than it wins trust.
    public var hurts: Bool { Self.hurts(effect) }

    /// Whether an effect on the meters hurts the call (see `hurts`).
    public static func hurts(_ effect: MeterDeltas) -> Bool {
        let anger = effect["anger"] ?? 0, trust = effect["trust"] ?? 0
        return trust < 0 || anger > max(0, trust)
    }
}

/// A line a skilled agent could say in place of a move that hurts, and the move it makes.
public struct Alternative: Sendable, Equatable {
    public var move: String
    public var text: String
    /// Where it is written.
    public var line: Int
    public init(move: String, text: String, line: Int = 0) {
        self.move = move
        self.text = text
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
    /// The example (or phrase) of the move nearest to what was heard: what carried it.
    public var example: String
    /// The words of the utterance that carried it.
    public var words: String
    /// The model's probability that these words make the move, 0–1.
    public var confidence: Double
    /// Index of the first of `words` in the utterance: moves act in the order they were said.
    public var at: Int
    /// 0 when heard in the recognizer's best hypothesis, n when only in its n-th alternative.
    public var hypothesis: Int

    public init(move: String, example: String, words: String, confidence: Double, at: Int = 0, hypothesis: Int = 0) {
        self.move = move
        self.example = example
        self.words = words
        self.confidence = confidence
        self.at = at
        self.hypothesis = hypothesis
    }

    /// One line of evidence: the move, the words heard, the example that carried it, how sure.
    public var evidence: String {
        let alternative = hypothesis > 0 ? ", in alternative \(hypothesis)" : ""
        return "\(move) \"\(words)\" (like \"\(example)\", \(Int((confidence * 100).rounded())) %\(alternative))"
    }

    enum CodingKeys: String, CodingKey { case move, example, words, confidence, at, hypothesis, phrase, strength }

    /// Reads sessions recorded before examples existed too (`phrase`, `strength`).
    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        move = try c.decode(String.self, forKey: .move)
        example = try c.decodeIfPresent(String.self, forKey: .example) ?? c.decodeIfPresent(String.self, forKey: .phrase) ?? ""
        words = try c.decodeIfPresent(String.self, forKey: .words) ?? ""
        let confidence = try c.decodeIfPresent(Double.self, forKey: .confidence) ?? c.decodeIfPresent(Double.self, forKey: .strength) ?? 0
        self.confidence = confidence.isFinite ? min(1, max(0, confidence)) : 0
        at = max(0, try c.decodeIfPresent(Int.self, forKey: .at) ?? 0)
        hypothesis = max(0, try c.decodeIfPresent(Int.self, forKey: .hypothesis) ?? 0)
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(move, forKey: .move)
        try c.encode(example, forKey: .example)
        try c.encode(words, forKey: .words)
        try c.encode((confidence * 1000).rounded() / 1000, forKey: .confidence)
        try c.encode(at, forKey: .at)
        if hypothesis > 0 { try c.encode(hypothesis, forKey: .hypothesis) }
    }
}

/// The shared library of agent moves that every scenario reuses and may extend.
public struct MoveLibrary: Sendable {
    public private(set) var moves: [String: AgentMove] = [:]
    public private(set) var order: [String] = []
    /// Lines that carry no move (small talk, fillers, negated moves): what a move is not.
    public var noMove: [String] = []
    /// Named groups of words that mean much the same here ("livid", "furious" → feeling).
    public var wordGroups: [String: [String]] = [:]

    public init(_ moves: [AgentMove] = [], noMove: [String] = [], wordGroups: [String: [String]] = [:]) {
        for move in moves { add(move) }
        self.noMove = noMove
        self.wordGroups = wordGroups
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
        if let top = reader.fields(document.root, "", allowed: ["moves", "no_move", "word_groups"]) {
            for move in parseMoves(top["moves"], field: "moves", reader: reader) { library.add(move) }
            if top["moves"] == nil { reader.report(document.root, "moves", "missing") }
            library.noMove = examples(top["no_move"], field: "no_move", reader: reader)
            for (name, keyNode, value) in reader.mapping(top["word_groups"], "word_groups") ?? [] {
                if !isIdentifier(name) { reader.report(keyNode, "word_groups.\(name)", "group names are lower-case words joined by _") }
                let words = (reader.strings(value, "word_groups.\(name)") ?? []).flatMap(Words.normalize)
                if words.isEmpty { reader.report(value, "word_groups.\(name)", "a group needs words") }
                library.wordGroups[name] = words
            }
        }
        return (library, reader.problems + library.insteadProblems(file: document.file))
    }

    static let moveFields: Set<String> = ["title", "description", "phrases", "examples", "effect", "makes_heard", "needs_heard", "premature_effect", "instead"]

    /// A list of example lines; each must have words and be at most 300 characters.
    static func examples(_ node: Node?, field: String, reader: NodeReader) -> [String] {
        guard let node else { return [] }
        let lines = reader.strings(node, field) ?? []
        for (index, text) in lines.enumerated() {
            if Words.normalize(text).isEmpty { reader.report(node, "\(field)[\(index)]", "an example needs words") }
            if text.count > 300 { reader.report(node, "\(field)[\(index)]", "an example is one line an agent says (at most 300 characters)") }
        }
        return lines.filter { !Words.normalize($0).isEmpty && $0.count <= 300 }
    }

    /// `instead: {MOVE: [LINE, …]}`: lines of helping moves to say in place of this one.
    static func alternatives(_ node: Node?, field: String, reader: NodeReader) -> [Alternative] {
        var result: [Alternative] = []
        for (move, keyNode, value) in reader.mapping(node, field) ?? [] {
            let lines = examples(value, field: reader.join(field, move), reader: reader)
            if lines.isEmpty && reader.strings(value, reader.join(field, move)) != nil {
                reader.report(keyNode, reader.join(field, move), "give at least one line a skilled agent could say")
            }
            let line = reader.line(keyNode)
            result += lines.map { Alternative(move: move, text: $0, line: line) }
        }
        return result
    }

    /// Problems with the `instead` lines of the moves defined in `file`, once every move is known:
    /// a move that hurts needs them, and they must name known moves that help.
    func insteadProblems(file: String) -> [Problem] {
        var problems: [Problem] = []
        for move in all where move.file == file {
            let path = "moves.\(move.id).instead"
            if move.hurts && move.instead.isEmpty {
                problems.append(Problem(file: file, line: move.line, field: path,
                                        message: "a move that hurts the call needs instead: lines of the moves that help in its place"))
            }
            var reported: Set<String> = []
            for alternative in move.instead where reported.insert(alternative.move).inserted {
                guard let named = self[alternative.move] else {
                    problems.append(Problem(file: file, line: alternative.line, field: "\(path).\(alternative.move)",
                                            message: "unknown move '\(alternative.move)'"))
                    continue
                }
                if named.hurts {
                    problems.append(Problem(file: file, line: alternative.line, field: "\(path).\(alternative.move)",
                                            message: "'\(alternative.move)' hurts the call too; name a move that helps"))
                }
            }
        }
        return problems
    }

    /// Parses a mapping of move id → definition, used by moves.yaml and by scenarios that add moves.
    static func parseMoves(_ node: Node?, field: String, reader: NodeReader) -> [AgentMove] {
        guard let pairs = reader.mapping(node, field) else { return [] }
        var result: [AgentMove] = []
        for (id, keyNode, value) in pairs {
            let path = reader.join(field, id)
            if !isIdentifier(id) { reader.report(keyNode, path, "move ids are lower-case words joined by _") }
            guard let fields = reader.fields(value, path, allowed: moveFields) else { continue }
            let phrases = reader.strings(fields["phrases"], reader.join(path, "phrases")) ?? []
            let examples = examples(fields["examples"], field: reader.join(path, "examples"), reader: reader)
            if phrases.isEmpty && examples.isEmpty {
                reader.report(value, reader.join(path, "examples"), "a move needs examples (lines that make it) or phrases")
            }
            for (index, text) in phrases.enumerated() where Words.normalize(text).isEmpty {
                reader.report(fields["phrases"], "\(path).phrases[\(index)]", "phrase has no words")
            }
            let move = AgentMove(
                id: id,
                title: reader.string(fields["title"], reader.join(path, "title")) ?? id.replacingOccurrences(of: "_", with: " "),
                description: reader.string(fields["description"], reader.join(path, "description")) ?? "",
                phrases: phrases.map(Phrase.init).filter { !$0.words.isEmpty },
                examples: examples,
                effect: parseDeltas(fields["effect"], reader.join(path, "effect"), reader: reader),
                makesHeard: reader.bool(fields["makes_heard"], reader.join(path, "makes_heard")) ?? false,
                needsHeard: reader.bool(fields["needs_heard"], reader.join(path, "needs_heard")) ?? false,
                prematureEffect: parseDeltas(fields["premature_effect"], reader.join(path, "premature_effect"), reader: reader),
                instead: alternatives(fields["instead"], field: reader.join(path, "instead"), reader: reader),
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
