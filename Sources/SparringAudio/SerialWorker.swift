import Foundation
import Synchronization

/// One dedicated thread that runs jobs in order.
///
/// It lives as long as the process (the models it serves do).
///
/// eSpeak NG keeps global state: every call must come from one thread, one
/// at a time. A dispatch queue is serial but may hop threads; this does not.
final class SerialWorker: @unchecked Sendable {
    private let lock = NSLock()
    private let wake = DispatchSemaphore(value: 0)
    private var jobs: [() -> Void] = []
    /// Jobs queued or running.
    let pending = Atomic<Int>(0)

    init(name: String) {
        startNamedThread(name) { [self] in loop() }
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

    private func loop() {
        while true {
            wake.wait()
            let next: (() -> Void)? = lock.withLock {
                if jobs.isEmpty { return nil }
                return jobs.removeFirst()
            }
            guard let next else { continue }
            next()
            pending.wrappingSubtract(1, ordering: .acquiringAndReleasing)
        }
    }
}
