/// Simulated recognition errors: a share of words substituted or dropped, seeded,
/// each word heard with a confidence as the recognizer would give it.
///
/// Stands in for what PocketSphinx does to an agent's words, to test that move
/// recognition holds when the recognizer is wrong about one word in five, and
/// that the caller asks again when a line comes through garbled.
public struct RecognitionNoise: Sendable {
    public var errorRate: Double
    private var random: SeededRandom

    /// Words a recognizer tends to put in the place of others: short and frequent.
    static let substitutes = [
        "a", "the", "and", "in", "it", "i", "that", "to", "of", "on", "is", "an", "or", "as", "at", "he",
        "her", "was", "but", "for", "this", "with", "so", "then", "there", "their", "know", "now", "no",
        "one", "want", "what", "when", "were", "where", "well", "will", "would", "see", "say", "said",
    ]

    /// Word confidences PocketSphinx gives (lattice posteriors), 0th to 10th decile, of words it
    /// heard right and of words it got wrong: `sparring moves eval --speech` prints them, here
    /// measured on the test corpus spoken by four voices (10,611 words right, 6,301 wrong).
    static let rightDeciles = [0, 0.26, 0.43, 0.53, 0.62, 0.72, 0.81, 0.89, 0.96, 1, 1]
    static let wrongDeciles = [0, 0, 0.01, 0.02, 0.05, 0.10, 0.18, 0.31, 0.48, 0.71, 1]

    public init(errorRate: Double = 0.2, seed: UInt64) {
        self.errorRate = errorRate
        random = SeededRandom(seed: seed)
    }

    /// The words of `text` as a recognizer might hear them.
    public mutating func corrupt(_ text: String) -> String {
        hear(text).words.joined(separator: " ")
    }

    /// The words of `text` as a recognizer might hear them, each with its confidence.
    public mutating func hear(_ text: String) -> HeardHypothesis {
        var words: [String] = []
        var confidence: [Double] = []
        for word in Words.normalize(text) {
            let roll = random.unit()
            if roll < errorRate / 2 {
                continue
            } else if roll < errorRate {
                words.append(Self.substitutes[Int(random.next() % UInt64(Self.substitutes.count))])
                confidence.append(draw(Self.wrongDeciles))
            } else {
                words.append(word)
                confidence.append(draw(Self.rightDeciles))
            }
        }
        return HeardHypothesis(words: words, confidence: confidence)
    }

    /// A value from the distribution whose deciles are `deciles`, linear between them.
    private mutating func draw(_ deciles: [Double]) -> Double {
        let position = random.unit() * Double(deciles.count - 1)
        let index = min(Int(position), deciles.count - 2)
        let fraction = position - Double(index)
        return deciles[index] + (deciles[index + 1] - deciles[index]) * fraction
    }
}
