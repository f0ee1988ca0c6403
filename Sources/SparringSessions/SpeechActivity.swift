import Foundation
import SparringCore

/// Who was talking when, read off the recording itself (not the events).
///
/// The events say when the engine thought a turn began and ended; a
/// supervisor asking "did they talk over each other?" wants what is on the
/// line. Each channel is cut into windows; a window is talk when its level
/// stands clearly above that channel's own noise floor, and short gaps
/// inside a turn (breaths, stops between words) are bridged.
public struct SpeechActivity: Codable, Sendable, Equatable {
    public typealias Span = [Double]  // [start, end] in seconds
    public var agent: [Span]
    public var caller: [Span]
    public var overlap: [Span]
    public var agentSeconds: Double
    public var callerSeconds: Double
    public var overlapSeconds: Double
    public var silenceSeconds: Double
    public var duration: Double

    public static let window = 0.05
    /// Pauses shorter than this inside a turn do not end it.
    public static let bridge = 0.4

    /// Analyses a two-channel call recording (1: agent, 2: caller).
    public static func analyse(_ audio: WaveFile.Audio) -> SpeechActivity {
        let agentTalk = talk(audio, channel: 0)
        let callerTalk = audio.channels > 1 ? talk(audio, channel: 1) : []
        let count = max(agentTalk.count, callerTalk.count)
        func at(_ flags: [Bool], _ i: Int) -> Bool { i < flags.count && flags[i] }
        let both = (0..<count).map { at(agentTalk, $0) && at(callerTalk, $0) }
        let neither = (0..<count).filter { !at(agentTalk, $0) && !at(callerTalk, $0) }.count
        func seconds(_ flags: [Bool]) -> Double { round(Double(flags.filter { $0 }.count) * window) }
        return SpeechActivity(agent: spans(agentTalk), caller: spans(callerTalk), overlap: spans(both),
                              agentSeconds: seconds(agentTalk), callerSeconds: seconds(callerTalk), overlapSeconds: seconds(both),
                              silenceSeconds: round(Double(neither) * window), duration: round(audio.seconds))
    }

    /// One flag per window: talk or not.
    static func talk(_ audio: WaveFile.Audio, channel: Int) -> [Bool] {
        let size = max(1, Int(Double(audio.rate) * window))
        let windows = audio.frames / size
        guard windows > 0 else { return [] }
        var levels = [Double](repeating: 0, count: windows)
        for w in 0..<windows {
            var energy = 0.0
            for frame in (w * size)..<((w + 1) * size) {
                let sample = Double(audio.samples[frame * audio.channels + channel])
                energy += sample * sample
            }
            levels[w] = (energy / Double(size)).squareRoot()
        }
        // The floor is the quiet end of the channel; talk is well above it and above
        // -46 dBFS, so a silent channel (a file line, digital silence) has no talk at all.
        let floor = levels.sorted()[windows / 10]
        let threshold = max(160, floor * 4)
        var flags = levels.map { $0 > threshold }
        let gap = Int(bridge / window)
        var last: Int?
        for i in flags.indices where flags[i] {
            if let previous = last, i - previous > 1, i - previous <= gap {
                for j in previous..<i { flags[j] = true }
            }
            last = i
        }
        return flags
    }

    static func spans(_ flags: [Bool]) -> [Span] {
        var result: [Span] = []
        var start: Int?
        for (i, on) in (flags + [false]).enumerated() {
            if on, start == nil { start = i }
            if !on, let s = start {
                result.append([round(Double(s) * window), round(Double(i) * window)])
                start = nil
            }
        }
        return result
    }

    static func round(_ value: Double) -> Double { (value * 100).rounded() / 100 }
}
