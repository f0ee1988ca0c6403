import Foundation
import Logging
import ServiceLifecycle

/// The systemd notify protocol: datagrams to `$NOTIFY_SOCKET`.
///
/// Written here rather than linking libsystemd: it is one `sendto` of a few
/// key=value lines (sd_notify(3) documents the format), and the daemon must
/// run by hand, where there is no socket and every call is a no-op.
public struct SystemdNotifier: Sendable {
    public let socketPath: String?
    /// How often systemd expects `WATCHDOG=1`, from `$WATCHDOG_USEC`; nil when no watchdog is set.
    public let watchdogInterval: Duration?

    public init(environment: [String: String] = ProcessInfo.processInfo.environment) {
        socketPath = environment["NOTIFY_SOCKET"].flatMap { $0.isEmpty ? nil : $0 }
        let forThisProcess = environment["WATCHDOG_PID"].map { Int32($0) == getpid() } ?? true
        if forThisProcess, let usec = environment["WATCHDOG_USEC"].flatMap(UInt64.init), usec > 0 {
            watchdogInterval = .microseconds(Int64(usec))
        } else {
            watchdogInterval = nil
        }
    }

    /// Sends `state` (e.g. "READY=1\nSTATUS=listening"); returns whether it was delivered.
    @discardableResult
    public func notify(_ state: String) -> Bool {
        guard let socketPath else { return false }
        let fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        let payload = Array(state.utf8)
        let sent = withUnixAddress(socketPath) { sendto(fd, payload, payload.count, Int32(MSG_NOSIGNAL), $0, $1) }
        return sent == payload.count
    }
}

/// Pets the systemd watchdog at half its interval; a daemon whose tasks no longer run stops petting it.
public struct WatchdogService: Service {
    let notifier: SystemdNotifier

    public init(notifier: SystemdNotifier) { self.notifier = notifier }

    public func run() async throws {
        guard let interval = notifier.watchdogInterval else {
            try? await gracefulShutdown()
            return
        }
        try? await cancelWhenGracefulShutdown {
            while true {
                notifier.notify("WATCHDOG=1")
                try await Task.sleep(for: interval / 2)
            }
        }
    }
}
