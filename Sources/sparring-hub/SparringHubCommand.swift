import ArgumentParser
import Foundation
import Hummingbird
import Logging
import SparringCore
import SparringHub

/// The team's server: agents' machines upload their calls, supervisors and agents review them in the browser.
@main
struct SparringHubCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sparring-hub",
        abstract: "Gather a team's practice calls and review them in the browser.",
        discussion: """
            Every command takes the same --data DIR (default: $SPARRING_HUB_DATA, else /var/lib/sparring-hub) and \
            --database URL (default: $SPARRING_HUB_DATABASE, else SQLite in the data folder). \
            Exit status: 0 success; 1 a failure; 64 a usage error.
            """,
        version: SparringVersion.current,
        subcommands: [Serve.self, Enroll.self, Revoke.self, User.self])
}

struct DataOptions: ParsableArguments {
    @Option(help: "The hub's data folder: its database and audio (default: $SPARRING_HUB_DATA, else /var/lib/sparring-hub).")
    var data: String?

    @Option(help: "PostgreSQL for the metadata, postgres://USER:PASSWORD@HOST:PORT/DATABASE (default: $SPARRING_HUB_DATABASE, else SQLite in the data folder).")
    var database: String?

    var folder: String { data ?? ProcessInfo.processInfo.environment["SPARRING_HUB_DATA"].flatMap { $0.isEmpty ? nil : $0 } ?? "/var/lib/sparring-hub" }

    var configuration: HubConfiguration {
        var configuration = HubConfiguration(data: folder)
        configuration.database = database ?? ProcessInfo.processInfo.environment["SPARRING_HUB_DATABASE"].flatMap { $0.isEmpty ? nil : $0 }
        return configuration
    }

    func open(logger: Logger = Logger(label: "sparring-hub")) async throws -> Hub {
        try await Hub.open(configuration: configuration, logger: logger)
    }
}

enum HubFailure: Error {
    case line(String)
}

extension AsyncParsableCommand {
    /// Runs `body`; a failure is one line on standard error and exit status 1.
    func reporting(_ body: () async throws -> Void) async throws {
        do { try await body() } catch HubFailure.line(let line) {
            FileHandle.standardError.write(Data("sparring-hub: \(DisplayText.terminal(line))\n".utf8))
            throw ExitCode(1)
        } catch let error as SparringError {
            FileHandle.standardError.write(Data("sparring-hub: \(DisplayText.terminal(error.message))\n".utf8))
            throw ExitCode(1)
        }
    }
}

struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Serve the pages and the API.")
    @OptionGroup var options: DataOptions
    @Option(help: "Address and port to listen on (default: $SPARRING_HUB_LISTEN, else 127.0.0.1:8470).") var listen: String?
    @Flag(name: .customLong("secure-cookies"), help: "Mark sign-in cookies Secure, behind an HTTPS proxy (default: $SPARRING_HUB_SECURE_COOKIES=1).")
    var secureCookies = false
    @Option(name: .customLong("max-upload-mb"), help: "The largest session upload accepted, in MiB (default: $SPARRING_HUB_MAX_UPLOAD_MB, else 256).")
    var maxUploadMB: Int?

    func run() async throws {
        let environment = ProcessInfo.processInfo.environment
        let listen = listen ?? environment["SPARRING_HUB_LISTEN"].flatMap { $0.isEmpty ? nil : $0 } ?? "127.0.0.1:8470"
        let secureCookies = secureCookies || environment["SPARRING_HUB_SECURE_COOKIES"] == "1"
        guard let maxUploadMB = maxUploadMB ?? Int(environment["SPARRING_HUB_MAX_UPLOAD_MB"] ?? "256"), maxUploadMB > 0 else {
            throw ValidationError("SPARRING_HUB_MAX_UPLOAD_MB must be a whole number of MiB")
        }
        guard let colon = listen.lastIndex(of: ":"), let port = Int(listen[listen.index(after: colon)...]), (0...65535).contains(port) else {
            throw ValidationError("--listen '\(listen)': expected HOST:PORT, like 127.0.0.1:8470")
        }
        let host = String(listen[..<colon])
        var logger = Logger(label: "sparring-hub")
        logger.logLevel = .info
        try await reporting {
            var configuration = options.configuration
            configuration.secureCookies = secureCookies
            configuration.maxUpload = maxUploadMB << 20
            let hub = try await Hub.open(configuration: configuration, logger: logger)
            logger.notice("serving", metadata: ["listen": "\(listen)", "data": "\(options.folder)"])
            try await hub.application(host: host, port: port).runService()
        }
    }
}

struct Enroll: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Print a one-time code for an agent's machine to join with (sparring hub join URL CODE).")
    @OptionGroup var options: DataOptions
    @Argument(help: "The agent's name, as their calls will be listed.") var agent: String
    @Option(help: "The agent's team: supervisors of it see the agent's calls.") var team: String?

    func run() async throws {
        try await reporting {
            let (code, expires) = try await options.open().enroll(agent: agent, team: team)
            print(code)
            FileHandle.standardError.write(Data("sparring-hub: valid once, until \(ISO8601DateFormatter().string(from: expires))\n".utf8))
        }
    }
}

struct Revoke: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "End every device token and unused code of an agent.")
    @OptionGroup var options: DataOptions
    @Argument(help: "The agent's name.") var agent: String

    func run() async throws {
        try await reporting {
            let count = try await options.open().revoke(agent: agent)
            print("revoked \(count) device\(count == 1 ? "" : "s") of \(DisplayText.terminal(agent))")
        }
    }
}

struct User: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "People who sign in to the pages.", subcommands: [Add.self])

    struct Add: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Add a person, or change their role, team or password.")
        @OptionGroup var options: DataOptions
        @Argument(help: "Their name (an agent's is the name they were enrolled with).") var name: String
        @Option(help: "admin (everything), supervisor (their team's calls) or agent (their own).") var role: Viewer.Role
        @Option(help: "Their team (supervisors and agents).") var team: String?
        @Flag(name: .customLong("password-stdin"), help: "Read the password from the first line of standard input.") var passwordStdin = false

        func validate() throws {
            guard passwordStdin else { throw ValidationError("give the password on standard input with --password-stdin") }
        }

        func run() async throws {
            try await reporting {
                guard let password = readLine(strippingNewline: true), !password.isEmpty else {
                    throw HubFailure.line("no password on standard input")
                }
                try await options.open().addUser(name, role: role, team: team, password: password)
                print("\(DisplayText.terminal(name)): \(role.rawValue)\(team.map { " of team \(DisplayText.terminal($0))" } ?? "")")
            }
        }
    }
}

extension Viewer.Role: ExpressibleByArgument {}
