import Foundation
import HTTPTypes
import Hummingbird
import Logging
import HummingbirdBcrypt
import NIOCore
import NIOPosix
import SparringCore
import SparringSessions

/// The pages: sign-in, the team dashboard, an agent's calls, and a call with its player.
extension Hub {
    struct LoginForm: Decodable { var name: String?; var password: String?; var csrf: String? }
    struct CSRFForm: Decodable { var csrf: String? }
    struct AnnotationForm: Decodable { var csrf: String?; var at: String?; var t: Double?; var text: String?; var reply_to: Int64? }
    struct OverrideForm: Decodable { var csrf: String?; var score: Double?; var reason: String? }

    /// The signed-in person as the page header shows them.
    struct HeaderViewer { var name: String; var role: String; var csrf: String }

    static let formLimit = 16 * 1024

    func addPages(to router: Router<BasicRequestContext>) {
        router.get("static/hub.js") { _, _ in
            Response(status: .ok, headers: [.contentType: "text/javascript; charset=utf-8"], body: .init(byteBuffer: ByteBuffer(string: Pages.script)))
        }
        router.get("static/hub.css") { _, _ in
            Response(status: .ok, headers: [.contentType: "text/css; charset=utf-8"], body: .init(byteBuffer: ByteBuffer(string: Pages.style)))
        }

        router.get("login") { request, _ -> Response in
            if try await self.signedIn(request) != nil { return Self.redirect("/") }
            return self.loginPage(request: request, message: nil, name: "")
        }

        router.post("login") { request, _ -> Response in
            let form: LoginForm = try await Self.form(request)
            guard let expected = request.cookies[Self.loginCookie]?.value, let sent = form.csrf, !sent.isEmpty, Secrets.same(expected, sent) else {
                throw HTTPError(.forbidden, message: "the form has expired: load the sign-in page again")
            }
            let name = form.name ?? "", password = form.password ?? ""
            if await self.limiter.blocked(name) {
                return self.loginPage(request: request, message: "Too many failed sign-ins for this name: wait a few minutes.", name: name,
                                      status: .tooManyRequests)
            }
            let user = try await self.store.user(name)
            // bcrypt takes a quarter of a second by design: off the event loop. An unknown name costs the same.
            let hash = user?.1 ?? Self.decoyHash
            let good = try await NIOThreadPool.singleton.runIfActive { Bcrypt.verify(password, hash: hash) }
            guard let viewer = user?.0, good else {
                await self.limiter.failed(name)
                self.logger.notice("sign-in failed", metadata: ["name": "\(DisplayText.terminal(String(name.prefix(64))))"])
                return self.loginPage(request: request, message: "That name and password do not match.", name: name, status: .unauthorized)
            }
            await self.limiter.succeeded(name)
            let token = Secrets.token()
            try await self.store.addWebSession(tokenHash: Secrets.sha256(token), user: viewer.name, csrf: Secrets.token(),
                                               expires: Date().addingTimeInterval(self.configuration.signInLifetime))
            var response = Self.redirect("/")
            response.setCookie(Cookie(name: Self.sessionCookie, value: token, maxAge: Int(self.configuration.signInLifetime), path: "/",
                                      secure: self.configuration.secureCookies, httpOnly: true, sameSite: .strict))
            response.setCookie(Cookie(name: Self.loginCookie, value: "", maxAge: 0, path: "/login",
                                      secure: self.configuration.secureCookies, httpOnly: true, sameSite: .strict))
            return response
        }

        router.post("logout") { request, _ -> Response in
            guard let (_, csrf) = try await self.signedIn(request) else { return Self.redirect("/login") }
            let form: CSRFForm = try await Self.form(request)
            try Self.check(form.csrf, csrf)
            if let cookie = request.cookies[Self.sessionCookie]?.value { try await self.store.removeWebSession(tokenHash: Secrets.sha256(cookie)) }
            var response = Self.redirect("/login")
            response.setCookie(Cookie(name: Self.sessionCookie, value: "", maxAge: 0, path: "/", secure: self.configuration.secureCookies,
                                      httpOnly: true, sameSite: .strict))
            return response
        }

        router.get("/") { request, context -> Response in
            guard let (viewer, csrf) = try await self.signedIn(request) else { return Self.redirect("/login") }
            let filter = Self.filter(request, context: context)
            let query = request.uri.query ?? ""
            let board = try await self.dashboard(for: viewer, filter: filter,
                                                 agents: .page(request.uri.queryParameters["page"].map(String.init), query: query))
            return Self.html(self.pages.render("dashboard", DashboardPage(
                title: "Dashboard", viewer: HeaderViewer(name: viewer.name, role: viewer.role.rawValue, csrf: csrf), heading: board.heading,
                filter: filter, query: query, agents: board.agents, paging: board.paging, criteria: board.criteria, heat: board.heat,
                scenarios: board.scenarios, sessions: board.sessions.map(SessionRow.init))))
        }

        router.get("dashboard.csv") { request, context -> Response in
            guard let (viewer, _) = try await self.signedIn(request) else { return Self.redirect("/login") }
            let board = try await self.dashboard(for: viewer, filter: Self.filter(request, context: context), agents: .all)
            var csv = "agent,team,calls_this_week,calls,pass_rate\r\n"
            for row in board.agents {
                csv += [row.agent, row.team, String(row.thisWeek), String(row.calls), row.passRate].map(Self.csvField).joined(separator: ",") + "\r\n"
            }
            return Response(status: .ok, headers: [.contentType: "text/csv; charset=utf-8", .contentDisposition: "attachment; filename=\"sparring-agents.csv\""],
                            body: .init(byteBuffer: ByteBuffer(string: csv)))
        }

        router.get("agents/:name") { request, context -> Response in
            guard let (viewer, csrf) = try await self.signedIn(request) else { return Self.redirect("/login") }
            let name = try context.parameters.require("name")
            let sessions = try await self.store.sessions(for: viewer, filter: HubFilter(agent: name), limit: 10_000)
            guard !sessions.isEmpty || name == viewer.name else { throw HTTPError(.notFound, message: "no calls of this agent that you may see") }
            let page = try await self.agentPage(name, sessions: sessions, viewer: viewer)
            return Self.html(self.pages.render("agent", AgentPage(
                title: name, viewer: HeaderViewer(name: viewer.name, role: viewer.role.rawValue, csrf: csrf), agent: name,
                progress: page.progress, attempts: page.attempts, sessions: sessions.map(SessionRow.init))))
        }

        router.get("sessions/:id") { request, context -> Response in
            guard let (viewer, csrf) = try await self.signedIn(request) else { return Self.redirect("/login") }
            let id = try context.parameters.require("id")
            guard (try? SessionStore.validate(id)) != nil, let detail = try await self.store.session(id, for: viewer) else { throw Self.noSession() }
            return Self.html(self.pages.render("session", try SessionPage(detail, viewer: viewer, csrf: csrf)))
        }

        router.get("sessions/:id/audio") { request, context -> Response in
            guard let viewer = try await self.apiViewerOrNil(request) else { throw HTTPError(.unauthorized) }
            let id = try context.parameters.require("id")
            guard (try? SessionStore.validate(id)) != nil, let detail = try await self.store.session(id, for: viewer),
                  let name = detail.audio, let path = self.vault.path(of: name) else { throw Self.noSession() }
            return try await self.serveFile(path, type: "audio/flac", request: request, context: context)
        }

        router.post("sessions/:id/annotations") { request, context -> Response in
            guard let (viewer, csrf) = try await self.signedIn(request) else { return Self.redirect("/login") }
            let form: AnnotationForm = try await Self.form(request)
            try Self.check(form.csrf, csrf)
            let id = try context.parameters.require("id")
            guard (try? SessionStore.validate(id)) != nil, let detail = try await self.store.session(id, for: viewer) else { throw Self.noSession() }
            let text = (form.text ?? "").trimmingCharacters(in: .whitespacesAndNewlines)
            guard !text.isEmpty, text.utf8.count <= 4096, !text.unicodeScalars.contains(where: { $0.properties.generalCategory == .control && $0 != "\n" }) else {
                throw HTTPError(.badRequest, message: "a note is 1 to 4096 bytes of text without control characters")
            }
            guard let t = form.t ?? form.at.flatMap(Clock.parse), t.isFinite, t >= 0, t <= detail.session.duration_s + 1 else {
                throw HTTPError(.badRequest, message: "the moment must be within the call (0:00 to \(Clock.format(detail.session.duration_s)))")
            }
            if let parent = form.reply_to {
                guard try await self.store.annotation(parent, in: id) != nil else { throw HTTPError(.badRequest, message: "no annotation \(parent) on this call") }
            } else if viewer.role == .agent {
                // Agents answer their supervisors' notes; they do not start threads on their own calls.
                throw HTTPError(.forbidden, message: "agents reply to annotations")
            }
            _ = try await self.store.annotate(id, t: t, author: viewer.name, text: text, replyTo: form.reply_to)
            return Self.redirect("/sessions/\(id)#annotations")
        }

        router.post("sessions/:id/override") { request, context -> Response in
            guard let (viewer, csrf) = try await self.signedIn(request) else { return Self.redirect("/login") }
            let form: OverrideForm = try await Self.form(request)
            try Self.check(form.csrf, csrf)
            let id = try context.parameters.require("id")
            guard (try? SessionStore.validate(id)) != nil, try await self.store.session(id, for: viewer) != nil else { throw Self.noSession() }
            guard viewer.role != .agent else { throw HTTPError(.forbidden, message: "only a supervisor overrides a score") }
            let reason = (form.reason ?? "").trimmingCharacters(in: .whitespacesAndNewlines)
            guard let score = form.score, score.isFinite, (0...100).contains(score), !reason.isEmpty, reason.utf8.count <= 2048 else {
                throw HTTPError(.badRequest, message: "an override needs a score from 0 to 100 and a reason")
            }
            _ = try await self.store.override(id, author: viewer.name, score: score, reason: reason)
            return Self.redirect("/sessions/\(id)")
        }
    }

    /// A bcrypt hash nobody's password matches, verified when the name is unknown so both cost the same.
    static let decoyHash = Bcrypt.hash(Secrets.token(), cost: 12)

    func apiViewerOrNil(_ request: Request) async throws -> Viewer? {
        if let viewer = try await device(request) { return viewer }
        return try await signedIn(request)?.0
    }

    func loginPage(request: Request, message: String?, name: String, status: HTTPResponse.Status = .ok) -> Response {
        let token = request.cookies[Self.loginCookie]?.value.nilIfEmpty ?? Secrets.token()
        struct Page { var title = "Sign in"; var message: String?; var name: String; var csrf: String }
        var response = Self.html(pages.render("login", Page(message: message, name: name, csrf: token)), status: status)
        response.setCookie(Cookie(name: Self.loginCookie, value: token, maxAge: 3600, path: "/login", secure: configuration.secureCookies,
                                  httpOnly: true, sameSite: .strict))
        return response
    }

    /// A form body, decoded; 400 for one that is not a form, 413 for one too long.
    static func form<T: Decodable>(_ request: Request) async throws -> T {
        let body = try await request.body.collect(upTo: formLimit)
        do { return try URLEncodedFormDecoder().decode(T.self, from: String(buffer: body)) } catch {
            throw HTTPError(.badRequest, message: "the form could not be read")
        }
    }

    /// Every form of a signed-in person carries their CSRF token; 403 without it.
    static func check(_ sent: String?, _ expected: String) throws {
        guard let sent, !sent.isEmpty, Secrets.same(sent, expected) else {
            throw HTTPError(.forbidden, message: "the form has no valid CSRF token: reload the page")
        }
    }

    static func filter(_ request: Request, context: BasicRequestContext) -> HubFilter {
        (try? request.uri.decodeQuery(as: HubFilter.self, context: context)) ?? HubFilter()
    }

    static func csvField(_ text: String) -> String {
        // A leading = + - @ would be a formula in a spreadsheet.
        let safe = text.first.map { "=+-@".contains($0) } == true ? "'" + text : text
        return safe.contains(where: { ",\"\r\n".contains($0) }) ? "\"" + safe.replacingOccurrences(of: "\"", with: "\"\"") + "\"" : safe
    }

    /// A file with byte ranges, so the browser's player can seek.
    func serveFile(_ path: String, type: String, request: Request, context: BasicRequestContext) async throws -> Response {
        guard let size = (try? FileManager.default.attributesOfItem(atPath: path))?[.size] as? Int else { throw Self.noSession() }
        var headers: HTTPFields = [.contentType: type, .acceptRanges: "bytes", .cacheControl: "private, max-age=86400"]
        let io = FileIO()
        if let header = request.headers[.range], let range = Self.byteRange(header, size: size) {
            headers[.contentRange] = "bytes \(range.lowerBound)-\(range.upperBound)/\(size)"
            headers[.contentLength] = String(range.count)
            return Response(status: .partialContent, headers: headers, body: try await io.loadFile(path: path, range: range, context: context))
        } else if request.headers[.range] != nil {
            throw HTTPError(.rangeNotSatisfiable, headers: [.contentRange: "bytes */\(size)"])
        }
        headers[.contentLength] = String(size)
        return Response(status: .ok, headers: headers, body: try await io.loadFile(path: path, context: context))
    }

    /// `bytes=A-B`, `bytes=A-` or `bytes=-N` within a file of `size` bytes.
    static func byteRange(_ header: String, size: Int) -> ClosedRange<Int>? {
        guard size > 0, header.hasPrefix("bytes="), !header.contains(",") else { return nil }
        let parts = header.dropFirst(6).split(separator: "-", maxSplits: 1, omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
        guard parts.count == 2 else { return nil }
        if parts[0].isEmpty {
            guard let suffix = Int(parts[1]), suffix > 0 else { return nil }
            return max(0, size - suffix)...(size - 1)
        }
        guard let start = Int(parts[0]), start >= 0, start < size else { return nil }
        let end = parts[1].isEmpty ? size - 1 : min(Int(parts[1]) ?? -1, size - 1)
        return end >= start ? start...end : nil
    }
}

extension String {
    var nilIfEmpty: String? { isEmpty ? nil : self }
}
