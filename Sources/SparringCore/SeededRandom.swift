/// SplitMix64: a small seeded generator, so the same seed gives the same call everywhere.
///
/// The standard library offers no seeded generator; this one is the usual
/// 64-bit mixer (public-domain constants), good enough for picking lines.
public struct SeededRandom: RandomNumberGenerator, Sendable {
    private var state: UInt64
    public init(seed: UInt64) { state = seed }

    /// A draw in [0, 1), in steps of 1/10,000: enough for shares such as "15 % of lines".
    public mutating func unit() -> Double { Double(next() % 10_000) / 10_000 }

    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
