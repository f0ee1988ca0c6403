/// One thing wrong with an input file, located precisely enough to fix it.
///
/// Rendered as `file:line: field: message`, the one line a scenario author sees.
public struct Problem: Error, Sendable, Equatable, CustomStringConvertible {
    public var file: String
    public var line: Int
    public var field: String
    public var message: String

    public init(file: String, line: Int, field: String, message: String) {
        self.file = file
        self.line = line
        self.field = field
        self.message = message
    }

    public var description: String {
        let location = line > 0 ? "\(file):\(line)" : file
        return field.isEmpty ? "\(location): \(message)" : "\(location): \(field): \(message)"
    }
}

/// Several problems found in one pass, so an author can fix them all at once.
public struct Problems: Error, Sendable, CustomStringConvertible {
    public var all: [Problem]
    public init(_ all: [Problem]) { self.all = all }
    public var description: String { all.map(\.description).joined(separator: "\n") }
}

/// An error a user sees as one clear line; `code` is stable for scripts.
public struct SparringError: Error, Sendable, CustomStringConvertible {
    public var code: String
    public var message: String
    public init(_ code: String, _ message: String) {
        self.code = code
        self.message = message
    }
    public var description: String { message }
}
