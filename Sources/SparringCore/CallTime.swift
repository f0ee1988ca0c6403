/// A moment in a call, measured on the audio clock: frames captured since the call opened.
///
/// Every timeout and timestamp uses it, so a call runs the same on a headset,
/// on a file-backed PCM running faster than real time, and in a text rehearsal.
public struct CallTime: Sendable, Hashable, Comparable, Codable, CustomStringConvertible {
    public var seconds: Double

    public init(seconds: Double) { self.seconds = seconds }
    public init(frames: Int, rate: Int) { seconds = Double(frames) / Double(rate) }

    public static let zero = CallTime(seconds: 0)
    public static func < (a: CallTime, b: CallTime) -> Bool { a.seconds < b.seconds }
    public static func + (a: CallTime, b: Double) -> CallTime { CallTime(seconds: a.seconds + b) }
    public static func - (a: CallTime, b: CallTime) -> Double { a.seconds - b.seconds }

    /// `MM:SS.s`, as supervisors read times in a call.
    public var description: String {
        let minutes = Int(seconds) / 60
        let rest = seconds - Double(minutes * 60)
        return String(format: "%02d:%04.1f", minutes, rest)
    }

    public init(from decoder: Decoder) throws { seconds = try decoder.singleValueContainer().decode(Double.self) }
    public func encode(to encoder: Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode((seconds * 1000).rounded() / 1000)
    }
}

import Foundation
