import Foundation
import Synchronization
import SparringCore
import SparringSpeech

/// Speaks the caller's lines into the playback ring on the synthesizer's
/// thread, and prepares the likely reply while the agent pauses.
///
/// Lines are synthesized one at a time, in order, and resampled to the line's
/// rate as they come. `cancel` (the caller stops, a barge-in) stops the line
/// being written and drops those not yet begun. A reply prepared during the
/// agent's pause is kept whole until the real line comes: if it is the same
/// line it goes into the ring as it is; a preparation still running when any
/// line is asked for gives way, so it never delays one. (Prepared audio is not
/// bit-identical to a later synthesis: eSpeak NG carries amplitude and echo
/// state from one synthesis to the next.)
final class CallerSpeech: @unchecked Sendable {
    /// Where a line sits in the playback stream, told once it is written.
    struct Placed: Sendable {
        var text: String
        var start: Int
        var end: Int
        /// It came from audio prepared during the agent's pause.
        var prepared: Bool
        /// Its writing stopped before the end, and the cancel count when it began.
        var cut: Bool
        var generation: Int
    }

    /// The voice a line falls back to when the caller's cannot speak it.
    static var fallbackVoice: String { "en" }

    private let models: SpeechModels
    private let ring: SampleRing
    /// Used only on the synthesizer worker, one line at a time.
    private let resampler: Resampler
    private let placed: @Sendable (Placed) -> Void
    private let failed: @Sendable (_ text: String, _ frame: Int, _ reason: String) -> Void
    /// Counts cancels: a line or preparation begun under an older count stops.
    private let generation = Atomic<Int>(0)
    /// Counts lines asked for: a preparation still running when one comes gives way.
    private let requested = Atomic<Int>(0)
    /// Synthesizer worker only: the reply prepared during the agent's last pause, whole.
    private var prepared: (line: CallerLine, samples: [Int16])?

    /// `placed` and `failed` are called on the synthesizer's thread.
    init(models: SpeechModels, ring: SampleRing, resampler: Resampler,
         placed: @escaping @Sendable (Placed) -> Void,
         failed: @escaping @Sendable (_ text: String, _ frame: Int, _ reason: String) -> Void) {
        self.models = models
        self.ring = ring
        self.resampler = resampler
        self.placed = placed
        self.failed = failed
    }

    /// Stops the line being written and drops the lines and preparation not yet begun.
    func cancel() { generation.wrappingAdd(1, ordering: .acquiringAndReleasing) }

    /// Whether a cancel came since `generation` (a `Placed`'s).
    func cancelled(since generation: Int) -> Bool { self.generation.load(ordering: .acquiring) != generation }

    /// Synthesizes `line` on the worker (the reply it would be, a few per cent of the line's
    /// length in CPU) and keeps it whole for `speak`.
    func prepare(_ line: CallerLine) {
        let generation = generation.load(ordering: .acquiring)
        let requested = requested.load(ordering: .acquiring)
        models.synthesizerWorker.submit { [self] in
            guard !cancelled(since: generation), prepared?.line != line else { return }
            prepared = nil
            resampler.reset()
            var samples: [Int16] = []
            var converted: [Int16] = []
            let superseded = { [self] in self.requested.load(ordering: .acquiring) != requested || cancelled(since: generation) }
            let finished = try? models.synthesizer.speak(line.text, voice: line.voice, prosody: line.prosody, shouldStop: superseded) { chunk in
                converted.removeAll(keepingCapacity: true)
                self.resampler.process(chunk, into: &converted)
                samples += converted
            }
            if finished == true && !superseded() { prepared = (line, samples) }
        }
    }

    /// Synthesizes `line` on the worker into the playback ring (or puts the prepared audio there)
    /// and tells where it sits. A line the caller's voice cannot speak is spoken in eSpeak NG's
    /// default English voice: the agent hears the caller, and `failed` says why.
    func speak(_ line: CallerLine) {
        let generation = generation.load(ordering: .acquiring)
        requested.wrappingAdd(1, ordering: .acquiringAndReleasing)
        models.synthesizerWorker.submit { [self] in
            guard !cancelled(since: generation) else { return }
            let start = ring.written
            var cut = false
            /// Writes all of `buffer` unless the line is cancelled meanwhile.
            func put(_ buffer: UnsafeBufferPointer<Int16>) {
                var offset = 0
                while offset < buffer.count {
                    if cancelled(since: generation) { cut = true; return }
                    offset += ring.write(buffer.baseAddress! + offset, count: buffer.count - offset)
                    if offset < buffer.count { usleep(2_000) }
                }
            }
            let ready = prepared?.line == line ? prepared?.samples : nil
            prepared = nil
            if let ready {
                ready.withUnsafeBufferPointer { put($0) }
            } else {
                var converted: [Int16] = []
                for voice in [line.voice, Self.fallbackVoice] {
                    resampler.reset()
                    do throws(SpeechError) {
                        try models.synthesizer.speak(line.text, voice: voice, prosody: line.prosody,
                                                     shouldStop: { [self] in cancelled(since: generation) }) { samples in
                            converted.removeAll(keepingCapacity: true)
                            self.resampler.process(samples, into: &converted)
                            converted.withUnsafeBufferPointer { put($0) }
                        }
                        break
                    } catch {
                        let fallback = voice == line.voice && voice != Self.fallbackVoice
                        failed(line.text, ring.written,
                               error.description + (fallback ? "; spoken in '\(Self.fallbackVoice)' instead" : "; the line is not spoken"))
                        if !fallback { cut = true; break }
                    }
                }
            }
            placed(Placed(text: line.text, start: start, end: ring.written, prepared: ready != nil, cut: cut, generation: generation))
        }
    }
}
