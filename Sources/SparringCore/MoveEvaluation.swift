import Foundation

/// A labelled agent line: what was said and the moves it carries (none for small talk).
public struct LabelledLine: Sendable, Equatable {
    public var text: String
    public var moves: Set<String>
    public var line: Int

    public init(text: String, moves: Set<String>, line: Int = 0) {
        self.text = text
        self.moves = moves
        self.line = line
    }
}

/// A move corpus file: `moves<TAB>text` per line, moves comma-separated or `-`, `#` comments.
public enum MoveCorpus {
    public static func parse(_ content: String, file: String, known: Set<String>) throws(Problems) -> [LabelledLine] {
        var lines: [LabelledLine] = []
        var problems: [Problem] = []
        for (index, raw) in content.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let row = raw.trimmingCharacters(in: .whitespaces)
            if row.isEmpty || row.hasPrefix("#") { continue }
            let columns = row.split(separator: "\t", maxSplits: 1, omittingEmptySubsequences: false)
            guard columns.count == 2, !Words.normalize(String(columns[1])).isEmpty else {
                problems.append(Problem(file: file, line: index + 1, field: "", message: "expected moves, a tab, and the agent's words"))
                continue
            }
            let labels = columns[0] == "-" ? [] : columns[0].split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
            if let unknown = labels.first(where: { !known.contains($0) }) {
                problems.append(Problem(file: file, line: index + 1, field: "moves", message: "unknown move '\(unknown)'"))
                continue
            }
            lines.append(LabelledLine(text: String(columns[1]), moves: Set(labels), line: index + 1))
        }
        if !problems.isEmpty { throw Problems(problems) }
        return lines
    }

    public static func load(path: String, known: Set<String>) throws(Problems) -> [LabelledLine] {
        let content: String
        do { content = try SafeFile.readText(path) } catch { throw Problems([error]) }
        return try parse(content, file: path, known: known)
    }

    /// A corpus file's lines for `scenario`, with the lines for its own moves from `scenarios/ID.tsv`
    /// beside the file when there is one (Tests/Corpus/scenarios beside Tests/Corpus/moves-test.tsv).
    public static func load(path: String, for scenario: Scenario) throws(Problems) -> [LabelledLine] {
        let folder = URL(fileURLWithPath: path).deletingLastPathComponent().appendingPathComponent("scenarios").path
        return try load(path: path, known: Set(scenario.moves.order)) + (ownLines(in: folder, for: scenario) ?? [])
    }

    /// The lines for `scenario`'s own moves in `folder/ID.tsv`; nil when there is no such file.
    public static func ownLines(in folder: String, for scenario: Scenario) throws(Problems) -> [LabelledLine]? {
        let path = folder + "/" + scenario.id + ".tsv"
        guard FileManager.default.fileExists(atPath: path) else { return nil }
        return try load(path: path, known: Set(scenario.moves.order))
    }

    /// The library's own examples as a corpus: the development part.
    public static func development(_ library: MoveLibrary) -> [LabelledLine] {
        var labels: [[String]: (text: String, moves: Set<String>)] = [:]
        var order: [[String]] = []
        func add(_ text: String, _ move: String?) {
            let words = Words.normalize(text)
            if labels[words] == nil { labels[words] = (text, []); order.append(words) }
            if let move { labels[words]!.moves.insert(move) }
        }
        for move in library.all { for text in move.examples { add(text, move.id) } }
        for text in library.noMove { add(text, nil) }
        return order.map { LabelledLine(text: labels[$0]!.text, moves: labels[$0]!.moves) }
    }
}

/// Precision and recall per move, and the lines where a move was heard that was not said.
public struct MoveEvaluation: Sendable {
    public struct Tally: Sendable, Equatable {
        public var truePositives = 0, falsePositives = 0, falseNegatives = 0
        public var precision: Double { Double(truePositives) / Double(max(1, truePositives + falsePositives)) }
        public var recall: Double { Double(truePositives) / Double(max(1, truePositives + falseNegatives)) }
        public var support: Int { truePositives + falseNegatives }
    }

    public struct Miss: Sendable, Equatable {
        public var line: LabelledLine
        public var heard: String
        public var found: [String]
    }

    public var moves: [String]
    public var tallies: [String: Tally] = [:]
    public var lines = 0
    /// Lines where a move was heard that the line does not carry.
    public var linesWithWrongMove = 0
    /// Lines where a move it carries was not heard.
    public var linesWithMissedMove = 0
    /// Expected move (or "-") → move heard in its place, counted.
    public var confusions: [String: [String: Int]] = [:]
    public var misses: [Miss] = []
    /// Seconds spent recognizing, per line.
    public var secondsPerLine: [Double] = []

    public init(moves: [String]) { self.moves = moves }

    public var wrongShare: Double { Double(linesWithWrongMove) / Double(max(1, lines)) }

    public mutating func add(_ line: LabelledLine, heard: String, found: [String], seconds: Double) {
        lines += 1
        secondsPerLine.append(seconds)
        let got = Set(found)
        // Labels of moves not scored here (the library's, when a scenario's own moves are) are not missed.
        let labels = line.moves.intersection(moves)
        for move in moves {
            let expected = labels.contains(move), heard = got.contains(move)
            if expected && heard { tallies[move, default: Tally()].truePositives += 1 }
            if !expected && heard { tallies[move, default: Tally()].falsePositives += 1 }
            if expected && !heard { tallies[move, default: Tally()].falseNegatives += 1 }
        }
        let wrong = got.subtracting(line.moves)
        let missed = labels.subtracting(got)
        if !wrong.isEmpty { linesWithWrongMove += 1 }
        if !missed.isEmpty { linesWithMissedMove += 1 }
        if !wrong.isEmpty || !missed.isEmpty {
            misses.append(Miss(line: line, heard: heard, found: found))
            let expectedKeys = missed.isEmpty ? ["-"] : missed.sorted()
            for expected in expectedKeys {
                for got in (wrong.isEmpty ? ["-"] : wrong.sorted()) { confusions[expected, default: [:]][got, default: 0] += 1 }
            }
        }
    }

    public mutating func merge(_ other: MoveEvaluation) {
        lines += other.lines
        linesWithWrongMove += other.linesWithWrongMove
        linesWithMissedMove += other.linesWithMissedMove
        misses += other.misses
        secondsPerLine += other.secondsPerLine
        for (move, t) in other.tallies {
            tallies[move, default: Tally()].truePositives += t.truePositives
            tallies[move, default: Tally()].falsePositives += t.falsePositives
            tallies[move, default: Tally()].falseNegatives += t.falseNegatives
        }
        for (expected, row) in other.confusions { for (got, n) in row { confusions[expected, default: [:]][got, default: 0] += n } }
    }

    /// Runs `recognizer` (trained first, so the time per line is recognition alone) over `corpus`;
    /// `hearing` turns a line into what the recognizer reads (typed text by default).
    public static func run(_ recognizer: MoveRecognizer, on corpus: [LabelledLine], moves: [String],
                           hearing: (LabelledLine) -> [HeardHypothesis] = { [HeardHypothesis(text: $0.text)] }) -> MoveEvaluation {
        var evaluation = MoveEvaluation(moves: moves)
        recognizer.prepare()
        for line in corpus {
            let heard = hearing(line)
            let began = DispatchTime.now().uptimeNanoseconds
            let found = recognizer.recognize(heard).map(\.move).filter(moves.contains)
            let seconds = Double(DispatchTime.now().uptimeNanoseconds - began) / 1e9
            evaluation.add(line, heard: heard.first?.words.joined(separator: " ") ?? "", found: found, seconds: seconds)
        }
        return evaluation
    }

    /// Consecutive corpus lines typed as one turn, `linesPerTurn` at a time, each closed with a full stop
    /// if it has no end mark, carrying all their moves: how a rehearsal turn of several sentences is read.
    public static func typedTurns(_ corpus: [LabelledLine], linesPerTurn: Int = 2) -> [LabelledLine] {
        stride(from: 0, to: corpus.count - linesPerTurn + 1, by: linesPerTurn).map { start in
            let lines = corpus[start..<(start + linesPerTurn)]
            let text = lines.map { line in
                let trimmed = line.text.trimmingCharacters(in: .whitespaces)
                return trimmed.last.map { ".!?".contains($0) } == true ? trimmed : trimmed + "."
            }.joined(separator: " ")
            return LabelledLine(text: text, moves: lines.reduce(into: Set<String>()) { $0.formUnion($1.moves) }, line: lines.first!.line)
        }
    }

    /// Time to recognize whole turns as the live recognizer hands them over: `linesPerTurn` corpus
    /// lines said in one breath, read four ways (the best hypothesis and three alternatives, each
    /// with its own 10 % of words dropped or replaced) with a confidence per word. Seconds per turn.
    public static func turnTimes(_ recognizer: MoveRecognizer, on corpus: [LabelledLine], linesPerTurn: Int = 3) -> [Double] {
        recognizer.prepare()
        var times: [Double] = []
        var start = 0
        while start + linesPerTurn <= corpus.count {
            let text = corpus[start..<(start + linesPerTurn)].map(\.text).joined(separator: " ")
            let readings = (0..<4).map { rank -> HeardHypothesis in
                var noise = RecognitionNoise(errorRate: rank == 0 ? 0 : 0.1, seed: UInt64(start * 4 + rank))
                let words = Words.normalize(rank == 0 ? text : noise.corrupt(text))
                return HeardHypothesis(words: words, confidence: words.indices.map { 0.5 + 0.5 * Double(($0 * 7 + rank) % 10) / 10 })
            }
            let began = DispatchTime.now().uptimeNanoseconds
            _ = recognizer.recognize(readings)
            times.append(Double(DispatchTime.now().uptimeNanoseconds - began) / 1e9)
            start += linesPerTurn
        }
        return times
    }

    /// k-fold cross-validation over the library's own examples (the development part):
    /// each fold is recognized by models trained on the other folds.
    public static func crossValidate(_ library: MoveLibrary, folds: Int = 5, settings: MoveRecognizer.Settings = .init(),
                                     hearing: (LabelledLine) -> [HeardHypothesis] = { [HeardHypothesis(text: $0.text)] }) -> MoveEvaluation {
        let moves = library.all.map(\.id)
        return crossValidate(library, corpus: MoveCorpus.development(library), scoring: moves, folding: Set(moves),
                             folds: folds, settings: settings, hearing: hearing)
    }

    /// Cross-validation of a scenario's own moves (`own`): each fold of their examples, and the same
    /// fold of the library's no-move lines, is heard by models trained without it. Only `own` moves
    /// are scored, so this measures how a handful of an author's examples generalise; the library's
    /// moves keep all their examples.
    public static func crossValidateOwn(_ library: MoveLibrary, own: [String], folds: Int = 4,
                                        settings: MoveRecognizer.Settings = .init()) -> MoveEvaluation {
        let ownSet = Set(own)
        var corpus: [LabelledLine] = []
        var seen: Set<[String]> = []
        for move in library.all where ownSet.contains(move.id) {
            for text in move.examples where seen.insert(Words.normalize(text)).inserted {
                corpus.append(LabelledLine(text: text, moves: [move.id]))
            }
        }
        for text in library.noMove where seen.insert(Words.normalize(text)).inserted {
            corpus.append(LabelledLine(text: text, moves: []))
        }
        return crossValidate(library, corpus: corpus, scoring: own, folding: ownSet, folds: folds, settings: settings)
    }

    /// Each fold of `corpus` heard by models trained without it: the fold's lines are left out of the
    /// no-move lines and of the examples of the moves in `folding`; `scoring` moves are scored.
    private static func crossValidate(_ library: MoveLibrary, corpus: [LabelledLine], scoring moves: [String], folding: Set<String>,
                                      folds: Int, settings: MoveRecognizer.Settings,
                                      hearing: (LabelledLine) -> [HeardHypothesis] = { [HeardHypothesis(text: $0.text)] }) -> MoveEvaluation {
        let fold = { (line: LabelledLine) in foldOf(line.text, folds) }
        var total = MoveEvaluation(moves: moves)
        for k in 0..<folds {
            let held = Set(corpus.filter { fold($0) == k }.map { Words.normalize($0.text) })
            var training = MoveLibrary(noMove: library.noMove.filter { !held.contains(Words.normalize($0)) }, wordGroups: library.wordGroups)
            for var move in library.all {
                if folding.contains(move.id) { move.examples = move.examples.filter { !held.contains(Words.normalize($0)) } }
                training.add(move)
            }
            let recognizer = MoveRecognizer.make(training, settings: settings)
            recognizer.prepare()  // Training is not recognition: keep it out of the time per line.
            total.merge(run(recognizer, on: corpus.filter { fold($0) == k }, moves: moves, hearing: hearing))
        }
        return total
    }

    /// A stable fold for a line, from a hash of its words: folds do not depend on file order or on the process.
    static func foldOf(_ text: String, _ folds: Int) -> Int {
        var h: UInt64 = 1469598103934665603
        for byte in Words.normalize(text).joined(separator: " ").utf8 { h = (h ^ UInt64(byte)) &* 1099511628211 }
        return Int(h % UInt64(folds))
    }

    /// The same evaluation with every move named `prefix/move`, so several scenarios' own moves
    /// (two may both define take_responsibility) pool into one table.
    public func qualified(_ prefix: String) -> MoveEvaluation {
        let name = { (move: String) in "\(prefix)/\(move)" }
        var copy = self
        copy.moves = moves.map(name)
        copy.tallies = Dictionary(uniqueKeysWithValues: tallies.map { (name($0.key), $0.value) })
        copy.confusions = Dictionary(uniqueKeysWithValues: confusions.map { expected, row in
            (expected == "-" ? expected : name(expected),
             Dictionary(uniqueKeysWithValues: row.map { ($0.key == "-" ? $0.key : name($0.key), $0.value) }))
        })
        copy.misses = misses.map { miss in
            var miss = miss
            miss.line.moves = Set(miss.line.moves.map(name))
            miss.found = miss.found.map(name)
            return miss
        }
        return copy
    }

    /// The per-move table, the share of lines with a wrong move, and the commonest confusions.
    public func report(title: String, showMisses: Int = 0) -> String {
        var out = "\(title): \(lines) lines\n"
        let column = max(22, (moves.map(\.count).max() ?? 0) + 1)
        out += "move".padding(toLength: column + 1, withPad: " ", startingAt: 0) + "precision  recall  lines\n"
        for move in moves where tallies[move]?.support ?? 0 > 0 || tallies[move]?.falsePositives ?? 0 > 0 {
            let t = tallies[move]!
            out += move.padding(toLength: column, withPad: " ", startingAt: 0)
                + String(format: "  %8.1f%%  %5.1f%%  %5d\n", t.precision * 100, t.recall * 100, t.support)
        }
        let recalls = moves.compactMap { tallies[$0] }.filter { $0.support > 0 }.map(\.recall)
        out += String(format: "lowest recall %.1f%%, lines with a wrong move %.1f%% (%d), lines with a move missed %.1f%% (%d)\n",
                      (recalls.min() ?? 0) * 100, wrongShare * 100, linesWithWrongMove,
                      Double(linesWithMissedMove) / Double(max(1, lines)) * 100, linesWithMissedMove)
        let sorted = secondsPerLine.sorted()
        if !sorted.isEmpty {
            out += String(format: "recognition per line: p50 %.2f ms, p99 %.2f ms, max %.2f ms\n",
                          sorted[sorted.count / 2] * 1000, sorted[min(sorted.count - 1, sorted.count * 99 / 100)] * 1000, sorted.last! * 1000)
        }
        let pairs = confusions.flatMap { expected, row in row.map { (expected, $0.key, $0.value) } }
            .sorted { ($0.2, $0.0, $0.1) > ($1.2, $1.0, $1.1) }
        if !pairs.isEmpty {
            out += "confusions (said → heard):\n"
            for (expected, got, count) in pairs.prefix(15) { out += "  \(expected) → \(got): \(count)\n" }
        }
        for miss in misses.prefix(showMisses) {
            out += "  [\(miss.line.moves.sorted().joined(separator: ",").ifEmpty("-"))] \(miss.line.text)  →  \(miss.found.joined(separator: ",").ifEmpty("-"))\n"
        }
        return out
    }
}

extension String {
    func ifEmpty(_ replacement: String) -> String { isEmpty ? replacement : self }
}
