import Foundation

/// How long a silence must last before the agent's turn is over.
///
/// A fixed hangover trades reply speed against talking into the agent's
/// pauses. People resolve it with what was said and with what they know of
/// the speaker, and so does this policy:
/// - a pause after a word that cannot end a sentence ("and", "the", "to",
///   "because", a filler) holds for `incompleteHold`;
/// - so does a pause after nothing but turn-opening markers ("okay", "right, so");
/// - a pause right after a question hands the turn over: `base` is enough (a
///   question's first two words with nothing after them are not one yet);
/// - otherwise the hold covers this agent's own recent mid-turn pauses (the
///   longest of the last few, plus a margin, or `priorPause` in its first
///   turns), never less than `base`.
/// Mid-turn pauses are learned from the pauses the agent resumed after, and
/// from the ones the caller took the turn in and the agent went on anyway;
/// what is remembered is the longest pause of each of the last six turns, so
/// the gaps inside and between words (which a room's noise lengthens into
/// silences of 120–250 ms by hiding the soft ends of syllables) never push a
/// turn's real pause out of memory.
public struct TurnEndPolicy: Sendable {
    /// The shortest hold: the end-of-turn silence after a question or for an agent who does not pause.
    public var base: Double
    public var incompleteHold = 0.8
    /// The longest hold learned pauses can lead to.
    public var ceiling = 0.9
    /// Added to the longest recent pause.
    public var margin = 0.08
    /// Pauses shorter than this are part of speech rhythm, not holds worth learning.
    public var shortest = 0.12
    /// False: every hold is `base` (the fixed hangover, for comparison).
    public var adaptive = true
    /// For an agent not yet heard pausing mid-turn, in its first `priorTurns` turns, statements
    /// hold as if it had paused this long (0: the base): a third of the take-overs on the turn
    /// corpus's development part came in an agent's first turns, before any pause of its own was
    /// learned. An agent who never pauses gets the base hold from its fourth turn. Chosen on the development part of the
    /// turn corpus (`sparring-bench --turns --part dev --noises clean`: take-overs 18.8 % with
    /// none, 16.7 % with 0.4 or 0.5 s, 14.6 % from 0.6 s up, the gaps unchanged).
    /// `SPARRING_PRIOR_PAUSE=S` sets another, to measure it.
    public var priorPause = TurnEndPolicy.defaultPriorPause
    public static let defaultPriorPause = Double(ProcessInfo.processInfo.environment["SPARRING_PRIOR_PAUSE"] ?? "") ?? 0.6
    public var priorTurns = 3
    public private(set) var turnsEnded = 0
    /// The longest pause of each of the last `remembered` turns that had one, oldest first.
    private var pastTurns: [Double] = []
    /// The longest pause of the turn in progress.
    private var thisTurn: Double?
    /// The pauses the hold covers: each recent turn's longest, and the current turn's so far.
    public var recentPauses: [Double] { pastTurns + (thisTurn.map { [$0] } ?? []) }
    /// The longest of `recentPauses`, read without building it (the hold is asked on the turn-gap path).
    private var longestRecentPause: Double? {
        guard let past = pastTurns.max() else { return thisTurn }
        return max(past, thisTurn ?? past)
    }
    /// How many turns' longest pauses are remembered.
    private let remembered = 6

    /// The default base hold. Conversation analysts find the commonest gap between
    /// turns is about 200 ms; a caller that waits longer than that after a question
    /// sounds slow. Pauses longer than the base are learned (see above).
    public static let defaultBase = 0.2

    public init(base: Double = TurnEndPolicy.defaultBase, priorPause: Double = TurnEndPolicy.defaultPriorPause) {
        self.base = base
        self.priorPause = priorPause
    }

    /// The silence, in seconds, that ends the turn whose words so far are `words`.
    public func hold(after words: [Substring]) -> Double {
        guard adaptive else { return base }
        // Nothing recognized yet (a breath, a noise, a word still being searched): not a finished turn.
        guard let last = words.last else { return max(base, incompleteHold) }
        if Self.continuing.contains(String(last)) { return max(base, incompleteHold) }
        if Self.endsWithQuestion(words) { return base }
        if Self.onlyMarkers(words) { return max(base, incompleteHold) }
        let prior = priorPause > 0 && turnsEnded < priorTurns ? priorPause : nil
        guard let longest = longestRecentPause ?? prior else { return base }
        return min(ceiling, max(base, longest + margin))
    }

    public func hold(after text: String) -> Double { hold(after: text.split(separator: " ")) }

    /// Counts a turn judged over, and remembers its longest pause.
    public mutating func turnEnded() {
        turnsEnded += 1
        guard let longest = thisTurn else { return }
        pastTurns.append(longest)
        if pastTurns.count > remembered { pastTurns.removeFirst() }
        thisTurn = nil
    }

    /// Learns one pause after which the agent went on speaking.
    public mutating func observe(pause: Double) {
        guard pause >= shortest else { return }
        thisTurn = max(thisTurn ?? 0, min(pause, ceiling))
    }

    /// Words after which an English sentence is not over.
    static let continuing: Set<String> = Words.fillers.union([
        "and", "but", "or", "so", "because", "if", "when", "while", "that", "which", "who", "than", "then", "as",
        "the", "a", "an", "your", "my", "our", "their", "his", "her", "its", "this", "these", "those",
        "to", "of", "for", "with", "in", "on", "at", "by", "from", "about", "into", "after", "before",
        "is", "are", "was", "were", "be", "been", "will", "would", "can", "could", "should", "shall", "must",
        "have", "has", "had", "do", "does", "did", "am", "i", "we", "they", "he", "she",
        "like", "just", "very", "really", "also", "not",
    ])
    static let auxiliaries: Set<String> = ["can", "could", "would", "will", "do", "does", "did", "is", "are", "was", "were",
                                           "have", "has", "shall", "should", "may", "might"]
    static let subjects: Set<String> = ["you", "i", "we", "that", "it", "there", "this", "they", "he", "she"]
    static let wh: Set<String> = ["what", "how", "when", "where", "why", "which", "who"]
    static let whFollowers: Set<String> = auxiliaries.union(["much", "many", "long", "soon", "often", "happened", "about", "else"])

    /// Words that open a turn ("okay, so, what I'll do is…") and make none on their own.
    static let markers: Set<String> = Words.fillers.union(["okay", "ok", "right", "so", "well", "now", "alright"])

    /// Whether every word so far is a turn-opening marker.
    static func onlyMarkers(_ words: [Substring]) -> Bool {
        !words.isEmpty && words.allSatisfy { markers.contains($0.lowercased()) }
    }

    /// Whether the last clause is a question: an auxiliary before its subject
    /// ("can you", "does that") or a question word before an auxiliary or
    /// quantity ("how much", "what happened"), within the last twelve words.
    static func endsWithQuestion(_ words: [Substring]) -> Bool {
        let tail = words.suffix(12).map { $0.lowercased() }
        // A question's opening with nothing after it ("…sixty days, do you") is not a question yet:
        // the pair must have a word after it.
        for index in 0..<max(0, tail.count - 2) {
            let (first, second) = (tail[index], tail[index + 1])
            // "is that" opens a statement as often as a question ("what I hear is that ...").
            if auxiliaries.contains(first) && subjects.contains(second) && !(second == "that" && (first == "is" || first == "was")) { return true }
            if wh.contains(first) && whFollowers.contains(second) { return true }
        }
        return false
    }
}
