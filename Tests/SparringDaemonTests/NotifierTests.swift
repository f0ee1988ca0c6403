import Foundation
import Testing
@testable import SparringDaemon

@Suite("systemd notify protocol")
struct NotifierTests {
    /// A datagram socket standing in for systemd's notify socket.
    func listen(_ path: String) -> Int32 {
        let fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue), 0)
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { raw in for (i, byte) in path.utf8.enumerated() { raw[i] = byte } }
        let bound = withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) } }
        #expect(bound == 0)
        return fd
    }

    func receive(_ fd: Int32) -> String {
        var buffer = [UInt8](repeating: 0, count: 512)
        let n = recv(fd, &buffer, buffer.count, Int32(MSG_DONTWAIT))
        return n > 0 ? String(decoding: buffer[0..<n], as: UTF8.self) : ""
    }

    @Test("READY and WATCHDOG reach $NOTIFY_SOCKET; the watchdog interval comes from $WATCHDOG_USEC")
    func notifies() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("notify-\(UUID().uuidString.prefix(8))").path
        let fd = listen(path)
        defer { close(fd); unlink(path) }
        let notifier = SystemdNotifier(environment: ["NOTIFY_SOCKET": path, "WATCHDOG_USEC": "30000000", "WATCHDOG_PID": "\(getpid())"])
        #expect(notifier.watchdogInterval == .seconds(30))
        #expect(notifier.notify("READY=1\nSTATUS=waiting for a call"))
        #expect(receive(fd) == "READY=1\nSTATUS=waiting for a call")
        #expect(notifier.notify("WATCHDOG=1"))
        #expect(receive(fd) == "WATCHDOG=1")
    }

    @Test("run by hand: no socket, no watchdog, nothing sent; a watchdog meant for another process is ignored")
    func byHand() {
        #expect(!SystemdNotifier(environment: [:]).notify("READY=1"))
        #expect(SystemdNotifier(environment: [:]).watchdogInterval == nil)
        #expect(SystemdNotifier(environment: ["WATCHDOG_USEC": "1000", "WATCHDOG_PID": "1"]).watchdogInterval == nil || getpid() == 1)
    }
}
