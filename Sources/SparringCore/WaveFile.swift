import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// 16-bit PCM WAV files: read whole, or written incrementally so a crash loses little.
public enum WaveFile {
    public struct Audio: Sendable, Equatable {
        public var rate: Int
        public var channels: Int
        /// Interleaved samples.
        public var samples: [Int16]

        public init(rate: Int, channels: Int, samples: [Int16]) {
            self.rate = rate
            self.channels = channels
            self.samples = samples
        }

        public var frames: Int { samples.count / max(1, channels) }
        public var seconds: Double { Double(frames) / Double(rate) }

        public func channel(_ index: Int) -> [Int16] {
            stride(from: index, to: samples.count, by: channels).map { samples[$0] }
        }

        /// All channels summed into one, clipped to 16 bits: what both sides sound like together.
        public func mixdown() -> [Int16] {
            guard channels > 1 else { return samples }
            var mixed = [Int16](repeating: 0, count: frames)
            for frame in 0..<frames {
                var sum = 0
                for channel in 0..<channels { sum += Int(samples[frame * channels + channel]) }
                mixed[frame] = Int16(clamping: sum)
            }
            return mixed
        }
    }

    /// The size of the header `header(rate:channels:dataBytes:)` writes.
    public static let headerBytes = 44

    public static func header(rate: Int, channels: Int, dataBytes: Int) -> Data {
        var data = Data()
        func u32(_ v: Int) { withUnsafeBytes(of: UInt32(truncatingIfNeeded: v).littleEndian) { data.append(contentsOf: $0) } }
        func u16(_ v: Int) { withUnsafeBytes(of: UInt16(truncatingIfNeeded: v).littleEndian) { data.append(contentsOf: $0) } }
        data.append(contentsOf: Array("RIFF".utf8)); u32(36 + dataBytes)
        data.append(contentsOf: Array("WAVE".utf8))
        data.append(contentsOf: Array("fmt ".utf8)); u32(16); u16(1); u16(channels); u32(rate)
        u32(rate * channels * 2); u16(channels * 2); u16(16)
        data.append(contentsOf: Array("data".utf8)); u32(dataBytes)
        return data
    }

    /// Reads a PCM16 WAV; a data size larger than the file (a crashed writer) is cut to what is there.
    public static func read(path: String) throws(SparringError) -> Audio {
        let data: Data
        // Only a regular file, never waited on; two hours of stereo 48 kHz is the most a call records.
        do { data = try SafeFile.read(path, limit: 1 << 30) } catch { throw SparringError("wav", error.description) }
        return try parse(data, name: path)
    }

    public static func parse(_ data: Data, name: String) throws(SparringError) -> Audio {
        let bytes = [UInt8](data)
        func u32(_ at: Int) -> Int { Int(bytes[at]) | Int(bytes[at + 1]) << 8 | Int(bytes[at + 2]) << 16 | Int(bytes[at + 3]) << 24 }
        func u16(_ at: Int) -> Int { Int(bytes[at]) | Int(bytes[at + 1]) << 8 }
        guard bytes.count >= 12, bytes[0..<4].elementsEqual("RIFF".utf8), bytes[8..<12].elementsEqual("WAVE".utf8) else {
            throw SparringError("wav", "\(name): not a WAV file")
        }
        var offset = 12
        var rate = 0, channels = 0, bits = 0
        while offset + 8 <= bytes.count {
            let id = String(decoding: bytes[offset..<offset + 4], as: UTF8.self)
            let size = u32(offset + 4)
            let body = offset + 8
            if id == "fmt " && body + 16 <= bytes.count {
                guard u16(body) == 1 else { throw SparringError("wav", "\(name): only PCM WAV files are supported") }
                channels = u16(body + 2); rate = u32(body + 4); bits = u16(body + 14)
                guard (1_000...384_000).contains(rate) else { throw SparringError("wav", "\(name): sample rate \(rate) is out of range (1000–384000)") }
                guard (1...8).contains(channels) else { throw SparringError("wav", "\(name): \(channels) channels (1–8 supported)") }
            } else if id == "data" {
                guard bits == 16, channels > 0 else { throw SparringError("wav", "\(name): only 16-bit PCM is supported") }
                let end = min(bytes.count, body + size)
                let count = (end - body) / 2 / channels * channels
                var samples = [Int16](repeating: 0, count: count)
                samples.withUnsafeMutableBytes { raw in
                    raw.copyBytes(from: bytes[body..<body + count * 2])
                }
                return Audio(rate: rate, channels: channels, samples: samples.map { Int16(littleEndian: $0) })
            }
            offset = body + size + (size & 1)
        }
        throw SparringError("wav", "\(name): no audio data")
    }

    public static func write(_ audio: Audio, to path: String) throws {
        var data = header(rate: audio.rate, channels: audio.channels, dataBytes: audio.samples.count * 2)
        audio.samples.withUnsafeBytes { data.append(contentsOf: $0) }
        try data.write(to: URL(fileURLWithPath: path))
    }
}

/// Appends PCM16 frames to a WAV file, keeping the header true after every flush.
///
/// After each `flush` the file on disk is a complete, valid WAV of everything
/// written so far, so a crash loses only what was not flushed yet. A write that
/// fails (a full disk) keeps the file valid too: a partly written frame is cut
/// off, the header counts the whole frames, and `failure` says why; nothing more
/// is written after it.
public final class WaveWriter: @unchecked Sendable {
    public let path: String
    public let rate: Int
    public let channels: Int
    private let fd: Int32
    private var dataBytes = 0
    private var pending = Data()
    /// Why writing stopped (e.g. "No space left on device"), once it has.
    public private(set) var failure: String?

    public init(path: String, rate: Int, channels: Int, mode: mode_t = 0o600) throws(SparringError) {
        self.path = path
        self.rate = rate
        self.channels = channels
        fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode)
        guard fd >= 0 else { throw SparringError("wav", "\(path): cannot create (\(String(cString: strerror(errno))))") }
        let header = WaveFile.header(rate: rate, channels: channels, dataBytes: 0)
        if SafeFile.writeAll(fd, header, at: 0) != header.count {
            let reason = String(cString: strerror(errno))
            Glibc.close(fd)
            throw SparringError(errno == ENOSPC ? "disk_full" : "wav", "\(path): cannot write (\(reason))")
        }
    }

    deinit { Glibc.close(fd) }

    public var framesWritten: Int { (dataBytes + pending.count) / 2 / channels }

    public func append(_ interleaved: UnsafeBufferPointer<Int16>) {
        guard failure == nil else { return }
        pending.append(UnsafeBufferPointer(start: UnsafeRawPointer(interleaved.baseAddress)?.assumingMemoryBound(to: UInt8.self),
                                           count: interleaved.count * 2))
    }

    /// Writes what is pending and rewrites the header's sizes, then syncs the data to disk.
    /// Returns false once writing has failed (see `failure`).
    @discardableResult
    public func flush() -> Bool {
        guard failure == nil else { return false }
        guard !pending.isEmpty else { return true }
        let headerBytes = WaveFile.headerBytes
        let written = SafeFile.writeAll(fd, pending, at: headerBytes + dataBytes)
        if written < pending.count {
            failure = String(cString: strerror(errno))
            // Keep whole frames only; the header below counts them.
            let frame = 2 * channels
            dataBytes += max(0, written) / frame * frame
            _ = ftruncate(fd, off_t(headerBytes + dataBytes))
        } else {
            dataBytes += pending.count
        }
        pending.removeAll(keepingCapacity: failure == nil)
        // Rewriting the header in place needs no new space, so it holds on a full disk.
        _ = SafeFile.writeAll(fd, WaveFile.header(rate: rate, channels: channels, dataBytes: dataBytes), at: 0)
        fsync(fd)
        return failure == nil
    }

    public func close() {
        flush()
    }
}

/// Word error rate: word-level edit distance over the reference length.
public enum WordErrorRate {
    public static func errors(reference: [String], hypothesis: [String]) -> Int {
        if reference.isEmpty { return hypothesis.count }
        var previous = Array(0...hypothesis.count)
        for (i, word) in reference.enumerated() {
            var current = [i + 1] + [Int](repeating: 0, count: hypothesis.count)
            for (j, guess) in hypothesis.enumerated() {
                current[j + 1] = min(previous[j + 1] + 1, current[j] + 1, previous[j] + (word == guess ? 0 : 1))
            }
            previous = current
        }
        return previous[hypothesis.count]
    }

    public static func rate(reference: String, hypothesis: String) -> Double {
        let ref = Words.normalize(reference), hyp = Words.normalize(hypothesis)
        return Double(errors(reference: ref, hypothesis: hyp)) / Double(max(1, ref.count))
    }
}
