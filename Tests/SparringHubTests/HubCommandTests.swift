import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import Testing
import SparringTestSupport
@testable import SparringHubClient
@testable import SparringSessions
import SparringCore
import SparringHub

/// The executables as a team uses them: `sparring-hub` on a port, `sparring hub` on an agent's machine.
@Suite("Hub commands", .timeLimit(.minutes(10)))
struct HubCommandTests {
    static func binary(_ name: String) -> String {
        let here = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        for candidate in [here, here.deletingLastPathComponent()] {
            let path = candidate.appendingPathComponent(name).path
            if FileManager.default.isExecutableFile(atPath: path) { return path }
        }
        return URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent(".build/debug/\(name)").path
    }

    /// Runs a command to its end, on a thread of its own: status, output, errors.
    @discardableResult
    static func run(_ tool: String, _ arguments: [String], input: String? = nil, environment: [String: String] = [:]) async throws -> (Int32, String, String) {
        let run = try await ChildProcess.finish(binary(tool), arguments, input: input,
                                                environment: ProcessInfo.processInfo.environment.merging(environment) { $1 })
        return (run.status, run.out, run.err)
    }

    /// A plain TCP connection to the loopback port, to send a request by hand.
    static func connect(port: Int) throws -> FileHandle {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        let result = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard result == 0 else { close(fd); throw SparringError("connect", "cannot connect to 127.0.0.1:\(port)") }
        return FileHandle(fileDescriptor: fd, closeOnDealloc: true)
    }

    @Test("enroll, join, push and list through the executables; the token file is private; bad input is one line")
    func commands() async throws {
        let folder = NSTemporaryDirectory() + "sparring-hub-cli-" + UUID().uuidString
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let data = folder + "/data", config = folder + "/agent/hub.json", sessions = folder + "/sessions"
        try HubFixture.session(in: sessions, id: "20261130T100000Z-debt-threat-0c11")

        let (noPassword, _, usage) = try await Self.run("sparring-hub", ["user", "add", "root", "--role", "admin", "--data", data])
        #expect(noPassword == 64 && usage.contains("--password-stdin"))
        let (short, _, shortError) = try await Self.run("sparring-hub", ["user", "add", "root", "--role", "admin", "--password-stdin", "--data", data], input: "short\n")
        #expect(short == 1 && shortError.split(separator: "\n").count == 1 && shortError.contains("8 characters"))
        let (badName, _, badNameError) = try await Self.run("sparring-hub", ["enroll", "../etc", "--data", data])
        #expect(badName == 1 && badNameError.contains("AGENT '../etc'"))
        #expect(try await Self.run("sparring-hub", ["user", "add", "root", "--role", "admin", "--password-stdin", "--data", data],
                             input: "a long password\n").0 == 0)
        let (enrolled, code, _) = try await Self.run("sparring-hub", ["enroll", "alice", "--team", "north", "--data", data])
        #expect(enrolled == 0)

        let port = LocalPostgres.freePort()
        let server = Process()
        server.executableURL = URL(fileURLWithPath: Self.binary("sparring-hub"))
        server.arguments = ["serve", "--data", data, "--listen", "127.0.0.1:\(port)"]
        server.standardOutput = FileHandle.nullDevice
        server.standardError = FileHandle.nullDevice
        try server.run()
        defer { if server.isRunning { server.terminate(); server.waitUntilExit() } }
        let url = "http://127.0.0.1:\(port)"
        var up = false
        for _ in 0..<100 where !up {
            up = (try? await URLSession.shared.data(from: URL(string: url + "/healthz")!))?.1 is HTTPURLResponse
            if !up { try await Task.sleep(nanoseconds: 100_000_000) }
        }
        #expect(up)

        let (joined, joinOutput, joinErrors) = try await Self.run("sparring", ["hub", "join", url, code.trimmingCharacters(in: .whitespacesAndNewlines), "--hub-config", config])
        #expect(joined == 0, "\(joinErrors)")
        #expect(joinOutput.contains("as alice (team north)"))
        let mode = try FileManager.default.attributesOfItem(atPath: config)[.posixPermissions] as? Int
        #expect(mode == 0o600)
        let (again, _, againErrors) = try await Self.run("sparring", ["hub", "join", url, code.trimmingCharacters(in: .whitespacesAndNewlines), "--hub-config", folder + "/other.json"])
        #expect(again == 1 && againErrors.contains("403") && againErrors.split(separator: "\n").count == 1)

        let (pushed, pushOutput, pushErrors) = try await Self.run("sparring", ["hub", "push", "--sessions", sessions, "--hub-config", config])
        #expect(pushed == 0 && pushOutput.contains("sent 1,"), "\(pushErrors)")
        let (status, statusOutput, _) = try await Self.run("sparring", ["hub", "status", "--sessions", sessions, "--hub-config", config])
        #expect(status == 0 && statusOutput.contains("nothing waits to be sent"))
        let (listed, list, _) = try await Self.run("sparring", ["sessions", "--hub", url, "--hub-config", config, "--json"])
        #expect(listed == 0)
        let rows = try JSONDecoder().decode([HubSession].self, from: Data(list.utf8))
        #expect(rows.map(\.id) == ["20261130T100000Z-debt-threat-0c11"] && rows.first?.agent == "alice")

        // The hub killed in the middle of an upload keeps nothing of it; the next push sends it once.
        try HubFixture.session(in: sessions, id: "20261130T110000Z-debt-threat-0c12", seconds: 20)
        let credentials = try HubCredentials.load(from: config)
        let partial = try PreparedUpload.prepare(SessionStore(root: sessions), id: "20261130T110000Z-debt-threat-0c12")
        let connection = try Self.connect(port: port)
        let head = "PUT /api/v1/sessions/\(partial.id) HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer \(credentials.token)\r\n"
            + "Sparring-Parts: \(partial.parts)\r\nSparring-Content-Hash: \(partial.hash)\r\nContent-Length: \(partial.body.count)\r\n\r\n"
        try connection.write(contentsOf: Data(head.utf8) + partial.body.prefix(partial.body.count / 2))
        try await Task.sleep(nanoseconds: 300_000_000)
        kill(server.processIdentifier, SIGKILL)
        server.waitUntilExit()
        try? connection.close()
        let restarted = Process()
        restarted.executableURL = server.executableURL
        restarted.arguments = server.arguments
        restarted.standardOutput = FileHandle.nullDevice
        restarted.standardError = FileHandle.nullDevice
        try restarted.run()
        defer { if restarted.isRunning { restarted.terminate(); restarted.waitUntilExit() } }
        up = false
        for _ in 0..<100 where !up {
            up = (try? await URLSession.shared.data(from: URL(string: url + "/healthz")!))?.1 is HTTPURLResponse
            if !up { try await Task.sleep(nanoseconds: 100_000_000) }
        }
        let (_, before, _) = try await Self.run("sparring", ["sessions", "--hub", url, "--hub-config", config, "--json"])
        #expect(try JSONDecoder().decode([HubSession].self, from: Data(before.utf8)).count == 1)
        let (resent, resentOutput, _) = try await Self.run("sparring", ["hub", "push", "--sessions", sessions, "--hub-config", config])
        #expect(resent == 0 && resentOutput.contains("sent 1, on the hub already 1"), "\(resentOutput)")
        let (_, after, _) = try await Self.run("sparring", ["sessions", "--hub", url, "--hub-config", config, "--json"])
        #expect(try JSONDecoder().decode([HubSession].self, from: Data(after.utf8)).count == 2)

        // The hub gone: the push fails in one line per call and exits 1; nothing is lost.
        restarted.terminate()
        restarted.waitUntilExit()
        try HubFixture.session(in: sessions, id: "20261130T120000Z-debt-threat-0c13")
        let (failed, _, failedErrors) = try await Self.run("sparring", ["hub", "push", "--sessions", sessions, "--hub-config", config])
        #expect(failed == 1 && failedErrors.contains("20261130T120000Z-debt-threat-0c13 not sent"), "\(failedErrors)")
        let (_, waiting, _) = try await Self.run("sparring", ["hub", "status", "--sessions", sessions, "--hub-config", config])
        #expect(waiting.contains("20261130T120000Z-debt-threat-0c13  failed:") && !waiting.contains("0c12"))
    }
}
