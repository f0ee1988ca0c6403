import Foundation

/// Text from files and people, made safe to print on a terminal, and limits on what people may name.
///
/// A session may come from anywhere; an agent name or annotation holding ESC or
/// BEL would drive the supervisor's terminal (colours, title, worse). Control
/// characters are shown as visible escapes instead, the way `cat -v` does.
public enum DisplayText {
    /// `text` with every control character (C0 but tab and newline, DEL, C1) and every
    /// bidirectional override shown as a visible escape: `^[`, `^G`, `^?`, `<U+202E>`.
    public static func terminal(_ text: String) -> String {
        guard text.unicodeScalars.contains(where: needsEscape) else { return text }
        var out = ""
        out.unicodeScalars.reserveCapacity(text.unicodeScalars.count + 8)
        for scalar in text.unicodeScalars {
            guard needsEscape(scalar) else { out.unicodeScalars.append(scalar); continue }
            let v = scalar.value
            if v < 0x20 { out += "^" + String(UnicodeScalar(UInt8(v + 0x40))) } else if v == 0x7F { out += "^?" } else {
                out += "<U+" + String(v, radix: 16, uppercase: true).leftPadded(to: 4) + ">"
            }
        }
        return out
    }

    static func needsEscape(_ scalar: Unicode.Scalar) -> Bool {
        let v = scalar.value
        if v == 0x0A || v == 0x09 { return false }
        return v < 0x20 || (0x7F...0x9F).contains(v) || (0x202A...0x202E).contains(v) || (0x2066...0x2069).contains(v)
    }

    /// The longest agent name a session keeps.
    public static let longestName = 64
    /// The most an annotation may hold, in bytes.
    public static let longestAnnotation = 4096

    /// Why `name` cannot name an agent (or who annotates), or nil when it can.
    public static func nameProblem(_ name: String) -> String? {
        if name.trimmingCharacters(in: .whitespaces).isEmpty { return "is empty" }
        if name.count > longestName { return "is \(name.count) characters long (at most \(longestName))" }
        if name.unicodeScalars.contains(where: { needsEscape($0) || $0 == "\n" || $0 == "\t" }) { return "contains a control character" }
        return nil
    }

    /// Why `text` cannot be an annotation, or nil when it can.
    public static func annotationProblem(_ text: String) -> String? {
        if text.utf8.count > longestAnnotation { return "is \(text.utf8.count) bytes long (at most \(longestAnnotation))" }
        if text.unicodeScalars.contains(where: { needsEscape($0) }) { return "contains a control character" }
        return nil
    }
}

extension String {
    fileprivate func leftPadded(to width: Int) -> String { String(repeating: "0", count: max(0, width - count)) + self }
}
