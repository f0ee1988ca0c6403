import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdBcrypt
import Logging
import NIOCore
import SparringCore
import SparringSessions

/// How a hub runs: where its data is, what it accepts, how long grants last.
public struct HubConfiguration: Sendable {
    /// The data folder: `audio/`, and `hub.sqlite` unless `database` is set.
    public var data: String
    /// A PostgreSQL URL (postgres://USER:PASSWORD@HOST:PORT/DATABASE) for the metadata; nil keeps it in SQLite in `data`.
    public var database: String?
    /// How long PostgreSQL may take to answer at start before the hub gives up with one line, in seconds.
    public var databaseStartupTimeout: Double = 15
    /// How long `/healthz` waits for the database to answer before it says the store cannot be reached, in seconds.
    public var healthTimeout: Double = 3
    /// The largest upload accepted, in bytes (a session's three files together).
    public var maxUpload = 256 << 20
    /// Whether sign-in cookies are marked Secure (the hub is reached over TLS, behind a proxy).
    public var secureCookies = false
    /// How long a sign-in lasts.
    public var signInLifetime: TimeInterval = 12 * 3600
    /// How long an enrolment code can be used.
    public var enrollmentLifetime: TimeInterval = 24 * 3600
    /// Failed sign-ins for one name within `signInWindow` before further tries are refused until it passes.
    public var signInAttempts = 5
    public var signInWindow: TimeInterval = 300
    /// bcrypt's cost for new passwords (2^cost rounds).
    public var bcryptCost: UInt8 = 12

    public init(data: String) { self.data = data }
}

/// The team's server: the store, the audio, sign-in, and the routes of the pages and the API.
public final class Hub: Sendable {
    public let configuration: HubConfiguration
    let store: any HubDatabase
    public let vault: AudioVault
    let pages: Pages
    let limiter: SignInLimiter
    let logger: Logger

    public static let sessionCookie = "sparring_session"
    /// The login form's CSRF token before anyone is signed in (double-submit: cookie and field must agree).
    public static let loginCookie = "sparring_login"

    /// Opens (creating if needed) the data folder (0700) with its audio folder, and the database:
    /// PostgreSQL when the configuration names one, else SQLite in the data folder.
    public static func open(configuration: HubConfiguration, logger: Logger = Logger(label: "sparring-hub")) async throws(SparringError) -> Hub {
        do {
            try FileManager.default.createDirectory(atPath: configuration.data, withIntermediateDirectories: true,
                                                    attributes: [.posixPermissions: 0o700])
        } catch {
            throw SparringError("hub_store", "\(configuration.data): cannot create the data folder (\((error as NSError).localizedDescription))")
        }
        var isFolder: ObjCBool = false
        guard FileManager.default.fileExists(atPath: configuration.data, isDirectory: &isFolder), isFolder.boolValue else {
            throw SparringError("hub_store", "\(configuration.data): not a folder")
        }
        let store: any HubDatabase
        if let url = configuration.database, !url.isEmpty {
            store = try await PostgresHubStore.open(url, startupTimeout: configuration.databaseStartupTimeout, logger: logger)
        } else {
            store = try SQLiteHubStore(path: configuration.data + "/hub.sqlite")
        }
        return try Hub(configuration: configuration, store: store, logger: logger)
    }

    init(configuration: HubConfiguration, store: any HubDatabase, logger: Logger) throws(SparringError) {
        self.configuration = configuration
        self.logger = logger
        self.store = store
        vault = try AudioVault(root: configuration.data + "/audio")
        pages = try Pages()
        limiter = SignInLimiter(attempts: configuration.signInAttempts, window: configuration.signInWindow)
    }

    // MARK: commands

    /// A one-time code for `agent`'s machine to join with, valid for the configured lifetime.
    public func enroll(agent: String, team: String?) async throws -> (code: String, expires: Date) {
        try Self.checkName(agent, field: "AGENT")
        if let team { try Self.checkName(team, field: "--team") }
        let code = Secrets.code()
        let expires = Date().addingTimeInterval(configuration.enrollmentLifetime)
        try await store.addEnrollment(codeHash: Secrets.sha256(Secrets.normalizedCode(code)), agent: agent, team: team, expires: expires)
        return (code, expires)
    }

    /// Ends every device token and unused code of `agent`; how many devices.
    public func revoke(agent: String) async throws -> Int {
        try await store.revoke(agent: agent)
    }

    public func addUser(_ name: String, role: Viewer.Role, team: String?, password: String) async throws {
        try Self.checkName(name, field: "NAME")
        if let team { try Self.checkName(team, field: "--team") }
        guard password.count >= 8 else { throw SparringError("bad_password", "the password must have 8 characters or more") }
        guard role == .admin || team != nil else {
            throw SparringError("missing_team", "a \(role.rawValue) needs --team")
        }
        try await store.addUser(name, role: role, team: team, passwordHash: Bcrypt.hash(password, cost: configuration.bcryptCost))
    }

    /// Names of agents, users and teams: what fits in a URL, a cookie-free header and a terminal.
    static func checkName(_ name: String, field: String) throws(SparringError) {
        guard !name.isEmpty, name.count <= 64,
              name.unicodeScalars.allSatisfy({ $0.isASCII && (CharacterSet.alphanumerics.contains($0) || "-_.@".unicodeScalars.contains($0)) }) else {
            throw SparringError("bad_name", "\(field) '\(DisplayText.terminal(name))': use 1–64 letters, digits, '-', '_', '.' or '@'")
        }
    }

    // MARK: the server

    /// The application on `host:port`, ready for `runService()`.
    public func application(host: String, port: Int) -> some ApplicationProtocol {
        Application(router: router(), configuration: .init(address: .hostname(host, port: port), serverName: "sparring-hub"), logger: logger)
    }

    public func router() -> Router<BasicRequestContext> {
        let router = Router(context: BasicRequestContext.self)
        router.add(middleware: SecurityHeaders())
        router.get("healthz") { _, _ -> Response in
            await self.store.reachable(within: self.configuration.healthTimeout) ? Self.text("ok\n") : Self.text("the store cannot be reached\n", status: .serviceUnavailable)
        }
        addAPI(to: router)
        addPages(to: router)
        return router
    }

    // MARK: who is asking

    /// The person a sign-in cookie belongs to, with their forms' CSRF token.
    func signedIn(_ request: Request) async throws -> (Viewer, csrf: String)? {
        guard let cookie = request.cookies[Self.sessionCookie]?.value, !cookie.isEmpty, cookie.count <= 128 else { return nil }
        return try await store.webSession(tokenHash: Secrets.sha256(cookie)).map { ($0.0, $0.1) }
    }

    /// The agent whose device token the request carries.
    func device(_ request: Request) async throws -> Viewer? {
        guard let header = request.headers[.authorization], header.hasPrefix("Bearer ") else { return nil }
        let token = String(header.dropFirst(7)).trimmingCharacters(in: .whitespaces)
        guard !token.isEmpty, token.count <= 128 else { return nil }
        return try await store.device(tokenHash: Secrets.sha256(token))
    }

    /// The API's caller: a device token, else a sign-in cookie; 401 when neither is good.
    func apiViewer(_ request: Request) async throws -> Viewer {
        if let viewer = try await apiViewerOrNil(request) { return viewer }
        throw HTTPError(.unauthorized, headers: [.wwwAuthenticate: "Bearer"], message: "sign in, or send a device token")
    }

    // MARK: responses

    static func text(_ text: String, status: HTTPResponse.Status = .ok) -> Response {
        Response(status: status, headers: [.contentType: "text/plain; charset=utf-8"], body: .init(byteBuffer: ByteBuffer(string: text)))
    }

    static func html(_ html: String, status: HTTPResponse.Status = .ok) -> Response {
        Response(status: status, headers: [.contentType: "text/html; charset=utf-8"], body: .init(byteBuffer: ByteBuffer(string: html)))
    }

    static func json(_ value: some Encodable, status: HTTPResponse.Status = .ok) throws -> Response {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return Response(status: status, headers: [.contentType: "application/json"],
                        body: .init(byteBuffer: ByteBuffer(bytes: try encoder.encode(value))))
    }

    static func redirect(_ location: String) -> Response {
        Response(status: .seeOther, headers: [.location: location])
    }

    /// The one answer for a session that does not exist and one the asker may not see.
    static func noSession() -> HTTPError { HTTPError(.notFound, message: "no such session") }
}

/// Headers every answer carries: no framing, no sniffing, nothing from elsewhere.
struct SecurityHeaders<Context: RequestContext>: RouterMiddleware {
    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        var response: Response
        do { response = try await next(request, context) } catch let error as HTTPResponseError {
            response = try error.response(from: request, context: context)
        }
        response.headers[.contentSecurityPolicy] = "default-src 'self'; img-src 'self' data:; style-src 'self'; style-src-attr 'unsafe-inline'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'"
        response.headers[.xContentTypeOptions] = "nosniff"
        response.headers[HTTPField.Name("Referrer-Policy")!] = "same-origin"
        return response
    }
}

/// Failed sign-ins per name: after `attempts` within `window`, that name is refused until the window passes.
actor SignInLimiter {
    let attempts: Int
    let window: TimeInterval
    var failures: [String: [Date]] = [:]

    init(attempts: Int, window: TimeInterval) {
        self.attempts = attempts
        self.window = window
    }

    func blocked(_ name: String, now: Date = Date()) -> Bool {
        let recent = (failures[name] ?? []).filter { now.timeIntervalSince($0) < window }
        failures[name] = recent.isEmpty ? nil : recent
        return recent.count >= attempts
    }

    func failed(_ name: String, now: Date = Date()) {
        failures[name, default: []].append(now)
        if failures.count > 10_000 { failures = failures.filter { now.timeIntervalSince($0.value.last ?? now) < window } }
    }

    func succeeded(_ name: String) { failures[name] = nil }
}
