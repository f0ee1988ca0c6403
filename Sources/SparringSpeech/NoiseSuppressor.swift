import CSpeexDSP

/// speexdsp's preprocessor (spectral noise suppression, optionally automatic gain) over
/// 10 ms frames at 16 kHz, in place. Used to measure whether cleaning the agent's audio
/// before PocketSphinx helps it (`sparring moves eval --speech --denoise`).
public final class NoiseSuppressor {
    public static let frame = 160
    private let state: OpaquePointer

    /// `suppress`: the most the noise is attenuated, in dB (speexdsp's default is −15).
    public init(suppress: Int32 = -15, gain: Bool = false) {
        state = speex_preprocess_state_init(Int32(Self.frame), 16_000)
        var denoise: Int32 = 1, level = suppress, agc: Int32 = gain ? 1 : 0
        speex_preprocess_ctl(state, SPEEX_PREPROCESS_SET_DENOISE, &denoise)
        speex_preprocess_ctl(state, SPEEX_PREPROCESS_SET_NOISE_SUPPRESS, &level)
        speex_preprocess_ctl(state, SPEEX_PREPROCESS_SET_AGC, &agc)
    }

    deinit { speex_preprocess_state_destroy(state) }

    /// Cleans `samples` in place, whole frames; a last partial frame is left as it is.
    public func process(_ samples: inout [Int16]) {
        samples.withUnsafeMutableBufferPointer { buffer in
            var offset = 0
            while offset + Self.frame <= buffer.count {
                _ = speex_preprocess_run(state, buffer.baseAddress! + offset)
                offset += Self.frame
            }
        }
    }
}
