import Foundation

/// Words of one utterance as the move model reads them: normalized, each with
/// whether a negation governs it and how sure the recognizer was of it.
public struct MoveText: Sendable, Equatable {
    public var words: [String]
    /// True where a negator ("not", "never", "nobody"…) within the last few words governs the word.
    public var negated: [Bool]
    /// The recognizer's confidence in each word, 0–1 (1 for typed text).
    public var confidence: [Double]
    /// Where a new sentence begins, by word index (typed text only).
    public var sentenceStarts: [Int] = []

    /// Words that turn what follows into its opposite.
    static let negators: Set<String> = ["not", "never", "no", "nobody", "nothing", "none", "neither", "nor", "noone", "without"]
    /// How many words after a negator it governs. "I'm not going to tell you to calm down" needs six.
    static let negationScope = 6
    /// Words that end a negation's scope early: a new clause starts.
    static let clauseBreaks: Set<String> = ["but", "and", "so", "because", "though", "although", "however", "instead"]

    public init(_ text: String) {
        let read = Words.read(text)
        self.init(words: read.words, sentenceStarts: read.sentenceStarts)
    }

    /// `sentenceStarts`: word indices where a new sentence begins, ascending; a negation does not reach past one.
    public init(words: [String], confidence: [Double]? = nil, sentenceStarts: [Int] = []) {
        let words = words.map { $0.allSatisfy(\.isNumber) ? "<num>" : $0 }
        self.words = words
        self.confidence = confidence.map { $0.map { min(1, max(0, $0.isFinite ? $0 : 0)) } } ?? Array(repeating: 1, count: words.count)
        self.sentenceStarts = sentenceStarts.filter { $0 > 0 && $0 < words.count }
        var negated = Array(repeating: false, count: words.count)
        var left = 0
        var nextStart = 0
        for (index, word) in words.enumerated() {
            if nextStart < self.sentenceStarts.count && self.sentenceStarts[nextStart] == index { left = 0; nextStart += 1 }
            if Self.negators.contains(word) {
                left = Self.negationScope
                continue
            }
            if Self.clauseBreaks.contains(word) { left = 0 }
            if left > 0 { negated[index] = true; left -= 1 }
        }
        self.negated = negated
    }

    public var isEmpty: Bool { words.isEmpty }

    /// From this confidence up a heard word counts whole in the model; below it, as that share.
    /// The recognizer's words heard right have a median confidence of 0.72 and those heard
    /// wrong 0.10, but a tenth of the right ones are under 0.26: weighing every word by its
    /// confidence missed half the moves at 20 % word errors (development part, 5-fold: 47 %
    /// missed, 2.7 % wrong), ignoring it 30 % and 8 %. Chosen there, by the fewest missed
    /// plus twice the wrong, among 0.2–0.7 (0.2–0.35 are within half a point of each other).
    static let sure = 0.2

    /// How much the word at `index` weighs in the model (see `sure`).
    func weight(_ index: Int) -> Float {
        Float(min(1, confidence[index] / Self.sure))
    }
}

/// Feature ids of one word position, by where they may be counted.
struct PositionFeatures {
    /// The word itself and its character n-grams: count whenever the word is in a window.
    var own: [UInt64]
    /// The bigram with the word before: counts only when that word is in the window too.
    var bigram: UInt64?
    /// How many of `own` are whole-word features (the word and its groups); the rest are character n-grams.
    var wordFeatures: Int
}

/// Turns a `MoveText` into hashed feature ids, per word position.
///
/// Features: the word, the word pair, and the word's character 3- and
/// 4-grams (with word boundaries), each marked when a negation governs it.
/// Character n-grams let "apologise", "apologize" and "apologies" share
/// evidence, and a word the recognizer got half right still count for part.
enum MoveFeatures {
    /// FNV-1a over a feature's kind, its negation and its parts' UTF-8 bytes, each part closed by 0x1f.
    struct Hasher {
        private(set) var value: UInt64 = 0xcbf2_9ce4_8422_2325
        init(_ kind: UInt8, _ negated: Bool) {
            mix(kind)
            mix(negated ? 1 : 0)
        }
        mutating func mix(_ byte: UInt8) { value = (value ^ UInt64(byte)) &* 0x0000_0100_0000_01b3 }
        /// One part: its bytes, then the separator.
        mutating func part<Bytes: Sequence<UInt8>>(_ bytes: Bytes) {
            for byte in bytes { mix(byte) }
            mix(0x1f)
        }
    }

    static func hash(_ kind: UInt8, _ negated: Bool, _ parts: String...) -> UInt64 {
        var hasher = Hasher(kind, negated)
        for part in parts { hasher.part(part.utf8) }
        return hasher.value
    }

    /// Word groups by the light stem of each member word.
    static func index(_ groups: [String: [String]]) -> [String: [String]] {
        var index: [String: [String]] = [:]
        for (name, words) in groups { for word in words { index[Words.stem(word), default: []].append(name) } }
        return index
    }

    static func positions(_ text: MoveText, groups: [String: [String]]) -> [PositionFeatures] {
        var result: [PositionFeatures] = []
        result.reserveCapacity(text.words.count)
        for (index, word) in text.words.enumerated() {
            let negated = text.negated[index]
            var own = [hash(1, negated, word)]
            for group in groups[Words.stem(word)] ?? [] { own.append(hash(4, negated, group)) }
            let wordFeatures = own.count
            // Each n-gram hashed from its scalars' bytes as it stands: no string built per n-gram.
            let scalars = Array("^\(word)$".unicodeScalars)
            let prefix = Hasher(3, negated)
            for size in 3...4 where scalars.count >= size {
                for start in 0...(scalars.count - size) {
                    var hasher = prefix
                    hasher.part(scalars[start..<(start + size)].lazy.flatMap(\.utf8))
                    own.append(hasher.value)
                }
            }
            let bigram = index > 0 ? hash(2, negated || text.negated[index - 1], text.words[index - 1], word) : nil
            result.append(PositionFeatures(own: own, bigram: bigram, wordFeatures: wordFeatures))
        }
        return result
    }
}

/// A trained softmax model over "no move" and a fixed set of moves.
///
/// Immutable once trained; shared between calls and threads.
final class MoveModel: Sendable {
    let moves: [String]
    /// Feature id → row in `weights`.
    let vocabulary: [UInt64: Int32]
    /// Row-major: one row per feature, one column per class ("no move" first, then `moves`).
    let weights: [Float]
    let bias: [Float]
    let charWeight: Float
    /// Word groups by member stem.
    let groups: [String: [String]]

    struct Example {
        var text: MoveText
        var labels: Set<String>
    }

    /// Training shuffles with this seed, so the same examples always give the same model.
    static let seed: UInt64 = 17

    init(moves: [String], vocabulary: [UInt64: Int32], weights: [Float], bias: [Float], charWeight: Float, groups: [String: [String]]) {
        self.charWeight = charWeight
        self.groups = groups
        self.moves = moves
        self.vocabulary = vocabulary
        self.weights = weights
        self.bias = bias
    }

    /// Sparse input of a whole example: feature rows and values, normalized by length.
    private static func vector(_ text: MoveText, charWeight: Float, groups: [String: [String]], vocabulary: inout [UInt64: Int32], grow: Bool) -> [(Int32, Float)] {
        var counts: [Int32: Float] = [:]
        for (index, position) in MoveFeatures.positions(text, groups: groups).enumerated() {
            let c = text.weight(index)
            for (k, id) in position.own.enumerated() {
                guard let row = vocabulary[id] ?? (grow ? insert(id, &vocabulary) : nil) else { continue }
                counts[row, default: 0] += (k < position.wordFeatures ? 1 : charWeight) * c
            }
            if let id = position.bigram, let row = vocabulary[id] ?? (grow ? insert(id, &vocabulary) : nil) {
                counts[row, default: 0] += c * text.weight(index - 1)
            }
        }
        let norm = 1 / Float(max(1, text.words.count)).squareRoot()
        return counts.map { ($0.key, $0.value * norm) }
    }

    private static func insert(_ id: UInt64, _ vocabulary: inout [UInt64: Int32]) -> Int32 {
        let row = Int32(vocabulary.count)
        vocabulary[id] = row
        return row
    }

    /// Trains a softmax over "no move" (column 0) and `moves`; an example with several
    /// moves counts once for each, with its weight shared, and one with none for column 0.
    static func train(moves: [String], examples: [Example], groups: [String: [String]] = [:],
                      settings: MoveRecognizer.TrainingSettings = .init()) -> MoveModel {
        var vocabulary: [UInt64: Int32] = [:]
        let inputs = examples.map { vector($0.text, charWeight: settings.charWeight, groups: groups, vocabulary: &vocabulary, grow: true) }
        let width = moves.count + 1
        let column = Dictionary(uniqueKeysWithValues: moves.enumerated().map { ($1, $0 + 1) })
        var samples: [(input: Int, target: Int, weight: Float)] = []
        for (index, example) in examples.enumerated() {
            let targets = example.labels.compactMap { column[$0] }.sorted()
            if targets.isEmpty { samples.append((index, 0, 1)); continue }
            for target in targets { samples.append((index, target, settings.positiveWeight / Float(targets.count))) }
        }
        var weights = [Float](repeating: 0, count: vocabulary.count * width)
        var bias = [Float](repeating: 0, count: width)
        var history = [Float](repeating: 1e-6, count: weights.count)
        var biasHistory = [Float](repeating: 1e-6, count: width)
        var random = SeededRandom(seed: Self.seed)
        var scores = [Float](repeating: 0, count: width)
        weights.withUnsafeMutableBufferPointer { w in
        history.withUnsafeMutableBufferPointer { h in
            for _ in 0..<settings.epochs {
                for i in stride(from: samples.count - 1, to: 0, by: -1) {
                    samples.swapAt(i, Int(random.next() % UInt64(i + 1)))
                }
                for sample in samples {
                    let input = inputs[sample.input]
                    for c in 0..<width { scores[c] = bias[c] }
                    for (row, value) in input {
                        let base = Int(row) * width
                        for c in 0..<width { scores[c] += w[base + c] * value }
                    }
                    let top = scores.max()!
                    var total: Float = 0
                    for c in 0..<width { scores[c] = exp(scores[c] - top); total += scores[c] }
                    // scores now hold the gradient of the loss by each class's score.
                    for c in 0..<width {
                        scores[c] = (scores[c] / total - (c == sample.target ? 1 : 0)) * sample.weight
                        biasHistory[c] += scores[c] * scores[c]
                        bias[c] -= settings.learningRate * scores[c] / biasHistory[c].squareRoot()
                    }
                    for (row, value) in input {
                        let base = Int(row) * width
                        for c in 0..<width {
                            let g = scores[c] * value + settings.l2 * w[base + c]
                            h[base + c] += g * g
                            w[base + c] -= settings.learningRate * g / h[base + c].squareRoot()
                        }
                    }
                }
            }
        }
        }
        return MoveModel(moves: moves, vocabulary: vocabulary, weights: weights, bias: bias, charWeight: settings.charWeight, groups: groups)
    }

    /// Per word position and move: what the word adds on its own, and what its pair with the word before adds.
    func contributions(_ text: MoveText) -> (own: [[Float]], pair: [[Float]]) {
        let width = moves.count + 1
        var own: [[Float]] = []
        var pair: [[Float]] = []
        own.reserveCapacity(text.words.count)
        pair.reserveCapacity(text.words.count)
        for (index, position) in MoveFeatures.positions(text, groups: groups).enumerated() {
            let c = text.weight(index)
            var o = [Float](repeating: 0, count: width)
            var p = [Float](repeating: 0, count: width)
            for (k, id) in position.own.enumerated() {
                guard let row = vocabulary[id] else { continue }
                let value = (k < position.wordFeatures ? 1 : charWeight) * c
                let base = Int(row) * width
                for m in 0..<width { o[m] += weights[base + m] * value }
            }
            if let id = position.bigram, let row = vocabulary[id] {
                let value = c * text.weight(index - 1)
                let base = Int(row) * width
                for m in 0..<width { p[m] += weights[base + m] * value }
            }
            own.append(o)
            pair.append(p)
        }
        return (own, pair)
    }
}
