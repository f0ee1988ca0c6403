import ArgumentParser
import Foundation
import SparringCore

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
        @Option(help: "Simulated recognition errors: this share of words dropped or replaced (0–0.6).")
        var wordErrors: Double = 0
        @Option(help: "Print this many of the lines that went wrong.")
        var misses = 0
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
                return [HeardHypothesis(text: corrupt.corrupt(line.text))]
            }
            let suffix = noise > 0 ? String(format: ", %.0f %% simulated word errors", noise * 100) : ""
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
            let began = Date()
            let recognizer = MoveRecognizer.make(library, settings: settings)
            let trained = Date().timeIntervalSince(began)
            let evaluation = MoveEvaluation.run(recognizer, on: lines, moves: moves, hearing: hearing)
            print(evaluation.report(title: "\(path)\(suffix)", showMisses: misses), terminator: "")
            print(String(format: "models trained in %.2f s", trained))
        }

        /// The test part beside the working directory or in the source tree the binary was built from.
        static func defaultCorpus() -> String? {
            let relative = "Tests/Corpus/moves-test.tsv"
            let source = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            return [FileManager.default.currentDirectoryPath + "/" + relative, source.appendingPathComponent(relative).path]
                .first { FileManager.default.fileExists(atPath: $0) }
        }
    }
}
