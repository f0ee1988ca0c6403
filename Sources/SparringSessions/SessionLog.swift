import Foundation
#if canImport(Glibc)
import Glibc
#endif
import SparringCore

/// One line of `events.jsonl`: something that happened, at `t` seconds on the call clock.
///
/// Each kind carries its own fields; on disk and on the daemon's socket an event is one
/// flat JSON object, its kind under `type` (`SessionEvent.Kind.name`).
public struct SessionEvent: Sendable, Equatable {
    public var t: Double
    public var kind: Kind

    public init(t: Double, _ kind: Kind) {
        self.t = (t * 1000).rounded() / 1000
        self.kind = kind
    }

    public enum Kind: Sendable, Equatable {
        /// The call opened: what a repair needs to rebuild the summary of a crashed call, and where
        /// the meters start. A retry names the moment it practises again and its phase.
        case callStart(CallStart)
        /// How the audio thread runs: `realtime` or `normal_priority`, and why.
        case audioThread(realtime: Bool, note: String)
        /// The recognizer fell back to its generic model, and why.
        case recognizer(note: String)
        /// The line failed.
        case lineError(reason: String)
        case agentSpeechStart
        /// The agent's turn ended after `holdMs` of silence.
        case agentSpeechEnd(holdMs: Double)
        /// The caller answered into the agent's pause and gave the floor back; the agent's pause.
        case tookTurnEarly(holdMs: Double)
        /// The recognizer took noise for speech; no turn was opened.
        case agentNoise
        /// The agent's words so far (live only, not logged).
        case partial(text: String)
        /// What the agent said, as recognized.
        case utterance(Utterance)
        case xrun(count: Int)
        case diskFull(reason: String)
        /// The caller fell silent after the agent talked over it, this long after the agent began.
        case bargeInStop(latencyMs: Double)
        /// The caller's line began to sound; `prepared`: from audio made while the agent paused.
        case callerLineStart(text: String, latencyMs: Double?, prepared: Bool)
        /// The caller's line ended, or was cut (`interrupted`).
        case callerLineEnd(text: String?, interrupted: Bool)
        /// The engine chose a caller line: its mood and why.
        case callerLine(text: String, mood: String, cause: String)
        case mood(meters: [String: Double], mood: String)
        case phase(String)
        case trigger(String)
        /// The agent talked over the caller, who stopped (`yielded`) or kept on.
        case bargeIn(yielded: Bool)
        case outcome(String)
        /// A caller line could not be spoken.
        case synthesisError(text: String, reason: String)
        /// Samples dropped because a reader fell behind.
        case overrun(count: Int, reason: String)
        case callEnd(outcome: String, endedBy: String, xruns: Int)
        /// A kind this version does not know (from a newer one), kept by name.
        case other(String)

        /// The name under `type` on disk.
        public var name: String {
            switch self {
            case .callStart: "call_start"
            case .audioThread: "audio_thread"
            case .recognizer: "recognizer"
            case .lineError: "line_error"
            case .agentSpeechStart: "agent_speech_start"
            case .agentSpeechEnd: "agent_speech_end"
            case .tookTurnEarly: "took_turn_early"
            case .agentNoise: "agent_noise"
            case .partial: "partial"
            case .utterance: "utterance"
            case .xrun: "xrun"
            case .diskFull: "disk_full"
            case .bargeInStop: "barge_in_stop"
            case .callerLineStart: "caller_line_start"
            case .callerLineEnd: "caller_line_end"
            case .callerLine: "caller_line"
            case .mood: "mood"
            case .phase: "phase"
            case .trigger: "trigger"
            case .bargeIn: "barge_in"
            case .outcome: "outcome"
            case .synthesisError: "synthesis_error"
            case .overrun: "overrun"
            case .callEnd: "call_end"
            case let .other(name): name
            }
        }

        /// Who spoke, for the kinds that are speech.
        public var speaker: String? {
            switch self {
            case .agentSpeechStart, .agentSpeechEnd, .agentNoise, .partial, .utterance: "agent"
            case .callerLineStart, .callerLineEnd, .callerLine, .synthesisError: "caller"
            default: nil
            }
        }
    }

    public struct CallStart: Sendable, Equatable {
        public var scenario: String
        public var agent: String
        public var seed: UInt64
        public var startedAt: String
        /// The line's sample rate (nil in a file that lacks it).
        public var rate: Int?
        public var meters: [String: Double]?
        public var mood: String?
        /// A retry: `retry:SESSION:MOMENT`, and the phase it starts in.
        public var retry: String?
        public var phase: String?
        public init(scenario: String, agent: String, seed: UInt64, startedAt: String, rate: Int?, meters: [String: Double]? = nil,
                    mood: String? = nil, retry: String? = nil, phase: String? = nil) {
            self.scenario = scenario
            self.agent = agent
            self.seed = seed
            self.startedAt = startedAt
            self.rate = rate
            self.meters = meters
            self.mood = mood
            self.retry = retry
            self.phase = phase
        }
    }

    public struct Utterance: Sendable, Equatable {
        public var text: String
        public var confidence: Double?
        public var moves: [MoveHit]
        public var words: [TimedWord]
        /// The recognizer's other likely readings of the same speech, best first.
        public var alternatives: [String]
        /// Time the recognizer took to finish the utterance.
        public var latencyMs: Double?
        public init(text: String, confidence: Double? = nil, moves: [MoveHit] = [], words: [TimedWord] = [],
                    alternatives: [String] = [], latencyMs: Double? = nil) {
            self.text = text
            self.confidence = confidence.map { ($0 * 1000).rounded() / 1000 }
            self.moves = moves
            self.words = words
            self.alternatives = alternatives
            self.latencyMs = latencyMs
        }
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

    /// The wire name of the event's kind.
    public var type: String { kind.name }

    /// The words of a speech event: an utterance, a caller line, a partial hypothesis.
    public var text: String? {
        switch kind {
        case let .utterance(utterance): utterance.text
        case let .partial(text), let .callerLineStart(text, _, _), let .callerLine(text, _, _), let .synthesisError(text, _): text
        case let .callerLineEnd(text, _): text
        default: nil
        }
    }

    /// The caller's meters where an event gives them: where they start, and each change of mood.
    public var meters: [String: Double]? {
        switch kind {
        case let .callStart(start): start.meters
        case let .mood(meters, _): meters
        default: nil
        }
    }

    /// The call's opening event's fields.
    public var callStart: CallStart? {
        if case let .callStart(start) = kind { return start }
        return nil
    }

    /// The moves heard in an utterance.
    public var moves: [MoveHit] {
        if case let .utterance(utterance) = kind { return utterance.moves }
        return []
    }
}

extension SessionEvent: Codable {
    enum Field: String, CodingKey {
        case t, type, speaker, text, confidence, moves, words, alternatives, meters, mood, phase, trigger, outcome
        case yielded, latency_ms, hold_ms, prepared, cause, count, reason, scenario, agent, seed, started_at, rate
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: Field.self)
        t = try c.decode(Double.self, forKey: .t)
        let type = try c.decode(String.self, forKey: .type)
        // Events from earlier versions may lack a field: it reads as empty rather than losing the event.
        func string(_ field: Field) throws -> String { try c.decodeIfPresent(String.self, forKey: field) ?? "" }
        func number(_ field: Field) throws -> Double? { try c.decodeIfPresent(Double.self, forKey: field) }
        func count() throws -> Int { try c.decodeIfPresent(Int.self, forKey: .count) ?? 1 }
        switch type {
        case "call_start":
            kind = .callStart(CallStart(
                scenario: try string(.scenario), agent: try string(.agent), seed: try c.decodeIfPresent(UInt64.self, forKey: .seed) ?? 0,
                startedAt: try string(.started_at), rate: try c.decodeIfPresent(Int.self, forKey: .rate),
                meters: try c.decodeIfPresent([String: Double].self, forKey: .meters), mood: try c.decodeIfPresent(String.self, forKey: .mood),
                retry: try c.decodeIfPresent(String.self, forKey: .cause), phase: try c.decodeIfPresent(String.self, forKey: .phase)))
        case "audio_thread": kind = .audioThread(realtime: try string(.cause) == "realtime", note: try string(.reason))
        case "recognizer": kind = .recognizer(note: try string(.reason))
        case "line_error": kind = .lineError(reason: try string(.reason))
        case "agent_speech_start": kind = .agentSpeechStart
        case "agent_speech_end": kind = .agentSpeechEnd(holdMs: try number(.hold_ms) ?? 0)
        case "took_turn_early": kind = .tookTurnEarly(holdMs: try number(.hold_ms) ?? 0)
        case "agent_noise": kind = .agentNoise
        case "partial": kind = .partial(text: try string(.text))
        case "utterance":
            kind = .utterance(Utterance(
                text: try string(.text), confidence: try number(.confidence), moves: try c.decodeIfPresent([MoveHit].self, forKey: .moves) ?? [],
                words: try c.decodeIfPresent([TimedWord].self, forKey: .words) ?? [],
                alternatives: try c.decodeIfPresent([String].self, forKey: .alternatives) ?? [], latencyMs: try number(.latency_ms)))
        case "xrun": kind = .xrun(count: try count())
        case "disk_full": kind = .diskFull(reason: try string(.reason))
        case "barge_in_stop": kind = .bargeInStop(latencyMs: try number(.latency_ms) ?? 0)
        case "caller_line_start":
            kind = .callerLineStart(text: try string(.text), latencyMs: try number(.latency_ms),
                                    prepared: try c.decodeIfPresent(Bool.self, forKey: .prepared) ?? false)
        case "caller_line_end":
            kind = .callerLineEnd(text: try c.decodeIfPresent(String.self, forKey: .text), interrupted: try string(.reason) == "interrupted")
        case "caller_line": kind = .callerLine(text: try string(.text), mood: try string(.mood), cause: try string(.cause))
        case "mood": kind = .mood(meters: try c.decodeIfPresent([String: Double].self, forKey: .meters) ?? [:], mood: try string(.mood))
        case "phase": kind = .phase(try string(.phase))
        case "trigger": kind = .trigger(try string(.trigger))
        case "barge_in": kind = .bargeIn(yielded: try c.decodeIfPresent(Bool.self, forKey: .yielded) ?? false)
        case "outcome": kind = .outcome(try string(.outcome))
        case "synthesis_error": kind = .synthesisError(text: try string(.text), reason: try string(.reason))
        case "overrun": kind = .overrun(count: try count(), reason: try string(.reason))
        case "call_end":
            kind = .callEnd(outcome: try string(.outcome), endedBy: try string(.reason), xruns: try c.decodeIfPresent(Int.self, forKey: .count) ?? 0)
        default: kind = .other(type)
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: Field.self)
        try c.encode(t, forKey: .t)
        try c.encode(kind.name, forKey: .type)
        try c.encodeIfPresent(kind.speaker, forKey: .speaker)
        switch kind {
        case let .callStart(start):
            try c.encode(start.scenario, forKey: .scenario)
            try c.encode(start.agent, forKey: .agent)
            try c.encode(start.seed, forKey: .seed)
            try c.encode(start.startedAt, forKey: .started_at)
            try c.encodeIfPresent(start.rate, forKey: .rate)
            try c.encodeIfPresent(start.meters, forKey: .meters)
            try c.encodeIfPresent(start.mood, forKey: .mood)
            try c.encodeIfPresent(start.retry, forKey: .cause)
            try c.encodeIfPresent(start.phase, forKey: .phase)
        case let .audioThread(realtime, note):
            try c.encode(realtime ? "realtime" : "normal_priority", forKey: .cause)
            try c.encode(note, forKey: .reason)
        case let .recognizer(note): try c.encode(note, forKey: .reason)
        case let .lineError(reason), let .diskFull(reason): try c.encode(reason, forKey: .reason)
        case .agentSpeechStart, .agentNoise, .other: break
        case let .agentSpeechEnd(hold), let .tookTurnEarly(hold): try c.encode(hold, forKey: .hold_ms)
        case let .partial(text): try c.encode(text, forKey: .text)
        case let .utterance(utterance):
            try c.encode(utterance.text, forKey: .text)
            try c.encodeIfPresent(utterance.confidence, forKey: .confidence)
            try c.encode(utterance.moves, forKey: .moves)
            try c.encode(utterance.words, forKey: .words)
            if !utterance.alternatives.isEmpty { try c.encode(utterance.alternatives, forKey: .alternatives) }
            try c.encodeIfPresent(utterance.latencyMs, forKey: .latency_ms)
        case let .xrun(count): try c.encode(count, forKey: .count)
        case let .bargeInStop(latency): try c.encode(latency, forKey: .latency_ms)
        case let .callerLineStart(text, latency, prepared):
            try c.encode(text, forKey: .text)
            try c.encodeIfPresent(latency, forKey: .latency_ms)
            if prepared { try c.encode(true, forKey: .prepared) }
        case let .callerLineEnd(text, interrupted):
            try c.encodeIfPresent(text, forKey: .text)
            if interrupted { try c.encode("interrupted", forKey: .reason) }
        case let .callerLine(text, mood, cause):
            try c.encode(text, forKey: .text)
            try c.encode(mood, forKey: .mood)
            try c.encode(cause, forKey: .cause)
        case let .mood(meters, mood):
            try c.encode(meters, forKey: .meters)
            try c.encode(mood, forKey: .mood)
        case let .phase(phase): try c.encode(phase, forKey: .phase)
        case let .trigger(trigger): try c.encode(trigger, forKey: .trigger)
        case let .bargeIn(yielded): try c.encode(yielded, forKey: .yielded)
        case let .outcome(outcome): try c.encode(outcome, forKey: .outcome)
        case let .synthesisError(text, reason):
            try c.encode(text, forKey: .text)
            try c.encode(reason, forKey: .reason)
        case let .overrun(count, reason):
            try c.encode(count, forKey: .count)
            try c.encode(reason, forKey: .reason)
        case let .callEnd(outcome, endedBy, xruns):
            try c.encode(outcome, forKey: .outcome)
            try c.encode(endedBy, forKey: .reason)
            try c.encode(xruns, forKey: .count)
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

/// A call as it stands, from its events: who is speaking, the agent's words so far, the
/// caller's mood and meters, and why the line failed if it did. The daemon's `status` and
/// `sparring watch` both show this, fed every event of the call.
public struct LiveStatus: Sendable, Equatable {
    /// The call clock at the latest event.
    public var t = 0.0
    /// "agent", "caller", or nil while nobody speaks.
    public var speaking: String?
    /// The agent's words so far in the turn under way.
    public var partial = ""
    public var mood: String?
    public var meters: [String: Double]?
    public var lineError: String?

    public init() {}

    public mutating func apply(_ event: SessionEvent) {
        t = max(t, event.t)
        switch event.kind {
        case let .callStart(start):
            meters = start.meters ?? meters
            mood = start.mood ?? mood
        case .agentSpeechStart: speaking = "agent"; partial = ""
        case .callerLineStart: speaking = "caller"
        case .agentSpeechEnd, .callerLineEnd: speaking = nil
        case let .partial(text): partial = text
        case .utterance: partial = ""
        case let .mood(meters, mood): self.meters = meters; self.mood = mood
        case let .lineError(reason): lineError = reason
        default: break
        }
    }
}
