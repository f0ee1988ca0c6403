import Foundation

/// Blocking work (a child process waited for, a socket read, a server started) awaited from async
/// code on a thread of its own.
///
/// Every task shares a cooperative pool with one thread per core; a wait that blocks one of them
/// holds back every other task, which on a two-core machine can be all of them. A thread of its
/// own costs a few microseconds and holds nothing back.
public func onOwnThread<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<T, any Error>) in
        Thread { continuation.resume(with: Result { try body() }) }.start()
    }
}
