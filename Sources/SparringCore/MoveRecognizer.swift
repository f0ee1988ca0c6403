import Foundation

/// One reading of what the agent said: the recognizer's best hypothesis or an alternative.
public struct HeardHypothesis: Sendable, Equatable {
    public var words: [String]
    /// Per word, how sure the recognizer was (0–1); nil for typed text.
    public var confidence: [Double]?

    /// Where a new sentence begins, by word index (typed text only: a recognizer gives no punctuation).
    public var sentenceStarts: [Int] = []

    public init(words: [String], confidence: [Double]? = nil) {
        self.words = words
        self.confidence = confidence?.count == words.count ? confidence : nil
    }

    public init(text: String) {
        let read = Words.read(text)
        self.init(words: read.words)
        sentenceStarts = read.sentenceStarts
    }
}

/// Recognizes agent moves by meaning, from examples, in what the recognizer heard.
///
/// Each file's moves (the shared library, then a scenario's own) are one
/// softmax model (no move, or one of the file's moves) over word, word-pair and character n-gram
/// features with negation marked (`MoveModel`), trained when first needed
/// from the moves' examples and phrases against every other example and the
/// library's `no_move` lines, and kept for the process. An utterance is read
/// through windows of 12–16 words (a shorter one whole), so a turn that makes several moves yields
/// each where it was said, in order; typed text is read sentence by sentence (a sentence shorter than
/// the windows whole, no window across two). A scenario's own move may be a kind of a
/// library move (booking the repair is an offer of a solution): the library's
/// model hears that move in a third or more of the scenario move's examples. Where both
/// are heard in the same words, the scenario's wins, as it does over a library
/// move that hurts; a helpful library move it is not a kind of ("does that
/// work for you?" after a credit note) stands beside it. A move's phrase said word for word (and not negated) is heard too,
/// whatever the model says: phrases are the author's surest evidence. Words the recognizer was unsure of count for less, and a move heard
/// only in an alternative hypothesis still counts, a little less sure.
public final class MoveRecognizer: @unchecked Sendable {
    struct Group: Sendable {
        let model: MoveModel
        /// Moves whose effect raises anger.
        let hurting: Set<String>
        /// Moves that hurt the call (anger or lost trust): a later file's move heard in the same words replaces them.
        let hurts: Set<String>
        /// Per move, its phrases as light stems: an exact occurrence is heard whatever the model says.
        let phrases: [String: [(text: String, stems: [String])]]
        /// Per move, its examples with their word sets, to cite the nearest.
        let examples: [String: [(text: String, words: Set<String>)]]
        /// Per move, the earlier files' moves it is a kind of: heard by their models in at least
        /// a third of its examples. Heard in the same words, it replaces those.
        var kindOf: [String: Set<String>] = [:]
    }

    public let library: MoveLibrary
    let settings: Settings
    /// Trained on first use (`prepare`), guarded by `lock`: a call starts without waiting for it.
    private var trainedGroups: [Group]?
    private let lock = NSLock()

    public struct Settings: Sendable, Hashable {
        /// A move is heard when the model's probability reaches this.
        public var threshold = 0.5
        /// A move the caller is waiting for (one that carries the call on from where it is) is heard
        /// from this probability: a person hears what they expect on a bad line. Never a hurting move.
        public var expectedThreshold = 0.3
        /// A move that angers the caller needs this much: hearing an insult that was not
        /// said costs a skilled agent the call, so the caller gives the benefit of the doubt.
        public var hurtingThreshold = 0.6
        public var shortestWindow = 12
        public var longestWindow = 16
        /// A scenario's move is heard from this probability where the library heard the move it is a kind of.
        public var kindThreshold = 0.2
        /// A scenario's own move is heard only in an utterance of at least this many words that are
        /// not function words or fillers (or in one of its phrases).
        public var ownContentWords = 2
        /// How much less an alternative hypothesis counts than the best one, per rank.
        public var alternativeDiscount = 0.85
        public var epochs: Int {
            get { training.epochs }
            set { training.epochs = newValue }
        }
        public var positiveWeight: Float {
            get { training.positiveWeight }
            set { training.positiveWeight = newValue }
        }
        public var training = TrainingSettings()
        public init() {}
    }

    public struct TrainingSettings: Sendable, Hashable {
        public var epochs = 24
        /// Examples of a move weigh this much more than the rest (each move has few of them).
        public var positiveWeight: Float = 1
        /// A later file's (a scenario's own) moves' examples weigh this much more again.
        public var ownPositiveWeight: Float = 4
        public var learningRate: Float = 0.4
        public var l2: Float = 3e-5
        public var charWeight: Float = 0.2
    }

    init(library: MoveLibrary, settings: Settings) {
        self.library = library
        self.settings = settings
    }

    public var moves: [String] { library.all.map(\.id) }

    /// The recognizer for `library`'s moves. Cheap: the models are trained on first use,
    /// and models already trained in this process for the same moves are reused.
    public static func make(_ library: MoveLibrary, settings: Settings = Settings()) -> MoveRecognizer {
        MoveRecognizer(library: library, settings: settings)
    }

    /// Trains the models now if they are not yet (a daemon does it when scenarios load).
    public func prepare() { _ = groups }

    var groups: [Group] {
        lock.lock()
        defer { lock.unlock() }
        if let trainedGroups { return trainedGroups }
        let built = Self.build(library, settings: settings)
        trainedGroups = built
        return built
    }

    // MARK: - Training, with a cache per group of moves

    /// One training at a time in the process: a second request for the same models waits
    /// for the first and finds them in the cache, instead of training them again.
    private static let trainingLock = NSLock()
    nonisolated(unsafe) private static var trained: [Int: Group] = [:]

    static func build(_ library: MoveLibrary, settings: Settings) -> [Group] {
        trainingLock.lock()
        defer { trainingLock.unlock() }
        var groups: [Group] = []
        var earlier: [AgentMove] = []
        for moves in grouped(library) {
            var hasher = Hasher()
            hasher.combine(settings)
            hasher.combine(library.noMove)
            hasher.combine(library.wordGroups)
            for move in earlier + moves {
                hasher.combine(move.id); hasher.combine(move.examples); hasher.combine(move.phrases.map(\.description))
                hasher.combine(move.effect)
            }
            hasher.combine(moves.map(\.id))
            let key = hasher.finalize()
            var group: Group
            if let known = trained[key] {
                group = known
            } else {
                let kindOf = groups.isEmpty ? [:] : kinds(of: moves, heardBy: groups, library: library, settings: settings)
                group = train(moves, negatives: earlier, parents: kindOf.values.reduce(into: Set<String>()) { $0.formUnion($1) },
                              library: library, settings: settings.training)
                group.kindOf = kindOf
            }
            trained[key] = group
            groups.append(group)
            earlier += moves
        }
        return groups
    }

    /// For each of `moves`, the moves of `earlier` groups heard in at least a third of its examples.
    static func kinds(of moves: [AgentMove], heardBy earlier: [Group], library: MoveLibrary, settings: Settings) -> [String: Set<String>] {
        let listener = MoveRecognizer(library: library, settings: settings)
        var result: [String: Set<String>] = [:]
        for move in moves where !move.examples.isEmpty {
            var heard: [String: Int] = [:]
            for example in move.examples {
                let found = listener.detect(MoveText(example), groups: earlier, atLeast: { _ in settings.threshold })
                for move in Set(found.map(\.move)) { heard[move, default: 0] += 1 }
            }
            result[move.id] = Set(heard.filter { $0.value * 3 >= move.examples.count }.keys)
        }
        return result
    }

    /// Moves in library order, a group per file that defined them.
    static func grouped(_ library: MoveLibrary) -> [[AgentMove]] {
        var groups: [[AgentMove]] = []
        for move in library.all {
            if let last = groups.last?.last, last.file == move.file { groups[groups.count - 1].append(move) } else { groups.append([move]) }
        }
        return groups
    }

    /// Every line a move teaches: its examples and its phrases.
    static func teaching(_ move: AgentMove) -> [String] { move.examples + move.phrases.map(\.description) }

    /// Trains one file's moves against the earlier files' (`negatives`). For a later file (a scenario's
    /// own moves, a dozen examples each against the library's thousands) the examples weigh
    /// `ownPositiveWeight` more, and the examples of the library moves they are kinds of (`parents`)
    /// are left out: an open question is not evidence against asking what someone can afford.
    static func train(_ moves: [AgentMove], negatives: [AgentMove], parents: Set<String> = [], library: MoveLibrary, settings: TrainingSettings) -> Group {
        var settings = settings
        if !negatives.isEmpty { settings.positiveWeight *= settings.ownPositiveWeight }
        var labels: [[String]: Set<String>] = [:]
        var order: [MoveText] = []
        func add(_ text: String, _ label: String?) {
            let read = MoveText(text)
            guard !read.isEmpty else { return }
            if labels[read.words] == nil { order.append(read); labels[read.words] = [] }
            if let label { labels[read.words]!.insert(label) }
        }
        for move in negatives where !parents.contains(move.id) { for line in teaching(move) { add(line, move.id) } }
        for move in moves { for line in teaching(move) { add(line, move.id) } }
        for line in library.noMove { add(line, nil) }
        let examples = order.map { MoveModel.Example(text: $0, labels: labels[$0.words]!) }
        let ids = moves.map(\.id), groups = MoveFeatures.index(library.wordGroups)
        let key = MoveModelCache.key(moves: ids, examples: examples, groups: groups, settings: settings)
        let model: MoveModel
        if let stored = MoveModelCache.load(key), stored.moves == ids {
            model = stored
        } else {
            model = MoveModel.train(moves: ids, examples: examples, groups: groups, settings: settings)
            MoveModelCache.store(model, key)
        }
        var cited: [String: [(String, Set<String>)]] = [:]
        for move in moves {
            cited[move.id] = teaching(move).map { ($0, Self.wordSet(Words.normalize($0))) }
        }
        var phrases: [String: [(String, [String])]] = [:]
        for move in moves { phrases[move.id] = move.phrases.map { ($0.description, $0.words.map(Words.stem)) } }
        let hurting = Set(moves.filter(\.angersCaller).map(\.id))
        return Group(model: model, hurting: hurting, hurts: Set(moves.filter(\.hurts).map(\.id)), phrases: phrases, examples: cited)
    }

    static func wordSet(_ words: [String]) -> Set<String> {
        var set = Set(words)
        for (a, b) in zip(words, words.dropFirst()) { set.insert(a + " " + b) }
        return set
    }

    // MARK: - Recognizing

    /// Moves in typed text.
    public func recognize(_ text: String) -> [MoveHit] {
        recognize([HeardHypothesis(text: text)])
    }

    /// Moves in what the recognizer heard, best hypothesis first: a move found only in
    /// an alternative counts with its confidence discounted by rank.
    ///
    /// `expected` are the moves the caller is waiting for: those are heard from a lower
    /// probability (`Settings.expectedThreshold`), unless they anger the caller.
    public func recognize(_ hypotheses: [HeardHypothesis], expecting expected: Set<String> = []) -> [MoveHit] {
        let groups = self.groups
        var best: [String: MoveHit] = [:]
        for (rank, hypothesis) in hypotheses.enumerated() {
            // Each move must reach its own threshold once discounted for the hypothesis's rank.
            let discount = pow(settings.alternativeDiscount, Double(rank))
            let text = MoveText(words: hypothesis.words, confidence: hypothesis.confidence, sentenceStarts: hypothesis.sentenceStarts)
            for var hit in detect(text, groups: groups,
                                  atLeast: { self.threshold($0, in: groups, expected: expected) / discount }) {
                hit.confidence *= discount
                hit.hypothesis = rank
                if hit.confidence > best[hit.move]?.confidence ?? 0 { best[hit.move] = hit }
            }
        }
        // The example that carried each move, found once for the reading that won.
        for (move, hit) in best {
            let examples = groups.lazy.compactMap { $0.examples[move] }.first ?? []
            best[move]?.example = nearestExample(hit.words.split(separator: " ").map(String.init), examples)
        }
        // In the order they were said; the best hypothesis's word positions stand for the rest.
        let order = Dictionary(uniqueKeysWithValues: moves.enumerated().map { ($1, $0) })
        return best.values.sorted { ($0.at, order[$0.move] ?? 0) < ($1.at, order[$1.move] ?? 0) }
    }

    /// The probability `move` needs to be heard.
    func threshold(_ move: String, in groups: [Group], expected: Set<String> = []) -> Double {
        if groups.contains(where: { $0.hurting.contains(move) }) { return max(settings.threshold, settings.hurtingThreshold) }
        return expected.contains(move) ? min(settings.threshold, settings.expectedThreshold) : settings.threshold
    }

    /// Every move whose best window reaches `minimum(move)`, with that window.
    func detect(_ text: MoveText, groups: [Group], atLeast minimum: (String) -> Double) -> [MoveHit] {
        guard !text.isEmpty else { return [] }
        let stems = text.words.map(Words.stem)
        let contentWords = Self.contentWords(text)
        var hits: [(hit: MoveHit, span: Range<Int>, group: Int)] = []
        for (g, group) in groups.enumerated() {
            for (move, probability, window) in bestWindows(text, group.model) {
                var confidence = Double(probability)
                var span = window
                // A scenario's model learned its moves from a score of examples: one word it leans on
                // ("exactly", "still") is too little to hear the move by, unless the author's phrase was said.
                let fewWords = g > 0 && contentWords < settings.ownContentWords
                if confidence < Self.phraseConfidence || fewWords, let found = phrase(in: text, stems: stems, group.phrases[move] ?? []) {
                    if confidence < Self.phraseConfidence { span = found }
                    confidence = max(confidence, Self.phraseConfidence)
                } else if fewWords {
                    continue
                }
                var needed = minimum(move)
                // The library already heard the general move here ("How much do you earn?" is an open
                // question): the scenario's model only has to tell which kind of it this is. Never for a
                // move that angers the caller, which keeps its benefit of the doubt.
                if !group.hurting.contains(move), let parents = group.kindOf[move],
                   hits.contains(where: { $0.group < g && parents.contains($0.hit.move) && overlap($0.span, span) > 0 }) {
                    needed = min(needed, settings.kindThreshold)
                }
                guard confidence >= needed else { continue }
                let words = Array(text.words[span])
                let hit = MoveHit(move: move, example: "", words: words.joined(separator: " "), confidence: confidence, at: span.lowerBound)
                hits.append((hit, span, g))
            }
        }
        // A later file's move (the scenario's own) replaces an earlier one heard in the same words when it is
        // a kind of it, or when the earlier one hurts: the scenario's move says better what those words do.
        return hits.filter { candidate in
            !hits.contains { other in
                other.group > candidate.group && overlap(other.span, candidate.span) * 2 >= candidate.span.count
                    && (groups[candidate.group].hurts.contains(candidate.hit.move)
                        || groups[other.group].kindOf[other.hit.move]?.contains(candidate.hit.move) == true)
            }
        }.map(\.hit)
    }

    /// Words of `text` that are not function words or fillers.
    static func contentWords(_ text: MoveText) -> Int {
        text.words.count { !Words.functionWords.contains($0) && !Words.fillers.contains($0) }
    }

    /// How sure a move is when one of its phrases was said word for word.
    static let phraseConfidence = 0.9

    /// Where one of `phrases` occurs whole, in order, not negated, and heard with some confidence.
    ///
    /// A phrase of three words or more may have one stray word inside it: recognizers
    /// insert short words ("i will are arrange"), and a person hears past them.
    private func phrase(in text: MoveText, stems: [String], _ phrases: [(text: String, stems: [String])]) -> Range<Int>? {
        for phrase in phrases where !phrase.stems.isEmpty && phrase.stems.count <= stems.count {
            let ownNegation = phrase.stems.contains(where: MoveText.negators.contains)
            let strays = phrase.stems.count >= 3 ? 1 : 0
            for start in stems.indices where stems[start] == phrase.stems[0] {
                var position = start + 1, skipped = 0, matched = 1
                while matched < phrase.stems.count, position < stems.count {
                    if stems[position] == phrase.stems[matched] { matched += 1 } else if skipped < strays { skipped += 1 } else { break }
                    position += 1
                }
                guard matched == phrase.stems.count else { continue }
                let span = start..<position
                let sure = span.map { text.confidence[$0] }.reduce(0, +) / Double(span.count) >= 0.5
                if sure && (ownNegation || !span.contains(where: { text.negated[$0] })) { return span }
            }
        }
        return nil
    }

    private func overlap(_ a: Range<Int>, _ b: Range<Int>) -> Int { max(0, min(a.upperBound, b.upperBound) - max(a.lowerBound, b.lowerBound)) }

    /// For each move, the window of the utterance where its probability is highest, and that probability.
    func bestWindows(_ text: MoveText, _ model: MoveModel) -> [(String, Float, Range<Int>)] {
        let (own, pair) = model.contributions(text)
        let n = text.words.count
        let width = model.moves.count + 1
        // Prefix sums per class: a window's score is its words' and inner pairs' sum, over √length.
        var ownSum = [[Float]](repeating: [Float](repeating: 0, count: width), count: n + 1)
        var pairSum = ownSum
        for t in 0..<n {
            for m in 0..<width {
                ownSum[t + 1][m] = ownSum[t][m] + own[t][m]
                pairSum[t + 1][m] = pairSum[t][m] + pair[t][m]
            }
        }
        let shortest = min(n, settings.shortestWindow)
        let longest = max(shortest, min(n, settings.longestWindow))
        var best = [(Float, Range<Int>)](repeating: (0, 0..<n), count: width)
        var scores = [Float](repeating: 0, count: width)
        func consider(_ start: Int, _ end: Int) {
            let norm = 1 / Float(end - start).squareRoot()
            var top = -Float.infinity
            for m in 0..<width {
                scores[m] = model.bias[m] + (ownSum[end][m] - ownSum[start][m] + pairSum[end][m] - pairSum[start + 1][m]) * norm
                top = max(top, scores[m])
            }
            var total: Float = 0
            for m in 0..<width { scores[m] = exp(scores[m] - top); total += scores[m] }
            for m in 1..<width where scores[m] / total > best[m].0 { best[m] = (scores[m] / total, start..<end) }
        }
        // Windows of `shortest` to `longest` words within each typed sentence, and a sentence shorter
        // than that whole: "Oh dear, that doesn't sound good. What exactly is it doing?" is a sympathy
        // and a question, not one blend of both. Recognized speech has no sentences: one span.
        var sentenceStart = 0
        for sentence in 0...text.sentenceStarts.count {
            let sentenceEnd = sentence < text.sentenceStarts.count ? text.sentenceStarts[sentence] : n
            let size = sentenceEnd - sentenceStart
            if size > 0 && size < shortest {
                consider(sentenceStart, sentenceEnd)
            } else if size > 0 {
                for length in shortest...min(longest, size) {
                    for start in sentenceStart...(sentenceEnd - length) { consider(start, start + length) }
                }
            }
            sentenceStart = sentenceEnd
        }
        return (1..<width).map { (model.moves[$0 - 1], best[$0].0, best[$0].1) }
    }

    private func nearestExample(_ words: [String], _ examples: [(text: String, words: Set<String>)]) -> String {
        let heard = Self.wordSet(words)
        var best = (score: -1.0, text: "")
        for example in examples {
            // Jaccard similarity, counted without building the intersection or the union.
            let shared = heard.count <= example.words.count ? heard.reduce(0) { $0 + (example.words.contains($1) ? 1 : 0) }
                : example.words.reduce(0) { $0 + (heard.contains($1) ? 1 : 0) }
            let score = Double(shared) / Double(max(1, heard.count + example.words.count - shared))
            if score > best.score { best = (score, example.text) }
        }
        return best.text
    }
}
