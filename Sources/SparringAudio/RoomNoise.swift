import Foundation
import SparringCore

/// Background noises of a room, as 16 kHz tracks for mixing under an agent's voice.
///
/// Seeded, so a benchmark run repeats. Each comes unscaled; `mix` sets its
/// level against the speech it goes under.
public enum RoomNoise: String, CaseIterable, Sendable {
    /// Pink noise (equal energy per octave): air conditioning, a distant road.
    case pink
    /// Several people talking at once, mixed from recorded speech.
    case babble
    /// A fan or a computer: a hum at the blade rate with its harmonics, over rumbling broadband noise.
    case fan

    /// `count` samples of this noise; babble is mixed from `speech` (several utterances).
    public func track(count: Int, seed: UInt64, babbleFrom speech: [[Int16]] = []) -> [Double] {
        switch self {
        case .pink: Self.pink(count: count, seed: seed)
        case .fan: Self.fan(count: count, seed: seed)
        case .babble: Self.babble(count: count, from: speech, seed: seed)
        }
    }

    /// Pink noise by Paul Kellet's filter of white noise.
    public static func pink(count: Int, seed: UInt64) -> [Double] {
        var random = SeededRandom(seed: seed)
        var b = [Double](repeating: 0, count: 7)
        var noise = [Double](repeating: 0, count: count)
        for i in noise.indices {
            let white = Double(random.next() % 2_000_001) / 1_000_000 - 1
            b[0] = 0.99886 * b[0] + white * 0.0555179
            b[1] = 0.99332 * b[1] + white * 0.0750759
            b[2] = 0.96900 * b[2] + white * 0.1538520
            b[3] = 0.86650 * b[3] + white * 0.3104856
            b[4] = 0.55000 * b[4] + white * 0.5329522
            b[5] = -0.7616 * b[5] - white * 0.0168980
            noise[i] = b[0] + b[1] + b[2] + b[3] + b[4] + b[5] + b[6] + white * 0.5362
            b[6] = white * 0.115926
        }
        return noise
    }

    /// A fan: 100 Hz blade hum with two harmonics, slowly wavering, over brown (integrated white) noise.
    public static func fan(count: Int, seed: UInt64) -> [Double] {
        var random = SeededRandom(seed: seed)
        var brown = 0.0
        let rate = Double(16_000)
        return (0..<count).map { i in
            let t = Double(i) / rate
            let white = Double(random.next() % 2_000_001) / 1_000_000 - 1
            brown = 0.995 * brown + white * 0.1
            let waver = 1 + 0.1 * sin(2 * .pi * 0.3 * t)
            let hum = sin(2 * .pi * 100 * t) + 0.5 * sin(2 * .pi * 200 * t + 0.7) + 0.25 * sin(2 * .pi * 300 * t + 1.9)
            return waver * (0.6 * hum + 4 * brown)
        }
    }

    /// Babble: `talkers` streams of the given utterances, each in its own order with its own
    /// short pauses, summed. Six or more talkers blur into a murmur without a followable voice.
    public static func babble(count: Int, from utterances: [[Int16]], talkers: Int = 6, seed: UInt64) -> [Double] {
        var noise = [Double](repeating: 0, count: count)
        let usable = utterances.filter { !$0.isEmpty }
        guard !usable.isEmpty else { return noise }
        var random = SeededRandom(seed: seed)
        for _ in 0..<talkers {
            // Each talker is already speaking when the track begins: a room does not fall silent for the call.
            var utterance = usable[Int(random.next() % UInt64(usable.count))]
            var position = -Int(random.next() % UInt64(utterance.count))
            while position < count {
                for (offset, sample) in utterance.enumerated() where position + offset >= 0 && position + offset < count {
                    noise[position + offset] += Double(sample)
                }
                position += utterance.count + 1_600 + Int(random.next() % 4_800)
                utterance = usable[Int(random.next() % UInt64(usable.count))]
            }
        }
        return noise
    }

    /// Mean power of the audible samples of `speech` (its active level).
    public static func activePower(_ speech: [Int16]) -> Double {
        var sum = 0.0, count = 0
        for sample in speech where Audibility.isAudible(sample) { sum += Double(sample) * Double(sample); count += 1 }
        return count == 0 ? 0 : sum / Double(count)
    }

    /// `speech` with `noise` under it at `snr` dB below `speechPower` (the speech's active level by default).
    public static func mix(_ speech: [Int16], _ noise: [Double], snr: Double, speechPower: Double? = nil) -> [Int16] {
        let power = speechPower ?? activePower(speech)
        let noisePower = noise.reduce(0.0) { $0 + $1 * $1 } / Double(max(1, noise.count))
        let gain = power > 0 ? (power / pow(10, snr / 10) / max(noisePower, 1e-12)).squareRoot() : 0
        return speech.indices.map { i in
            Int16(clamping: Int((Double(speech[i]) + (i < noise.count ? noise[i] * gain : 0)).rounded()))
        }
    }
}
