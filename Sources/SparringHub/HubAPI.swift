import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import NIOPosix
import SparringCore
import SparringSessions

/// `/api/v1`: what agents' machines and the pages use (documented in systemd/HUB-API.md).
extension Hub {
    struct JoinRequest: Decodable { var code: String }
    struct JoinReply: Codable { var token: String; var agent: String; var team: String? }
    struct UploadReply: Codable { var id: String; var result: UploadResult }
    struct UploadedReply: Codable { var sessions: [String: String] }
    struct SessionReply: Encodable {
        var session: HubSession
        var summary: CallSummary
        var events: [SessionEvent]
        var annotations: [HubAnnotation]
        var overrides: [HubOverride]
        var audio: String?
    }

    static let partsField = HTTPField.Name(SessionUpload.partsHeader)!
    static let hashField = HTTPField.Name(SessionUpload.hashHeader)!

    func addAPI(to router: Router<BasicRequestContext>) {
        let api = router.group("api/v1")

        // An enrolment code traded for a device token; the hub keeps the token's hash only.
        api.post("devices") { request, context -> Response in
            let body = try await request.body.collect(upTo: 4096)
            guard let join = try? JSONDecoder().decode(JoinRequest.self, from: Data(body.readableBytesView)) else {
                throw HTTPError(.badRequest, message: "expected {\"code\": \"…\"}")
            }
            let token = Secrets.token()
            guard let agent = try await self.store.redeem(codeHash: Secrets.sha256(Secrets.normalizedCode(join.code)),
                                                          tokenHash: Secrets.sha256(token)) else {
                throw HTTPError(.forbidden, message: "this code is unknown, used already or expired: ask for a new one (sparring-hub enroll)")
            }
            self.logger.notice("device joined", metadata: ["agent": "\(agent.name)"])
            return try Self.json(JoinReply(token: token, agent: agent.name, team: agent.team), status: .created)
        }

        // What this device's agent has on the hub already, so a push sends only the rest.
        api.get("uploads") { request, _ -> Response in
            guard let agent = try await self.device(request) else {
                throw HTTPError(.unauthorized, headers: [.wwwAuthenticate: "Bearer"], message: "send the device token")
            }
            return try Self.json(UploadedReply(sessions: try await self.store.uploaded(by: agent.name)))
        }

        api.put("sessions/:id") { request, context -> Response in
            guard let agent = try await self.device(request) else {
                throw HTTPError(.unauthorized, headers: [.wwwAuthenticate: "Bearer"], message: "send the device token")
            }
            let id = try context.parameters.require("id")
            let body = try await request.body.collect(upTo: self.configuration.maxUpload)
            let reply = try await self.receive(id: id, body: Data(body.readableBytesView), parts: request.headers[Self.partsField],
                                               hash: request.headers[Self.hashField], agent: agent)
            return try Self.json(reply, status: reply.result == .stored ? .created : .ok)
        }

        api.get("sessions") { request, context -> Response in
            let viewer = try await self.apiViewer(request)
            let filter = (try? request.uri.decodeQuery(as: HubFilter.self, context: context)) ?? HubFilter()
            // Paging is this list's own: `limit` and `before` are not filters the dashboard shares.
            let limit = try Self.pageLimit(request.uri.queryParameters["limit"].map(String.init))
            let before = request.uri.queryParameters["before"].flatMap { $0.isEmpty ? nil : String($0) }
            if let before, (try? SessionStore.validate(before)) == nil {
                throw HTTPError(.badRequest, message: "before: '\(before.prefix(80))' is not a session id")
            }
            return try Self.json(try await self.store.sessions(for: viewer, filter: filter, limit: limit, before: before))
        }

        api.get("sessions/:id") { request, context -> Response in
            let viewer = try await self.apiViewer(request)
            let id = try context.parameters.require("id")
            guard (try? SessionStore.validate(id)) != nil, let detail = try await self.store.session(id, for: viewer) else { throw Self.noSession() }
            let summary = try SessionChecks.summary(Data(detail.summary.utf8), file: "summary.json")
            let events = detail.events.split(separator: "\n").compactMap { try? JSONDecoder().decode(SessionEvent.self, from: Data($0.utf8)) }
            return try Self.json(SessionReply(session: detail.session, summary: summary, events: events, annotations: detail.annotations,
                                              overrides: detail.overrides, audio: detail.audio == nil ? nil : "/sessions/\(id)/audio"))
        }
    }

    /// The most sessions one list answers with, and the default.
    static let pageSize = 500

    /// `limit` of the session list: 1 to `pageSize`, `pageSize` when not given.
    static func pageLimit(_ text: String?) throws -> Int {
        guard let text else { return pageSize }
        guard let limit = Int(text), (1...pageSize).contains(limit) else {
            throw HTTPError(.badRequest, message: "limit: '\(text.prefix(20))' is not a whole number from 1 to \(pageSize)")
        }
        return limit
    }

    /// Checks, stores and indexes one upload. Nothing is kept of an upload that fails a check.
    func receive(id: String, body: Data, parts: String?, hash: String?, agent: Viewer) async throws -> UploadReply {
        let upload: SessionUpload
        do { upload = try SessionUpload.parse(id: id, body: body, parts: parts, hash: hash) } catch {
            throw HTTPError(.badRequest, message: error.message)
        }
        if let existing = try await store.contentHash(of: id) {
            guard existing == upload.contentHash else { throw HTTPError(.conflict, message: "session \(id) is on the hub already, with other content") }
            return UploadReply(id: id, result: .duplicate)
        }
        // Encoding a long call takes a while: off the event loop.
        var stored: (name: String, bytes: Int)?
        if let audio = upload.audio {
            let vault = self.vault
            stored = try await NIOThreadPool.singleton.runIfActive { try vault.store(audio) }
        }
        let summary = upload.summary
        let anger = upload.events.last { $0.meters?["anger"] != nil }?.meters?["anger"]
        let criteria = summary.score.map { score in score.order.compactMap { id in score.criteria[id].map { (id, $0.title, $0.passed) } } } ?? []
        let record = CallSummaryRecord(id: summary.id, scenario: summary.scenario, started_at: summary.started_at,
                                       duration_s: summary.duration_s, outcome: summary.outcome, score: summary.score?.total,
                                       passed: summary.score?.passed, difficulty: summary.difficulty)
        let new = NewSession(summary: record, agent: agent.name, team: agent.team, contentHash: upload.contentHash, audio: stored?.name,
                             audioBytes: stored?.bytes, wavBytes: upload.audio == nil ? nil : upload.wavBytes,
                             summaryJSON: String(decoding: upload.summaryData, as: UTF8.self),
                             eventsJSONL: String(decoding: upload.eventsData, as: UTF8.self), endAnger: anger, criteria: criteria)
        let result: UploadResult
        do { result = try await store.insert(new) } catch {
            if error.code == "conflict" { throw HTTPError(.conflict, message: error.message) }
            throw HTTPError(.internalServerError, message: error.message)
        }
        if result == .stored {
            logger.notice("session uploaded", metadata: ["agent": "\(agent.name)", "session": "\(id)",
                                                         "audio_bytes": "\(stored?.bytes ?? 0)", "wav_bytes": "\(upload.wavBytes)"])
        }
        return UploadReply(id: id, result: result)
    }
}
