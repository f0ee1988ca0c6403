/// Simulated recognition errors: a share of words substituted or dropped, seeded.
///
/// Stands in for what PocketSphinx does to an agent's words, to test that move
/// recognition holds when the recognizer is wrong about one word in five.
public struct RecognitionNoise: Sendable {
    public var errorRate: Double
    private var random: SeededRandom

    /// Words a recognizer tends to put in the place of others: short and frequent.
    static let substitutes = [
        "a", "the", "and", "in", "it", "i", "that", "to", "of", "on", "is", "an", "or", "as", "at", "he",
        "her", "was", "but", "for", "this", "with", "so", "then", "there", "their", "know", "now", "no",
        "one", "want", "what", "when", "were", "where", "well", "will", "would", "see", "say", "said",
    ]

    public init(errorRate: Double = 0.2, seed: UInt64) {
        self.errorRate = errorRate
        random = SeededRandom(seed: seed)
    }

    public mutating func corrupt(_ text: String) -> String {
        var out: [String] = []
        for word in Words.normalize(text) {
            let roll = random.unit()
            if roll < errorRate / 2 {
                continue
            } else if roll < errorRate {
                out.append(Self.substitutes[Int(random.next() % UInt64(Self.substitutes.count))])
            } else {
                out.append(word)
            }
        }
        return out.joined(separator: " ")
    }
}
