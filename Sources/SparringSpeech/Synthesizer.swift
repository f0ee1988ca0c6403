import CEspeakNG
import Foundation
import SparringCore

/// eSpeak NG speaking caller lines into a sink, mid-word cancellable.
///
/// eSpeak NG's state is global and not re-entrant: one instance per process,
/// every call on one serial thread. In synchronous mode the callback runs
/// inside `espeak_Synth` on that thread, and returning 1 from it stops the
/// synthesis — the barge-in path (`espeak_Cancel` cannot stop a synchronous
/// synthesis).
public final class Synthesizer {
    public let sampleRate: Int
    nonisolated(unsafe) private static var initialized: Int?

    public init() throws(SpeechError) {
        if let rate = Self.initialized {
            sampleRate = rate
        } else {
            let rate = espeak_Initialize(AUDIO_OUTPUT_SYNCHRONOUS, 0, nil, Int32(espeakINITIALIZE_DONT_EXIT))
            guard rate > 0 else { throw SpeechError("synthesizer", "eSpeak NG could not start (is espeak-ng-data installed?)") }
            Self.initialized = Int(rate)
            sampleRate = Int(rate)
        }
        espeak_SetSynthCallback { samples, count, events in
            guard let context = events?.pointee.user_data else { return 0 }
            let synthesis = Unmanaged<Synthesis>.fromOpaque(context).takeUnretainedValue()
            if let samples, count > 0 { synthesis.sink(UnsafeBufferPointer(start: samples, count: Int(count))) }
            return synthesis.shouldStop() ? 1 : 0
        }
    }

    /// Checks a voice name without speaking, so a bad voice file is caught at load.
    public func check(voice: String) throws(SpeechError) {
        let result = espeak_SetVoiceByName(voice)
        if result != EE_OK { throw SpeechError("voice", "eSpeak NG has no voice '\(voice)'") }
    }

    private final class Synthesis {
        let sink: (UnsafeBufferPointer<Int16>) -> Void
        let shouldStop: () -> Bool
        init(sink: @escaping (UnsafeBufferPointer<Int16>) -> Void, shouldStop: @escaping () -> Bool) {
            self.sink = sink
            self.shouldStop = shouldStop
        }
    }

    /// Speaks `text`; audio arrives in `sink` as it is produced. Returns false when `shouldStop` cut it short.
    @discardableResult
    public func speak(_ text: String, voice: String, prosody: Prosody,
                      shouldStop: @escaping () -> Bool = { false },
                      sink: @escaping (UnsafeBufferPointer<Int16>) -> Void) throws(SpeechError) -> Bool {
        try check(voice: voice)
        espeak_SetParameter(espeakRATE, Int32(prosody.rate), 0)
        espeak_SetParameter(espeakPITCH, Int32(prosody.pitch), 0)
        espeak_SetParameter(espeakRANGE, Int32(prosody.range), 0)
        espeak_SetParameter(espeakVOLUME, Int32(prosody.volume), 0)
        // The callback reports a stop through the context, so the caller learns the line was cut.
        final class Flag { var stopped = false }
        let flag = Flag()
        let synthesis = Synthesis(sink: sink, shouldStop: {
            if shouldStop() { flag.stopped = true; return true }
            return false
        })
        let context = Unmanaged.passRetained(synthesis)
        defer { context.release() }
        let bytes = text.utf8CString
        let result = bytes.withUnsafeBufferPointer { buffer in
            espeak_Synth(buffer.baseAddress, buffer.count, 0, POS_CHARACTER, 0, UInt32(espeakCHARS_UTF8), nil,
                         context.toOpaque())
        }
        if result != EE_OK && !flag.stopped {
            throw SpeechError("synthesizer", "eSpeak NG failed to speak (error \(result.rawValue))")
        }
        let stopped = flag.stopped
        return !stopped
    }
}
