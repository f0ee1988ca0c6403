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
/// silence alike; and it is never under the quietest frame of the last two
/// seconds, so a room that comes in after silence (or after a moment when
/// every voice around paused) is the floor two seconds later, not fifteen.
/// How far above the floor a frame must be follows how much the room's own
/// level wavers: steady noise (a fan, air conditioning) lets soft syllables
/// count from `quietMargin` up, a wavering room (voices, a hissing line)
/// needs up to `margin` before a frame is voice.
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
    /// The quietest frame of each of the last `quietBlocks.count` blocks of `blockFrames` frames:
    /// the floor is never under the quietest of them (two seconds).
    private var quietBlocks = [Double](repeating: -90, count: 20)
    private var block = 0
    private var framesInBlock = 0
    private var blockQuietest = 0.0
    static let blockFrames = 10

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
            quietBlocks.withUnsafeMutableBufferPointer { $0.update(repeating: level) }
        } else if level < floor {
            floor += (level - floor) * 0.1
        } else {
            floor = min(floor + 0.03, -30)
        }
        // A room that was louder than the floor for the last two seconds throughout is the room now:
        // a line that opens in silence, or a moment when every voice around paused, does not leave the
        // floor creeping up from the silence for many seconds while the room counts as voice.
        blockQuietest = framesInBlock == 0 ? level : min(blockQuietest, level)
        framesInBlock += 1
        if framesInBlock == Self.blockFrames {
            quietBlocks[block] = blockQuietest
            block = (block + 1) % quietBlocks.count
            framesInBlock = 0
            floor = min(max(floor, quietBlocks.min()!), -30)
        }
        let voiced = level > max(floor + currentMargin, minimum)
        // Only the room's own frames teach how much it wavers (a 2 s memory).
        if !voiced { spread += (max(0, level - floor) - spread) * 0.005 }
        return voiced
    }
}

/// Tells a voice from a cough, a click or a breath, frame by frame.
///
/// Speech that means to take the floor is voiced: the vocal folds make it
/// periodic at the speaker's pitch (80–400 Hz). A cough, a breath, a knock on
/// the microphone is turbulent noise or a single click, loud but without a
/// period. A frame is periodic when the last 30 ms correlate with themselves
/// one pitch period later; `CallFloor` counts periodic loud frames into a
/// sustained voice.
public struct Periodicity: Sendable {
    /// Normalized autocorrelation at the best pitch lag that makes a frame periodic.
    public var threshold: Float = 0.6
    /// The last 30 ms at 16 kHz, oldest first.
    private var recent = [Float](repeating: 0, count: 480)
    /// The same at 8 kHz, reused for every frame.
    private var halved = [Float](repeating: 0, count: 240)

    public init() {}

    /// Takes one frame (10 ms at 16 kHz); says whether the last 30 ms are periodic. The
    /// autocorrelation is computed only when `measure` (a loud frame the floor wants judged);
    /// otherwise the frame is only remembered and the answer is false.
    public mutating func isPeriodic(_ samples: UnsafeBufferPointer<Int16>, measure: Bool) -> Bool {
        let count = min(samples.count, recent.count)
        recent.withUnsafeMutableBufferPointer { buffer in
            let base = buffer.baseAddress!
            (base).update(from: base + count, count: buffer.count - count)
            for index in 0..<count { buffer[buffer.count - count + index] = Float(samples[samples.count - count + index]) }
        }
        return measure && recent.withUnsafeBufferPointer { Self.periodicity($0, scratch: &halved) } >= threshold
    }

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
