import COpusEnc
import SparringCore
import Foundation

/// Speech compressed as Ogg Opus (libopusenc), for the report's embedded recording:
/// at 24 kbit/s a ten-minute call is under 2 MB where 16 kHz WAV is 19 MB,
/// and browsers play it from a data URI.
public enum OggOpus {
    /// Speech-grade: the caller's voice and the agent's stay clear, a call stays small.
    public static let bitrate: Int32 = 24_000

    /// What the encoder writes into, reached from its C callbacks.
    private final class Sink {
        var data = Data()
    }

    /// Encodes interleaved 16-bit samples at `rate` (any rate; Opus resamples to 48 kHz).
    /// The same samples always give the same bytes (fixed stream serial number).
    public static func encode(_ samples: [Int16], rate: Int, channels: Int = 1, bitrate: Int32 = bitrate) throws(SparringError) -> Data {
        guard (1...2).contains(channels), (8_000...192_000).contains(rate) else {
            throw SparringError("audio-encoding", "cannot encode \(channels) channels at \(rate) Hz as Opus")
        }
        let sink = Sink()
        var callbacks = OpusEncCallbacks(
            write: { user, bytes, count in
                guard let user, let bytes, count > 0 else { return 0 }
                Unmanaged<Sink>.fromOpaque(user).takeUnretainedValue().data.append(bytes, count: Int(count))
                return 0
            },
            close: { _ in 0 })
        guard let comments = ope_comments_create() else { throw SparringError("audio-encoding", "libopusenc could not allocate comments") }
        defer { ope_comments_destroy(comments) }
        var status: Int32 = 0
        guard let encoder = ope_encoder_create_callbacks(&callbacks, Unmanaged.passUnretained(sink).toOpaque(), comments,
                                                         Int32(rate), Int32(channels), 0, &status) else {
            throw SparringError("audio-encoding", "libopusenc refused the stream: \(String(cString: ope_strerror(status)))")
        }
        defer { ope_encoder_destroy(encoder) }
        _ = sparring_ope_set_serial(encoder, 0x5350_4152)
        _ = sparring_ope_set_bitrate(encoder, bitrate)
        _ = sparring_ope_set_voice(encoder)
        let frames = samples.count / channels
        let chunk = rate  // a second at a time
        var start = 0
        while start < frames {
            let count = min(chunk, frames - start)
            status = samples.withUnsafeBufferPointer { ope_encoder_write(encoder, $0.baseAddress! + start * channels, Int32(count)) }
            guard status == OPE_OK else { throw SparringError("audio-encoding", "Opus encoding failed: \(String(cString: ope_strerror(status)))") }
            start += count
        }
        status = ope_encoder_drain(encoder)
        guard status == OPE_OK else { throw SparringError("audio-encoding", "Opus encoding failed: \(String(cString: ope_strerror(status)))") }
        return sink.data
    }
}
