import Foundation

/// Starts a thread that names itself for the kernel, so `top -H`, `perf` and
/// `/proc/PID/task/*/comm` show which of the call's threads spends what.
///
/// Foundation's `Thread.name` does not reach the kernel name on Linux, and the
/// kernel keeps at most 15 bytes, so names are short ("sp-recognize").
public func startNamedThread(_ name: String, stackSize: Int? = nil, _ body: @escaping @Sendable () -> Void) {
    precondition(name.utf8.count <= 15, "thread name '\(name)' is longer than the kernel keeps")
    let thread = Thread {
        // pthread_setname_np is not visible to Swift without _GNU_SOURCE; the kernel takes the name here too.
        let fd = open("/proc/thread-self/comm", O_WRONLY)
        if fd >= 0 {
            _ = name.withCString { write(fd, $0, strlen($0)) }
            close(fd)
        }
        body()
    }
    thread.name = name
    if let stackSize { thread.stackSize = stackSize }
    thread.start()
}
