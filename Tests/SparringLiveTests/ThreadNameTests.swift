import Foundation
import Testing
import SparringAudio

/// The names `top -H` shows: the kernel's, not Foundation's.
@Suite("Thread names")
struct ThreadNameTests {
    /// Names of this process's threads, as the kernel has them.
    static func kernelNames() -> [String] {
        let tasks = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/task")) ?? []
        return tasks.compactMap { try? String(contentsOfFile: "/proc/self/task/\($0)/comm", encoding: .utf8) }
            .map { $0.trimmingCharacters(in: .newlines) }
    }

    @Test("a named thread carries its name in the kernel while it runs")
    func named() {
        let started = DispatchSemaphore(value: 0), finish = DispatchSemaphore(value: 0)
        nonisolated(unsafe) var own = ""
        startNamedThread("sp-test-name", stackSize: 1 << 20) {
            own = (try? String(contentsOfFile: "/proc/thread-self/comm", encoding: .utf8))?
                .trimmingCharacters(in: .newlines) ?? ""
            started.signal()
            finish.wait()
        }
        started.wait()
        #expect(own == "sp-test-name")
        #expect(Self.kernelNames().contains("sp-test-name"))
        finish.signal()
    }
}
