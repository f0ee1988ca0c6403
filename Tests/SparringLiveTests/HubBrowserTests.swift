import Foundation
import Testing
import SparringTestSupport
import SparringCore
@testable import SparringSessions

extension LiveRecorded.SupervisorTests {
    /// `sparring-hub serve` on a loopback port with a supervisor, and the recorded calls pushed by agent ana's machine.
    final class HubServer {
        let data: String
        let url: String
        let server: Process
        static let password = "a long practice password"

        init(calls: Calls) async throws {
            let data = calls.root + "/hub-\(UUID().uuidString.prefix(6))"
            self.data = data
            func hub(_ arguments: [String], input: String? = nil) throws -> Run {
                try ChildProcess.run(DaemonHarness.binary("sparring-hub"), arguments + ["--data", data], input: input)
            }
            for (name, role) in [("nora", "supervisor"), ("ana", "agent")] {
                let added = try hub(["user", "add", name, "--role", role, "--team", "north", "--password-stdin"], input: Self.password + "\n")
                #expect(added.status == 0, "\(added.err)")
            }
            let code = try hub(["enroll", "ana", "--team", "north"]).out.trimmingCharacters(in: .whitespacesAndNewlines)
            let port = 18_000 + Int.random(in: 0..<2000)
            let url = "http://127.0.0.1:\(port)"
            self.url = url
            let server = Process()
            self.server = server
            server.executableURL = URL(fileURLWithPath: DaemonHarness.binary("sparring-hub"))
            server.arguments = ["serve", "--data", data, "--listen", "127.0.0.1:\(port)"]
            server.standardOutput = FileHandle.nullDevice
            server.standardError = FileHandle.nullDevice
            try server.run()
            var joined = Run(status: -1, out: "", err: "")
            for _ in 0..<100 {
                joined = try await LiveRecorded.SupervisorTests.sparring(["hub", "join", url, code, "--hub-config", data + "/agent.json"], home: calls.root)
                if joined.status == 0 || !joined.err.contains("unreachable") && !joined.err.contains("refused") && !joined.err.contains("connect") { break }
                try await Task.sleep(for: .milliseconds(100))
            }
            #expect(joined.status == 0, "\(joined.err)")
            let pushed = try await LiveRecorded.SupervisorTests.sparring(["hub", "push", "--sessions", calls.sessions, "--hub-config", data + "/agent.json"], home: calls.root)
            #expect(pushed.status == 0, "\(pushed.err)")
        }

        func stop() {
            if server.isRunning { server.terminate() }
            server.waitUntilExit()
        }
    }

    @Test("the hub in headless Chromium: sign in, dashboard, a call played and sought from its transcript, annotated at the moment played, its score overridden")
    func hubInBrowser() async throws {
        let calls = try await Self.calls()
        let hub = try await HubServer(calls: calls)
        defer { hub.stop() }
        let browser = try await Browser()
        do {
            try await checkHub(browser, hub: hub, calls: calls)
        } catch {
            await browser.close()
            throw error
        }
        await browser.close()
    }

    func checkHub(_ browser: Browser, hub: HubServer, calls: Calls) async throws {
        // Without signing in, the dashboard sends the browser to the form.
        try await browser.open(hub.url + "/")
        #expect(try await browser.run("return location.pathname") as? String == "/login")
        try await browser.run("""
            document.querySelector('input[name=name]').value = 'nora';
            document.querySelector('input[name=password]').value = '\(HubServer.password)';
            document.querySelector('form.login button').click(); return 0
            """)
        try await waitFor(browser, "return location.pathname === '/' && document.querySelector('#agents') !== null")
        let rows = try await browser.run("return Array.prototype.map.call(document.querySelectorAll('#agents tbody tr'), function (r) { return r.textContent; })") as? [String] ?? []
        #expect(rows.count == 1 && rows.first?.contains("ana") == true, "\(rows)")
        let listed = try await browser.run("return document.querySelectorAll('#sessions tbody tr a').length") as? Double ?? 0
        #expect(Int(listed) == calls.summaries.count)

        // A call's page: the FLAC recording plays in the browser, and a transcript line seeks it.
        let summary = calls.summaries[0]
        try await browser.open(hub.url + "/sessions/\(summary.id)")
        try await waitFor(browser, "return document.getElementById('player').readyState >= 1")
        let duration = try await browser.run("return document.getElementById('player').duration") as? Double ?? 0
        #expect(abs(duration - summary.duration_s) < 1, "player duration \(duration) vs \(summary.duration_s)")
        let line = try #require(summary.transcript.first { $0.t > 10 })
        let seekTo = try #require(Double(String(format: "%.1f", line.t)))
        try await browser.click("#transcript button.seek[data-t='\(String(format: "%.1f", line.t))']")
        try await waitFor(browser, "return Math.abs(document.getElementById('player').currentTime - \(seekTo)) < 0.3")
        let bars = try await browser.run("return document.querySelectorAll('#timeline rect.talk').length") as? Double ?? 0
        #expect(bars >= 4)

        // Annotated at the moment being played: the form's time follows the player.
        let at = try await browser.run("return document.getElementById('at').value") as? String ?? ""
        #expect([Clock.format(seekTo), Clock.format(seekTo - 0.05)].contains(at), "annotation field \(at) for a seek to \(seekTo)")
        try await browser.run("""
            document.querySelector('#annotate input[name=text]').value = 'Name the feeling here <b>first</b>';
            document.querySelector('#annotate button').click(); return 0
            """)
        try await waitFor(browser, "return document.querySelectorAll('#annotations li').length === 1")
        let note = try await browser.run("return document.querySelector('#annotations li').textContent") as? String ?? ""
        #expect(note.contains("nora") && note.contains("<b>first</b>") && note.contains(at), "\(note)")

        // The supervisor's score beside the automatic one.
        try await browser.run("""
            document.querySelector('#override-form input[name=score]').value = '55';
            document.querySelector('#override-form input[name=reason]').value = 'offered a plan before asking';
            document.querySelector('#override-form button').click(); return 0
            """)
        try await waitFor(browser, "return document.getElementById('override') !== null")
        let facts = try await browser.run("return document.querySelector('.facts').textContent") as? String ?? ""
        #expect(facts.contains("55") && facts.contains("offered a plan before asking"), "\(facts)")
        let severe = try await browser.log().filter { ($0["level"] as? String) == "SEVERE" }
        #expect(severe.isEmpty, "console errors: \(severe)")
    }

    func waitFor(_ browser: Browser, _ condition: String, seconds: Double = 15) async throws {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if (try? await browser.run(condition)) as? Bool == true { return }
            try await Task.sleep(for: .milliseconds(100))
        }
        Issue.record("timed out waiting for: \(condition)")
    }
}
