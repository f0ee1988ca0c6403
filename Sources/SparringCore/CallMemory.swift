import Foundation

/// What the caller remembers of the call: the agent's moves, and the amounts,
/// days, times and name the agent said. Caller lines depend on it (`when:`,
/// `unless:`) and echo it (`{amount}`), so the caller never answers as if
/// something had not happened that did.
public struct CallMemory: Sendable, Equatable {
    /// How many utterances carried each move.
    public private(set) var moves: [String: Int] = [:]
    /// The latest value of each kind, in the agent's words.
    public private(set) var slots: [MemorySlot: String] = [:]

    public init() {}

    public func made(_ move: String) -> Bool { moves[move, default: 0] > 0 }

    public func holds(_ condition: LineCondition) -> Bool {
        switch condition {
        case let .made(move): made(move)
        case let .known(slot): slots[slot] != nil
        }
    }

    /// Whether a line with this note can be said now (its placeholders filled included).
    public func allows(_ text: String, _ note: LineNote?) -> Bool {
        if let note {
            guard note.when.allSatisfy(holds), !note.unless.contains(where: holds) else { return false }
        }
        return Self.placeholders(in: text).allSatisfy { slots[$0] != nil }
    }

    /// The line with `{slot}` replaced by what the agent said; a value that opens a
    /// sentence opens with a capital ("All right. Tomorrow it is"). An unknown marker stays as written.
    public func fill(_ text: String) -> String {
        var out = ""
        for piece in Self.pieces(of: text) {
            guard let name = piece.name, let slot = MemorySlot(rawValue: name) else { out += piece.text; continue }
            let value = slots[slot] ?? ""
            out += Self.opensSentence(out) ? value.prefix(1).uppercased() + value.dropFirst() : value
        }
        return out
    }

    /// Whether what follows `text` starts a sentence: nothing before it, or an end mark and a space.
    static func opensSentence(_ text: String) -> Bool {
        guard let last = text.last(where: { $0 != " " }) else { return true }
        return text.last == " " && ".!?".contains(last)
    }

    /// `{name}` markers in a line; unknown names are left for validation to report.
    public static func placeholders(in text: String) -> [MemorySlot] {
        placeholderNames(in: text).compactMap(MemorySlot.init(rawValue:))
    }

    static func placeholderNames(in text: String) -> [String] {
        pieces(of: text).compactMap(\.name)
    }

    /// A line in order: its text as written, each `{name}` marker as its name (with the marker's own text).
    static func pieces(of text: String) -> [(text: Substring, name: String?)] {
        var pieces: [(text: Substring, name: String?)] = []
        var rest = Substring(text)
        while let open = rest.firstIndex(of: "{"), let close = rest[open...].firstIndex(of: "}") {
            if open > rest.startIndex { pieces.append((rest[..<open], nil)) }
            pieces.append((rest[open...close], String(rest[rest.index(after: open)..<close])))
            rest = rest[rest.index(after: close)...]
        }
        if !rest.isEmpty { pieces.append((rest, nil)) }
        return pieces
    }

    /// Takes in what the agent said and the moves it carried. The details of a line that only
    /// greets, checks identity or asks ("How can I help you today?", "What happened on Monday?")
    /// are not remembered: the caller echoes what the agent offered or said happens, not those.
    public mutating func hear(_ text: String, moves heard: [String]) {
        for move in Set(heard) { moves[move, default: 0] += 1 }
        if !heard.isEmpty && heard.allSatisfy(Self.askingMoves.contains) { return }
        for (slot, value) in Self.details(in: text) { slots[slot] = value }
    }

    /// Moves whose details are not the agent's word on what happens.
    static let askingMoves: Set<String> = ["greeting", "verify_caller", "open_question"]

    // MARK: - Details in the agent's words

    static let units = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven", "twelve",
                        "thirteen", "fourteen", "fifteen", "sixteen", "seventeen", "eighteen", "nineteen"]
    static let tens = ["twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety"]
    static let scales = ["hundred", "thousand"]
    static let currency: Set<String> = ["pounds", "pound", "euros", "euro", "dollars", "dollar", "kroner", "krone", "crowns", "quid", "bucks"]
    static let weekdays = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]
    static let ordinals = ["first", "second", "third", "fourth", "fifth", "sixth", "seventh", "eighth", "ninth", "tenth",
                           "fifteenth", "twentieth", "thirtieth"]
    static let parts = ["morning", "afternoon", "evening", "lunchtime", "noon"]
    static let months = ["january", "february", "march", "april", "may", "june", "july", "august", "september", "october",
                         "november", "december"]

    static func isNumberWord(_ word: String) -> Bool {
        units.contains(word) || tens.contains(word) || scales.contains(word) || word.allSatisfy(\.isNumber)
            || (word.first?.isNumber == true && word.allSatisfy { $0.isNumber || $0 == "," || $0 == "." })
    }

    /// Amounts, days, times and a name, in the order they are found (a later one replaces an earlier).
    static func details(in text: String) -> [(MemorySlot, String)] {
        let tokens = text.lowercased().split { !$0.isLetter && !$0.isNumber && $0 != "'" && $0 != "," && $0 != "." }
            .map { (word: $0.trimmingCharacters(in: .init(charactersIn: ",.")), marked: $0.last == "," || $0.last == ".") }
            .filter { !$0.word.isEmpty }
        let words = tokens.map(\.word)
        var found: [(MemorySlot, String)] = []
        var index = 0
        while index < words.count {
            let word = words[index]
            // A number phrase: "a hundred and fifty", "one fifty", "150", "two hundred pounds".
            if isNumberWord(word) || (word == "a" && index + 1 < words.count && scales.contains(words[index + 1])) {
                var end = index + 1
                while end < words.count, isNumberWord(words[end])
                        || (words[end] == "and" && end + 1 < words.count && isNumberWord(words[end + 1]) && scales.contains(words[end - 1])) {
                    end += 1
                }
                let phrase = words[index..<end]
                let next = end < words.count ? words[end] : ""
                // A payment: money ("150 pounds") or a sum per period ("a hundred and fifty a month").
                let periodic = end + 1 < words.count && ["a", "per", "each", "every"].contains(next) && ["month", "week"].contains(words[end + 1])
                if words.indices.contains(index - 1), words[index - 1] == "at", !currency.contains(next) {
                    // "at ten", "at 9 o'clock": a time.
                    found.append((.time, (phrase + (next == "o'clock" || next == "am" || next == "pm" ? [next] : [])).joined(separator: " ")))
                } else if currency.contains(next) {
                    found.append((.amount, (phrase + [next]).joined(separator: " ")))
                } else if periodic {
                    found.append((.amount, phrase.joined(separator: " ")))
                } else if next == "o'clock" || next == "oclock" {
                    found.append((.time, phrase.joined(separator: " ") + " o'clock"))
                }
                index = end
                continue
            }
            if weekdays.contains(word) {
                found.append((.day, word.prefix(1).uppercased() + word.dropFirst()))
            } else if word == "tomorrow" || word == "today" {
                found.append((.day, word))
            } else if word == "the", index + 1 < words.count, ordinals.contains(words[index + 1]) {
                // "the first", "the fifth of May": a date; "the first free slot", "the second visit": not one.
                let after = index + 2 < words.count ? words[index + 2] : nil
                if tokens[index + 1].marked || after == nil || after == "of" || months.contains(after!) {
                    found.append((.day, "the \(words[index + 1])"))
                }
                index += 2
                continue
            } else if parts.contains(word) && ((index == 0 && tokens[0].marked) || (index > 0 && words[index - 1] == "good")) {
                // "Good morning", "Morning, it's Sam": a greeting, not a time.
            } else if parts.contains(word) {
                found.append((.time, word == "noon" || word == "lunchtime" ? word : "the \(word)"))
            } else if word == "name", index + 2 < words.count, words[index + 1] == "is" || words[index + 1] == "'s" {
                let name = words[index + 2]
                if !["sorry", "not", "a", "the"].contains(name) { found.append((.name, name.prefix(1).uppercased() + name.dropFirst())) }
            }
            index += 1
        }
        return found
    }
}
