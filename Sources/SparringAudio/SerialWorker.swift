import Foundation
import Synchronization

/// One dedicated thread that runs jobs in order.
///
/// eSpeak NG keeps global state: every call must come from one thread, one
/// at a time. A dispatch queue is serial but may hop threads; this does not.
final class SerialWorker: @unchecked Sendable {
    private let lock = NSLock()
    private let wake = DispatchSemaphore(value: 0)
    private var jobs: [() -> Void] = []
    private var stopping = false
    private let done = DispatchSemaphore(value: 0)
    /// Jobs queued or running.
    let pending = Atomic<Int>(0)

    init(name: String) {
        let thread = Thread { [self] in loop() }
        thread.name = name
        thread.start()
    }

    func submit(_ job: @escaping () -> Void) {
        pending.wrappingAdd(1, ordering: .acquiringAndReleasing)
        lock.withLock { jobs.append(job) }
        wake.signal()
    }

    /// Runs `job` on the worker and waits for its result.
    func sync<T>(_ job: @escaping () -> T) -> T {
        nonisolated(unsafe) var result: T?
        let finished = DispatchSemaphore(value: 0)
        submit { result = job(); finished.signal() }
        finished.wait()
        return result!
    }

    func stop() {
        lock.withLock { stopping = true }
        wake.signal()
        done.wait()
    }

    private func loop() {
        while true {
            wake.wait()
            let next: (() -> Void)? = lock.withLock {
                if jobs.isEmpty { return nil }
                return jobs.removeFirst()
            }
            if let next {
                next()
                pending.wrappingSubtract(1, ordering: .acquiringAndReleasing)
                continue
            }
            if lock.withLock({ stopping }) { break }
        }
        done.signal()
    }
}
