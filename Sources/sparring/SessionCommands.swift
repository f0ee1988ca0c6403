import Synchronization
import ArgumentParser
import Foundation
import SparringAudio
import SparringCore
import SparringDaemon
import SparringHubClient
import SparringSessions

/// Where the sessions are: every command that reads them takes `--sessions`.
struct SessionsLocation: ParsableArguments {
    @Option(name: .long, help: "Directory of session folders (default: the configured one, as `sparring run` and sparringd write them).")
    var sessions: String?

    var store: SessionStore { SessionStore(root: sessions ?? DaemonConfig.configuredSessions()) }

    /// The index, brought in line with the directories (crashed sessions repaired on the way).
    func index(rebuild: Bool = false) throws -> SessionIndex {
        let store = store
        var info = stat()
        guard stat(store.root, &info) == 0 else { throw Terminal.fail("no sessions directory at \(store.root) (no call recorded yet, or give --sessions DIR)") }
        do {
            let index = try SessionIndex(store: store)
            let changes = rebuild ? try index.rebuild() : try index.refresh()
            for (id, note) in changes.repaired.sorted(by: { $0.key < $1.key }) { Terminal.warn("repaired \(id) (left by a crash): \(note)") }
            for (id, reason) in changes.unreadable.sorted(by: { $0.key < $1.key }) { Terminal.warn("skipped \(id): \(reason)") }
            return index
        } catch { throw Terminal.fail(error.message) }
    }

    /// Validates the id before anything is opened, then reads the session.
    func load(_ id: String) throws -> StoredSession {
        do {
            try SessionStore.validate(id)
            let session = try store.load(id)
            if let note = session.repaired { Terminal.warn("repaired \(id) (left by a crash): \(note)") }
            return session
        } catch { throw Terminal.fail(error.message) }
    }
}

struct SessionsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sessions",
        abstract: "List recorded calls (and prune old ones).",
        subcommands: [SessionsList.self, SessionsPrune.self],
        defaultSubcommand: SessionsList.self)
}

struct SessionsList: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "list", abstract: "List recorded calls, newest first.")

    @OptionGroup var location: SessionsLocation
    @Option(help: "Only this agent's calls.") var agent: String?
    @Option(help: "Only calls of this scenario.") var scenario: String?
    @Option(help: "Only calls started on or after this date (2026-11-01 or 2026-11-01T09:30:00Z).") var since: String?
    @Option(help: "Only calls with this outcome (agree, hang_up, interrupted, …).") var outcome: String?
    @Flag(help: "Only scored calls below their pass mark.") var failed = false
    @Flag(help: "Rebuild the index from the session folders first.") var reindex = false
    @Flag(help: "Print the rows as JSON.") var json = false
    @Option(help: "List the calls on this hub instead (with the device token `sparring hub join` kept).") var hub: String?
    @OptionGroup var hubConfig: HubConfigOption

    func run() async throws {
        if let hub { return try await listHub(hub) }
        let index = try location.index(rebuild: reindex)
        let filter = SessionFilter(agent: agent, scenario: scenario, since: since, outcome: outcome, failedOnly: failed)
        let rows: [IndexedSession]
        do { rows = try index.list(filter) } catch { throw Terminal.fail(error.message) }
        if json {
            Terminal.out(try Terminal.json(rows))
            return
        }
        if rows.isEmpty {
            Terminal.out("no sessions match in \(index.store.root)")
            return
        }
        let header = ["ID", "DATE", "AGENT", "SCENARIO", "LENGTH", "OUTCOME", "SCORE"]
        let table = rows.map { row -> [String] in
            let score = row.score.map { "\(SessionText.number($0)) \(row.passed == true ? "pass" : "fail")" } ?? "—"
            let outcome = row.interrupted && row.outcome != "interrupted" ? "\(row.outcome) (interrupted)" : row.outcome
            return [row.id, SessionText.date(row.started_at), row.agent, row.scenario, Clock.format(row.duration_s), outcome, score]
        }
        Terminal.out(SessionText.table([header] + table))
    }

    /// The hub's list, filtered there; the token is the one kept for that hub.
    func listHub(_ url: String) async throws {
        let rows: [HubSession]
        do {
            let credentials = try HubCredentials.load(from: hubConfig.file)
            var client = try HubClient(url: url)
            if client.base == (try HubClient(credentials)).base { client.token = credentials.token }
            var query: [String: String] = [:]
            for (key, value) in [("agent", agent), ("scenario", scenario), ("since", since), ("outcome", outcome)] { if let value { query[key] = value } }
            rows = try await client.sessions(query: query).filter { !failed || $0.passed == false }
        } catch { throw Terminal.fail(error.message) }
        if json {
            Terminal.out(try Terminal.json(rows))
            return
        }
        if rows.isEmpty {
            Terminal.out("no sessions match on \(url)")
            return
        }
        let header = ["ID", "DATE", "AGENT", "SCENARIO", "LENGTH", "OUTCOME", "SCORE"]
        let table = rows.map { row -> [String] in
            let score = row.score.map { "\(SessionText.number($0)) \(row.passed == true ? "pass" : "fail")" } ?? "—"
            return [row.id, SessionText.date(row.started_at), row.agent, row.scenario, Clock.format(row.duration_s), row.outcome, score]
        }
        Terminal.out(SessionText.table([header] + table))
    }
}

struct SessionsPrune: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "prune", abstract: "Delete calls older than a number of days.")

    @OptionGroup var location: SessionsLocation
    @Option(name: .customLong("older-than"), help: "Delete sessions whose call started more than this many days ago.")
    var olderThan: Int

    func validate() throws {
        guard olderThan >= 0 else { throw ValidationError("--older-than must be 0 or more days") }
    }

    func run() throws {
        let store = location.store
        let removed = SessionRetention.prune(sessions: store.root, olderThan: olderThan)
        for id in removed { Terminal.out("deleted \(id)") }
        Terminal.out("\(removed.count) session\(removed.count == 1 ? "" : "s") older than \(olderThan) days deleted from \(store.root)")
        if FileManager.default.fileExists(atPath: store.root) { _ = try location.index() }
    }
}

struct ShowCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "show",
        abstract: "A call's transcript, moves, mood changes, triggers, score with evidence, turn gaps and annotations.")

    @OptionGroup var location: SessionsLocation
    @Argument(help: "Session id.") var id: String
    @Flag(help: "Print the summary, events and annotations as JSON.") var json = false
    @Flag(help: "Only the debrief: the turning points, what each did to the caller and a conscious alternative.") var debrief = false

    struct Whole: Encodable {
        var summary: CallSummary
        var events: [SessionEvent]
        var annotations: [Annotation]
    }

    func run() throws {
        let session = try location.load(id)
        if debrief && json {
            Terminal.out(try Terminal.json(session.summary.turning_points ?? []))
        } else if debrief {
            Terminal.out(DebriefView.full(session.summary), terminator: "")
        } else if json {
            Terminal.out(try Terminal.json(Whole(summary: session.summary, events: session.events, annotations: session.annotations)))
        } else {
            Terminal.out(SessionText.show(session), terminator: "")
        }
    }
}

struct AnnotateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "annotate", abstract: "Leave a supervisor's comment at a moment of a call.")

    @OptionGroup var location: SessionsLocation
    @Argument(help: "Session id.") var id: String
    @Option(help: "The moment, MM:SS (or M:SS.s).") var at: String
    @Argument(help: "The comment.") var text: [String]
    @Option(help: "Who writes it.") var by: String = ProcessInfo.processInfo.environment["USER"] ?? "supervisor"

    func run() throws {
        do { try SessionStore.validate(id) } catch { throw Terminal.fail(error.message) }
        guard let t = Clock.parse(at) else { throw Terminal.fail("--at '\(at)': expected MM:SS, like 1:23") }
        let annotation: Annotation
        do { annotation = try location.store.annotate(id, at: t, text: text.joined(separator: " "), by: by) } catch {
            throw Terminal.fail(error.message)
        }
        _ = try location.index()
        Terminal.out("\(id) \(Clock.format(annotation.t, tenths: true)) note by \(annotation.by): \(annotation.text)")
    }
}

struct ReportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "report",
        abstract: "Write one self-contained HTML page about a call: player, clickable transcript, mood plot, talk timeline, score, annotations.")

    @OptionGroup var location: SessionsLocation
    @Argument(help: "Session id.") var id: String
    @Option(name: .shortAndLong, help: "Where to write it (default: ID.html here).") var output: String?

    func run() throws {
        let session = try location.load(id)
        let html = try SessionText.report(session)
        let path = output ?? "\(id).html"
        guard FileManager.default.createFile(atPath: path, contents: Data(html.utf8), attributes: [.posixPermissions: 0o600]) else {
            throw Terminal.fail("cannot write \(path)")
        }
        Terminal.out(path)
    }
}

struct ExportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export", abstract: "Copy a call's files and its HTML report into a folder.")

    @OptionGroup var location: SessionsLocation
    @Argument(help: "Session id.") var id: String
    @Option(name: .shortAndLong, help: "Folder to create (must not exist, or be empty).") var output: String

    func run() throws {
        let session = try location.load(id)
        let report = try SessionText.report(session)
        do {
            let files = try location.store.export(id, to: output, extra: ["report.html": Data(report.utf8)])
            Terminal.out("\(output): \(files.joined(separator: ", "))")
        } catch { throw Terminal.fail(error.message) }
    }
}

struct DeleteCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "delete", abstract: "Delete a recorded call.")

    @OptionGroup var location: SessionsLocation
    @Argument(help: "Session id.") var id: String
    @Flag(help: "Do not ask (needed when not run from a terminal).") var yes = false

    func run() throws {
        let session = try location.load(id)
        if !yes {
            guard Terminal.isInteractive else { throw Terminal.fail("deleting \(id) needs --yes when not run from a terminal") }
            Terminal.out("Delete \(id) (\(session.summary.agent), \(session.summary.scenario), \(SessionText.date(session.summary.started_at)))? [y/N] ", terminator: "")
            guard let answer = readLine(), answer.lowercased().hasPrefix("y") else { Terminal.out("kept"); return }
        }
        do { try location.store.delete(id) } catch { throw Terminal.fail(error.message) }
        _ = try location.index()
        Terminal.out("deleted \(id)")
    }
}

struct ReplayCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "replay", abstract: "Play a call back and print what is said, mood changes and annotations as they are heard.")

    @OptionGroup var location: SessionsLocation
    @Argument(help: "Session id.") var id: String
    @Option(help: "ALSA PCM to play on.") var device = "default"
    @Option(help: "Playback speed, 0.5 to 2 (the pitch is kept).") var speed = 1.0
    @Option(help: "Start here, MM:SS.") var from: String?
    @Option(help: "Stop here, MM:SS.") var to: String?
    @Option(help: "Play one turning point of the debrief (see `sparring show ID --debrief`), with a few seconds either side.")
    var moment: Int?
    @Option(help: "What to hear: agent, caller or both.") var channel: SessionReplay.Channel = .both

    func run() throws {
        let session = try location.load(id)
        var start = 0.0, end: Double?
        if let from {
            guard let parsed = Clock.parse(from) else { throw Terminal.fail("--from '\(from)': expected MM:SS, like 1:23") }
            start = parsed
        }
        if let to {
            guard let parsed = Clock.parse(to) else { throw Terminal.fail("--to '\(to)': expected MM:SS, like 1:23") }
            end = parsed
        }
        if let moment {
            let points = session.summary.turning_points ?? []
            guard let point = points.first(where: { $0.number == moment }) else {
                throw Terminal.fail(points.isEmpty ? "session \(id) has no turning points" : "--moment \(moment): session \(id) has turning points 1 to \(points.count)")
            }
            (start, end) = SessionReport.clip(point, duration: session.summary.duration_s)
        }
        let audio: WaveFile.Audio
        do { audio = try session.audio() } catch { throw Terminal.fail(error.message) }
        let replay: SessionReplay
        do { replay = try SessionReplay(session: session, audio: audio, channel: channel, speed: speed, from: start, to: end) } catch {
            throw Terminal.fail(error.message)
        }
        signal(SIGINT) { _ in SessionReplay.stopRequested.store(true, ordering: .releasing) }
        signal(SIGTERM) { _ in SessionReplay.stopRequested.store(true, ordering: .releasing) }
        let out = FileHandle.standardOutput
        func say(_ line: String) { out.write(Data((DisplayText.terminal(line) + "\n").utf8)) }
        say("replaying \(id) (\(session.summary.scenario), \(session.summary.agent)) from \(Clock.format(start)) of \(Clock.format(audio.seconds)), \(channel.rawValue), speed \(speed)× on \(device); Ctrl-C stops")
        let result: SessionReplay.Result
        do { result = try replay.play(device: device) { cue in say("[\(Clock.format(cue.t, tenths: true))] \(cue.text)") } } catch {
            throw Terminal.fail(error.description)
        }
        let ending = end == nil ? "end of the recording" : "end of the clip"
        say(result.stopped ? "stopped at \(Clock.format(result.endedAt, tenths: true))" : "\(ending) at \(Clock.format(result.endedAt, tenths: true))")
    }
}

extension SessionReplay.Channel: ExpressibleByArgument {}
extension Difficulty: ExpressibleByArgument {}

/// How sessions read as text.
enum SessionText {
    static func number(_ value: Double) -> String { plainNumber(value) }

    /// `2026-11-22T22:54:36Z` → `2026-11-22 22:54`.
    static func date(_ iso: String) -> String {
        guard iso.count >= 16 else { return iso.isEmpty ? "—" : iso }
        return String(iso.prefix(10)) + " " + String(iso.dropFirst(11).prefix(5))
    }

    /// Columns padded to their widest cell.
    static func table(_ rows: [[String]]) -> String {
        guard let first = rows.first else { return "" }
        let widths = first.indices.map { column in rows.map { $0[column].count }.max() ?? 0 }
        return rows.map { row in
            row.enumerated().map { column, cell in
                column == row.count - 1 ? cell : cell.padding(toLength: widths[column], withPad: " ", startingAt: 0)
            }.joined(separator: "  ")
        }.joined(separator: "\n")
    }

    static func report(_ session: StoredSession) throws -> String {
        do {
            return SessionReport.html(session, audio: try session.audio())
        } catch { throw Terminal.fail(error.message) }
    }

    static func show(_ session: StoredSession) -> String {
        let s = session.summary
        var out = "\(s.id)\n"
        out += "  \(s.scenario)\(s.difficulty.map { " (\($0))" } ?? ""), agent \(s.agent), \(date(s.started_at)), \(Clock.format(s.duration_s)), outcome \(s.outcome) (ended by \(s.ended_by))"
        out += s.interrupted ? ", interrupted: repaired after a crash\n" : "\n"
        out += "\nTranscript\n"
        for entry in session.timeline {
            let text: String
            switch entry.kind {
            case .agent:
                var line = "agent   \(entry.detail)"
                if let c = entry.confidence { line += String(format: "  (confidence %.2f)", c) }
                for hit in entry.moves { line += "\n" + String(repeating: " ", count: 18) + "move: " + hit.evidence }
                text = line
            case .caller: text = "caller  \(entry.detail)"
            case .note: text = "✎ note by \(entry.by ?? "?"): \(entry.detail)"
            case .xrun: text = "· xrun"
            default: text = "· \(entry.kind.label)\(entry.kind.joiner)\(entry.detail)"
            }
            out += "  \(Clock.format(entry.t, tenths: true).leftPadded(7))  \(text)\n"
        }
        out += "\n"
        if let score = s.score {
            out += "Score \(number(score.total)) of 100: \(score.passed ? "passed" : "not passed") (pass mark \(number(score.passMark)))\n"
            for id in score.order {
                guard let c = score.criteria[id] else { continue }
                out += "  \(c.passed ? "✓" : "✗") \(c.title) (weight \(number(c.weight))): \(c.note)\n"
                for item in c.evidence { out += "      \(Clock.format(item.t.seconds, tenths: true))  \(item.text)\n" }
            }
        } else {
            out += "Score: none (\(s.noScoreReason))\n"
        }
        let gaps = s.turn_gap_ms
        if let p50 = gaps.p50, let p95 = gaps.p95 {
            out += "Turn gaps: p50 \(Int(p50)) ms, p95 \(Int(p95)) ms over \(gaps.count) turns\n"
        } else {
            out += "Turn gaps: none measured\n"
        }
        if !s.barge_in_ms.isEmpty { out += "Barge-in stops: " + s.barge_in_ms.map { "\(Int($0)) ms" }.joined(separator: ", ") + "\n" }
        out += "Xruns: \(s.xruns)\n"
        if let overruns = s.overruns {
            out += "Overruns: \(overruns.capture) capture and \(overruns.recording) recording samples dropped (a reader fell behind)\n"
        }
        if !session.annotations.isEmpty {
            out += "\nAnnotations\n"
            for a in session.annotations { out += "  \(Clock.format(a.t, tenths: true).leftPadded(7))  \(a.by): \(a.text)  (\(a.created_at))\n" }
        }
        return out
    }
}

extension String {
    func leftPadded(_ width: Int) -> String { count >= width ? self : String(repeating: " ", count: width - count) + self }
}
