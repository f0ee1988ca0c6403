import Foundation
import Testing
import SparringTestSupport
import SparringCore
@testable import SparringSessions

extension LiveRecorded.SupervisorTests {
    /// A minimal W3C WebDriver client for Debian's chromedriver driving headless Chromium.
    final class Browser {
        let driver: Process
        let base: String
        let profile: String
        var session = ""

        init() async throws {
            let port = 9_500 + Int.random(in: 0..<400)
            base = "http://127.0.0.1:\(port)"
            profile = "/tmp/sparring-chromium-\(port)"
            driver = Process()
            driver.executableURL = URL(fileURLWithPath: "/usr/bin/chromedriver")
            driver.arguments = ["--port=\(port)"]
            driver.standardOutput = FileHandle.nullDevice
            driver.standardError = FileHandle.nullDevice
            try driver.run()
            let deadline = Date().addingTimeInterval(20)
            while Date() < deadline {
                if (try? await call("GET", "/status")) != nil { break }
                try await Task.sleep(for: .milliseconds(100))
            }
            let capabilities: [String: Any] = ["capabilities": ["alwaysMatch": [
                "browserName": "chrome",
                "goog:chromeOptions": ["binary": "/usr/bin/chromium",
                                       "args": ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                                                "--autoplay-policy=no-user-gesture-required", "--window-size=1200,1600",
                                                "--user-data-dir=\(profile)"]],
                "goog:loggingPrefs": ["browser": "ALL"],
            ]]]
            let created = try await call("POST", "/session", capabilities)
            session = try #require((created["value"] as? [String: Any])?["sessionId"] as? String, "\(created)")
        }

        func close() async {
            _ = try? await call("DELETE", "/session/\(session)")
            // chromedriver does not always leave on SIGTERM.
            kill(driver.processIdentifier, SIGKILL)
            driver.waitUntilExit()
            try? FileManager.default.removeItem(atPath: profile)
        }

        /// One HTTP/1.1 exchange on a fresh loopback connection (`Connection: close`), blocking.
        ///
        /// Plain sockets rather than URLSession: the exchange is tiny, and the
        /// test should not depend on FoundationNetworking's event loop.
        @discardableResult
        func call(_ method: String, _ path: String, _ body: [String: Any]? = nil) async throws -> [String: Any] {
            let payload = try body.map { try JSONSerialization.data(withJSONObject: $0) } ?? Data()
            let port = UInt16(base.split(separator: ":").last!)!
            let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            guard fd >= 0 else { throw SparringTestError("socket: \(errno)") }
            defer { Glibc.close(fd) }
            var timeout = timeval(tv_sec: 60, tv_usec: 0)
            setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_port = port.bigEndian
            address.sin_addr.s_addr = inet_addr("127.0.0.1")
            let connected = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
            }
            guard connected == 0 else { throw SparringTestError("connect to chromedriver: \(errno)") }
            var request = Data("\(method) \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: \(payload.count)\r\n\r\n".utf8)
            request.append(payload)
            let sent = request.withUnsafeBytes { send(fd, $0.baseAddress, $0.count, 0) }
            guard sent == request.count else { throw SparringTestError("send: \(errno)") }
            // Read the head, then exactly Content-Length bytes (chromedriver keeps the connection open).
            var response = Data()
            var buffer = [UInt8](repeating: 0, count: 65_536)
            var bodyStart: Int?
            var length = 0
            while true {
                if let start = bodyStart, response.count - start >= length { break }
                let n = recv(fd, &buffer, buffer.count, 0)
                if n <= 0 { break }
                response.append(contentsOf: buffer[0..<n])
                if bodyStart == nil, let split = response.range(of: Data("\r\n\r\n".utf8)) {
                    bodyStart = split.upperBound - response.startIndex
                    let head = String(decoding: response[..<split.lowerBound], as: UTF8.self).lowercased()
                    guard let line = head.split(separator: "\r\n").first(where: { $0.hasPrefix("content-length:") }) else {
                        throw SparringTestError("\(method) \(path): no Content-Length in \(head)")
                    }
                    length = Int(line.dropFirst("content-length:".count).trimmingCharacters(in: .whitespaces)) ?? 0
                }
            }
            guard let start = bodyStart else { throw SparringTestError("no HTTP answer to \(method) \(path)") }
            let content = response.dropFirst(start).prefix(length)
            return (try JSONSerialization.jsonObject(with: Data(content)) as? [String: Any]) ?? [:]
        }

        func open(_ url: String) async throws { try await call("POST", "/session/\(session)/url", ["url": url]) }

        @discardableResult
        func run(_ script: String) async throws -> Any? {
            try await call("POST", "/session/\(session)/execute/sync", ["script": script, "args": []])["value"]
        }

        func click(_ css: String) async throws {
            let found = try await call("POST", "/session/\(session)/element", ["using": "css selector", "value": css])
            let element = try #require((found["value"] as? [String: Any])?.first { $0.key.hasPrefix("element-") }?.value as? String, "\(found)")
            try await call("POST", "/session/\(session)/element/\(element)/click", [:])
        }

        /// The browser's console entries so far.
        /// The browser's console entries since the last call; an answer that is not a list fails the test.
        func log() async throws -> [[String: Any]] {
            let answer = try await call("POST", "/session/\(session)/se/log", ["type": "browser"])
            return try #require(answer["value"] as? [[String: Any]], "no console log from chromedriver: \(answer)")
        }
    }

    @Test("the report loads in headless Chromium without errors, draws the plot and timeline, and a transcript click seeks the audio")
    func reportInBrowser() async throws {
        let calls = try await Self.calls()
        let summary = calls.summaries[0]
        _ = try await sparring(["annotate", summary.id, "--at", "0:40", "--by", "sue", "<b>not bold</b> & fine"])
        let path = calls.root + "/report.html"
        let made = try await sparring(["report", summary.id, "-o", path])
        #expect(made.status == 0, "\(made.err)")
        let size = try #require(try FileManager.default.attributesOfItem(atPath: path)[.size] as? Int)
        print("report: \(size / 1024) KiB for a \(summary.duration_s) s call")

        // The dismissive call's report, for its turning points' clips.
        let dismissive = calls.summaries[1]
        let clipsPath = calls.root + "/report-debrief.html"
        let clipsReport = try await sparring(["report", dismissive.id, "-o", clipsPath])
        #expect(clipsReport.status == 0, "\(clipsReport.err)")

        let browser = try await Browser()
        do {
            try await check(browser, path: path, summary: summary)
            try await checkClips(browser, path: clipsPath, summary: dismissive)
        } catch {
            await browser.close()
            throw error
        }
        await browser.close()
    }

    /// The debrief heads the page; each moment's clip starts a few seconds before it and stops a few after.
    func checkClips(_ browser: Browser, path: String, summary: CallSummary) async throws {
        let points = try #require(summary.turning_points)
        try await browser.open("file://" + path)
        for _ in 0..<100 {
            if ((try await browser.run("return document.getElementById('player').readyState") as? Double) ?? 0) >= 1 { break }
            try await Task.sleep(for: .milliseconds(100))
        }
        let order = try await browser.run("""
            return Array.prototype.map.call(document.querySelectorAll('body > section h2'), function (h) { return h.textContent; });
            """) as? [String] ?? []
        #expect(order.first == "Did you respond consciously?", "\(order)")
        let shown = try await browser.run("return document.querySelectorAll('#debrief li.moment').length") as? Double ?? -1
        #expect(Int(shown) == points.count)
        for point in points {
            let start = max(0, point.t - SessionReport.clipMargin)
            let end = try #require(Double(try await browser.run(
                "return document.querySelector('#moment-\(point.number) button.clip').getAttribute('data-clip-end')") as? String ?? ""))
            #expect(abs(end - min(summary.duration_s, point.end + SessionReport.clipMargin)) < 0.5, "moment \(point.number) clip ends at \(end)")
            try await browser.click("#moment-\(point.number) button.clip")
            try await browser.run("document.getElementById('player').pause(); return 0")
            let at = try await browser.run("return document.getElementById('player').currentTime") as? Double ?? -1
            #expect(abs(at - start) < 0.3, "moment \(point.number) at \(point.t): clip started at \(at), not \(start)")
            // Played up to its end, the clip stops there by itself.
            try await browser.click("#moment-\(point.number) button.clip")
            try await browser.run("var p = document.getElementById('player'); p.currentTime = \(max(start, end - 0.6)); p.play(); return 0")
            // Waited for as it plays (0.6 s of audio), however slowly a busy machine plays it.
            var paused = false
            for _ in 0..<100 where !paused {
                try await Task.sleep(for: .milliseconds(100))
                paused = try await browser.run("return document.getElementById('player').paused") as? Bool ?? false
            }
            let stopped = try await browser.run("return document.getElementById('player').currentTime") as? Double ?? -1
            #expect(paused && stopped >= end - 0.1 && stopped <= end + 0.6, "moment \(point.number): clip to \(end) stopped at \(stopped), paused \(paused)")
        }
        let severe = try await browser.log().filter { ($0["level"] as? String) == "SEVERE" }
        #expect(severe.isEmpty, "console errors: \(severe)")
    }

    func check(_ browser: Browser, path: String, summary: CallSummary) async throws {
        try await browser.open("file://" + path)
        // Wait for the embedded recording to be ready to seek.
        var ready = 0.0
        for _ in 0..<100 {
            ready = (try await browser.run("return document.getElementById('player').readyState") as? Double) ?? 0
            if ready >= 1 { break }
            try await Task.sleep(for: .milliseconds(100))
        }
        #expect(ready >= 1, "the recording did not load")
        let duration = try await browser.run("return document.getElementById('player').duration") as? Double ?? 0
        #expect(abs(duration - summary.duration_s) < 1, "player duration \(duration) vs \(summary.duration_s)")

        let meters = try await browser.run("""
            return Array.prototype.map.call(document.querySelectorAll('#mood-plot polyline.meter'),
              function (p) { return p.getAttribute('data-meter') + ':' + p.getAttribute('points').trim().split(' ').length; });
            """) as? [String] ?? []
        #expect(meters.count == 2, "\(meters)")
        #expect(meters.allSatisfy { (Int($0.split(separator: ":").last ?? "") ?? 0) >= 4 }, "\(meters)")
        let talk = try await browser.run("return [document.querySelectorAll('#talk-timeline rect.agent').length, document.querySelectorAll('#talk-timeline rect.caller').length]") as? [Double] ?? []
        #expect(talk.count == 2 && talk.allSatisfy { $0 >= 3 }, "\(talk)")
        let note = try await browser.run("return document.querySelector('#transcript li.note').textContent") as? String ?? ""
        #expect(note.contains("<b>not bold</b> & fine"), "\(note)")

        // The first caller line, then one past the first half minute: a click seeks the player there.
        let times = try await browser.run("""
            return Array.prototype.map.call(document.querySelectorAll('#transcript li.caller'), function (li) { return li.getAttribute('data-t'); });
            """) as? [String] ?? []
        let first = try #require(times.first)
        let later = try #require(times.first { (Double($0) ?? 0) > 30 })
        for t in [first, later] {
            try await browser.click("#transcript li.caller[data-t='\(t)']")
            try await browser.run("document.getElementById('player').pause(); return 0")
            let position = try await browser.run("return document.getElementById('player').currentTime") as? Double ?? -1
            #expect(abs(position - (Double(t) ?? -9)) < 0.3, "clicked the line at \(t), player at \(position)")
        }
        // Evidence links in the score seek too.
        let evidence = try #require(try await browser.run("return document.querySelector('#score a.seek').getAttribute('data-t')") as? String)
        try await browser.click("#score a.seek[data-t='\(evidence)']")
        try await browser.run("document.getElementById('player').pause(); return 0")
        let atEvidence = try await browser.run("return document.getElementById('player').currentTime") as? Double ?? -1
        #expect(abs(atEvidence - (Double(evidence) ?? -9)) < 0.3, "evidence at \(evidence), player at \(atEvidence)")

        let severe = try await browser.log().filter { ($0["level"] as? String) == "SEVERE" }
        #expect(severe.isEmpty, "console errors: \(severe)")
        // The check above can see an error: one raised on purpose now shows up as SEVERE.
        try await browser.run("setTimeout(function () { throw new Error('sparring-probe'); }, 0); return 0")
        var probe: [[String: Any]] = []
        for _ in 0..<50 {
            try await Task.sleep(for: .milliseconds(100))
            probe += try await browser.log().filter { ($0["level"] as? String) == "SEVERE" }
            if probe.contains(where: { ($0["message"] as? String)?.contains("sparring-probe") == true }) { break }
        }
        #expect(probe.contains { ($0["message"] as? String)?.contains("sparring-probe") == true }, "\(probe)")
    }
}

struct SparringTestError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
