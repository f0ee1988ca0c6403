import Foundation
/// Turns typed or recognized text into the lower-case word list moves are matched on.
///
/// A speech recognizer produces lower-case words without punctuation, and
/// contractions appear either whole ("don't") or split ("do not"); both sides
/// of a match are normalized the same way so neither form matters.
public enum Words {
    /// Word-level edit distance (substitutions, insertions, deletions): the numerator of a word error rate.
    public static func editDistance(_ reference: [String], _ heard: [String]) -> Int {
        alignmentCosts(reference, heard).last!
    }

    /// For each heard word, whether it is a reference word in a least-cost alignment of the two
    /// (false for a substitution or an insertion): which words a recognizer got right.
    public static func heardCorrectly(_ reference: [String], _ heard: [String]) -> [Bool] {
        let cost = alignmentCosts(reference, heard), columns = heard.count + 1
        // Back from the end: a diagonal step over equal words is a word heard right.
        var correct = [Bool](repeating: false, count: heard.count)
        var i = reference.count, j = heard.count
        while i > 0 && j > 0 {
            let here = cost[i * columns + j]
            if reference[i - 1] == heard[j - 1] && here == cost[(i - 1) * columns + j - 1] {
                correct[j - 1] = true; i -= 1; j -= 1
            } else if here == cost[(i - 1) * columns + j - 1] + 1 {
                i -= 1; j -= 1
            } else if here == cost[i * columns + j - 1] + 1 {
                j -= 1
            } else {
                i -= 1
            }
        }
        return correct
    }

    /// The edit-distance table of two word lists, row by reference word: the cost of aligning
    /// the first i reference words with the first j heard ones at `i * (heard.count + 1) + j`.
    static func alignmentCosts(_ reference: [String], _ heard: [String]) -> [Int] {
        let rows = reference.count + 1, columns = heard.count + 1
        var cost = [Int](repeating: 0, count: rows * columns)
        for i in 0..<rows { cost[i * columns] = i }
        for j in 0..<columns { cost[j] = j }
        for i in 1..<rows {
            for j in 1..<columns {
                let match = cost[(i - 1) * columns + j - 1] + (reference[i - 1] == heard[j - 1] ? 0 : 1)
                cost[i * columns + j] = min(match, cost[(i - 1) * columns + j] + 1, cost[i * columns + j - 1] + 1)
            }
        }
        return cost
    }

    public static func normalize(_ text: String) -> [String] { read(text).words }

    /// The normalized words of typed text, and where each sentence after the first begins (by word
    /// index): a sentence ends at ".", "!" or "?", but not at a point between digits ("4.50").
    public static func read(_ text: String) -> (words: [String], sentenceStarts: [Int]) {
        var words: [String] = []
        var starts: [Int] = []
        var current = ""
        var ended = false
        var pointAfterDigit = false
        func flush() {
            if !current.isEmpty { words.append(contentsOf: expand(current)); current = "" }
        }
        for scalar in text.lowercased().unicodeScalars {
            let letter = scalar.properties.isAlphabetic || ("0"..."9").contains(scalar)
            if pointAfterDigit {
                pointAfterDigit = false
                if !("0"..."9").contains(scalar) { ended = true }
            }
            if letter || scalar == "'" || scalar == "\u{2019}" {
                if current.isEmpty && ended {
                    ended = false
                    if !words.isEmpty && starts.last != words.count { starts.append(words.count) }
                }
                if letter { current.unicodeScalars.append(scalar) } else { current.append("'") }
            } else {
                let afterDigit = current.unicodeScalars.last.map { ("0"..."9").contains($0) } ?? false
                flush()
                if scalar == "." && afterDigit { pointAfterDigit = true } else if ".!?".unicodeScalars.contains(scalar) { ended = true }
            }
        }
        flush()
        return (words, starts.filter { $0 < words.count })
    }

    private static let whole: [String: [String]] = [
        "can't": ["can", "not"], "cannot": ["can", "not"], "won't": ["will", "not"],
        "shan't": ["shall", "not"], "i'm": ["i", "am"], "let's": ["let", "us"],
        "it's": ["it", "is"], "that's": ["that", "is"], "what's": ["what", "is"],
        "there's": ["there", "is"], "here's": ["here", "is"], "he's": ["he", "is"],
        "she's": ["she", "is"], "who's": ["who", "is"], "where's": ["where", "is"],
        "ok": ["okay"],
    ]

    private static func expand(_ raw: String) -> [String] {
        let word = raw.trimmingCharacters(in: "'")
        if word.isEmpty { return [] }
        if let known = whole[word] { return known }
        for (suffix, tail) in [("n't", "not"), ("'re", "are"), ("'ve", "have"), ("'ll", "will"), ("'d", "would")]
        where word.hasSuffix(suffix) && word.count > suffix.count {
            return [String(word.dropLast(suffix.count)), tail]
        }
        if word.hasSuffix("'s") { return [String(word.dropLast(2))] }
        return [word.replacingOccurrences(of: "'", with: "")]
    }

    /// A light stem: enough that "waiting", "waited" and "waits" meet, no more.
    public static func stem(_ word: String) -> String {
        for suffix in ["ing", "ed", "es", "ly", "s"] where word.count >= suffix.count + 3 && word.hasSuffix(suffix) {
            return String(word.dropLast(suffix.count))
        }
        return word
    }

    /// Hesitations, which say nothing: a turn is not over after one, and no move is made of one.
    public static let fillers: Set<String> = ["um", "uh", "er", "erm", "hmm"]

    /// Function words weigh half in a phrase: losing one to the recognizer matters less.
    public static let functionWords: Set<String> = [
        "a", "an", "the", "i", "you", "we", "it", "is", "am", "are", "was", "to", "of", "and",
        "in", "on", "for", "that", "this", "be", "do", "can", "will", "me", "my", "your", "so",
        "at", "with", "have", "has", "if", "just", "us", "our", "they", "there",
    ]
}

extension String {
    func trimmingCharacters(in characters: String) -> String {
        var result = Substring(self)
        while let first = result.first, characters.contains(first) { result = result.dropFirst() }
        while let last = result.last, characters.contains(last) { result = result.dropLast() }
        return String(result)
    }
}

/// Edit distance, bounded: answers only whether it is at most `limit`.
func withinEditDistance(_ a: String, _ b: String, _ limit: Int) -> Bool {
    let x = Array(a.unicodeScalars), y = Array(b.unicodeScalars)
    if abs(x.count - y.count) > limit { return false }
    var previous = Array(0...y.count)
    var current = [Int](repeating: 0, count: y.count + 1)
    for i in 1...max(x.count, 1) where !x.isEmpty {
        current[0] = i
        var rowMinimum = current[0]
        for j in 1...max(y.count, 1) where !y.isEmpty {
            let cost = x[i - 1] == y[j - 1] ? 0 : 1
            current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost)
            rowMinimum = min(rowMinimum, current[j])
        }
        if rowMinimum > limit { return false }
        swap(&previous, &current)
    }
    return previous[y.count] <= limit
}
