import ArgumentParser
import Foundation
import SparringCore
import SparringSpeech

struct HearCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "hear",
        abstract: "What the recognizer hears in a recording: words with times and confidences, alternatives, and the moves with their evidence.",
        discussion: """
        FILE is a WAV file (any rate; a two-channel session recording is read from its first channel, the agent's) \
        or raw 16 kHz mono 16-bit little-endian samples (.raw). With --scenario, recognition is biased toward that \
        scenario and its own moves are recognized too, as in a call.
        """)

    @OptionGroup var catalog: CatalogOptions
    @Argument(help: "A .wav or .raw recording.")
    var file: String
    @Option(help: "Hear it as in a call of this scenario.")
    var scenario: String?
    @Flag(help: "Print a JSON array of utterances.")
    var json = false

    struct Heard: Encodable {
        struct Word: Encodable { var word: String; var start: Double; var end: Double; var confidence: Double? }
        var start: Double
        var end: Double
        var text: String
        var words: [Word]
        var alternatives: [String]
        var moves: [MoveHit]
        var decode_ms: Double
    }

    func run() throws {
        let samples: [Int16]
        do { samples = try Self.read(file) } catch { throw Terminal.fail("\(error)") }
        let loaded = catalog.load(quiet: true)
        let library: MoveLibrary
        var bias: (LanguageBias, String)?
        if let scenario {
            let found: Scenario
            do { found = try loaded.scenario(scenario) } catch { throw Terminal.fail(error.description) }
            library = found.moves
            bias = (LanguageBias(sentences: LanguageBias.text(for: found)), found.id)
        } else {
            library = loaded.library
        }
        let recognizer: Recognizer
        do {
            recognizer = try Recognizer()
            if let (model, name) = bias { try recognizer.useBias(model, name: name, weight: Recognizer.biasWeight) }
        } catch { throw Terminal.fail(error.description) }
        let moves = MoveRecognizer.make(library)
        let heard = recognizer.transcribe(samples).map { utterance in
            Heard(start: utterance.start.seconds, end: utterance.voiceEnd.seconds, text: utterance.text,
                  words: utterance.words.map { .init(word: $0.word, start: $0.start.seconds, end: $0.end.seconds, confidence: $0.confidence) },
                  alternatives: utterance.alternatives, moves: moves.recognize(utterance.hypotheses),
                  decode_ms: (utterance.finalizeSeconds * 10_000).rounded() / 10)
        }
        if json {
            print(try Terminal.json(heard))
            return
        }
        if heard.isEmpty { print("nothing heard in \(file)") }
        for utterance in heard {
            print(String(format: "[%@ – %@] %@", clock(utterance.start), clock(utterance.end), utterance.text))
            let words = utterance.words.map { word in
                word.confidence.map { String(format: "%@ %.2f", word.word, $0) } ?? word.word
            }
            print("  words: " + words.joined(separator: ", "))
            for (rank, alternative) in utterance.alternatives.enumerated() { print("  alternative \(rank + 1): \(alternative)") }
            if utterance.moves.isEmpty { print("  moves: none") }
            for hit in utterance.moves { print("  move: " + hit.evidence) }
        }
    }

    private func clock(_ seconds: Double) -> String {
        String(format: "%d:%05.2f", Int(seconds) / 60, seconds.truncatingRemainder(dividingBy: 60))
    }

    /// 16 kHz mono samples from a WAV (resampled, first channel) or a raw file.
    static func read(_ path: String) throws -> [Int16] {
        if path.hasSuffix(".raw") {
            // At most an hour of audio.
            let data = try SafeFile.read(path, limit: 16_000 * 2 * 3600)
            guard data.count % 2 == 0 else { throw SparringError("bad-audio", "\(path): an odd number of bytes is not 16-bit samples") }
            return data.withUnsafeBytes { Array($0.bindMemory(to: Int16.self)) }.map { Int16(littleEndian: $0) }
        }
        let audio = try WaveFile.read(path: path)
        let mono = audio.channels == 1 ? audio.samples : audio.channel(0)
        guard audio.rate != Recognizer.sampleRate else { return mono }
        return try Resampler(from: audio.rate, to: Recognizer.sampleRate).resample(mono)
    }
}
