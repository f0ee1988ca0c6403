import Foundation

/// Whether a 10 ms frame of the agent's microphone holds voice.
///
/// PocketSphinx's own VAD needs ten frames of speech before it says speech
/// started, which is right for opening an utterance (a click is not a turn)
/// but 100 ms too late for "the agent went on after a pause". This one
/// answers per frame: energy above a tracked noise floor. The floor starts at
/// the first frame (the line is heard from the moment it rings), moves a
/// tenth of the way down toward quieter frames (so single quiet dips do not
/// drag it under the noise) and creeps up 3 dB a second otherwise, so it
/// settles on a headset's hiss, a room's hum and a FIFO line's digital
/// silence alike. How far above the floor a frame must be follows how much
/// the room's own level wavers: steady noise (a fan, air conditioning) lets
/// soft syllables count from `quietMargin` up, a wavering room (voices, a
/// hissing line) needs up to `margin` before a frame is voice.
public struct VoiceActivity: Sendable {
    /// dBFS of the line's noise.
    public private(set) var floor = -90.0
    /// How far unvoiced frames sit above the floor on average, in dB (the room's wavering).
    public private(set) var spread = 3.0
    private var started = false
    /// A frame is voiced at most this far above the floor...
    public var margin = 15.0
    /// ...at least this far, in a steady room...
    public var quietMargin = 9.0
    /// ...and above this absolute level.
    public var minimum = -55.0

    public init() {}

    /// The margin above the floor a frame needs now: three spreads plus 3 dB, between `quietMargin` and `margin`.
    public var currentMargin: Double { min(margin, max(quietMargin, 3 + 3 * spread)) }

    /// Level of one frame in dBFS (−120 for digital silence).
    public static func level(_ samples: UnsafeBufferPointer<Int16>) -> Double {
        guard !samples.isEmpty else { return -120 }
        var sum = 0.0
        for sample in samples { let x = Double(sample); sum += x * x }
        let rms = (sum / Double(samples.count)).squareRoot() / 32_768
        return rms > 1e-6 ? 20 * log10(rms) : -120
    }

    /// Updates the floor with one frame and says whether it is voiced.
    public mutating func isVoiced(_ samples: UnsafeBufferPointer<Int16>) -> Bool {
        isVoiced(level: Self.level(samples))
    }

    public mutating func isVoiced(level: Double) -> Bool {
        let level = max(level, -90)
        if !started {
            started = true
            floor = min(level, -30)
        } else if level < floor {
            floor += (level - floor) * 0.1
        } else {
            floor = min(floor + 0.03, -30)
        }
        let voiced = level > max(floor + currentMargin, minimum)
        // Only the room's own frames teach how much it wavers (a 2 s memory).
        if !voiced { spread += (max(0, level - floor) - spread) * 0.005 }
        return voiced
    }
}

/// Tells a voice from a cough, a click or a breath, frame by frame, faster than
/// PocketSphinx's VAD decides there is speech.
///
/// Speech that means to take the floor is voiced: the vocal folds make it
/// periodic at the speaker's pitch (80–400 Hz). A cough, a breath, a knock on
/// the microphone is turbulent noise or a single click, loud but without a
/// period. A frame counts when it is loud enough (`VoiceActivity`) and the
/// last 30 ms correlate with themselves one pitch period later; `needed` such
/// frames among the last `window` make a sustained voice.
public struct SustainedVoice: Sendable {
    /// Periodic frames needed among the last `window` (60 ms of voice within 70 ms).
    public var needed = 6
    public var window = 7
    /// Normalized autocorrelation at the best pitch lag that makes a frame periodic.
    public var threshold: Float = 0.6
    /// The last 30 ms at 16 kHz, oldest first.
    private var recent = [Float](repeating: 0, count: 480)
    /// The same at 8 kHz, reused for every frame.
    private var halved = [Float](repeating: 0, count: 240)
    /// One bit per frame, newest lowest: periodic or not.
    private var history: UInt32 = 0

    public init() {}

    /// Takes one frame (10 ms at 16 kHz) and whether it is loud enough; says whether the
    /// voice is now sustained.
    public mutating func take(_ samples: UnsafeBufferPointer<Int16>, loud: Bool) -> Bool {
        let count = min(samples.count, recent.count)
        recent.withUnsafeMutableBufferPointer { buffer in
            let base = buffer.baseAddress!
            (base).update(from: base + count, count: buffer.count - count)
            for index in 0..<count { buffer[buffer.count - count + index] = Float(samples[samples.count - count + index]) }
        }
        let periodic = loud && recent.withUnsafeBufferPointer { Self.periodicity($0, scratch: &halved) } >= threshold
        history = (history << 1) | (periodic ? 1 : 0)
        let mask: UInt32 = window >= 32 ? .max : (1 << UInt32(window)) - 1
        return (history & mask).nonzeroBitCount >= needed
    }

    /// Forgets the frames heard so far (a new stretch of speech).
    public mutating func reset() { history = 0 }

    /// The best normalized autocorrelation of `signal` (16 kHz) over pitch lags of 80–400 Hz,
    /// on the signal halved to 8 kHz with its mean removed: 1 for a perfect period, near 0 for noise.
    static func periodicity(_ signal: UnsafeBufferPointer<Float>, scratch x: inout [Float]) -> Float {
        let n = signal.count / 2
        guard n > 120 else { return 0 }
        if x.count < n { x = [Float](repeating: 0, count: n) }
        var mean: Float = 0
        for index in 0..<n { x[index] = (signal[2 * index] + signal[2 * index + 1]) / 2; mean += x[index] }
        mean /= Float(n)
        for index in 0..<n { x[index] -= mean }
        var best: Float = 0
        for lag in 20...100 {
            var cross: Float = 0, head: Float = 0, tail: Float = 0
            for index in 0..<(n - lag) {
                let a = x[index], b = x[index + lag]
                cross += a * b; head += a * a; tail += b * b
            }
            let norm = (head * tail).squareRoot()
            if norm > 0 { best = max(best, cross / norm) }
        }
        return best
    }
}

/// How long a silence must last before the agent's turn is over.
///
/// A fixed hangover trades reply speed against talking into the agent's
/// pauses. People resolve it with what was said and with what they know of
/// the speaker, and so does this policy:
/// - a pause after a word that cannot end a sentence ("and", "the", "to",
///   "because", a filler) holds for `incompleteHold`;
/// - a pause right after a question hands the turn over: `base` is enough;
/// - otherwise the hold covers this agent's own recent mid-turn pauses (the
///   longest of the last few, plus a margin), never less than `base`.
/// Mid-turn pauses are learned from the pauses the agent resumed after, and
/// from the ones the caller took the turn in and the agent went on anyway.
public struct TurnEndPolicy: Sendable {
    /// The shortest hold: the end-of-turn silence after a question or for an agent who does not pause.
    public var base: Double
    public var incompleteHold = 0.8
    /// The longest hold learned pauses can lead to.
    public var ceiling = 0.9
    /// Added to the longest recent pause.
    public var margin = 0.08
    /// Pauses shorter than this are part of speech rhythm, not holds worth learning.
    public var shortest = 0.12
    /// False: every hold is `base` (the fixed hangover, for comparison).
    public var adaptive = true
    public private(set) var recentPauses: [Double] = []
    private let remembered = 6

    /// The default base hold. Conversation analysts find the commonest gap between
    /// turns is about 200 ms; a caller that waits longer than that after a question
    /// sounds slow. Pauses longer than the base are learned (see above).
    public static let defaultBase = 0.2

    public init(base: Double = TurnEndPolicy.defaultBase) { self.base = base }

    /// The silence, in seconds, that ends the turn whose words so far are `words`.
    public func hold(after words: [Substring]) -> Double {
        guard adaptive else { return base }
        // Nothing recognized yet (a breath, a noise, a word still being searched): not a finished turn.
        guard let last = words.last else { return max(base, incompleteHold) }
        if Self.continuing.contains(String(last)) { return max(base, incompleteHold) }
        if Self.endsWithQuestion(words) { return base }
        guard let longest = recentPauses.max() else { return base }
        return min(ceiling, max(base, longest + margin))
    }

    public func hold(after text: String) -> Double { hold(after: text.split(separator: " ")) }

    /// Learns one pause after which the agent went on speaking.
    public mutating func observe(pause: Double) {
        guard pause >= shortest else { return }
        recentPauses.append(min(pause, ceiling))
        if recentPauses.count > remembered { recentPauses.removeFirst() }
    }

    /// Words after which an English sentence is not over.
    static let continuing: Set<String> = [
        "and", "but", "or", "so", "because", "if", "when", "while", "that", "which", "who", "than", "then", "as",
        "the", "a", "an", "your", "my", "our", "their", "his", "her", "its", "this", "these", "those",
        "to", "of", "for", "with", "in", "on", "at", "by", "from", "about", "into", "after", "before",
        "is", "are", "was", "were", "be", "been", "will", "would", "can", "could", "should", "shall", "must",
        "have", "has", "had", "do", "does", "did", "am", "i", "we", "they", "he", "she",
        "um", "uh", "er", "erm", "hmm", "like", "just", "very", "really", "also", "not",
    ]
    static let auxiliaries: Set<String> = ["can", "could", "would", "will", "do", "does", "did", "is", "are", "was", "were",
                                           "have", "has", "shall", "should", "may", "might"]
    static let subjects: Set<String> = ["you", "i", "we", "that", "it", "there", "this", "they", "he", "she"]
    static let wh: Set<String> = ["what", "how", "when", "where", "why", "which", "who"]
    static let whFollowers: Set<String> = auxiliaries.union(["much", "many", "long", "soon", "often", "happened", "about", "else"])

    /// Whether the last clause is a question: an auxiliary before its subject
    /// ("can you", "does that") or a question word before an auxiliary or
    /// quantity ("how much", "what happened"), within the last twelve words.
    static func endsWithQuestion(_ words: [Substring]) -> Bool {
        let tail = words.suffix(12).map { $0.lowercased() }
        for (first, second) in zip(tail, tail.dropFirst()) {
            // "is that" opens a statement as often as a question ("what I hear is that ...").
            if auxiliaries.contains(first) && subjects.contains(second) && !(second == "that" && (first == "is" || first == "was")) { return true }
            if wh.contains(first) && whFollowers.contains(second) { return true }
        }
        return false
    }
}
