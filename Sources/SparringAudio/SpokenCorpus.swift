import CSonic
import Foundation
import SparringCore
import SparringSpeech

/// A labelled corpus spoken by several voices, for measuring move recognition on recognized speech.
///
/// Lines are rendered at 16 kHz once per voice and cached under
/// `$XDG_CACHE_HOME/sparring/corpus-audio` (never in the repository); noise is
/// mixed in at a stated SNR when asked. None of these voices is the caller's
/// engine speaking to itself: Festival's HTS voice stands in for a person, and
/// eSpeak NG's formant voices are a harder, different test.
public enum SpokenCorpus {
    public struct Voice: Sendable, Equatable {
        public enum Engine: Sendable, Equatable {
            /// A Festival voice by name, such as `cmu_us_slt_arctic_hts`.
            case festival(String)
            /// An eSpeak NG voice name with variant, at this many words per minute.
            case espeak(String, wpm: Int)
        }
        public var name: String
        public var engine: Engine
        /// Time-stretched by Sonic (pitch kept): 1.25 speaks a quarter faster.
        public var speed: Double

        public init(name: String, engine: Engine, speed: Double = 1) {
            self.name = name
            self.engine = engine
            self.speed = speed
        }
    }

    /// Two voices, each at two speaking rates.
    public static let voices: [Voice] = [
        Voice(name: "festival-slt", engine: .festival("cmu_us_slt_arctic_hts")),
        Voice(name: "festival-slt-fast", engine: .festival("cmu_us_slt_arctic_hts"), speed: 1.25),
        Voice(name: "espeak-m3-150", engine: .espeak("en-us+m3", wpm: 150)),
        Voice(name: "espeak-f3-190", engine: .espeak("en-us+f3", wpm: 190)),
    ]

    public static var cacheDirectory: URL { URL(fileURLWithPath: CacheFolder.path("corpus-audio")) }

    /// A stable name for one line in one voice.
    static func key(_ text: String, _ voice: Voice) -> String {
        String(CacheFolder.stableHash("\(voice.name)|\(voice.speed)|\(voice.engine)|\(text)"), radix: 16)
    }

    /// The 16 kHz samples of each line spoken by `voice`, rendering (and caching) what is missing.
    public static func render(_ lines: [String], voice: Voice, synthesizer: Synthesizer,
                              cache: URL = SpokenCorpus.cacheDirectory) throws(SparringError) -> [[Int16]] {
        let directory = cache.appendingPathComponent(voice.name)
        do { try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true) } catch {
            throw SparringError("cache", "cannot create \(directory.path): \(error.localizedDescription)")
        }
        func path(_ text: String) -> String { directory.appendingPathComponent(key(text, voice) + ".raw").path }
        let missing = Array(Set(lines.filter { !FileManager.default.fileExists(atPath: path($0)) })).sorted()
        if !missing.isEmpty {
            var rendered: [String: [Int16]] = [:]
            switch voice.engine {
            case let .festival(name): rendered = try festival(missing, voice: name)
            case let .espeak(name, wpm):
                for text in missing {
                    var samples: [Int16] = []
                    do {
                        try synthesizer.speak(text, voice: name, prosody: Prosody(rate: wpm, pitch: 50, range: 50, volume: 100)) { samples.append(contentsOf: $0) }
                        rendered[text] = try Resampler(from: synthesizer.sampleRate, to: Recognizer.sampleRate).resample(samples)
                    } catch { throw SparringError("synthesizer", "\(error)") }
                }
            }
            for (text, samples) in rendered {
                let stretched = voice.speed == 1 ? samples : stretch(samples, speed: voice.speed)
                let data = stretched.withUnsafeBufferPointer { Data(buffer: $0) }
                guard FileManager.default.createFile(atPath: path(text), contents: data) else {
                    throw SparringError("cache", "cannot write \(path(text))")
                }
            }
        }
        return try lines.map { text throws(SparringError) -> [Int16] in
            let data: Data
            do { data = try SafeFile.read(path(text), limit: 16_000 * 2 * 120) } catch { throw SparringError("cache", "\(error)") }
            return data.withUnsafeBytes { Array($0.bindMemory(to: Int16.self)) }
        }
    }

    /// Renders many lines in one Festival process (a process per line spends most of its time starting).
    static func festival(_ lines: [String], voice: String) throws(SparringError) -> [String: [Int16]] {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("sparring-corpus-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: directory) }
        var script = "(voice_\(voice))\n"
        for (index, text) in lines.enumerated() {
            let quoted = text.replacingOccurrences(of: "\\", with: " ").replacingOccurrences(of: "\"", with: " ")
            script += "(utt.save.wave (utt.synth (Utterance Text \"\(quoted)\")) \"\(directory.path)/\(index).wav\" 'riff)\n"
        }
        do {
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            try script.write(to: directory.appendingPathComponent("render.scm"), atomically: true, encoding: .utf8)
        } catch { throw SparringError("festival", "cannot write the Festival script in \(directory.path)") }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/festival")
        process.arguments = ["-b", directory.appendingPathComponent("render.scm").path]
        process.standardError = FileHandle.nullDevice
        process.standardOutput = FileHandle.nullDevice
        do { try process.run() } catch { throw SparringError("festival", "festival not found: install festival and festvox-us-slt-hts") }
        process.waitUntilExit()
        var rendered: [String: [Int16]] = [:]
        for (index, text) in lines.enumerated() {
            let audio = try WaveFile.read(path: "\(directory.path)/\(index).wav")
            do { rendered[text] = try Resampler(from: audio.rate, to: Recognizer.sampleRate).resample(audio.channel(0)) } catch {
                throw SparringError("resampler", error.description)
            }
        }
        return rendered
    }

    /// Speeds speech up (or slows it down) with Sonic, keeping its pitch.
    static func stretch(_ samples: [Int16], speed: Double) -> [Int16] {
        guard let stream = sonicCreateStream(Int32(Recognizer.sampleRate), 1) else { return samples }
        defer { sonicDestroyStream(stream) }
        sonicSetSpeed(stream, Float(speed))
        var input = samples
        _ = input.withUnsafeMutableBufferPointer { sonicWriteShortToStream(stream, $0.baseAddress, Int32($0.count)) }
        sonicFlushStream(stream)
        var output: [Int16] = []
        var buffer = [Int16](repeating: 0, count: 4096)
        while true {
            let got = buffer.withUnsafeMutableBufferPointer { sonicReadShortFromStream(stream, $0.baseAddress, Int32($0.count)) }
            if got <= 0 { break }
            output.append(contentsOf: buffer[0..<Int(got)])
        }
        return output
    }

    /// `speech` with pink noise mixed in at `snr` dB below the speech's power over its voiced part.
    public static func withNoise(_ speech: [Int16], snr: Double, seed: UInt64) -> [Int16] {
        let power = RoomNoise.activePower(speech)
        guard power > 0 else { return speech }
        return RoomNoise.mix(speech, RoomNoise.pink(count: speech.count, seed: seed), snr: snr, speechPower: power)
    }

    /// Recognizes each line's audio as one agent turn, as a call would hear it.
    public static func hear(_ audio: [[Int16]], recognizer: Recognizer) -> [[HeardHypothesis]] {
        audio.map { samples in
            // A little silence either side, as a turn has on a line.
            let padded = [Int16](repeating: 0, count: 3_200) + samples + [Int16](repeating: 0, count: 16_000)
            let utterances = recognizer.transcribe(padded)
            guard !utterances.isEmpty else { return [HeardHypothesis(words: [])] }
            // A line the end-of-turn policy split in two is still one line: its words joined, confidences kept.
            let best = HeardHypothesis(words: utterances.flatMap { $0.hypotheses[0].words },
                                       confidence: utterances.allSatisfy { $0.hypotheses[0].confidence != nil }
                                           ? utterances.flatMap { $0.hypotheses[0].confidence! } : nil)
            return [best] + (utterances.count == 1 ? Array(utterances[0].hypotheses.dropFirst()) : [])
        }
    }
}
