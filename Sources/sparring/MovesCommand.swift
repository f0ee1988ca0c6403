import ArgumentParser
import Foundation
import SparringAudio
import SparringCore
import SparringSpeech

struct MovesCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "moves",
        abstract: "Check how well agent moves are recognized.",
        subcommands: [Eval.self])

    struct Eval: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Per-move precision and recall and the confusions, on a labelled corpus of agent lines.",
            discussion: """
            The corpus is a file of `moves<TAB>text` lines (moves comma-separated, `-` for none). \
            By default the held-out test part, Tests/Corpus/moves-test.tsv of the source tree. \
            --dev cross-validates over the move library's own examples (the development part) instead.
            """)

        @OptionGroup var catalog: CatalogOptions
        @Option(help: "A labelled corpus file (default: the held-out test part).")
        var corpus: String?
        @Flag(help: "Five-fold cross-validation over the library's examples instead of a corpus file.")
        var dev = false
        @Flag(help: "Score every scenario's own moves (take_responsibility, book_repair…) instead of the shared ones: on the held-out lines of Tests/Corpus/scenarios/ID.tsv (--corpus DIR for another folder), or with --dev by cross-validating their examples.")
        var scenarioMoves = false
        @Option(help: "Simulated recognition errors: this share of words dropped or replaced (0–0.6).")
        var wordErrors: Double = 0
        @Option(help: "Print this many of the lines that went wrong.")
        var misses = 0
        @Flag(help: "Speak the corpus (Festival and eSpeak NG voices, two rates each) and recognize it with PocketSphinx.")
        var speech = false
        @Option(help: "With --speech: mix pink noise in at this SNR in dB (e.g. 20).")
        var noise: Double?
        @Flag(help: "With --speech: clean each line with speexdsp's noise suppressor before recognizing it.")
        var denoise = false
        @Option(help: "With --speech: only the first N lines of the corpus.")
        var limit: Int?
        @Option(help: "With --speech: the voices that speak the corpus, comma-separated (festival-slt, festival-slt-fast, espeak-m3-150, espeak-f3-190).")
        var speakers: String?
        @Option(help: ArgumentHelp("Tuning: the probability a move needs.", visibility: .hidden))
        var threshold: Double?
        @Option(help: ArgumentHelp("Tuning: the probability a move that angers the caller needs.", visibility: .hidden))
        var hurtingThreshold: Double?
        @Option(help: ArgumentHelp("Tuning: the shortest window of words read.", visibility: .hidden))
        var shortestWindow: Int?
        @Option(help: ArgumentHelp("Tuning: how much more a positive example weighs.", visibility: .hidden))
        var positiveWeight: Float?
        @Option(help: ArgumentHelp("Tuning: training epochs.", visibility: .hidden))
        var epochs: Int?
        @Option(help: ArgumentHelp("Tuning: learning rate.", visibility: .hidden))
        var learningRate: Float?
        @Option(help: ArgumentHelp("Tuning: L2 penalty.", visibility: .hidden))
        var l2: Float?
        @Option(help: ArgumentHelp("Tuning: weight of character n-grams.", visibility: .hidden))
        var charWeight: Float?
        @Option(help: ArgumentHelp("Tuning: how much more a scenario's own move's example weighs.", visibility: .hidden))
        var ownPositiveWeight: Float?
        @Option(help: ArgumentHelp("Tuning: the probability a scenario's move needs where the library heard its kind.", visibility: .hidden))
        var kindThreshold: Double?
        @Option(help: ArgumentHelp("Tuning: the content words an utterance needs for a scenario's own move.", visibility: .hidden))
        var ownContentWords: Int?

        var settings: MoveRecognizer.Settings {
            var settings = MoveRecognizer.Settings()
            if let threshold { settings.threshold = threshold }
            if let hurtingThreshold { settings.hurtingThreshold = hurtingThreshold }
            if let shortestWindow { settings.shortestWindow = shortestWindow }
            if let positiveWeight { settings.positiveWeight = positiveWeight }
            if let epochs { settings.epochs = epochs }
            if let learningRate { settings.training.learningRate = learningRate }
            if let l2 { settings.training.l2 = l2 }
            if let charWeight { settings.training.charWeight = charWeight }
            if let ownPositiveWeight { settings.training.ownPositiveWeight = ownPositiveWeight }
            if let kindThreshold { settings.kindThreshold = kindThreshold }
            if let ownContentWords { settings.ownContentWords = ownContentWords }
            return settings
        }

        func run() throws {
            let loaded = catalog.load()
            let library = loaded.library
            let moves = library.all.map(\.id)
            guard (0...0.6).contains(wordErrors) else { throw Terminal.fail("--word-errors takes a share from 0 to 0.6") }
            let noise = wordErrors
            let hearing: (LabelledLine) -> [HeardHypothesis] = { line in
                guard noise > 0 else { return [HeardHypothesis(text: line.text)] }
                var corrupt = RecognitionNoise(errorRate: noise, seed: UInt64(truncatingIfNeeded: line.line &* 7919 &+ line.text.count))
                return [corrupt.hear(line.text)]
            }
            let suffix = noise > 0 ? String(format: ", %.0f %% simulated word errors", noise * 100) : ""
            if scenarioMoves {
                try evaluateScenarioMoves(loaded.scenarios, hearing: hearing, suffix: suffix)
                return
            }
            if dev {
                let evaluation = MoveEvaluation.crossValidate(library, settings: settings, hearing: hearing)
                print(evaluation.report(title: "development part, 5-fold cross-validation\(suffix)", showMisses: misses), terminator: "")
                return
            }
            guard let path = corpus ?? Self.defaultCorpus() else {
                throw Terminal.fail("no corpus given and Tests/Corpus/moves-test.tsv not found; pass --corpus FILE")
            }
            let lines: [LabelledLine]
            do { lines = try MoveCorpus.load(path: path, known: Set(moves)) } catch { throw Terminal.fail(error.description) }
            if speech {
                try evaluateSpeech(Array(lines.prefix(limit ?? lines.count)), library: library, moves: moves, path: path)
                return
            }
            let began = Date()
            let recognizer = MoveRecognizer.make(library, settings: settings)
            recognizer.prepare()
            let trained = Date().timeIntervalSince(began)
            let evaluation = MoveEvaluation.run(recognizer, on: lines, moves: moves, hearing: hearing)
            print(evaluation.report(title: "\(path)\(suffix)", showMisses: misses), terminator: "")
            if noise == 0 {
                let turns = MoveEvaluation.typedTurns(lines)
                let typed = MoveEvaluation.run(recognizer, on: turns, moves: moves)
                let summary = typed.report(title: "", showMisses: 0).split(separator: "\n").first { $0.hasPrefix("lowest") } ?? ""
                print("turns of two lines typed as one (\(turns.count)): \(summary)")
            }
            let turns = MoveEvaluation.turnTimes(recognizer, on: lines).sorted()
            if !turns.isEmpty {
                let words = lines.prefix(3 * turns.count).map { Words.normalize($0.text).count }.reduce(0, +) / max(1, turns.count)
                print(String(format: "recognition per turn (three lines, %d words on average, four readings with word confidences): p50 %.2f ms, p99 %.2f ms, max %.2f ms",
                             words, turns[turns.count / 2] * 1000, turns[min(turns.count - 1, turns.count * 99 / 100)] * 1000, turns.last! * 1000))
            }
            print(String(format: "models ready in %.2f s", trained)
                  + (MoveModelCache.modelsRead > 0 ? " (read from \(CacheFolder.path("moves")), not trained)" : " (trained)"))
        }

        /// Each scenario's own moves, heard by that scenario's recognizer (the library's moves beside them),
        /// scored alone and pooled into one table of `scenario/move` rows.
        func evaluateScenarioMoves(_ scenarios: [Scenario],
                                   hearing: @escaping (LabelledLine) -> [HeardHypothesis], suffix: String) throws {
            var folder: String?
            if !dev {
                folder = corpus ?? Self.defaultCorpus(relative: "Tests/Corpus/scenarios")
                guard folder != nil else { throw Terminal.fail("Tests/Corpus/scenarios not found; pass --corpus DIR") }
            }
            var pooled = MoveEvaluation(moves: [])
            var scored: [String] = []
            for scenario in scenarios.sorted(by: { $0.id < $1.id }) {
                let own = scenario.ownMoves.map(\.id)
                guard !own.isEmpty else { continue }
                let evaluation: MoveEvaluation
                if let folder {
                    let found: [LabelledLine]?
                    do { found = try MoveCorpus.ownLines(in: folder, for: scenario) } catch { throw Terminal.fail(error.description) }
                    guard let lines = found else { continue }
                    evaluation = MoveEvaluation.run(MoveRecognizer.make(scenario.moves, settings: settings), on: lines, moves: own, hearing: hearing)
                } else {
                    evaluation = MoveEvaluation.crossValidateOwn(scenario.moves, own: own, settings: settings)
                }
                let qualified = evaluation.qualified(scenario.id)
                pooled.moves += qualified.moves
                pooled.merge(qualified)
                scored.append(scenario.id)
            }
            guard !scored.isEmpty else { throw Terminal.fail("no scenario with moves of its own has a corpus file in \(folder ?? "")") }
            let title = folder.map { "\($0), the own moves of \(scored.count) scenarios" }
                ?? "the own moves of \(scored.count) scenarios, their examples 4-fold cross-validated with the library's no-move lines"
            print(pooled.report(title: title + suffix, showMisses: misses), terminator: "")
        }

        /// Renders the lines with each voice (cached), recognizes them (a recognizer per voice,
        /// two at a time), and reports per voice and for all voices together.
        func evaluateSpeech(_ lines: [LabelledLine], library: MoveLibrary, moves: [String], path: String) throws {
            let chosen = speakers.map { $0.split(separator: ",").map(String.init) } ?? SpokenCorpus.voices.map(\.name)
            let selected = try chosen.map { name throws -> SpokenCorpus.Voice in
                guard let voice = SpokenCorpus.voices.first(where: { $0.name == name }) else {
                    throw Terminal.fail("unknown voice '\(name)' (known: \(SpokenCorpus.voices.map(\.name).joined(separator: ", ")))")
                }
                return voice
            }
            if let noise, !(0...60).contains(noise) { throw Terminal.fail("--noise takes an SNR from 0 to 60 dB") }
            let synthesizer: Synthesizer
            do { synthesizer = try Synthesizer() } catch { throw Terminal.fail(error.description) }
            var audio: [[[Int16]]] = []
            for voice in selected {
                var rendered: [[Int16]]
                do { rendered = try SpokenCorpus.render(lines.map(\.text), voice: voice, synthesizer: synthesizer) } catch {
                    throw Terminal.fail(error.description)
                }
                if let noise {
                    rendered = rendered.enumerated().map { SpokenCorpus.withNoise($1, snr: noise, seed: UInt64($0 + 1)) }
                }
                if denoise {
                    let began = CPUTime.thread()
                    var seconds = 0.0
                    // One suppressor over the voice's lines in order, as a call's runs on: it has learned the room.
                    let suppressor = NoiseSuppressor()
                    rendered = rendered.map { line in
                        var samples = line
                        seconds += Double(samples.count) / 16_000
                        suppressor.process(&samples)
                        return samples
                    }
                    print(String(format: "%@: speexdsp noise suppression took %.4f s of CPU per second of audio", voice.name,
                                 (CPUTime.thread() - began) / max(seconds, 1e-9)))
                }
                audio.append(rendered)
            }
            let bias = LanguageBias(sentences: LanguageBias.text(for: library))
            let heard = HeardBox(count: selected.count)
            let spoken = audio
            DispatchQueue.concurrentPerform(iterations: selected.count) { index in
                do {
                    let recognizer = try Recognizer()
                    try recognizer.useBias(bias, name: "moves", weight: Recognizer.biasWeight)
                    heard.set(index, SpokenCorpus.hear(spoken[index], recognizer: recognizer))
                } catch {
                    heard.fail("\(error)")
                }
            }
            if let failure = heard.failure { throw Terminal.fail(failure) }
            let recognizer = MoveRecognizer.make(library, settings: settings)
            let condition = noise.map { String(format: "pink noise at %.0f dB SNR", $0) } ?? "clean"
            var pooled = MoveEvaluation(moves: moves)
            var wordErrors = (errors: 0, words: 0)
            // The best reading's word confidences, of words heard right and of words heard wrong.
            var confidences: [[Double]] = [[], []]
            for (index, voice) in selected.enumerated() {
                let readings = heard.results[index]
                var position = 0
                let evaluation = MoveEvaluation.run(recognizer, on: lines, moves: moves) { _ in
                    defer { position += 1 }
                    return readings[position]
                }
                for (line, reading) in zip(lines, readings) {
                    let reference = Words.normalize(line.text)
                    wordErrors.errors += Words.editDistance(reference, reading.first?.words ?? [])
                    wordErrors.words += reference.count
                    if let best = reading.first, let confidence = best.confidence {
                        for (right, value) in zip(Words.heardCorrectly(reference, best.words), confidence) {
                            confidences[right ? 0 : 1].append(value)
                        }
                    }
                }
                print("\(voice.name): " + (evaluation.report(title: "", showMisses: 0).split(separator: "\n").first { $0.hasPrefix("lowest") } ?? ""))
                pooled.merge(evaluation)
            }
            print(String(format: "word error rate over all voices: %.1f %%", Double(wordErrors.errors) / Double(max(1, wordErrors.words)) * 100))
            for (name, values) in zip(["right", "wrong"], confidences) where !values.isEmpty {
                let sorted = values.sorted()
                let deciles = (1...9).map { String(format: "%.2f", sorted[sorted.count * $0 / 10]) }.joined(separator: " ")
                print("confidence of words heard \(name) (\(sorted.count)), deciles: \(deciles)")
            }
            print(pooled.report(title: "\(path), spoken by \(selected.map(\.name).joined(separator: ", ")), \(condition)", showMisses: misses), terminator: "")
        }

        /// The test part beside the working directory or in the source tree the binary was built from.
        static func defaultCorpus(relative: String = "Tests/Corpus/moves-test.tsv") -> String? {
            let source = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            return [FileManager.default.currentDirectoryPath + "/" + relative, source.appendingPathComponent(relative).path]
                .first { FileManager.default.fileExists(atPath: $0) }
        }
    }
}

/// What each voice's recognizer heard, filled in from several threads.
final class HeardBox: @unchecked Sendable {
    private let lock = NSLock()
    private(set) var results: [[[HeardHypothesis]]]
    private(set) var failure: String?

    init(count: Int) { results = Array(repeating: [], count: count) }

    func set(_ index: Int, _ value: [[HeardHypothesis]]) { lock.lock(); results[index] = value; lock.unlock() }
    func fail(_ reason: String) { lock.lock(); failure = failure ?? reason; lock.unlock() }
}
