import Foundation
import Logging
import Testing
@testable import SparringCore
@testable import SparringDaemon
@testable import SparringHub
@testable import SparringHubClient
@testable import SparringSessions

@Suite("sparringd's hub outbox", .timeLimit(.minutes(10)))
struct HubOutboxTests {
    static func waitUntil(seconds: Double = 120, _ condition: () async throws -> Bool) async throws -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if try await condition() { return true }
            try await Task.sleep(nanoseconds: 50_000_000)
        }
        return false
    }

    @Test("calls wait while the hub is down and go when it answers, without a nudge; a call that ends is sent when the desk says so")
    func outbox() async throws {
        let fixture = try await HubFixture()
        defer { fixture.remove() }
        let sessions = fixture.folder + "/sessions", credentials = fixture.folder + "/hub.json", outbox = fixture.folder + "/outbox.json"
        let first = "20261130T100000Z-debt-threat-0b01", second = "20261130T110000Z-debt-threat-0b02"
        try HubFixture.session(in: sessions, id: first)
        let admin = Viewer(name: "root", role: .admin, team: nil)
        try await fixture.live { _, url in
            let joined = try await HubClient(url: url).join(code: try await fixture.hub.enroll(agent: "alice", team: "north").code)
            // The machine's credentials first name a hub that does not answer.
            var elsewhere = joined
            elsewhere.url = "http://127.0.0.1:9"
            try elsewhere.save(to: credentials)
            let signal = HubOutboxSignal()
            let service = HubOutboxService(sessions: sessions, credentials: credentials, outbox: outbox, signal: signal,
                                           logger: Logger(label: "outbox-test"), first: .milliseconds(200), longest: .seconds(3600),
                                           tick: .milliseconds(50))
            let task = Task { try await service.loop() }
            defer { task.cancel() }
            #expect(try await Self.waitUntil { HubOutbox.load(from: outbox).failed[first] != nil })
            // The hub answers again (here: the right address); the retry sends what waited, with no call ending.
            try joined.save(to: credentials)
            #expect(try await Self.waitUntil { try await fixture.hub.store.contentHash(of: first) != nil })
            // The outbox file is written when the push is over, a moment after the hub has the call.
            #expect(try await Self.waitUntil { HubOutbox.load(from: outbox).failed.isEmpty })
            // A call ends: the desk's nudge sends it long before the hour the service would otherwise wait.
            try HubFixture.session(in: sessions, id: second, tone: 520)
            try await Task.sleep(nanoseconds: 300_000_000)
            #expect(try await fixture.hub.store.contentHash(of: second) == nil)
            signal.poke()
            #expect(try await Self.waitUntil { try await fixture.hub.store.contentHash(of: second) != nil })
            #expect(try await fixture.hub.store.sessions(for: admin).count == 2)
        }
    }
}
