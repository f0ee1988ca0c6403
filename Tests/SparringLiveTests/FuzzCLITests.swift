import Foundation
import Testing

extension LiveLines {
    /// The fuzzing harness at a small N: the same inputs `make fuzz` feeds by the thousand.
    @Suite("Hostile files against the command line")
    struct FuzzCLITests {
        @Test("crafted scenario files and session folders: no crash, no hang, every problem located")
        func smallFuzz() throws {
            let root = Live.LiveCallTests.root.path
            let bench = root + "/.build/debug/sparring-bench"
            let process = Process()
            process.executableURL = URL(fileURLWithPath: bench)
            // A debug build on a busy machine is slow; a hang is a run that never ends, so the limit is generous.
            process.arguments = ["--fuzz", "24", "--limit", "10", "--sparring", root + "/.build/debug/sparring"]
            process.currentDirectoryURL = URL(fileURLWithPath: root)
            let output = Pipe()
            process.standardOutput = output
            try process.run()
            let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            process.waitUntilExit()
            #expect(process.terminationStatus == 0, "\(text)")
            let lines = text.split(separator: "\n").filter { $0.contains(" runs, ") }
            #expect(lines.count == 2, "\(text)")
            for line in lines { #expect(line.contains(" 0 crashes, 0 hangs over 10 s, 0 problems without file:line"), "\(text)") }
        }
    }
}
