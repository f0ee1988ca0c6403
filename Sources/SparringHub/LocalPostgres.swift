import Foundation
import Synchronization
import SparringCore

/// A PostgreSQL server of Debian's on a private folder and a loopback port: for trying the hub on
/// PostgreSQL, for its tests and for its benchmark. Nothing of the system's own clusters is touched.
///
/// As root it runs as the `postgres` user, since initdb and postgres refuse to run as root.
/// A server still running when the process exits is stopped then.
public final class LocalPostgres: @unchecked Sendable {
    public let folder: String
    public let port: Int
    /// The folder of the server's programs (initdb, pg_ctl, psql…).
    public let binaries: String
    let lock = NSLock()

    /// Where Debian puts the server's programs (/usr/lib/postgresql/15/bin), newest version first.
    static func findBinaries() -> String? {
        let root = "/usr/lib/postgresql"
        let versions = ((try? FileManager.default.contentsOfDirectory(atPath: root)) ?? []).sorted { (Int($0) ?? 0) > (Int($1) ?? 0) }
        return versions.map { "\(root)/\($0)/bin" }.first { FileManager.default.isExecutableFile(atPath: $0 + "/initdb") }
    }

    static var isRoot: Bool { getuid() == 0 }

    /// Makes a cluster in a new folder under `parent` (user `hub`, trusted on loopback) and starts it on `port` (0: a free one).
    public init(parent: String = NSTemporaryDirectory(), port: Int = 0) throws(SparringError) {
        guard let binaries = Self.findBinaries() else {
            throw SparringError("no_postgres", "PostgreSQL is not installed (apt-get install postgresql)")
        }
        self.binaries = binaries
        folder = (parent.hasSuffix("/") ? parent : parent + "/") + "sparring-pg-\(UUID().uuidString.prefix(8))"
        self.port = port == 0 ? Self.freePort() : port
        do { try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true) } catch {
            throw SparringError("no_postgres", "\(folder): cannot create (\(error.localizedDescription))")
        }
        if Self.isRoot { try run("/bin/chown", ["postgres:postgres", folder], asPostgres: false) }
        try run(binaries + "/initdb", ["-D", folder + "/data", "-A", "trust", "-U", "hub", "--no-sync", "-E", "UTF8"])
        try start()
        Self.register(self)
    }

    /// A TCP port nothing listens on now.
    public static func freePort() -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) } }
        _ = withUnsafeMutablePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) } }
        return Int(UInt16(bigEndian: address.sin_port))
    }

    /// Runs one of the server's programs to its end (as `postgres` when we are root); its output, or one line on failure.
    ///
    /// posix_spawn and waitpid rather than Foundation's Process: the programs
    /// are short, and Process's exit monitoring can miss a child when several
    /// are started at once from different threads.
    @discardableResult
    public func run(_ program: String, _ arguments: [String], asPostgres: Bool = true) throws(SparringError) -> String {
        let argv = asPostgres && Self.isRoot ? ["/usr/sbin/runuser", "-u", "postgres", "--", program] + arguments : [program] + arguments
        let log = folder + "/.run-\(UUID().uuidString.prefix(8)).log"
        defer { unlink(log) }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, log, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)
        // The server must not keep any of our descriptors (a test's pipes, sockets) open.
        for name in (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd")) ?? [] {
            if let fd = Int32(name), fd > 2 { posix_spawn_file_actions_addclose(&actions, fd) }
        }
        let cArguments = argv.map { strdup($0) } + [nil]
        defer { cArguments.forEach { free($0) } }
        var pid: pid_t = 0
        let spawned = posix_spawn(&pid, argv[0], &actions, nil, cArguments, environ)
        guard spawned == 0 else {
            throw SparringError("postgres", "\(argv[0]): cannot start (\(String(cString: strerror(spawned))))")
        }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        let output = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
        let exited = (status & 0x7f) == 0, code = (status >> 8) & 0xff
        guard exited && code == 0 else {
            let last = output.split(separator: "\n").last.map(String.init) ?? "exit \(code)"
            throw SparringError("postgres", "\((program as NSString).lastPathComponent) \(arguments.first ?? ""): \(last)")
        }
        return output
    }

    /// Starts the server in the background; pg_ctl waits until it accepts connections. Its log is `server.log` in the folder.
    public func start() throws(SparringError) {
        try run(binaries + "/pg_ctl", ["-D", folder + "/data", "-l", folder + "/server.log", "-w", "-t", "60", "-o",
                                       "-p \(port) -k \(folder) -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=300",
                                       "start"])
    }

    /// Stops it fast, connections dropped, as a crash or a restart of the database would.
    public func stop() throws(SparringError) {
        try run(binaries + "/pg_ctl", ["-D", folder + "/data", "-m", "fast", "-w", "stop"])
    }

    /// A new empty database; its URL for `--database`.
    public func database(_ name: String = "hub_" + UUID().uuidString.prefix(8).lowercased()) throws(SparringError) -> String {
        try run(binaries + "/createdb", ["-h", "127.0.0.1", "-p", "\(port)", "-U", "hub", name])
        return "postgres://hub@127.0.0.1:\(port)/\(name)?sslmode=disable"
    }

    /// Stops the server and removes its folder.
    public func remove() {
        try? stop()
        try? FileManager.default.removeItem(atPath: folder)
        Self.running.withLock { $0.removeAll { $0 === self } }
    }

    static let running = Mutex<[LocalPostgres]>([])

    private static func register(_ server: LocalPostgres) {
        let first = running.withLock { list in
            list.append(server)
            return list.count == 1
        }
        if first {
            atexit {
                for server in LocalPostgres.running.withLock({ $0 }) {
                    try? server.stop()
                    try? FileManager.default.removeItem(atPath: server.folder)
                }
            }
        }
    }
}
