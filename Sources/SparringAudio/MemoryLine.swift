import Foundation
import SparringCore

/// The other end of an in-memory line: what a test or `simulate` puts on the line.
public protocol FarEnd: AnyObject {
    /// Fills one period of what the agent's microphone hears; false when the far end has hung up.
    func speak(into buffer: UnsafeMutablePointer<Int16>, frames: Int, at clock: Int) -> Bool
    /// One period of what the caller said, as the agent's headset plays it.
    func hear(_ buffer: UnsafePointer<Int16>, frames: Int, at clock: Int)
}

/// A full-duplex line inside the process, for `simulate` and tests.
///
/// It runs in lockstep: before each period it waits until the call has
/// processed everything so far (`settled`), so a call on it is deterministic
/// and runs faster than real time; processing costs no call time, which is
/// what the real-time benchmarks measure separately on paced lines.
public final class MemoryLine<Far: FarEnd>: DuplexLine {
    public let rate: Int
    public let periodFrames: Int
    public let name = "memory"
    public let xruns = 0
    /// Lockstep: each period waits for the pipeline to settle.
    public let runsInRealTime = false
    public let farEnd: Far
    /// Set by the call before starting: true when nothing is left to process.
    public var settled: (() -> Bool)?
    private var clock = 0

    public init(farEnd: Far, rate: Int = 16_000) {
        self.farEnd = farEnd
        self.rate = rate
        periodFrames = rate / 100
    }

    public func start() throws(LineError) {}

    public func capture(into buffer: UnsafeMutablePointer<Int16>, frames: Int) throws(LineError) -> Int {
        if let settled {
            var spins = 0
            while !settled() {
                spins += 1
                if spins > 20 { usleep(50) }
            }
        }
        guard farEnd.speak(into: buffer, frames: frames, at: clock) else { return 0 }
        clock += frames
        return frames
    }

    public func play(_ buffer: UnsafePointer<Int16>, frames: Int) throws(LineError) {
        farEnd.hear(buffer, frames: frames, at: clock)
    }

    public func stop() {}
}

/// A scripted agent on the far end: says each line when the caller has fallen silent.
///
/// Lines are synthesized before the call; during the call it only copies
/// samples and counts, so it is safe on the real-time thread. It answers
/// `responseDelay` (0.9 s: past the pauses between a caller's sentences) after the caller's audio stops, keeps `[silence N]` steps
/// as N seconds of silence, starts `[interrupt]` lines one second into the
/// caller's speech, and hangs up `hangUpAfter` seconds after its last line
/// once the caller is quiet.
public final class ScriptedAgent: FarEnd, @unchecked Sendable {
    public enum Step {
        case say([Int16], interrupting: Bool)
        case silence(Double)
    }

    private let steps: [Step]
    private let rate: Int
    /// The audio of each line it says, in script order.
    public var lines: [[Int16]] { steps.compactMap { if case let .say(samples, _) = $0 { samples } else { nil } } }
    private var index = 0
    private var position = 0
    private var speaking = false
    private var callerSpokeSinceLine = false
    private var callerSoundFrames = 0
    private var silentFrames = 0
    private var silenceElapsed = 0
    private let responseDelayFrames: Int
    private let hangUpFrames: Int
    /// Frame at which each agent line started and its last voiced sample was sent.
    public private(set) var lineStarts: [Int]
    public private(set) var lineVoiceEnds: [Int]
    /// Everything the agent heard of the caller, for tests.
    public private(set) var heard: [Int16]

    public init(steps: [Step], rate: Int, responseDelay: Double = 0.9, hangUpAfter: Double = 4, capacitySeconds: Int = 600) {
        self.steps = steps
        self.rate = rate
        responseDelayFrames = Int(responseDelay * Double(rate))
        hangUpFrames = Int(hangUpAfter * Double(rate))
        lineStarts = []
        lineStarts.reserveCapacity(steps.count)
        lineVoiceEnds = []
        lineVoiceEnds.reserveCapacity(steps.count)
        heard = []
        heard.reserveCapacity(rate * capacitySeconds)
    }

    public func speak(into buffer: UnsafeMutablePointer<Int16>, frames: Int, at clock: Int) -> Bool {
        if !speaking {
            // After the last line: put the phone down once the caller has been quiet a while.
            guard index < steps.count else { return silentFrames < hangUpFrames }
            switch steps[index] {
            case let .silence(seconds):
                silenceElapsed += frames
                if silenceElapsed >= Int(seconds * Double(rate)) {
                    index += 1
                    silenceElapsed = 0
                }
            case let .say(_, interrupting):
                let ready = interrupting ? callerSoundFrames >= rate : (callerSpokeSinceLine && silentFrames >= responseDelayFrames)
                if ready {
                    speaking = true
                    position = 0
                    lineStarts.append(clock)
                }
            }
        }
        guard speaking, index < steps.count, case let .say(samples, _) = steps[index] else { return true }
        let n = min(frames, samples.count - position)
        samples.withUnsafeBufferPointer { all in
            buffer.update(from: all.baseAddress! + position, count: n)
        }
        position += n
        if position >= samples.count {
            speaking = false
            lineVoiceEnds.append(clock + n)
            callerSpokeSinceLine = false
            silentFrames = 0
            callerSoundFrames = 0
            index += 1
        }
        return true
    }

    public func hear(_ buffer: UnsafePointer<Int16>, frames: Int, at clock: Int) {
        let sound = Audibility.anyAudible(buffer, count: frames)
        if heard.count + frames <= heard.capacity { heard.append(contentsOf: UnsafeBufferPointer(start: buffer, count: frames)) }
        if sound {
            callerSpokeSinceLine = true
            callerSoundFrames += frames
            silentFrames = 0
        } else {
            silentFrames += frames
            if silentFrames > rate / 5 { callerSoundFrames = 0 }
        }
    }
}
