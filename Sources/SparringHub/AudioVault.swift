import CFLAC
import Foundation
import SparringCore

/// The hub's recordings: FLAC files under `DIR/audio`, each named by the SHA-256 of its content.
///
/// Audio never goes into the database. A name is derived from content, so the
/// same recording uploaded twice is one file, a file is never rewritten, and a
/// name read back from the database can only be 64 hex digits (checked before
/// it becomes a path). FLAC keeps every sample (lossless) at about half the
/// WAV's size, and browsers play it.
public struct AudioVault: Sendable {
    public let root: String

    public init(root: String) throws(SparringError) {
        self.root = root
        guard mkdir(root, 0o700) == 0 || errno == EEXIST else {
            throw SparringError("hub_store", "\(root): cannot create the audio folder (\(String(cString: strerror(errno))))")
        }
    }

    /// The path of a stored file; nil for a name that is not a content hash.
    public func path(of name: String) -> String? {
        guard name.count == 64 + 5, name.hasSuffix(".flac"),
              name.dropLast(5).allSatisfy({ $0.isHexDigit && !$0.isUppercase }) else { return nil }
        return root + "/" + name.prefix(2) + "/" + name
    }

    /// Encodes `audio` to FLAC and stores it under its hash; the file's name and size.
    public func store(_ audio: WaveFile.Audio) throws(SparringError) -> (name: String, bytes: Int) {
        let temporary = root + "/.incoming-" + Secrets.token(bytes: 12) + ".flac"
        defer { unlink(temporary) }
        try Self.encode(audio, to: temporary)
        let data: Data
        do { data = try Data(contentsOf: URL(fileURLWithPath: temporary)) } catch {
            throw SparringError("hub_store", "\(temporary): cannot read the encoded audio back (\(error))")
        }
        let name = Secrets.sha256(data) + ".flac"
        let directory = root + "/" + name.prefix(2)
        guard mkdir(directory, 0o700) == 0 || errno == EEXIST else {
            throw SparringError("hub_store", "\(directory): cannot create (\(String(cString: strerror(errno))))")
        }
        let final = directory + "/" + name
        if access(final, F_OK) != 0 {
            chmod(temporary, 0o600)
            guard rename(temporary, final) == 0 else {
                throw SparringError("hub_store", "\(final): cannot store the audio (\(String(cString: strerror(errno))))")
            }
        }
        return (name, data.count)
    }

    /// Writes 16-bit interleaved `audio` as a FLAC file with libFLAC (compression level 5, its default).
    static func encode(_ audio: WaveFile.Audio, to path: String) throws(SparringError) {
        guard let encoder = FLAC__stream_encoder_new() else { throw SparringError("flac", "cannot create a FLAC encoder") }
        defer { FLAC__stream_encoder_delete(encoder) }
        let frames = audio.samples.count / max(1, audio.channels)
        guard FLAC__stream_encoder_set_channels(encoder, UInt32(audio.channels)) != 0,
              FLAC__stream_encoder_set_bits_per_sample(encoder, 16) != 0,
              FLAC__stream_encoder_set_sample_rate(encoder, UInt32(audio.rate)) != 0,
              FLAC__stream_encoder_set_compression_level(encoder, 5) != 0,
              FLAC__stream_encoder_set_total_samples_estimate(encoder, UInt64(frames)) != 0 else {
            throw SparringError("flac", "FLAC cannot take \(audio.channels) channels at \(audio.rate) Hz")
        }
        let status = FLAC__stream_encoder_init_file(encoder, path, nil, nil)
        guard status == FLAC__STREAM_ENCODER_INIT_STATUS_OK else {
            throw SparringError("flac", "\(path): cannot start FLAC encoding (status \(status.rawValue))")
        }
        var ok = true
        let chunkFrames = 4096
        var buffer = [Int32](repeating: 0, count: chunkFrames * audio.channels)
        var frame = 0
        while frame < frames && ok {
            let count = min(chunkFrames, frames - frame)
            let start = frame * audio.channels
            for index in 0..<(count * audio.channels) { buffer[index] = Int32(audio.samples[start + index]) }
            ok = buffer.withUnsafeBufferPointer { FLAC__stream_encoder_process_interleaved(encoder, $0.baseAddress, UInt32(count)) } != 0
            frame += count
        }
        let finished = FLAC__stream_encoder_finish(encoder) != 0
        guard ok && finished else {
            throw SparringError("flac", "\(path): FLAC encoding failed (\(String(cString: FLAC__stream_encoder_get_resolved_state_string(encoder))))")
        }
    }
}
