// `sparring-bench --fuzz N`: hostile files against the real command line.
//
// N scenario files (mutations of the shipped ones, YAML bombs, binary, huge and
// deeply nested input) each go through `sparring scenarios validate`; N crafted
// session folders (numbers out of range, wrong types, truncated or impossible
// WAVs, FIFOs, links and folders in place of files) each go through `sparring
// sessions`, `show` and `report`. Every command runs in its own process with a
// 2 s limit (`--limit S`): a signal is a crash, the limit a hang. It prints the counts, the
// slowest run, and each crash or hang with its input kept for reproduction.
import Foundation
import SparringCore
import SparringDaemon
import SparringSessions

struct FuzzOutcome {
    var runs = 0, crashes = 0, hangs = 0, unlocated = 0
    var slowest = 0.0
    var failures: [String] = []
}

/// Runs `arguments` with a limit; returns (exit status or -signal, seconds, stdout+stderr), nil status on a hang.
func runLimited(_ binary: String, _ arguments: [String], limit: Double = 2, environment: [String: String] = [:]) -> (Int32?, Double, String) {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: binary)
    process.arguments = arguments
    var env = ProcessInfo.processInfo.environment
    for (key, value) in environment { env[key] = value }
    process.environment = env
    let output = Pipe()
    process.standardOutput = output
    process.standardError = output
    let started = Date()
    do { try process.run() } catch { return (-1, 0, "cannot start: \(error)") }
    // Read while it runs, so a full pipe never stalls it.
    let collected = Locked(Data())
    let reader = Thread {
        while true {
            let chunk = output.fileHandleForReading.availableData
            if chunk.isEmpty { break }
            collected.withLock { if $0.count < 1 << 16 { $0.append(chunk) } }
        }
    }
    reader.start()
    while process.isRunning && Date().timeIntervalSince(started) < limit { usleep(2_000) }
    let elapsed = Date().timeIntervalSince(started)
    if process.isRunning {
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
        return (nil, elapsed, String(decoding: collected.withLock { $0 }, as: UTF8.self))
    }
    process.waitUntilExit()
    usleep(1_000)
    let text = String(decoding: collected.withLock { $0 }, as: UTF8.self)
    let status = process.terminationReason == .uncaughtSignal ? -process.terminationStatus : process.terminationStatus
    return (status, elapsed, text)
}

/// A value behind a lock, shared with the thread that reads a child's output.
final class Locked<Value>: @unchecked Sendable {
    private var value: Value
    private let lock = NSLock()
    init(_ value: Value) { self.value = value }
    func withLock<T>(_ body: (inout Value) -> T) -> T { lock.lock(); defer { lock.unlock() }; return body(&value) }
}

enum FuzzInputs {
    static func scenario(_ index: Int, shipped: [Data], random: inout SeededRandom) -> Data {
        func pick<T>(_ items: [T]) -> T { items[Int(random.next() % UInt64(items.count))] }
        let base = pick(shipped)
        switch index % 10 {
        case 0: return base.prefix(Int(random.next() % UInt64(base.count)))
        case 1, 2, 3:
            var bytes = [UInt8](base)
            let specials = Array(":-[]{}&*!|>'\"#%@`\n\t ,?\u{07}\u{1B}".utf8) + [0x00, 0xFF, 0xC3]
            for _ in 0..<(1 + Int(random.next() % 12)) { bytes[Int(random.next() % UInt64(bytes.count))] = pick(specials) }
            return Data(bytes)
        case 4:
            var lines = String(decoding: base, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false)
            for _ in 0..<8 { lines.swapAt(Int(random.next() % UInt64(lines.count)), Int(random.next() % UInt64(lines.count))) }
            return Data(lines.joined(separator: "\n").utf8)
        case 5:
            // Alias bombs of growing depth, as mapping keys and as list items.
            let levels = 4 + index % 20
            var text = "a0: &a0 [x, y]\n"
            for level in 1...levels {
                text += "a\(level): &a\(level)\n" + (0..<4).map { "  ? [*a\(level - 1), \($0)]\n  : \($0)\n" }.joined()
            }
            return Data((text + "k: [*a\(levels), *a\(levels)]\n").utf8)
        case 6: return Data((0..<Int(random.next() % 4096)).map { _ in UInt8(truncatingIfNeeded: random.next()) })
        case 7: return Data((String(repeating: "[", count: 1000 + Int(random.next() % 100_000)) + "x").utf8)
        case 8:
            let depth = 100 + Int(random.next() % 5000)
            return Data((0..<depth).map { String(repeating: " ", count: $0) + "k\($0):\n" }.joined().utf8)
        default: return Data(repeating: UInt8(ascii: "a"), count: YAMLDocument.maximumBytes + Int(random.next() % 1000))
        }
    }

    /// Writes a good session, then damages one part of it.
    static func session(_ index: Int, root: String, random: inout SeededRandom) throws -> String {
        let id = String(format: "20261201T%06dZ-debt-threat-%04x", index % 240_000, index & 0xFFFF)
        let log = try SessionLog(sessions: root, id: id)
        log.append(SessionEvent(t: 0, .callStart(.init(scenario: "debt-threat", agent: "ana", seed: 1, startedAt: "2026-12-01T10:00:00Z", rate: 16_000))))
        log.append(SessionEvent(t: 0.5, .callerLineStart(text: "You never listen.", latencyMs: nil, prepared: false)))
        let writer = try WaveWriter(path: log.wavPath, rate: 16_000, channels: 2)
        let samples = [Int16](repeating: 100, count: 32_000)
        samples.withUnsafeBufferPointer { writer.append($0) }
        writer.close()
        try log.writeSummary(CallSummary(id: id, scenario: "debt-threat", agent: "ana", seed: 1, started_at: "2026-12-01T10:00:00Z",
                                         duration_s: 1, outcome: "agree", ended_by: "caller", score: nil,
                                         turn_gap_ms: .init(p50: 400, p95: 600, count: 2), barge_in_ms: [120], xruns: 0,
                                         realtime: true, interrupted: false, transcript: [.init(t: 0.5, speaker: "caller", text: "You never listen.")],
                                         session: nil))
        log.close()
        let directory = root + "/" + id
        let extremes = ["1e300", "-1e300", "-1", "1e-320", "9223372036854775807", "18446744073709551616", "\"x\"", "null", "[]", "{}", "true"]
        func pick<T>(_ items: [T]) -> T { items[Int(random.next() % UInt64(items.count))] }
        let file = pick(["summary.json", "events.jsonl", "call.wav"])
        let path = directory + "/" + file
        switch index % 8 {
        case 0, 1, 2:
            if file == "call.wav" {
                var bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
                let field = pick([(22, 2), (24, 4), (28, 4), (32, 2), (34, 2), (40, 4), (4, 4), (16, 4)])
                for k in 0..<field.1 { bytes[field.0 + k] = pick([0, 0xFF, 0x7F, 1]) }
                try Data(bytes).write(to: URL(fileURLWithPath: path))
            } else {
                var text = try String(contentsOfFile: path, encoding: .utf8)
                let numbers = try NSRegularExpression(pattern: "-?[0-9]+(\\.[0-9]+)?")
                let matches = numbers.matches(in: text, range: NSRange(text.startIndex..., in: text))
                if let match = matches.isEmpty ? nil : pick(matches), let range = Range(match.range, in: text) {
                    text.replaceSubrange(range, with: pick(extremes))
                }
                try text.write(toFile: path, atomically: false, encoding: .utf8)
            }
        case 3:
            let data = try Data(contentsOf: URL(fileURLWithPath: path))
            try data.prefix(Int(random.next() % UInt64(max(1, data.count)))).write(to: URL(fileURLWithPath: path))
        case 4:
            try Data((0..<Int(random.next() % 2048)).map { _ in UInt8(truncatingIfNeeded: random.next()) }).write(to: URL(fileURLWithPath: path))
        case 5:
            unlink(path)
            mkfifo(path, 0o600)
        case 6:
            unlink(path)
            symlink(pick(["/dev/zero", "/etc/passwd", "/dev/urandom", directory]), path)
        default:
            unlink(path)
            if random.next() % 2 == 0 { mkdir(path, 0o700) }
        }
        return id
    }
}

func fuzz(count: Int, binary: String, root: String, limit: Double = 2) throws {
    var random = SeededRandom(seed: 2026)
    let work = FileManager.default.temporaryDirectory.appendingPathComponent("sparring-fuzz-\(getpid())").path
    try FileManager.default.createDirectory(atPath: work, withIntermediateDirectories: true)
    let scenariosDir = root + "/scenarios"
    let shipped = try FileManager.default.contentsOfDirectory(atPath: scenariosDir).filter { $0.hasSuffix(".yaml") }.sorted()
        .map { try Data(contentsOf: URL(fileURLWithPath: scenariosDir + "/" + $0)) }
    let environment = ["XDG_CACHE_HOME": work + "/cache", "NO_COLOR": "1"]

    var files = FuzzOutcome()
    for index in 0..<count {
        let path = work + "/fuzz-\(index).yaml"
        try FuzzInputs.scenario(index, shipped: shipped, random: &random).write(to: URL(fileURLWithPath: path))
        let (status, seconds, output) = runLimited(binary, ["scenarios", "validate", "--scenarios", scenariosDir, "--voices", root + "/voices", path],
                                                    limit: limit, environment: environment)
        files.runs += 1
        files.slowest = max(files.slowest, seconds)
        guard let status else { files.hangs += 1; files.failures.append("hang: \(path)"); continue }
        if status < 0 || status > 1 { files.crashes += 1; files.failures.append("status \(status): \(path)"); continue }
        // Every problem names the file and a line: `path:LINE: …`.
        for problem in output.split(separator: "\n") where problem.hasPrefix(path) && !problem.hasPrefix(path + ": ok") {
            let rest = problem.dropFirst(path.count)
            // A whole-file problem (too large) has no line to name.
            let wholeFile = rest.hasPrefix(": file is ")
            if !wholeFile && !(rest.first == ":" && rest.dropFirst().first?.isNumber == true) { files.unlocated += 1; files.failures.append("no line: \(problem.prefix(160))") }
        }
        unlink(path)
    }

    var sessions = FuzzOutcome()
    for index in 0..<count {
        let store = work + "/sessions-\(index)"
        let id = try FuzzInputs.session(index, root: store, random: &random)
        var kept = false
        for arguments in [["sessions", "--sessions", store], ["show", id, "--sessions", store],
                          ["report", id, "--sessions", store, "-o", work + "/report.html"], ["delete", id, "--sessions", store, "--yes"]] {
            let (status, seconds, output) = runLimited(binary, arguments, limit: limit, environment: environment)
            sessions.runs += 1
            sessions.slowest = max(sessions.slowest, seconds)
            guard let status else { sessions.hangs += 1; sessions.failures.append("hang: \(arguments.joined(separator: " "))"); kept = true; continue }
            if status < 0 || status > 1 {
                sessions.crashes += 1
                sessions.failures.append("status \(status): \(arguments.joined(separator: " ")): \(output.suffix(200))")
                kept = true
            }
        }
        if !kept { try? FileManager.default.removeItem(atPath: store) }
    }

    func report(_ name: String, _ outcome: FuzzOutcome) {
        print("\(name): \(outcome.runs) runs, \(outcome.crashes) crashes, \(outcome.hangs) hangs over \(plainNumber(limit)) s, \(outcome.unlocated) problems without file:line; slowest \(String(format: "%.2f", outcome.slowest)) s")
        for failure in outcome.failures.prefix(20) { print("  \(failure)") }
    }
    report("scenario files (\(count), `scenarios validate`)", files)
    report("session folders (\(count), `sessions`, `show`, `report`, `delete`)", sessions)
    if files.failures.isEmpty && sessions.failures.isEmpty { try? FileManager.default.removeItem(atPath: work) } else { print("inputs kept in \(work)") }
}

/// A client socket to `path`, or -1.
func connectUnix(_ path: String) -> Int32 { ControlConnection.connectPlain(path: path, readTimeout: 5) ?? -1 }

/// Writes all of `bytes`; false if the daemon closed.
func writeAll(_ fd: Int32, _ bytes: [UInt8]) -> Bool {
    var done = 0
    while done < bytes.count {
        let n = bytes.withUnsafeBytes { write(fd, $0.baseAddress! + done, $0.count - done) }
        if n < 0 && errno == EINTR { continue }
        guard n > 0 else { return false }
        done += n
    }
    return true
}

/// Reads until `lines` newlines have come, the peer closes, or 5 s pass without a byte.
func readLines(_ fd: Int32, _ lines: Int) -> Int {
    var seen = 0
    var buffer = [UInt8](repeating: 0, count: 1 << 16)
    while seen < lines {
        let n = read(fd, &buffer, buffer.count)
        guard n > 0 else { break }
        seen += buffer[0..<n].reduce(0) { $1 == 0x0A ? $0 + 1 : $0 }
    }
    return seen
}

enum SocketFuzz {
    /// One request line, mutated: never containing a newline, never empty, never a `start`.
    static func message(_ index: Int, random: inout SeededRandom) -> [UInt8] {
        func pick<T>(_ items: [T]) -> T { items[Int(random.next() % UInt64(items.count))] }
        let valid = [#"{"v":1,"op":"status"}"#, #"{"v":1,"id":7,"op":"subscribe"}"#, #"{"v":1,"id":"x","op":"hangup"}"#]
        var bytes: [UInt8]
        switch index % 8 {
        case 0: bytes = Array(pick(valid).utf8)
        case 1, 2:
            bytes = Array(pick(valid).utf8)
            for _ in 0..<(1 + Int(random.next() % 6)) { bytes[Int(random.next() % UInt64(bytes.count))] = UInt8(truncatingIfNeeded: random.next()) }
        case 3: bytes = (0..<(1 + Int(random.next() % 300))).map { _ in UInt8(truncatingIfNeeded: random.next()) }
        case 4: bytes = Array(#"{"v":1,"op":"status","op":"hangup"}"#.utf8)
        case 5: bytes = Array((String(repeating: "[", count: 1 + Int(random.next() % 20_000)) + "1").utf8)
        case 6: bytes = Array(#"{"v":1e999,"op":"status","seed":-1,"id":1e300}"#.utf8)
        default: bytes = [UInt8](repeating: UInt8(ascii: "x"), count: 70_000 + Int(random.next() % 10_000))
        }
        bytes = bytes.map { $0 == 0x0A || $0 == 0x0D ? 0x20 : $0 }
        if bytes.allSatisfy({ $0 == 0x20 }) { bytes = Array("?".utf8) }
        // Never a call: the line is not one this harness exercises.
        if String(decoding: bytes, as: UTF8.self).contains("start") { bytes = Array(valid[0].utf8) }
        return bytes + [0x0A]
    }

    static func run(messages: Int, root: String) throws {
        let work = FileManager.default.temporaryDirectory.appendingPathComponent("sparring-sockfuzz-\(getpid())").path
        try FileManager.default.createDirectory(atPath: work + "/config", withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: work) }
        let socketPath = work + "/run/control.sock"
        let daemon = Process()
        daemon.executableURL = URL(fileURLWithPath: root + "/.build/release/sparringd")
        daemon.arguments = ["--socket", socketPath, "--sessions", work + "/sessions", "--capture", "null", "--playback", "null"]
        var environment = ProcessInfo.processInfo.environment
        environment["HOME"] = work
        environment["XDG_CONFIG_HOME"] = work + "/config"
        environment["SPARRING_SCENARIOS"] = root + "/scenarios"
        environment["SPARRING_VOICES"] = root + "/voices"
        environment.removeValue(forKey: "NOTIFY_SOCKET")
        daemon.environment = environment
        daemon.standardError = FileHandle.nullDevice
        daemon.standardOutput = FileHandle.nullDevice
        try daemon.run()
        defer { if daemon.isRunning { kill(daemon.processIdentifier, SIGTERM); daemon.waitUntilExit() } }
        var up = false
        for _ in 0..<600 where !up {
            let fd = connectUnix(socketPath)
            if fd >= 0 { close(fd); up = true } else { usleep(50_000) }
        }
        guard up else { print("socket messages: sparringd did not come up"); return }

        var random = SeededRandom(seed: 77)
        let started = Date()
        var sent = 0, answered = 0
        // Four connections in turn, each carrying its share in order.
        let perConnection = messages / 4
        for _ in 0..<4 {
            let fd = connectUnix(socketPath)
            guard fd >= 0 else { continue }
            var batch: [UInt8] = []
            var count = 0
            for index in 0..<perConnection {
                batch += message(sent + count, random: &random)
                count += 1
                if batch.count > 1 << 18 || index == perConnection - 1 {
                    let ok = writeAll(fd, batch)
                    sent += count
                    answered += ok ? readLines(fd, count) : 0
                    batch = []
                    count = 0
                }
            }
            close(fd)
        }
        // Half-closed one-shot clients.
        var halfSent = 0, halfAnswered = 0
        for _ in 0..<200 {
            let fd = connectUnix(socketPath)
            guard fd >= 0 else { continue }
            halfSent += 1
            _ = writeAll(fd, Array(#"{"v":1,"op":"status"}"#.utf8) + [0x0A])
            shutdown(fd, Int32(SHUT_WR))
            halfAnswered += readLines(fd, 1)
            close(fd)
        }
        // A flood of connections opened at once and dropped.
        var held: [Int32] = []
        for _ in 0..<500 { let fd = connectUnix(socketPath); if fd >= 0 { held.append(fd) } }
        for fd in held { close(fd) }
        let check = connectUnix(socketPath)
        let alive = daemon.isRunning && check >= 0 && writeAll(check, Array(#"{"v":1,"op":"status"}"#.utf8) + [0x0A]) && readLines(check, 1) == 1
        if check >= 0 { close(check) }
        let elapsed = Date().timeIntervalSince(started)
        print("socket messages: \(sent) sent on 4 connections, \(answered) answered; \(halfSent) half-closed clients, \(halfAnswered) answered; \(held.count) connections opened at once and dropped; sparringd \(alive ? "up and answering" : "NOT answering") after \(String(format: "%.1f", elapsed)) s")
    }
}
