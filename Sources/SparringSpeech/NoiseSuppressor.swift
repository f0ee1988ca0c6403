import CSpeexDSP

/// speexdsp's preprocessor with spectral noise suppression (its default attenuation, no
/// automatic gain) over 10 ms frames at 16 kHz, in place. Used to measure whether cleaning the
/// agent's audio before PocketSphinx helps it (`sparring moves eval --speech --denoise`).
public final class NoiseSuppressor {
    public static let frame = 160
    private let state: OpaquePointer

    public init() {
        state = speex_preprocess_state_init(Int32(Self.frame), 16_000)
        var on: Int32 = 1
        speex_preprocess_ctl(state, SPEEX_PREPROCESS_SET_DENOISE, &on)
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
