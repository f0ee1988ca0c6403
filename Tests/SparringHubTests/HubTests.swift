import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import Synchronization
import Testing
import SparringTestSupport
@testable import SparringCore
@testable import SparringHub
@testable import SparringHubClient
@testable import SparringSessions

/// A hub in a temporary folder with a team: admin, two supervisors, agents alice (north) and bob (south).
struct HubFixture {
    let folder: String
    let hub: Hub
    static let password = "practise makes perfect"

    init(_ backend: HubBackend = .sqlite) async throws {
        folder = NSTemporaryDirectory() + "sparring-hub-test-" + UUID().uuidString
        var configuration = HubConfiguration(data: folder + "/data")
        configuration.bcryptCost = 4
        configuration.maxUpload = 4 << 20
        configuration.database = try await backend.databaseURL()
        // The parallel test phase can keep both cores busy for minutes: a database that is up is waited for.
        configuration.databaseStartupTimeout = 300
        configuration.healthTimeout = 20
        hub = try await Hub.open(configuration: configuration)
        try await hub.addUser("root", role: .admin, team: nil, password: Self.password)
        try await hub.addUser("nora", role: .supervisor, team: "north", password: Self.password)
        try await hub.addUser("sam", role: .supervisor, team: "south", password: Self.password)
        try await hub.addUser("alice", role: .agent, team: "north", password: Self.password)
        try await hub.addUser("bob", role: .agent, team: "south", password: Self.password)
    }

    func remove() { try? FileManager.default.removeItem(atPath: folder) }

    /// Runs `body` with the hub listening on a loopback port.
    func live<T: Sendable>(_ body: @escaping @Sendable (HubTestClient, String) async throws -> T) async throws -> T {
        try await hub.serving(body)
    }

    /// A session folder as `sparring run` leaves it: summary, events and a two-channel recording.
    static func session(in root: String, id: String, agent: String = "agent", score: Double = 80, seconds: Double = 2,
                        tone: Double = 440) throws {
        let folder = root + "/" + id
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        let summary = """
            {"agent":"\(agent)","barge_in_ms":[],"duration_s":\(seconds),"ended_by":"caller","id":"\(id)","interrupted":false,
             "outcome":"agree","realtime":true,"scenario":"debt-threat","seed":7,"started_at":"2026-11-30T10:00:00Z",
             "score":{"criteria":{"greeted":{"evidence":[{"t":0.5,"text":"greeting: \\"good morning\\""}],"note":"greeted","passed":true,
               "title":"Greeted and said who is speaking","weight":50},
               "heard_first":{"evidence":[],"note":"no acknowledgement","passed":false,"title":"Acknowledged his situation first","weight":50}},
               "order":["greeted","heard_first"],"pass_mark":70,"passed":\(score >= 70),"total":\(score)},
             "transcript":[{"speaker":"caller","t":0.1,"text":"What now?"},{"speaker":"agent","t":0.5,"text":"good <b>morning</b>"}],
             "turn_gap_ms":{"count":1,"p50":300,"p95":300},"xruns":0}
            """
        let events = """
            {"agent":"\(agent)","meters":{"anger":60,"trust":20},"mood":"irritated","rate":16000,"scenario":"debt-threat","seed":7,"started_at":"2026-11-30T10:00:00Z","t":0,"type":"call_start"}
            {"speaker":"caller","t":0.1,"type":"caller_line_start"}
            {"speaker":"caller","t":0.4,"type":"caller_line_end"}
            {"speaker":"agent","t":0.5,"type":"agent_speech_start"}
            {"speaker":"agent","t":1.2,"type":"agent_speech_end"}
            {"meters":{"anger":45,"trust":35},"mood":"wary","t":1.3,"type":"mood"}

            """
        try Data(summary.utf8).write(to: URL(fileURLWithPath: folder + "/summary.json"))
        try Data(events.utf8).write(to: URL(fileURLWithPath: folder + "/events.jsonl"))
        let frames = Int(seconds * 16000)
        var samples: [Int16] = []
        samples.reserveCapacity(frames * 2)
        for n in 0..<frames {
            samples.append(Int16(8000 * sin(2 * .pi * tone * Double(n) / 16000)))
            samples.append(Int16(truncatingIfNeeded: (n * 7919) % 3000 - 1500))
        }
        try WaveFile.write(WaveFile.Audio(rate: 16000, channels: 2, samples: samples), to: folder + "/call.wav")
    }

    /// Joins the hub as `agent` and returns the device's client and where its credentials are.
    /// Pushes one call per score from `agent`'s device, each started now, so they fall in this week.
    func pushStartedNow(_ agent: String, team: String, scores: [Double], url: String) async throws {
        let now = ISO8601DateFormatter().string(from: Date())
        let sessions = folder + "/" + agent
        for (n, score) in scores.enumerated() {
            let id = "20261130T10000\(n)Z-debt-threat-\(agent)\(n)"
            try Self.session(in: sessions, id: id, score: score)
            let path = sessions + "/\(id)/summary.json"
            let text = try String(contentsOfFile: path, encoding: .utf8).replacingOccurrences(of: "2026-11-30T10:00:00Z", with: now)
            try text.write(toFile: path, atomically: true, encoding: .utf8)
        }
        _ = await HubPush.run(client: try await device(agent, team: team, url: url), store: SessionStore(root: sessions), outbox: sessions + ".outbox")
    }

    func device(_ agent: String, team: String, url: String) async throws -> HubClient {
        let (code, _) = try await hub.enroll(agent: agent, team: team)
        let credentials = try await HubClient(url: url).join(code: code.lowercased().replacingOccurrences(of: "-", with: " "))
        #expect(credentials.agent == agent && credentials.team == team)
        return try HubClient(credentials)
    }

    /// Signs `name` in through the form and returns the cookie header and the forms' CSRF token.
    static func signIn(_ client: HubTestClient, _ name: String, password: String = password) async throws -> (cookie: String, csrf: String) {
        let page = try await client.execute(uri: "/login", method: .get)
        let loginCookie = try #require(cookieValue(page, "sparring_login"))
        let form = "name=\(name)&password=\(password.replacingOccurrences(of: " ", with: "+"))&csrf=\(loginCookie)"
        let response = try await client.execute(uri: "/login", method: .post,
                                                headers: [.cookie: "sparring_login=\(loginCookie)", .contentType: "application/x-www-form-urlencoded"],
                                                body: ByteBuffer(string: form))
        #expect(response.status == .seeOther && response.headers[.location] == "/", "\(response.status)")
        let session = try #require(cookieValue(response, "sparring_session"))
        let setCookie = response.headers[values: .setCookie].first { $0.hasPrefix("sparring_session=") } ?? ""
        #expect(setCookie.contains("HttpOnly") && setCookie.contains("SameSite=Strict"))
        let cookie = "sparring_session=\(session)"
        let home = try await client.execute(uri: "/", method: .get, headers: [.cookie: cookie])
        let csrf = try #require(Self.field(String(buffer: home.body), "csrf"))
        return (cookie, csrf)
    }

    static func cookieValue(_ response: HubResponse, _ name: String) -> String? {
        response.headers[values: .setCookie].first { $0.hasPrefix(name + "=") }
            .map { String($0.dropFirst(name.count + 1).prefix { $0 != ";" }) }
    }

    static func field(_ html: String, _ name: String) -> String? {
        guard let range = html.range(of: "name=\"\(name)\" value=\"") else { return nil }
        return String(html[range.upperBound...].prefix { $0 != "\"" })
    }

    static func form(_ cookie: String) -> HTTPFields { [.cookie: cookie, .contentType: "application/x-www-form-urlencoded"] }
}

@Suite("The hub", .timeLimit(.minutes(10)))
struct HubTests {
    @Test("an agent's machine joins with a one-time code, pushes its calls once, and the hub keeps them losslessly", arguments: HubBackend.allCases)
    func joinAndPush(_ backend: HubBackend) async throws {
        let fixture = try await HubFixture(backend)
        defer { fixture.remove() }
        let sessions = fixture.folder + "/alice-sessions"
        try HubFixture.session(in: sessions, id: "20261130T100000Z-debt-threat-0001")
        try HubFixture.session(in: sessions, id: "20261130T110000Z-debt-threat-0002", score: 40, tone: 660)
        try await fixture.live { client, url in
            #expect(try await client.execute(uri: "/healthz", method: .get).status == .ok)
            let (code, _) = try await fixture.hub.enroll(agent: "alice", team: "north")
            let credentials = try await HubClient(url: url).join(code: code)
            // The code is used up; the hub keeps only the token's hash.
            await #expect(throws: SparringError.self) { try await HubClient(url: url).join(code: code) }
            let device = try HubClient(credentials)
            let outbox = fixture.folder + "/outbox.json"
            let store = SessionStore(root: sessions)
            let first = await HubPush.run(client: device, store: store, outbox: outbox)
            #expect(first.sent.count == 2 && first.failed.isEmpty, "\(first)")
            let again = await HubPush.run(client: device, store: store, outbox: outbox)
            #expect(again.sent.isEmpty && again.already.count == 2)

            let listed = try await device.sessions()
            #expect(listed.map(\.id) == ["20261130T110000Z-debt-threat-0002", "20261130T100000Z-debt-threat-0001"])
            #expect(listed.allSatisfy { $0.agent == "alice" && $0.scenario == "debt-threat" && $0.outcome == "agree" })
            #expect(listed.map(\.score) == [40, 80])
            // The API's documented fields, by name.
            let raw = try await client.execute(uri: "/api/v1/sessions", method: .get, headers: [.authorization: "Bearer \(credentials.token)"])
            let objects = try #require(try JSONSerialization.jsonObject(with: Data(bytesOf: raw.body)) as? [[String: Any]])
            for key in ["id", "agent", "scenario", "started_at", "outcome", "score"] { #expect(objects.allSatisfy { $0[key] != nil }, "\(key)") }

            // Audio is a FLAC file named by its content, and decodes to exactly the samples sent.
            let detail = try #require(try await fixture.hub.store.session("20261130T100000Z-debt-threat-0001", for: Viewer(name: "root", role: .admin, team: nil)))
            let path = try #require(detail.audio.flatMap(fixture.hub.vault.path))
            #expect(ContentHash.sha256(try Data(contentsOf: URL(fileURLWithPath: path))) + ".flac" == detail.audio)
            let original = try WaveFile.read(path: sessions + "/20261130T100000Z-debt-threat-0001/call.wav")
            let decoded = try await Sox.decode(path)
            #expect(decoded == Data(original.samples.flatMap { [UInt8(truncatingIfNeeded: $0), UInt8(truncatingIfNeeded: $0 >> 8)] }))
            #expect((detail.session.audio_bytes ?? 0) < (detail.session.wav_bytes ?? 0))
            #expect(detail.events.contains("call_start") && detail.summary.contains("<b>morning</b>"))

            // Revoked, the token opens nothing.
            #expect(try await fixture.hub.store.revoke(agent: "alice") == 1)
            await #expect(throws: SparringError.self) { try await device.uploaded() }
        }
    }

    @Test("a push to a hub that is down loses nothing: it says why, and the next push sends everything", arguments: HubBackend.allCases)
    func hubDown(_ backend: HubBackend) async throws {
        let fixture = try await HubFixture(backend)
        defer { fixture.remove() }
        let sessions = fixture.folder + "/sessions"
        try HubFixture.session(in: sessions, id: "20261130T100000Z-debt-threat-0003")
        let outbox = fixture.folder + "/outbox.json"
        let (code, _) = try await fixture.hub.enroll(agent: "alice", team: "north")
        let token = try await fixture.live { _, url in try await HubClient(url: url).join(code: code).token }
        // Nothing listens on the port the test server had.
        let down = await HubPush.run(client: try HubClient(url: "http://127.0.0.1:9", token: token), store: SessionStore(root: sessions),
                                     outbox: outbox, attempts: 2, pause: 0.05)
        #expect(down.sent.isEmpty && down.failed.keys.sorted() == ["20261130T100000Z-debt-threat-0003"])
        #expect(HubOutbox.load(from: outbox).failed["20261130T100000Z-debt-threat-0003"] != nil)
        try await fixture.live { _, url in
            let up = await HubPush.run(client: try HubClient(url: url, token: token), store: SessionStore(root: sessions), outbox: outbox)
            #expect(up.sent == ["20261130T100000Z-debt-threat-0003"] && up.failed.isEmpty)
            #expect(HubOutbox.load(from: outbox).failed.isEmpty)
        }
    }

    @Test("malformed, oversized and conflicting uploads are refused with nothing stored", arguments: HubBackend.allCases)
    func hostileUploads(_ backend: HubBackend) async throws {
        let fixture = try await HubFixture(backend)
        defer { fixture.remove() }
        let sessions = fixture.folder + "/sessions"
        let id = "20261130T100000Z-debt-threat-0004"
        try HubFixture.session(in: sessions, id: id)
        let good = try PreparedUpload.prepare(SessionStore(root: sessions), id: id)
        try await fixture.live { client, url in
            let device = try await fixture.device("alice", team: "north", url: url)
            let auth = "Bearer \(device.token!)"
            func put(_ id: String, _ body: Data, parts: String?, hash: String?, token: String? = nil) async throws -> HTTPResponse.Status {
                var headers: HTTPFields = [.authorization: token ?? auth]
                if let parts { headers[HTTPField.Name(SessionUpload.partsHeader)!] = parts }
                if let hash { headers[HTTPField.Name(SessionUpload.hashHeader)!] = hash }
                return try await client.execute(uri: "/api/v1/sessions/\(id)", method: .put, headers: headers, body: ByteBuffer(bytes: body)).status
            }
            var bad = good.body
            bad[bad.startIndex + 3] ^= 0x20
            #expect(try await put(id, good.body, parts: good.parts, hash: nil) == .badRequest)
            #expect(try await put(id, bad, parts: good.parts, hash: good.hash) == .badRequest)
            #expect(try await put(id, good.body, parts: "summary.json=10", hash: good.hash) == .badRequest)
            #expect(try await put(id, good.body, parts: "passwd=\(good.body.count)", hash: good.hash) == .badRequest)
            #expect(try await put("20261130T100000Z-other", good.body, parts: good.parts, hash: good.hash) == .badRequest)
            let notJSON = SessionUpload.body(summary: Data("{\"id\": 1}".utf8), events: Data(), wav: Data("RIFFxxxx".utf8))
            #expect(try await put(id, notJSON.body, parts: notJSON.parts, hash: notJSON.hash) == .badRequest)
            let summary = try Data(contentsOf: URL(fileURLWithPath: sessions + "/\(id)/summary.json"))
            let badWAV = SessionUpload.body(summary: summary, events: Data(), wav: Data("RIFF\u{0}\u{0}\u{0}\u{0}WAVEjunk".utf8))
            #expect(try await put(id, badWAV.body, parts: badWAV.parts, hash: badWAV.hash) == .badRequest)
            let badEvents = SessionUpload.body(summary: summary, events: Data("{\"t\": -5, \"type\": \"x\"}\n".utf8), wav: nil)
            #expect(try await put(id, badEvents.body, parts: badEvents.parts, hash: badEvents.hash) == .badRequest)
            let huge = Data(count: 5 << 20)
            #expect(try await put(id, huge, parts: "call.wav=\(huge.count)", hash: ContentHash.sha256(huge)) == .contentTooLarge)
            #expect(try await put(id, good.body, parts: good.parts, hash: good.hash, token: "Bearer nonsense") == .unauthorized)
            for hostile in ["..%2F..%2Fetc%2Fpasswd", ".hidden", "a%00b"] {
                let status = try await put(hostile, good.body, parts: good.parts, hash: good.hash)
                #expect(status == .badRequest || status == .notFound, "\(hostile): \(status)")
            }
            // Nothing of any of them was kept.
            #expect(try await fixture.hub.store.sessions(for: Viewer(name: "root", role: .admin, team: nil)).isEmpty)
            let audio = try FileManager.default.subpathsOfDirectory(atPath: fixture.hub.vault.root)
            #expect(audio.filter { $0.hasSuffix(".flac") }.isEmpty, "\(audio)")

            #expect(try await put(id, good.body, parts: good.parts, hash: good.hash) == .created)
            #expect(try await put(id, good.body, parts: good.parts, hash: good.hash) == .ok)
            // The same id with other content is a conflict, and the stored session is unchanged.
            let other = SessionUpload.body(summary: summary, events: Data(), wav: nil)
            #expect(try await put(id, other.body, parts: other.parts, hash: other.hash) == .conflict)
            #expect(try await fixture.hub.store.contentHash(of: id) == good.hash)
        }
    }

    @Test("the session list is read page by page: newest first, ties by id, none repeated or skipped; a hidden or unknown `before` gives nothing", arguments: HubBackend.allCases)
    func paging(_ backend: HubBackend) async throws {
        let fixture = try await HubFixture(backend)
        defer { fixture.remove() }
        let aliceSessions = fixture.folder + "/alice", bobSessions = fixture.folder + "/bob"
        // Three started in the same second (ties), two earlier and one later.
        let starts = ["0a": "2026-11-30T10:00:00Z", "0b": "2026-11-30T10:00:00Z", "0c": "2026-11-30T10:00:00Z",
                      "0d": "2026-11-30T09:00:00Z", "0e": "2026-11-29T09:00:00Z", "0f": "2026-11-30T11:00:00Z"]
        for (suffix, start) in starts {
            let id = "20261130T100000Z-debt-threat-00\(suffix)"
            try HubFixture.session(in: aliceSessions, id: id)
            let path = aliceSessions + "/\(id)/summary.json"
            try String(contentsOfFile: path, encoding: .utf8).replacingOccurrences(of: "2026-11-30T10:00:00Z", with: start)
                .write(toFile: path, atomically: true, encoding: .utf8)
        }
        let hidden = "20261130T100000Z-debt-threat-00bb"
        try HubFixture.session(in: bobSessions, id: hidden, tone: 550)
        try await fixture.live { client, url in
            for (agent, team, folder) in [("alice", "north", aliceSessions), ("bob", "south", bobSessions)] {
                _ = await HubPush.run(client: try await fixture.device(agent, team: team, url: url), store: SessionStore(root: folder),
                                      outbox: folder + ".outbox")
            }
            let (cookie, _) = try await HubFixture.signIn(client, "alice")
            func list(_ query: String) async throws -> (HTTPResponse.Status, [String]) {
                let response = try await client.execute(uri: "/api/v1/sessions" + query, method: .get, headers: [.cookie: cookie])
                guard response.status == .ok else { return (response.status, []) }
                return (.ok, try JSONDecoder().decode([HubSession].self, from: Data(bytesOf: response.body)).map(\.id))
            }
            let (_, whole) = try await list("")
            let expected = ["0f", "0c", "0b", "0a", "0d", "0e"].map { "20261130T100000Z-debt-threat-00\($0)" }
            #expect(whole == expected)
            var paged: [String] = []
            var query = "?limit=2"
            while true {
                let (status, page) = try await list(query)
                #expect(status == .ok && page.count <= 2)
                paged += page
                guard page.count == 2, paged.count < 20 else { break }
                query = "?limit=2&before=\(page.last!)"
            }
            #expect(paged == expected)
            // Filters hold on every page.
            let (_, filtered) = try await list("?limit=1&before=\(expected[1])&since=2026-11-30")
            #expect(filtered == [expected[2]])
            #expect(try await list("?before=\(hidden)").1.isEmpty)
            #expect(try await list("?before=20991231T000000Z-none").1.isEmpty)
            for bad in ["?limit=0", "?limit=501", "?limit=many", "?before=..%2Fhub.sqlite"] {
                #expect(try await list(bad).0 == .badRequest, "\(bad)")
            }
        }
    }

    @Test("who sees what: agents their own calls, supervisors their team's, admins all, on every route; 404 alike for hidden and missing", arguments: HubBackend.allCases)
    func visibility(_ backend: HubBackend) async throws {
        let fixture = try await HubFixture(backend)
        defer { fixture.remove() }
        let aliceSessions = fixture.folder + "/alice", bobSessions = fixture.folder + "/bob"
        let a = "20261130T100000Z-debt-threat-00aa", b = "20261130T100000Z-debt-threat-00bb"
        try HubFixture.session(in: aliceSessions, id: a)
        try HubFixture.session(in: bobSessions, id: b, tone: 550)
        try await fixture.live { client, url in
            for (agent, team, folder) in [("alice", "north", aliceSessions), ("bob", "south", bobSessions)] {
                let device = try await fixture.device(agent, team: team, url: url)
                let report = await HubPush.run(client: device, store: SessionStore(root: folder), outbox: folder + ".outbox")
                #expect(report.sent.count == 1)
            }
            let visible: [String: Set<String>] = ["root": [a, b], "nora": [a], "sam": [b], "alice": [a], "bob": [b]]
            for (name, expected) in visible {
                let (cookie, csrf) = try await HubFixture.signIn(client, name)
                let list = try await client.execute(uri: "/api/v1/sessions", method: .get, headers: [.cookie: cookie])
                let ids = Set(try JSONDecoder().decode([HubSession].self, from: Data(bytesOf: list.body)).map(\.id))
                #expect(ids == expected, "\(name)")
                let dashboard = String(buffer: try await client.execute(uri: "/", method: .get, headers: [.cookie: cookie]).body)
                for id in [a, b] {
                    let sees = expected.contains(id)
                    let routes = ["/api/v1/sessions/\(id)", "/sessions/\(id)", "/sessions/\(id)/audio"]
                    for route in routes {
                        let status = try await client.execute(uri: route, method: .get, headers: [.cookie: cookie]).status
                        #expect(sees ? status == .ok : status == .notFound, "\(name) \(route): \(status)")
                    }
                    #expect(dashboard.contains(id) == sees, "\(name) dashboard \(id)")
                    let note = try await client.execute(uri: "/sessions/\(id)/override", method: .post, headers: HubFixture.form(cookie),
                                                        body: ByteBuffer(string: "csrf=\(csrf)&score=90&reason=fine"))
                    #expect(note.status == (!sees ? .notFound : name == "alice" || name == "bob" ? .forbidden : .seeOther), "\(name) override \(id): \(note.status)")
                }
                let missing = try await client.execute(uri: "/api/v1/sessions/20991231T000000Z-none", method: .get, headers: [.cookie: cookie])
                #expect(missing.status == .notFound)
                for hostile in ["..%2F..%2Fhub.sqlite", "%2E%2E", ".hidden"] {
                    let status = try await client.execute(uri: "/api/v1/sessions/\(hostile)", method: .get, headers: [.cookie: cookie]).status
                    #expect(status == .notFound, "\(hostile): \(status)")
                }
            }
        }
    }

    @Test("no cookie leads to sign-in, a form without its CSRF token is refused, sign-in is rate-limited", arguments: HubBackend.allCases)
    func signInAndCSRF(_ backend: HubBackend) async throws {
        let fixture = try await HubFixture(backend)
        defer { fixture.remove() }
        try await fixture.live { client, url in
            for route in ["/", "/sessions/20261130T100000Z-x", "/agents/alice", "/dashboard.csv"] {
                let response = try await client.execute(uri: route, method: .get)
                #expect(response.status == .seeOther && response.headers[.location] == "/login", "\(route)")
            }
            #expect(try await client.execute(uri: "/api/v1/sessions", method: .get).status == .unauthorized)
            let login = String(buffer: try await client.execute(uri: "/login", method: .get).body)
            for field in ["name=\"name\"", "name=\"password\"", "type=\"hidden\" name=\"csrf\""] { #expect(login.contains(field), "\(field)") }

            // The login form without the token that matches its cookie.
            let forged = try await client.execute(uri: "/login", method: .post, headers: [.contentType: "application/x-www-form-urlencoded"],
                                                  body: ByteBuffer(string: "name=root&password=practise+makes+perfect&csrf=guess"))
            #expect(forged.status == .forbidden)

            let (cookie, csrf) = try await HubFixture.signIn(client, "nora")
            let sessions = fixture.folder + "/s"
            let id = "20261130T100000Z-debt-threat-00cc"
            try HubFixture.session(in: sessions, id: id)
            _ = await HubPush.run(client: try await fixture.device("alice", team: "north", url: url), store: SessionStore(root: sessions),
                                  outbox: sessions + ".outbox")
            for (route, body) in [("/sessions/\(id)/annotations", "at=0:01&text=good"), ("/sessions/\(id)/override", "score=50&reason=no"),
                                  ("/logout", "")] {
                let without = try await client.execute(uri: route, method: .post, headers: HubFixture.form(cookie), body: ByteBuffer(string: body))
                #expect(without.status == .forbidden, "\(route): \(without.status)")
                let wrong = try await client.execute(uri: route, method: .post, headers: HubFixture.form(cookie),
                                                     body: ByteBuffer(string: body + "&csrf=x" + csrf))
                #expect(wrong.status == .forbidden, "\(route): \(wrong.status)")
            }
            // With it, the note is kept at its moment; the agent replies; the override shows beside the score.
            let annotated = try await client.execute(uri: "/sessions/\(id)/annotations", method: .post, headers: HubFixture.form(cookie),
                                                     body: ByteBuffer(string: "csrf=\(csrf)&at=0:01&text=listen+%3Cb%3Ehere%3C%2Fb%3E"))
            #expect(annotated.status == .seeOther)
            let outside = try await client.execute(uri: "/sessions/\(id)/annotations", method: .post, headers: HubFixture.form(cookie),
                                                   body: ByteBuffer(string: "csrf=\(csrf)&at=9:00&text=late"))
            #expect(outside.status == .badRequest)
            let overridden = try await client.execute(uri: "/sessions/\(id)/override", method: .post, headers: HubFixture.form(cookie),
                                                      body: ByteBuffer(string: "csrf=\(csrf)&score=65&reason=greeting+was+rushed"))
            #expect(overridden.status == .seeOther)
            let (agentCookie, agentCSRF) = try await HubFixture.signIn(client, "alice")
            let noteID = try #require(try await fixture.hub.store.session(id, for: Viewer(name: "root", role: .admin, team: nil))?.annotations.first?.id)
            let reply = try await client.execute(uri: "/sessions/\(id)/annotations", method: .post, headers: HubFixture.form(agentCookie),
                                                 body: ByteBuffer(string: "csrf=\(agentCSRF)&t=1&reply_to=\(noteID)&text=thanks"))
            #expect(reply.status == .seeOther)
            let page = String(buffer: try await client.execute(uri: "/sessions/\(id)", method: .get, headers: [.cookie: agentCookie]).body)
            #expect(page.contains("listen &lt;b&gt;here&lt;/b&gt;") && !page.contains("<b>here</b>"))
            #expect(page.contains("good &lt;b&gt;morning&lt;/b&gt;"))
            #expect(page.contains("thanks") && page.contains("greeting was rushed") && page.contains("id=\"override\">65<"))
            #expect(!page.contains("override-form"))

            // Five wrong passwords for one name, then even the right one waits.
            for _ in 0..<5 {
                let page = try await client.execute(uri: "/login", method: .get)
                let token = try #require(HubFixture.cookieValue(page, "sparring_login"))
                let wrong = try await client.execute(uri: "/login", method: .post,
                                                     headers: [.cookie: "sparring_login=\(token)", .contentType: "application/x-www-form-urlencoded"],
                                                     body: ByteBuffer(string: "name=bob&password=nope&csrf=\(token)"))
                #expect(wrong.status == .unauthorized)
            }
            let page2 = try await client.execute(uri: "/login", method: .get)
            let token = try #require(HubFixture.cookieValue(page2, "sparring_login"))
            let blocked = try await client.execute(uri: "/login", method: .post,
                                                   headers: [.cookie: "sparring_login=\(token)", .contentType: "application/x-www-form-urlencoded"],
                                                   body: ByteBuffer(string: "name=bob&password=practise+makes+perfect&csrf=\(token)"))
            #expect(blocked.status == .tooManyRequests)
        }
    }

    @Test("the dashboard counts calls and pass rates per agent, fails per criterion, and exports CSV that no spreadsheet runs", arguments: HubBackend.allCases)
    func dashboard(_ backend: HubBackend) async throws {
        let fixture = try await HubFixture(backend)
        defer { fixture.remove() }
        try await fixture.live { client, url in
            try await fixture.pushStartedNow("alice", team: "north", scores: [80, 40, 90], url: url)
            let (cookie, _) = try await HubFixture.signIn(client, "nora")
            let board = try await fixture.hub.dashboard(for: Viewer(name: "nora", role: .supervisor, team: "north"), filter: HubFilter())
            let alice = try #require(board.agents.first)
            #expect(board.agents.count == 1 && alice.agent == "alice" && alice.thisWeek == 3 && alice.calls == 3 && alice.passRate == "67 %")
            #expect(alice.trend.count == 8 && alice.trend.last?.label == "67 %")
            // Columns in criterion id order (greeted, heard_first); one criterion always passed, one always failed.
            #expect(board.criteria == ["Greeted and said who is speaking", "Acknowledged his situation first"])
            #expect(board.heat.first?.cells.map(\.label) == ["0 %", "100 %"])
            #expect(board.scenarios.first?.medianAnger == "45")
            #expect(board.scenarios.first?.calls == 3 && board.scenarios.first?.passRate == "67 %")
            let csv = try await client.execute(uri: "/dashboard.csv", method: .get, headers: [.cookie: cookie])
            #expect(csv.headers[.contentType]?.hasPrefix("text/csv") == true)
            #expect(String(buffer: csv.body) == "agent,team,calls_this_week,calls,pass_rate\r\nalice,north,3,3,67 %\r\n")
            #expect(Hub.csvField("=cmd()") == "'=cmd()" && Hub.csvField("a,b") == "\"a,b\"")
            let filtered = try await fixture.hub.dashboard(for: Viewer(name: "nora", role: .supervisor, team: "north"), filter: HubFilter(outcome: "hang_up"))
            #expect(filtered.agents.isEmpty)
        }
    }

    @Test("a page of the dashboard counts only its own agents, in the database's order of names", arguments: HubBackend.allCases)
    func dashboardPages(_ backend: HubBackend) async throws {
        let fixture = try await HubFixture(backend)
        defer { fixture.remove() }
        try await fixture.live { _, url in
            for (agent, calls) in [("cleo", 3), ("amy", 1), ("bob", 2)] {
                try await fixture.pushStartedNow(agent, team: "north", scores: [90] + Array(repeating: 40, count: calls - 1), url: url)
            }
            let admin = Viewer(name: "root", role: .admin, team: nil)
            let second = try await fixture.hub.dashboard(for: admin, filter: HubFilter(), agents: .page("2", query: "team=north", size: 1))
            #expect(second.agents.map(\.agent) == ["bob"] && second.agents.first?.calls == 2 && second.agents.first?.passRate == "50 %")
            #expect(second.heat.map(\.agent) == ["bob"] && second.heat.first?.cells.map(\.label) == ["0 %", "100 %"])
            #expect(second.paging == Dashboard.Paging(first: 2, last: 2, total: 3, previous: "team=north&page=1", next: "team=north&page=3"))
            let last = try await fixture.hub.dashboard(for: admin, filter: HubFilter(), agents: .page("9", query: "", size: 2))
            #expect(last.agents.map(\.agent) == ["cleo"] && last.agents.first?.thisWeek == 3)
            let all = try await fixture.hub.dashboard(for: admin, filter: HubFilter(), agents: .all)
            #expect(all.agents.map(\.agent) == ["amy", "bob", "cleo"] && all.agents.map(\.calls) == [1, 2, 3] && all.paging == nil)
            #expect(all.scenarios.first?.calls == 6)
            // The page's counts are asked for its own agents only.
            let counted = try await fixture.hub.store.agentWeeks(for: admin, filter: HubFilter(), agents: "bob"..."bob", weekStarts: ["2000-01-03T00:00:00Z"])
            #expect(Set(counted.map(\.agent)) == ["bob"] && counted.reduce(0) { $0 + $1.calls } == 2)
            let failed = try await fixture.hub.store.criterionFailures(for: admin, filter: HubFilter(), agents: "amy"..."bob")
            #expect(Set(failed.map(\.agent)) == ["amy", "bob"])
        }
    }
}

@Suite("The hub and its database", .timeLimit(.minutes(10)))
struct HubDatabaseTests {
    @Test("PostgreSQL restarted under a running hub: healthz says so, and the hub answers again without a restart of its own")
    func postgresRestart() async throws {
        let server = try await onOwnThread { try LocalPostgres() }
        defer { server.remove() }
        let folder = NSTemporaryDirectory() + "sparring-hub-pg-" + UUID().uuidString
        defer { try? FileManager.default.removeItem(atPath: folder) }
        var configuration = HubConfiguration(data: folder)
        configuration.database = try await onOwnThread { try server.database() }
        configuration.databaseStartupTimeout = 300
        configuration.healthTimeout = 20
        configuration.bcryptCost = 4
        let hub = try await Hub.open(configuration: configuration)
        try await hub.addUser("root", role: .admin, team: nil, password: HubFixture.password)
        try await hub.serving { client, _ in
            #expect(try await client.execute(uri: "/healthz", method: .get).status == .ok)
            try await onOwnThread { try server.stop() }
            #expect(try await client.execute(uri: "/healthz", method: .get).status == .serviceUnavailable)
            try await onOwnThread { try server.start() }
            var back = false
            let restarted = Date()
            for _ in 0..<900 where !back {
                back = try await client.execute(uri: "/healthz", method: .get).status == .ok
                if !back { try await Task.sleep(nanoseconds: 100_000_000) }
            }
            #expect(back)
            print("the hub answered again \(Int(Date().timeIntervalSince(restarted) * 1000)) ms after PostgreSQL was back")
            _ = try await HubFixture.signIn(client, "root")
        }
    }

    @Test("a database deadline answers on time, even when the work it waits for ignores its cancellation")
    func deadline() async {
        let finished = TestFlag()
        // A wait that never looks at cancellation, as a query queued for a connection may not;
        // it ends a minute later, long after the deadline however busy the machine is.
        let late = await PostgresHubStore.within(seconds: 0.2) { [finished] () -> Int in
            await withCheckedContinuation { continuation in
                DispatchQueue.global().asyncAfter(deadline: .now() + 60) {
                    finished.value.withLock { $0 = true }
                    continuation.resume(returning: 1)
                }
            }
        }
        #expect(late == nil)
        #expect(finished.value.withLock { $0 } == false, "the deadline waited for the work")
        #expect(await PostgresHubStore.within(seconds: 30) { 7 } == 7)
    }

    @Test("a bad database URL is one line naming it, without its password")
    func badURL() async throws {
        var configuration = HubConfiguration(data: NSTemporaryDirectory() + "sparring-hub-bad-" + UUID().uuidString)
        defer { try? FileManager.default.removeItem(atPath: configuration.data) }
        for (url, expected) in [("mysql://x@y/z", "expected postgres://"), ("postgres://hub:secret@127.0.0.1:9/none?sslmode=disable", "cannot prepare"),
                                ("postgres://hub@127.0.0.1/x?sslmode=maybe", "sslmode 'maybe'")] {
            configuration.database = url
            do {
                _ = try await Hub.open(configuration: configuration)
                Issue.record("\(url) was accepted")
            } catch {
                #expect(error.message.contains(expected) && !error.message.contains("secret") && !error.message.contains("\n"), "\(error.message)")
            }
        }
    }
}

/// sox from Debian reads the hub's FLAC back to raw samples: an independent decoder.
enum Sox {
    static func decode(_ path: String) async throws -> Data {
        try await onOwnThread {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: "/usr/bin/sox")
            process.arguments = [path, "-t", "raw", "-e", "signed", "-b", "16", "-L", "-"]
            let out = Pipe()
            process.standardOutput = out
            try process.run()
            let data = out.fileHandleForReading.readDataToEndOfFile()
            process.waitUntilExit()
            return data
        }
    }
}

extension Data {
    init(bytesOf buffer: ByteBuffer) { self.init(buffer.readableBytesView) }
}

/// Where a test's hub keeps its metadata: every hub test runs on both.
enum HubBackend: String, CaseIterable, Sendable, CustomTestStringConvertible {
    case sqlite, postgres
    var testDescription: String { rawValue }

    /// The server the hub tests share; each test makes its own database in it.
    static let server: Result<LocalPostgres, SparringError> = Result { () throws(SparringError) in try LocalPostgres() }

    /// The `--database` URL for a new, empty store; nil for SQLite.
    ///
    /// The server's first start (initdb, pg_ctl) and createdb wait on child processes: they run on a
    /// thread of their own, so the tests' async work (hubs, database clients) goes on meanwhile.
    func databaseURL() async throws -> String? {
        switch self {
        case .sqlite: return nil
        case .postgres:
            return try await onOwnThread { try Self.server.get().database() }
        }
    }
}

/// A flag shared between a test and the work it starts.
final class TestFlag: Sendable {
    let value = Mutex(false)
}
