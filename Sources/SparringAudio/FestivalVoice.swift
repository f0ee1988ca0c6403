import Foundation
import Synchronization
import SparringCore
import SparringSessions
import SparringSpeech

/// Festival's HTS voices through `text2wave`, for the scripted agent of `simulate`.
///
/// It stands in for a person: PocketSphinx recognizes Festival's HTS voices about
/// as well as human speech, where eSpeak NG's formant voices lose half the words.
/// Each line costs a `text2wave` run of about a second, mostly loading the voice,
/// so a line already spoken in this process at this rate is handed back from memory
/// (the same text, voice and rate give the same samples).
enum FestivalVoice {
    /// Lines kept; past it the memory starts again, so a long run cannot grow without end.
    static let kept = 256
    private static let spoken = Mutex<[String: [Int16]]>([:])

    static func render(_ text: String, voice: String, rate: Int) throws(SparringError) -> [Int16] {
        let key = "\(voice)\u{1F}\(rate)\u{1F}\(text)"
        if let samples = spoken.withLock({ $0[key] }) { return samples }
        let samples = try synthesize(text, voice: voice, rate: rate)
        spoken.withLock { lines in
            if lines.count >= kept { lines.removeAll() }
            lines[key] = samples
        }
        return samples
    }

    private static func synthesize(_ text: String, voice: String, rate: Int) throws(SparringError) -> [Int16] {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("sparring-festival-\(UUID().uuidString)")
        try? FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let input = directory.appendingPathComponent("line.txt").path, output = directory.appendingPathComponent("line.wav").path
        defer { try? FileManager.default.removeItem(at: directory) }
        do { try text.write(toFile: input, atomically: true, encoding: .utf8) } catch {
            throw SparringError("festival", "cannot write \(input)")
        }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/text2wave")
        process.arguments = ["-eval", "(voice_\(voice))", input, "-o", output]
        process.standardError = FileHandle.nullDevice
        process.standardOutput = FileHandle.nullDevice
        do { try process.run() } catch {
            throw SparringError("festival", "text2wave not found: install festival and festvox-us-slt-hts, or use --voice agent")
        }
        process.waitUntilExit()
        guard process.terminationStatus == 0 else { throw SparringError("festival", "text2wave failed for voice '\(voice)'") }
        let audio = try WaveFile.read(path: output)
        do { return try Resampler(from: audio.rate, to: rate).resample(audio.channel(0)) } catch {
            throw SparringError("resampler", error.description)
        }
    }
}
