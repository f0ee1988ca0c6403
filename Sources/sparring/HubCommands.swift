import ArgumentParser
import Synchronization
import Foundation
import SparringCore
import SparringHubClient
import SparringSessions

/// `sparring hub`: this machine's link to the team's hub.
struct HubCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "hub",
        abstract: "Send this machine's calls to the team's hub (sparring-hub).",
        subcommands: [HubJoin.self, HubPush.self, HubStatus.self])
}

struct HubConfigOption: ParsableArguments {
    @Option(name: .customLong("hub-config"), help: "Where the hub's address and this device's token are kept (default: ~/.config/sparring/hub.json).")
    var path: String?

    var file: String { path ?? HubCredentials.defaultPath() }
    var outbox: String { path.map { $0 + ".outbox" } ?? HubOutbox.defaultPath() }
}

struct HubJoin: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "join", abstract: "Join a hub with the one-time code a supervisor printed (sparring-hub enroll).")
    @OptionGroup var config: HubConfigOption
    @Argument(help: "The hub's address, like https://hub.example:8470.") var url: String
    @Argument(help: "The one-time code.") var code: String

    func run() async throws {
        do {
            let credentials = try await HubClient(url: url).join(code: code)
            try credentials.save(to: config.file)
            Terminal.out("joined \(credentials.url) as \(credentials.agent)\(credentials.team.map { " (team \($0))" } ?? ""); the token is in \(config.file)")
        } catch { throw Terminal.fail(error.message) }
    }
}

struct HubPush: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "push",
        abstract: "Send every finished call in the sessions folder that the hub does not have yet.",
        discussion: "Exit status 0 when nothing is left to send; 1 when some calls could not be sent (they are tried again next time).")
    @OptionGroup var config: HubConfigOption
    @OptionGroup var location: SessionsLocation

    func run() async throws {
        let client: HubClient
        do { client = try HubClient(try HubCredentials.load(from: config.file)) } catch { throw Terminal.fail(error.message) }
        let report = await SparringHubClient.HubPush.run(client: client, store: location.store, outbox: config.outbox) { Terminal.out($0) }
        for (id, reason) in report.failed.sorted(by: { $0.key < $1.key }) { Terminal.warn("\(id) not sent: \(reason)") }
        Terminal.out("sent \(report.sent.count), on the hub already \(report.already.count), not sent \(report.failed.count)"
                     + (report.waiting.isEmpty ? "" : ", still recording \(report.waiting.count)"))
        if !report.failed.isEmpty { throw ExitCode(Terminal.failure) }
    }
}

struct HubStatus: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "status", abstract: "Which calls wait to be sent, and why the last try failed.")
    @OptionGroup var config: HubConfigOption
    @OptionGroup var location: SessionsLocation

    func run() async throws {
        let credentials: HubCredentials
        do { credentials = try HubCredentials.load(from: config.file) } catch { throw Terminal.fail(error.message) }
        let outbox = HubOutbox.load(from: config.outbox)
        Terminal.out("hub \(credentials.url), agent \(credentials.agent)")
        let waiting = location.store.ids().filter { outbox.sent[$0] == nil }
        if waiting.isEmpty { Terminal.out("nothing waits to be sent") }
        for id in waiting { Terminal.out("\(id)  \(outbox.failed[id].map { "failed: \($0)" } ?? "queued")") }
    }
}

/// After `sparring run`, the session goes to the team's hub when this machine has joined one.
enum HubAfterCall {
    /// One try, a few seconds at most; what is not sent waits for `sparring hub push` (or sparringd's outbox).
    static func send(sessions: String, credentialsFile: String = HubCredentials.defaultPath(), outbox: String = HubOutbox.defaultPath()) {
        guard FileManager.default.fileExists(atPath: credentialsFile),
              let credentials = try? HubCredentials.load(from: credentialsFile), var client = try? credentials.client() else { return }
        client.timeout = 15
        let done = DispatchSemaphore(value: 0)
        let result = Mutex<SparringHubClient.HubPush.Report?>(nil)
        Task.detached {
            let report = await SparringHubClient.HubPush.run(client: client, store: SessionStore(root: sessions), outbox: outbox, attempts: 1)
            result.withLock { $0 = report }
            done.signal()
        }
        done.wait()
        guard let report = result.withLock({ $0 }) else { return }
        if let reason = report.failed.values.first {
            Terminal.warn("not sent to the hub yet (\(reason)); `sparring hub push` sends it later")
        } else if !report.sent.isEmpty {
            FileHandle.standardError.write(Data("sparring: sent to the hub \(credentials.url)\n".utf8))
        }
    }
}
