import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import SparringCore
import SparringSessions

/// What an agent's machine keeps after joining a hub: where it is and the device token (0600).
public struct HubCredentials: Codable, Sendable, Equatable {
    public var url: String
    public var token: String
    public var agent: String
    public var team: String?

    /// `$XDG_CONFIG_HOME/sparring/hub.json`, else `~/.config/sparring/hub.json`.
    public static func defaultPath(environment: [String: String] = ProcessInfo.processInfo.environment) -> String {
        let base = environment["XDG_CONFIG_HOME"].flatMap { $0.isEmpty ? nil : $0 }
            ?? (environment["HOME"] ?? NSHomeDirectory()) + "/.config"
        return base + "/sparring/hub.json"
    }

    public static func load(from path: String = defaultPath()) throws(SparringError) -> HubCredentials {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw SparringError("no_hub", "\(path): this machine has not joined a hub (sparring hub join URL CODE)")
        }
        do { return try JSONDecoder().decode(HubCredentials.self, from: data) } catch {
            throw SparringError("bad_hub", "\(path): not a hub's credentials (\(error))")
        }
    }

    /// Writes the credentials readable by this user only; the folder is created 0700.
    public func save(to path: String = defaultPath()) throws(SparringError) {
        let folder = (path as NSString).deletingLastPathComponent
        do {
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]
            let temporary = path + ".tmp"
            guard FileManager.default.createFile(atPath: temporary, contents: try encoder.encode(self), attributes: [.posixPermissions: 0o600]) else {
                throw SparringError("hub_config", "\(temporary): cannot write")
            }
            guard rename(temporary, path) == 0 else { throw SparringError("hub_config", "\(path): cannot write (\(String(cString: strerror(errno))))") }
        } catch let error as SparringError {
            throw error
        } catch {
            throw SparringError("hub_config", "\(path): cannot write (\(error))")
        }
    }
}

extension HubCredentials {
    /// A client that speaks to this hub with this device's token.
    public func client() throws(SparringError) -> HubClient { try HubClient(self) }
}

/// Talks to a hub over HTTP(S): joining, what it has, uploads, lists.
public struct HubClient: Sendable {
    public var base: URL
    public var token: String?
    /// How long one request may take before it is given up (and retried by a push).
    public var timeout: TimeInterval = 120
    /// The URL session requests go through.
    public var session: URLSession = .shared

    public init(url: String, token: String? = nil) throws(SparringError) {
        guard let base = URL(string: url.hasSuffix("/") ? String(url.dropLast()) : url), let scheme = base.scheme,
              ["http", "https"].contains(scheme), base.host != nil else {
            throw SparringError("bad_url", "'\(DisplayText.terminal(url))' is not a hub's address (like https://hub.example:8470)")
        }
        self.base = base
        self.token = token
    }

    public init(_ credentials: HubCredentials) throws(SparringError) {
        try self.init(url: credentials.url, token: credentials.token)
    }


    struct Problem: Decodable { struct Inner: Decodable { var message: String? }; var error: Inner? }

    /// Sends a request; the body of a 2xx answer, else one line with the status and the hub's message.
    func send(_ method: String, _ path: String, body: Data? = nil, headers: [String: String] = [:]) async throws(SparringError) -> (Int, Data) {
        var request = URLRequest(url: URL(string: base.absoluteString + path)!, timeoutInterval: timeout)
        request.httpMethod = method
        request.httpBody = body
        if let token { request.setValue("Bearer \(token)", forHTTPHeaderField: "Authorization") }
        for (name, value) in headers { request.setValue(value, forHTTPHeaderField: name) }
        let data: Data, response: URLResponse
        do { (data, response) = try await session.data(for: request) } catch {
            throw SparringError("hub_unreachable", "\(base.absoluteString): \(error.localizedDescription)")
        }
        let status = (response as? HTTPURLResponse)?.statusCode ?? 0
        guard (200..<300).contains(status) else {
            let message = (try? JSONDecoder().decode(Problem.self, from: data))?.error?.message ?? String(decoding: data.prefix(200), as: UTF8.self)
            throw SparringError(status >= 500 ? "hub_failed" : "hub_refused", "\(base.absoluteString)\(path): \(status) \(DisplayText.terminal(message))")
        }
        return (status, data)
    }

    /// Trades a one-time code for this machine's device token.
    public func join(code: String) async throws(SparringError) -> HubCredentials {
        struct Reply: Decodable { var token: String; var agent: String; var team: String? }
        let body = try? JSONEncoder().encode(["code": code])
        let (_, data) = try await send("POST", "/api/v1/devices", body: body, headers: ["Content-Type": "application/json"])
        guard let reply = try? JSONDecoder().decode(Reply.self, from: data) else {
            throw SparringError("hub_failed", "\(base.absoluteString): the hub's answer to joining is not a device token")
        }
        return HubCredentials(url: base.absoluteString, token: reply.token, agent: reply.agent, team: reply.team)
    }

    /// Ids and content hashes of this device's agent's sessions on the hub.
    public func uploaded() async throws(SparringError) -> [String: String] {
        struct Reply: Decodable { var sessions: [String: String] }
        let (_, data) = try await send("GET", "/api/v1/uploads")
        guard let reply = try? JSONDecoder().decode(Reply.self, from: data) else {
            throw SparringError("hub_failed", "\(base.absoluteString): the list of uploads could not be read")
        }
        return reply.sessions
    }

    /// Sends one session folder's files; whether the hub stored it now or had it already.
    public func upload(_ upload: PreparedUpload) async throws(SparringError) -> String {
        struct Reply: Decodable { var result: String }
        let (_, data) = try await send("PUT", "/api/v1/sessions/\(upload.id)", body: upload.body,
                                       headers: [SessionUpload.partsHeader: upload.parts, SessionUpload.hashHeader: upload.hash,
                                                 "Content-Type": "application/octet-stream"])
        return (try? JSONDecoder().decode(Reply.self, from: data))?.result ?? "stored"
    }

    public func sessions(query: [String: String] = [:]) async throws(SparringError) -> [HubSession] {
        var components = URLComponents()
        components.queryItems = query.sorted { $0.key < $1.key }.map { URLQueryItem(name: $0.key, value: $0.value) }
        let (_, data) = try await send("GET", "/api/v1/sessions" + (query.isEmpty ? "" : "?" + (components.percentEncodedQuery ?? "")))
        guard let list = try? JSONDecoder().decode([HubSession].self, from: data) else {
            throw SparringError("hub_failed", "\(base.absoluteString)/api/v1/sessions: the list could not be read")
        }
        return list
    }
}

/// A session folder read and framed for upload.
public struct PreparedUpload: Sendable {
    public init(id: String, body: Data, parts: String, hash: String) {
        self.id = id
        self.body = body
        self.parts = parts
        self.hash = hash
    }

    public var id: String
    public var body: Data
    public var parts: String
    public var hash: String

    /// Reads a finished session's files (no link followed); nil for one still recording or left by a crash.
    public static func prepare(_ store: SessionStore, id: String) throws(SparringError) -> PreparedUpload {
        let session = try store.load(id)
        let directory = session.directory
        let summary = try SessionStore.read(directory, "summary.json")
        let events = (try? SessionStore.read(directory, "events.jsonl")) ?? Data()
        let wav = try? SessionStore.read(directory, "call.wav")
        let (body, parts, hash) = SessionUpload.body(summary: summary, events: events, wav: wav)
        return PreparedUpload(id: id, body: body, parts: parts, hash: hash)
    }
}
