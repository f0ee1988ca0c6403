import Foundation
import SparringCore
import SparringSessions

/// What this machine knows of its uploads: sent sessions and the last failure of each that is not.
/// Kept in `$XDG_STATE_HOME/sparring/hub-outbox.json` (else `~/.local/state/…`), 0600.
public struct HubOutbox: Codable, Sendable, Equatable {
    public var sent: [String: String] = [:]
    public var failed: [String: String] = [:]

    public init() {}

    public static func defaultPath(environment: [String: String] = ProcessInfo.processInfo.environment) -> String {
        let base = environment["XDG_STATE_HOME"].flatMap { $0.isEmpty ? nil : $0 }
            ?? (environment["HOME"] ?? NSHomeDirectory()) + "/.local/state"
        return base + "/sparring/hub-outbox.json"
    }

    public static func load(from path: String) -> HubOutbox {
        FileManager.default.contents(atPath: path).flatMap { try? JSONDecoder().decode(HubOutbox.self, from: $0) } ?? HubOutbox()
    }

    public func save(to path: String) {
        let folder = (path as NSString).deletingLastPathComponent
        try? FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        guard let data = try? JSONEncoder().encode(self) else { return }
        let temporary = path + ".tmp"
        if FileManager.default.createFile(atPath: temporary, contents: data, attributes: [.posixPermissions: 0o600]) {
            rename(temporary, path)
        }
    }
}

/// Sends every finished session of a folder that the hub does not have yet.
public enum HubPush {
    public struct Report: Sendable, Equatable {
        public var sent: [String] = []
        public var already: [String] = []
        /// Sessions that could not be sent, with why; they are tried again next time.
        public var failed: [String: String] = [:]
        /// Sessions not ready to send (still recording).
        public var waiting: [String] = []
    }

    /// Pushes `store`'s sessions through `client`. A network failure or a hub error (5xx) is tried
    /// `attempts` times with doubling pauses from `pause` seconds; a refusal (4xx) is not retried.
    public static func run(client: HubClient, store: SessionStore, outbox path: String, attempts: Int = 4, pause: Double = 1,
                           progress: (String) -> Void = { _ in }) async -> Report {
        var report = Report()
        var outbox = HubOutbox.load(from: path)
        defer { outbox.save(to: path) }
        let onHub: [String: String]
        do { onHub = try await client.uploaded() } catch {
            for id in store.ids() where outbox.sent[id] == nil { report.failed[id] = error.message; outbox.failed[id] = error.message }
            return report
        }
        for id in store.ids() {
            let upload: PreparedUpload
            do { upload = try PreparedUpload.prepare(store, id: id) } catch {
                if error.code == "recording" { report.waiting.append(id) } else {
                    report.failed[id] = error.message
                    outbox.failed[id] = error.message
                }
                continue
            }
            if onHub[id] == upload.hash {
                report.already.append(id)
                outbox.sent[id] = upload.hash
                outbox.failed[id] = nil
                continue
            }
            var wait = pause
            for attempt in 1...max(1, attempts) {
                do {
                    let result = try await client.upload(upload)
                    if result == "duplicate" { report.already.append(id) } else { report.sent.append(id) }
                    outbox.sent[id] = upload.hash
                    outbox.failed[id] = nil
                    report.failed[id] = nil
                    progress("\(id): \(result == "duplicate" ? "on the hub already" : "sent")")
                    break
                } catch {
                    report.failed[id] = error.message
                    outbox.failed[id] = error.message
                    guard error.code != "hub_refused", attempt < attempts else { break }
                    progress("\(id): \(error.message); trying again in \(plainNumber(wait)) s")
                    try? await Task.sleep(nanoseconds: UInt64(wait * 1e9))
                    wait *= 2
                }
            }
        }
        return report
    }
}
