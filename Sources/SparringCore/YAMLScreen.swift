import Foundation

/// Looks at YAML text before the YAML library does, for what it must never see.
///
/// Anchors and aliases are refused: a file that nests aliases as mapping keys
/// sends the library's duplicate-key check into exponential time, and our files
/// have no use for them. Characters YAML forbids (controls other than tab and
/// line breaks) are refused here too, because the library reports them without
/// a line. Each finding names the line and column.
///
/// The scan follows YAML's structure only as far as it must to tell an anchor
/// (`&a`) or alias (`*a`) where a node starts from the same characters inside
/// text: quoted scalars (also across lines), comments, block scalars (`|`, `>`),
/// plain scalars, and flow collections.
enum YAMLScreen {
    struct Finding: Equatable {
        var line: Int
        var column: Int
        var message: String
    }

    static func check(_ text: String) -> Finding? {
        if let control = controlCharacter(text) { return control }
        return anchorOrAlias(text)
    }

    /// The first character YAML does not allow in a stream.
    static func controlCharacter(_ text: String) -> Finding? {
        var line = 1, column = 0
        for scalar in text.unicodeScalars {
            column += 1
            let v = scalar.value
            if v == 0x0A { line += 1; column = 0; continue }
            let allowed = v == 0x09 || v == 0x0D || (0x20...0x7E).contains(v) || v == 0x85
                || (0xA0...0xD7FF).contains(v) || (0xE000...0xFFFD).contains(v) || v >= 0x10000
            if !allowed {
                let code = String(v, radix: 16, uppercase: true)
                return Finding(line: line, column: column,
                               message: "control character U+\(String(repeating: "0", count: max(0, 4 - code.count)))\(code) is not allowed in YAML")
            }
        }
        return nil
    }

    private static func anchorName(_ c: Character) -> Bool { !c.isWhitespace && !",[]{}".contains(c) }

    /// The first anchor or alias where a node starts.
    static func anchorOrAlias(_ text: String) -> Finding? {
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false).map { Array($0.replacingOccurrences(of: "\r", with: "")) }
        var quote: Character?          // inside a quoted scalar that goes on past its line
        var blockIndent: Int?          // inside a block scalar: lines more indented than this belong to it
        var flowDepth = 0
        for (index, chars) in lines.enumerated() {
            let indent = chars.prefix { $0 == " " }.count
            if let limit = blockIndent {
                if indent == chars.count || indent > limit { continue }
                blockIndent = nil
            }
            var i = 0
            var nodeStart = quote == nil
            if quote == nil, flowDepth == 0, chars.starts(with: Array("---")) || chars.starts(with: Array("...")) || chars.first == "%" {
                continue
            }
            while i < chars.count {
                let c = chars[i]
                if let open = quote {
                    if open == "\"" && c == "\\" { i += 2; continue }
                    if c == open {
                        if open == "'" && i + 1 < chars.count && chars[i + 1] == "'" { i += 2; continue }
                        quote = nil
                    }
                    i += 1
                    continue
                }
                if c == " " || c == "\t" { i += 1; continue }
                if c == "#" && (i == 0 || chars[i - 1] == " " || chars[i - 1] == "\t") { break }
                if nodeStart {
                    switch c {
                    case "&", "*":
                        if i + 1 < chars.count, anchorName(chars[i + 1]) {
                            let kind = c == "&" ? "an anchor" : "an alias"
                            return Finding(line: index + 1, column: i + 1, message: "\(kind) (\(c)…): anchors and aliases are not supported")
                        }
                        i += 1
                    case "\"", "'":
                        quote = c
                        nodeStart = false
                        i += 1
                    case "[", "{":
                        flowDepth += 1
                        i += 1
                    case "-", "?":
                        i += 1
                    case "!":
                        while i < chars.count, !chars[i].isWhitespace { i += 1 }
                    case "|", ">":
                        if flowDepth == 0 { blockIndent = indent }
                        i = chars.count
                    default:
                        nodeStart = false
                        i = plainScalarEnd(chars, from: i, inFlow: flowDepth > 0)
                    }
                    continue
                }
                switch c {
                case ":":
                    nodeStart = true
                    i += 1
                case ",":
                    nodeStart = flowDepth > 0
                    i += 1
                case "]", "}":
                    flowDepth = max(0, flowDepth - 1)
                    i += 1
                default:
                    i = plainScalarEnd(chars, from: i, inFlow: flowDepth > 0)
                }
            }
        }
        return nil
    }

    /// Where a plain scalar starting at `start` ends: before `: `, ` #`, or a flow indicator in flow context.
    private static func plainScalarEnd(_ chars: [Character], from start: Int, inFlow: Bool) -> Int {
        var i = start + 1
        while i < chars.count {
            let c = chars[i]
            if c == ":" && (i + 1 == chars.count || chars[i + 1] == " " || chars[i + 1] == "\t" || (inFlow && ",]}".contains(chars[i + 1]))) { return i }
            if c == "#" && (chars[i - 1] == " " || chars[i - 1] == "\t") { return i }
            if inFlow && ",]}".contains(c) { return i }
            i += 1
        }
        return i
    }
}
