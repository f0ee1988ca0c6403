/// A failure in a speech library, naming the operation and, where known, the file or voice.
public struct SpeechError: Error, Sendable, CustomStringConvertible {
    public var operation: String
    public var detail: String
    public init(_ operation: String, _ detail: String) {
        self.operation = operation
        self.detail = detail
    }
    public var description: String { "\(operation): \(detail)" }
}
