import Foundation
#if canImport(Glibc)
import Glibc
#endif
import SparringCore

/// One line of `events.jsonl`: something that happened, at `t` seconds on the call clock.
public struct SessionEvent: Codable, Sendable, Equatable {
    public var t: Double
    public var type: String
    public var speaker: String?
    public var text: String?
    public var confidence: Double?
    public var moves: [MoveHit]?
    public var words: [TimedWord]?
    /// utterance: the recognizer's other likely readings of the same speech, best first.
    public var alternatives: [String]?
    public var meters: [String: Double]?
    public var mood: String?
    public var phase: String?
    public var trigger: String?
    public var outcome: String?
    public var yielded: Bool?
    public var latency_ms: Double?
    /// agent_speech_end: the silence that ended the turn; took_turn_early: the agent's pause.
    public var hold_ms: Double?
    /// caller_line_start: the line began from audio prepared while the agent paused.
    public var prepared: Bool?
    public var cause: String?
    public var count: Int?
    public var reason: String?
    // call_start only: what a repair needs to rebuild the summary of a crashed call.
    public var scenario: String?
    public var agent: String?
    public var seed: UInt64?
    public var started_at: String?
    public var rate: Int?

    public init(t: Double, type: String) {
        self.t = (t * 1000).rounded() / 1000
        self.type = type
    }

    public struct TimedWord: Codable, Sendable, Equatable {
        public var word: String
        public var start: Double
        public var end: Double
        /// The word's posterior in the recognizer's lattice, 0–1.
        public var confidence: Double?
        public init(word: String, start: Double, end: Double, confidence: Double? = nil) {
            self.word = word
            self.start = start
            self.end = end
            self.confidence = confidence.map { ($0 * 1000).rounded() / 1000 }
        }
    }
}

/// Figures of a finished (or interrupted) call: `summary.json`.
public struct CallSummary: Codable, Sendable {
    public struct Gaps: Codable, Sendable, Equatable {
        public var p50: Double?
        public var p95: Double?
        public var count: Int
        public init(p50: Double?, p95: Double?, count: Int) {
            self.p50 = p50
            self.p95 = p95
            self.count = count
        }
    }
    public struct Line: Codable, Sendable, Equatable {
        public var t: Double
        public var speaker: String
        public var text: String
        public init(t: Double, speaker: String, text: String) {
            self.t = t
            self.speaker = speaker
            self.text = text
        }
    }
    public var id: String
    public var scenario: String
    public var agent: String
    public var seed: UInt64
    public var started_at: String
    public var duration_s: Double
    public var outcome: String
    public var ended_by: String
    public var score: Score?
    public var turn_gap_ms: Gaps
    public var barge_in_ms: [Double]
    public var xruns: Int
    public var realtime: Bool
    public var interrupted: Bool
    public var transcript: [Line]
    public var session: String?
    /// Why a call has no score: it never happened (the line failed first) or the agent never spoke.
    /// Such a call is neither passed nor failed, and stays out of pass rates and `--failed`.
    public var unscored: String?
    /// How hard the caller was to win over (strict, fair, empathic); absent in sessions recorded before there was a choice.
    public var difficulty: String?
    /// The scenario's title and the caller's situation as the agent saw them, for the report's heading.
    public var title: String?
    public var situation: String?
    /// Samples the call's rings had to drop because a reader fell behind (capture to the
    /// recognizer, both channels to the recorder); absent when none were.
    public var overruns: Overruns?
    /// The moments that changed the call most, worst first, then the best (see `Debrief`);
    /// absent for a call without agent speech and in sessions recorded before debriefs.
    public var turning_points: [TurningPoint]?
    /// For a call that practised a moment of an earlier one again: that moment, and how it went this time.
    public var retry: RetryResult?

    public struct Overruns: Codable, Sendable, Equatable {
        public var capture: Int
        public var recording: Int
        public init(capture: Int, recording: Int) {
            self.capture = capture
            self.recording = recording
        }
    }

    /// `ended_by` of a call cut short because its recording or its log could not be written.
    public static let diskFull = "disk_full"

    /// What to say where the debrief would be, when there is none.
    public var noDebriefReason: String {
        unscored ?? (interrupted ? "the call was interrupted before it could be debriefed" : "the session was recorded without a debrief")
    }

    /// What to say where a score would be.
    public var noScoreReason: String { unscored ?? "the call was interrupted before it could be scored" }

    public init(id: String, scenario: String, agent: String, seed: UInt64, started_at: String, duration_s: Double,
                outcome: String, ended_by: String, score: Score?, turn_gap_ms: Gaps, barge_in_ms: [Double], xruns: Int,
                realtime: Bool, interrupted: Bool, transcript: [Line], session: String?) {
        self.id = id
        self.scenario = scenario
        self.agent = agent
        self.seed = seed
        self.started_at = started_at
        self.duration_s = duration_s
        self.outcome = outcome
        self.ended_by = ended_by
        self.score = score
        self.turn_gap_ms = turn_gap_ms
        self.barge_in_ms = barge_in_ms
        self.xruns = xruns
        self.realtime = realtime
        self.interrupted = interrupted
        self.transcript = transcript
        self.session = session
    }
}

/// A call's directory: `call.wav`, `events.jsonl`, `summary.json`.
///
/// The directory is 0700 and its files 0600: recordings hold voices. Events
/// are written one line at a time as they happen, so a crash keeps all but
/// the line being written; the WAV header is rewritten with every flush.
/// While the call runs, `events.jsonl` is held under an exclusive `flock`:
/// the kernel drops it when the process dies, so a repair can tell a crashed
/// call from one still running in another process.
public final class SessionLog: @unchecked Sendable {
    public let id: String
    public let directory: String
    private let events: Int32
    private let encoder: JSONEncoder
    private let lock = NSLock()
    private var written = 0
    private var failed: String?
    private var closed = false

    /// A new session id: safe as a file name, sortable by time.
    public static func newID(scenario: String, date: Date = Date()) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "yyyyMMdd'T'HHmmss'Z'"
        let suffix = String(UInt32.random(in: 0...0xFFFF), radix: 16)
        return "\(formatter.string(from: date))-\(scenario)-\(suffix)"
    }

    /// `$XDG_DATA_HOME/sparring/sessions`, or `~/.local/share/sparring/sessions`.
    public static func defaultDirectory() -> String {
        let environment = ProcessInfo.processInfo.environment
        let data = environment["XDG_DATA_HOME"].flatMap { $0.isEmpty ? nil : $0 }
            ?? (NSHomeDirectory() + "/.local/share")
        return data + "/sparring/sessions"
    }

    /// A call needs this much free space to begin: a minute of its two-channel recording is about 4 MB.
    public static let minimumFreeBytes: UInt64 = 32 << 20

    /// Why a call cannot be recorded in `sessions` now (too little free space), or nil.
    public static func spaceProblem(_ sessions: String) -> String? {
        var info = statvfs()
        // The folder may not exist yet: ask about the nearest one that does.
        guard statvfs(SafeFile.nearestExisting(sessions), &info) == 0 else { return nil }
        let free = UInt64(info.f_bavail) * UInt64(info.f_frsize)
        guard free < minimumFreeBytes else { return nil }
        return "the disk holding \(sessions) is full (\(free >> 20) MB free, a call needs \(minimumFreeBytes >> 20) MB)"
    }

    public init(sessions: String, id: String) throws(SparringError) {
        self.id = id
        directory = sessions + "/" + id
        if let problem = Self.spaceProblem(sessions) { throw SparringError("disk_full", problem) }
        let manager = FileManager.default
        do {
            try manager.createDirectory(atPath: sessions, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
            try manager.createDirectory(atPath: directory, withIntermediateDirectories: false, attributes: [.posixPermissions: 0o700])
        } catch {
            throw SparringError("sessions", "cannot create session directory \(directory): \(error.localizedDescription)")
        }
        let fd = open(directory + "/events.jsonl", O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw SparringError("sessions", "cannot create \(directory)/events.jsonl") }
        _ = flock(fd, LOCK_EX | LOCK_NB)
        events = fd
        encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        reserveSummary()
    }

    public var wavPath: String { directory + "/call.wav" }

    /// Why events stopped being written (a full disk), once they have.
    public var writeFailure: String? { lock.withLock { failed } }

    /// Appends one event as one line, written through at once. A line that cannot be
    /// written whole (a full disk) is cut off again, so the file keeps whole lines
    /// only; nothing more is written after it (see `writeFailure`).
    public func append(_ event: SessionEvent) {
        guard var data = try? encoder.encode(event) else { return }
        data.append(0x0A)
        lock.withLock {
            guard failed == nil, !closed else { return }
            let done = SafeFile.writeAll(events, data, at: written)
            if done < data.count {
                failed = String(cString: strerror(errno))
                _ = ftruncate(events, off_t(written))
            } else {
                written += done
            }
        }
    }

    /// Space set aside when the call begins for its summary, so a call ended by a full disk still gets one.
    static let summaryReserve = 1 << 20
    private static let reserveName = ".summary.json.tmp"

    public func writeSummary(_ summary: CallSummary) throws(SparringError) {
        var summary = summary
        summary.session = nil
        guard let data = try? Self.encodeSummary(summary) else { throw SparringError("sessions", "\(summary.id): cannot encode the summary") }
        let reserved = directory + "/" + Self.reserveName
        let fd = open(reserved, O_WRONLY | O_NOFOLLOW | O_CLOEXEC)
        if fd >= 0 {
            defer { Glibc.close(fd) }
            // Overwriting blocks already allocated needs no free space.
            if SafeFile.writeAll(fd, data, at: 0) == data.count, ftruncate(fd, off_t(data.count)) == 0, fsync(fd) == 0,
               rename(reserved, directory + "/summary.json") == 0 {
                return
            }
        }
        try Self.writeSummary(summary, in: directory)
    }

    /// Sets aside room for the summary (see `summaryReserve`); where the file system cannot, the summary is written as usual.
    private func reserveSummary() {
        let fd = open(directory + "/" + Self.reserveName, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0o600)
        guard fd >= 0 else { return }
        if posix_fallocate(fd, 0, off_t(Self.summaryReserve)) != 0 { _ = ftruncate(fd, 0) }
        Glibc.close(fd)
    }

    static func encodeSummary(_ summary: CallSummary) throws -> Data {
        let pretty = JSONEncoder()
        pretty.outputFormatting = [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]
        return try pretty.encode(summary)
    }

    /// Writes `summary.json` whole or not at all (a temporary file renamed over it).
    ///
    /// The folder's own path is left out: a session is copied between machines and
    /// nothing in it refers outside it. Readers know where they found it.
    public static func writeSummary(_ summary: CallSummary, in directory: String) throws(SparringError) {
        var summary = summary
        summary.session = nil
        guard let data = try? encodeSummary(summary) else { throw SparringError("sessions", "\(summary.id): cannot encode the summary") }
        let temporary = directory + "/.summary.json.tmp"
        guard FileManager.default.createFile(atPath: temporary, contents: data, attributes: [.posixPermissions: 0o600]),
              rename(temporary, directory + "/summary.json") == 0 else {
            throw SparringError("sessions", "cannot write \(directory)/summary.json (\(String(cString: strerror(errno))))")
        }
    }

    public func close() {
        lock.withLock {
            guard !closed else { return }
            closed = true
            fsync(events)
            Glibc.close(events)
        }
    }

    deinit { close() }
}

/// The p-th percentile (0–100) of values, nearest rank; nil when empty.
public func percentile(_ values: [Double], _ p: Double) -> Double? {
    guard !values.isEmpty else { return nil }
    let sorted = values.sorted()
    let rank = Int((p / 100 * Double(sorted.count)).rounded(.up)) - 1
    return sorted[min(sorted.count - 1, max(0, rank))]
}
