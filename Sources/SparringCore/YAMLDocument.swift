import Foundation
import Yams

/// A YAML file read into Yams' node tree, with every field's line kept for problems.
///
/// Scenario files are written by people; Codable would stop at the first error
/// and lose the line. Walking the node tree lets one pass report every problem
/// as `file:line: field: message`.
public struct YAMLDocument {
    /// Larger files are refused before parsing: a scenario is a few kilobytes.
    public static let maximumBytes = 1 << 20

    public let file: String
    public let root: Node

    /// Reads and parses `path`, refusing binary, oversized or malformed input with one problem.
    public static func load(path: String) throws(Problem) -> YAMLDocument {
        let data = try SafeFile.read(path, limit: maximumBytes)
        return try parse(data: data, file: path)
    }

    public static func parse(data: Data, file: String) throws(Problem) -> YAMLDocument {
        if data.count > maximumBytes {
            throw Problem(file: file, line: 0, field: "",
                          message: "file is \(data.count) bytes; scenario files are limited to \(maximumBytes) bytes")
        }
        if let nul = data.firstIndex(of: 0) {
            throw Problem(file: file, line: Self.line(at: nul, in: data), field: "", message: "binary file (contains NUL bytes), expected YAML text")
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw Problem(file: file, line: Self.firstInvalidUTF8Line(data), field: "", message: "not UTF-8 text")
        }
        if let finding = YAMLScreen.check(text) {
            throw Problem(file: file, line: finding.line, field: "", message: "\(finding.message) (column \(finding.column))")
        }
        let node: Node?
        do {
            node = try Yams.compose(yaml: text)
        } catch let error as YamlError {
            throw Problem(file: file, line: Self.line(of: error), field: "", message: "malformed YAML: \(Self.problem(of: error))")
        } catch {
            throw Problem(file: file, line: 1, field: "", message: "malformed YAML: \(error)")
        }
        guard let node else {
            throw Problem(file: file, line: 1, field: "", message: "empty document")
        }
        return YAMLDocument(file: file, root: node)
    }

    /// The line (1-based) that byte `offset` is on.
    static func line(at offset: Data.Index, in data: Data) -> Int {
        data[data.startIndex..<offset].reduce(1) { $1 == 0x0A ? $0 + 1 : $0 }
    }

    /// The line of the first byte sequence that is not UTF-8.
    static func firstInvalidUTF8Line(_ data: Data) -> Int {
        var parser = Unicode.UTF8.ForwardParser()
        var bytes = data.makeIterator()
        var line = 1
        while true {
            switch parser.parseScalar(from: &bytes) {
            case .valid(let scalar): if scalar.count == 1 && scalar.first == 0x0A { line += 1 }
            case .error: return line
            case .emptyInput: return line
            }
        }
    }

    /// Where the author should look: for an unclosed quote or bracket, where it opened.
    private static func line(of error: YamlError) -> Int {
        switch error {
        case let .scanner(context, _, mark, _), let .parser(context, _, mark, _), let .composer(context, _, mark, _):
            if let context, context.mark.line < mark.line { return context.mark.line }
            return mark.line
        case let .duplicatedKeysInMapping(_, context):
            return context.mark.line
        case let .reader(_, offset?, _, yaml):
            // The reader counts bytes of the UTF-8 text.
            return Self.line(at: min(offset, yaml.utf8.count), in: Data(yaml.utf8))
        default:
            return 1
        }
    }

    private static func problem(of error: YamlError) -> String {
        switch error {
        case let .scanner(context, problem, mark, _), let .parser(context, problem, mark, _), let .composer(context, problem, mark, _):
            if let context, context.mark.line < mark.line { return "\(problem) at line \(mark.line), \(context.text) that starts here" }
            if let context { return "\(problem) (\(context.text))" }
            return problem
        case let .duplicatedKeysInMapping(duplicates, _):
            return "duplicate keys \(duplicates.joined(separator: ", "))"
        case let .reader(problem, _, _, _):
            return problem
        default:
            return String(describing: error)
        }
    }
}

/// Reads typed values out of a node, recording a located problem for each misfit.
///
/// Every accessor returns nil (or a default) on a problem and carries on, so
/// one pass over a file finds all of its problems.
public final class NodeReader {
    public let file: String
    public private(set) var problems: [Problem] = []

    public init(file: String) { self.file = file }

    public func line(_ node: Node?) -> Int { node?.mark?.line ?? 0 }

    public func report(_ node: Node?, _ field: String, _ message: String) {
        problems.append(Problem(file: file, line: line(node), field: field, message: message))
    }

    public func report(line: Int, _ field: String, _ message: String) {
        problems.append(Problem(file: file, line: line, field: field, message: message))
    }

    /// The pairs of a mapping in file order; reports keys outside `allowed` (typos) when given.
    public func mapping(_ node: Node?, _ field: String, allowed: Set<String>? = nil) -> [(key: String, keyNode: Node, value: Node)]? {
        guard let node else { return nil }
        guard case let .mapping(mapping) = node else {
            report(node, field, "expected a mapping, found \(kind(node))")
            return nil
        }
        var pairs: [(key: String, keyNode: Node, value: Node)] = []
        for (keyNode, value) in mapping {
            guard case let .scalar(scalar) = keyNode else {
                report(keyNode, field, "keys must be plain words")
                continue
            }
            if let allowed, !allowed.contains(scalar.string) {
                let hint = allowed.sorted().joined(separator: ", ")
                report(keyNode, join(field, scalar.string), "unknown field (expected one of: \(hint))")
                continue
            }
            pairs.append((scalar.string, keyNode, value))
        }
        return pairs
    }

    /// A mapping as a dictionary; the caller then asks for the fields it needs.
    public func fields(_ node: Node?, _ field: String, allowed: Set<String>) -> [String: Node]? {
        guard let pairs = mapping(node, field, allowed: allowed) else { return nil }
        var result: [String: Node] = [:]
        for pair in pairs { result[pair.key] = pair.value }
        return result
    }

    public func sequence(_ node: Node?, _ field: String) -> [Node]? {
        guard let node else { return nil }
        guard case let .sequence(sequence) = node else {
            report(node, field, "expected a list, found \(kind(node))")
            return nil
        }
        return Array(sequence)
    }

    public func string(_ node: Node?, _ field: String, required: Bool = false, parent: Node? = nil) -> String? {
        guard let node else {
            if required { report(parent, field, "missing") }
            return nil
        }
        guard case let .scalar(scalar) = node else {
            report(node, field, "expected text, found \(kind(node))")
            return nil
        }
        let value = scalar.string.trimmingCharacters(in: .whitespacesAndNewlines)
        if required && value.isEmpty {
            report(node, field, "must not be empty")
            return nil
        }
        return value
    }

    public func number(_ node: Node?, _ field: String, required: Bool = false, parent: Node? = nil,
                       range: ClosedRange<Double>? = nil) -> Double? {
        guard let node else {
            if required { report(parent, field, "missing") }
            return nil
        }
        guard case let .scalar(scalar) = node, let value = Double(scalar.string.trimmingCharacters(in: .whitespaces)),
              value.isFinite else {
            report(node, field, "expected a number, found \(describe(node))")
            return nil
        }
        if let range, !range.contains(value) {
            report(node, field, "\(format(value)) is out of range \(format(range.lowerBound))–\(format(range.upperBound))")
            return nil
        }
        return value
    }

    public func bool(_ node: Node?, _ field: String) -> Bool? {
        guard let node else { return nil }
        guard case let .scalar(scalar) = node else {
            report(node, field, "expected true or false, found \(kind(node))")
            return nil
        }
        switch scalar.string.lowercased() {
        case "true", "yes", "on": return true
        case "false", "no", "off": return false
        default:
            report(node, field, "expected true or false, found \(describe(node))")
            return nil
        }
    }

    /// A list of texts; a single text is accepted as a list of one.
    public func strings(_ node: Node?, _ field: String) -> [String]? {
        guard let node else { return nil }
        if case .scalar = node { return string(node, field).map { [$0] } }
        guard let items = sequence(node, field) else { return nil }
        var result: [String] = []
        for (index, item) in items.enumerated() {
            if let value = string(item, "\(field)[\(index)]", required: true) { result.append(value) }
        }
        return result
    }

    public func join(_ parent: String, _ child: String) -> String {
        parent.isEmpty ? child : "\(parent).\(child)"
    }

    private func kind(_ node: Node) -> String {
        switch node {
        case .scalar: return "text \(describe(node))"
        case .mapping: return "a mapping"
        case .sequence: return "a list"
        case .alias: return "an alias (anchors and aliases are not supported)"
        }
    }

    private func describe(_ node: Node) -> String {
        if case let .scalar(scalar) = node {
            let text = scalar.string
            return "'" + (text.count > 40 ? String(text.prefix(40)) + "…" : text) + "'"
        }
        return kind(node)
    }
}

func format(_ value: Double) -> String {
    value.rounded() == value && abs(value) < 1e15 ? String(Int(value)) : String(value)
}
