import CALSA
import CSonic
import Foundation
import SparringCore
import SparringSessions
import Synchronization

/// Plays a recorded call back through ALSA and says what is being heard as it is heard.
///
/// The source is one channel of `call.wav` (the agent's microphone or the
/// caller's voice) or both mixed. Speed changes go through Sonic, which
/// keeps the pitch (a resampler would raise or lower every voice). Cues
/// (utterances, caller lines, mood changes, triggers, annotations) are
/// printed when the audio they belong to reaches the device: the position
/// heard is the source frames handed to ALSA minus what still waits in its
/// buffer, mapped back through the speed.
public final class SessionReplay {
    public enum Channel: String, CaseIterable, Sendable {
        case agent, caller, both
    }

    /// Something to say at a moment of the call.
    public struct Cue: Sendable, Equatable {
        public var t: Double
        public var text: String
    }

    public struct Result: Sendable, Equatable {
        /// Where in the call playback ended, in seconds.
        public var endedAt: Double
        public var stopped: Bool
    }

    public let session: StoredSession
    public let rate: Int
    public let channel: Channel
    public let speed: Double
    public let from: Double
    /// Where it stops, in seconds (the end of the recording unless asked).
    public let to: Double
    private let source: [Int16]
    public let cues: [Cue]

    /// Set from a signal handler to stop at the next period.
    public static let stopRequested = Atomic<Bool>(false)

    public static let speeds: ClosedRange<Double> = 0.5...2

    public init(session: StoredSession, audio: WaveFile.Audio, channel: Channel, speed: Double, from: Double,
                to: Double? = nil) throws(SparringError) {
        guard Self.speeds.contains(speed) else { throw SparringError("bad_speed", "--speed \(speed): must be between 0.5 and 2") }
        guard from >= 0, from < max(audio.seconds, 0.001) else {
            throw SparringError("bad_from", "--from \(Clock.format(from)) is past the end of the recording (\(Clock.format(audio.seconds)))")
        }
        if let to, !(to > from) {
            throw SparringError("bad_to", "--to \(Clock.format(to, tenths: true)) is not after --from \(Clock.format(from, tenths: true))")
        }
        let end = min(to ?? audio.seconds, audio.seconds)
        self.to = end
        self.session = session
        rate = audio.rate
        self.channel = channel
        self.speed = speed
        self.from = from
        switch channel {
        case .agent: source = audio.channel(0)
        case .caller: source = audio.channels > 1 ? audio.channel(1) : audio.channel(0)
        case .both: source = audio.mixdown()
        }
        cues = Self.cues(session).filter { $0.t >= from - 0.0005 && $0.t <= end }
    }

    /// The moments worth saying during a replay, in call order.
    public static func cues(_ session: StoredSession) -> [Cue] {
        session.timeline.compactMap { entry in
            switch entry.kind {
            case .agent:
                let moves = entry.moves.map(\.move)
                return Cue(t: entry.t, text: "agent: \(entry.detail)" + (moves.isEmpty ? "" : "  [\(moves.joined(separator: ", "))]"))
            case .note: return Cue(t: entry.t, text: "note by \(entry.by ?? "?"): \(entry.detail)")
            case .caller, .mood, .trigger, .bargeIn, .outcome: return Cue(t: entry.t, text: "\(entry.kind.label): \(entry.detail)")
            case .phase, .bargeInStop, .xrun, .lineError: return nil
            }
        }
    }

    /// Plays from `from` to `to` (or until `stopRequested`); `say` gets each cue with the moment heard.
    public func play(device: String, say: (Cue) -> Void) throws(LineError) -> Result {
        let period = rate / 100
        let pcm = try ALSAPCM.open(device, stream: SND_PCM_STREAM_PLAYBACK, rate: rate, periodFrames: period, periods: 8)
        defer { snd_pcm_close(pcm) }
        let stretcher: sonicStream? = speed == 1 ? nil : sonicCreateStream(Int32(rate), 1)
        defer { if let stretcher { sonicDestroyStream(stretcher) } }
        if let stretcher { sonicSetSpeed(stretcher, Float(speed)) }

        let start = min(source.count, Int((from * Double(rate)).rounded()))
        let stop = min(source.count, max(start, Int((to * Double(rate)).rounded())))
        var position = start  // next source frame to feed
        var written = 0  // frames handed to the device
        var nextCue = 0
        var output = [Int16](repeating: 0, count: period * 4)
        var stopped = false

        /// Where in the call the ear is: frames handed to ALSA minus those still in its buffer, through the speed.
        func heardSeconds() -> Double {
            var delay = snd_pcm_sframes_t(0)
            if snd_pcm_delay(pcm, &delay) < 0 { delay = 0 }
            return Double(start) / Double(rate) + Double(max(0, written - Int(delay))) * speed / Double(rate)
        }

        /// Says every cue whose moment has reached the ear.
        func sayHeard(flushAll: Bool) {
            let heard = heardSeconds()
            while nextCue < cues.count, flushAll || cues[nextCue].t <= heard + 0.005 {
                say(cues[nextCue])
                nextCue += 1
            }
        }

        func write(_ samples: UnsafePointer<Int16>, _ frames: Int) throws(LineError) {
            _ = try ALSAPCM.write(pcm, samples, frames: frames, device: device)
            written += frames
        }

        sayHeard(flushAll: false)
        while position < stop {
            if Self.stopRequested.load(ordering: .acquiring) { stopped = true; break }
            let count = min(period, stop - position)
            if let stretcher {
                _ = source.withUnsafeBufferPointer { sonicWriteShortToStream(stretcher, UnsafeMutablePointer(mutating: $0.baseAddress! + position), Int32(count)) }
                if position + count == stop { sonicFlushStream(stretcher) }
                while true {
                    let got = output.withUnsafeMutableBufferPointer { sonicReadShortFromStream(stretcher, $0.baseAddress, Int32($0.count)) }
                    if got <= 0 { break }
                    try output.withUnsafeBufferPointer { buffer throws(LineError) in try write(buffer.baseAddress!, Int(got)) }
                }
            } else {
                try source.withUnsafeBufferPointer { buffer throws(LineError) in try write(buffer.baseAddress! + position, count) }
            }
            position += count
            sayHeard(flushAll: false)
        }
        var endedAt = Double(stop) / Double(rate)
        if stopped {
            endedAt = heardSeconds()
            snd_pcm_drop(pcm)
        } else {
            // Say what is left as the buffer drains, then wait for the last sample.
            while true {
                var delay = snd_pcm_sframes_t(0)
                if snd_pcm_delay(pcm, &delay) < 0 || delay <= 0 || Self.stopRequested.load(ordering: .acquiring) { break }
                sayHeard(flushAll: false)
                if nextCue >= cues.count { break }
                usleep(5_000)
            }
            snd_pcm_drain(pcm)
            sayHeard(flushAll: true)
        }
        return Result(endedAt: endedAt, stopped: stopped)
    }
}
