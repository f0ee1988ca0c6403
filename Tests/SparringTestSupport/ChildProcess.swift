import Foundation
import Synchronization

/// What a program run to its end said: its exit status and both outputs.
public struct ChildRun: Sendable {
    public var status: Int32
    public var out: String
    public var err: String

    public init(status: Int32, out: String, err: String) {
        self.status = status
        self.out = out
        self.err = err
    }
}

/// Runs the project's programs (and a few of Debian's) to their end for the tests.
public enum ChildProcess {
    /// Runs `executable` with `input` on its standard input (closed after it), reading both outputs
    /// at once, so a child that fills one pipe never waits for the test to read the other.
    /// `environment` nil inherits the test's; `directory` nil keeps the test's.
    public static func run(_ executable: String, _ arguments: [String], input: String? = nil,
                           environment: [String: String]? = nil, directory: URL? = nil) throws -> ChildRun {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        if let environment { process.environment = environment }
        if let directory { process.currentDirectoryURL = directory }
        let out = Pipe(), err = Pipe(), inPipe = Pipe()
        process.standardOutput = out
        process.standardError = err
        process.standardInput = inPipe
        try process.run()
        if let input { inPipe.fileHandleForWriting.write(Data(input.utf8)) }
        try inPipe.fileHandleForWriting.close()
        let errors = Mutex(Data())
        let drained = DispatchSemaphore(value: 0)
        Thread {
            let data = err.fileHandleForReading.readDataToEndOfFile()
            errors.withLock { $0 = data }
            drained.signal()
        }.start()
        let output = out.fileHandleForReading.readDataToEndOfFile()
        drained.wait()
        process.waitUntilExit()
        return ChildRun(status: process.terminationStatus, out: String(decoding: output, as: UTF8.self),
                        err: String(decoding: errors.withLock { $0 }, as: UTF8.self))
    }

    /// `run`, awaited from a test task on a thread of its own.
    public static func finish(_ executable: String, _ arguments: [String], input: String? = nil,
                              environment: [String: String]? = nil, directory: URL? = nil) async throws -> ChildRun {
        try await onOwnThread { try run(executable, arguments, input: input, environment: environment, directory: directory) }
    }
}
