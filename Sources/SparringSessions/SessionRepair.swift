import Foundation
import SparringCore

/// Makes a session left by a crashed process whole again.
///
/// A process killed mid-call leaves `call.wav` with a header that counts the
/// audio up to its last flush (and possibly more audio after it, or half a
/// frame), `events.jsonl` with perhaps half a last line, and no
/// `summary.json`. The repair keeps every complete event, keeps all whole
/// frames of audio and makes the header say so, and writes a summary built
/// from the events, marked `interrupted`. The score is left out: it needs
/// the caller engine's record, which died with the process.
public enum SessionRepair {
    public enum Result: Equatable, Sendable {
        /// It had a summary: nothing to do.
        case complete
        /// A call still runs in it (its events file is locked).
        case inProgress
        /// Repaired; what was done, for the log.
        case repaired(String)
    }

    /// Repairs the session in `directory` if it needs it.
    public static func repair(directory: String) throws(SparringError) -> Result {
        if SessionStore.exists(directory + "/summary.json") { return .complete }
        let eventsPath = directory + "/events.jsonl"
        // Every file is opened without following a link: a repair writes, and must never write outside the store.
        let fd = open(eventsPath, O_RDWR | O_NONBLOCK | O_NOFOLLOW | O_CLOEXEC)
        if fd < 0 && errno != ENOENT { throw SparringError("sessions", "\(eventsPath): \(openFailure())") }
        defer { if fd >= 0 { close(fd) } }
        if fd >= 0 { try requireRegular(fd, eventsPath) }
        // Held by a live call; the kernel dropped it if that process died. Kept for the repair.
        if fd >= 0 && flock(fd, LOCK_EX | LOCK_NB) != 0 { return .inProgress }
        var notes: [String] = []
        let (events, cut) = fd >= 0 ? try keepCompleteEvents(fd: fd, path: eventsPath) : ([], 0)
        if cut > 0 { notes.append("dropped \(cut) bytes of a half-written event") }
        let start = events.lazy.compactMap(\.callStart).first
        var rate = start?.rate ?? Self.recordingRate
        if !Self.plausibleRates.contains(rate) {
            notes.append("call_start rate \(rate) is out of range; \(Self.recordingRate) Hz assumed")
            rate = Self.recordingRate
        }
        let frames = try repairWave(path: directory + "/call.wav", rate: rate, notes: &notes)
        let id = URL(fileURLWithPath: directory).lastPathComponent
        let summary = summarize(id: id, events: events, frames: frames, rate: rate, directory: directory)
        try SessionLog.writeSummary(summary, in: directory)
        notes.append("\(events.count) events, \(String(format: "%.2f", Double(frames) / Double(rate))) s of audio kept; marked interrupted")
        return .repaired(notes.joined(separator: "; "))
    }

    /// The rate every call records at, assumed where a crashed call's log does not say one that could be.
    static let recordingRate = 16_000
    static let plausibleRates = 8_000...192_000

    /// A FIFO or device in a session file's place is refused, never read or waited on.
    static func requireRegular(_ fd: Int32, _ path: String) throws(SparringError) {
        guard SafeFile.isRegular(fd) else {
            throw SparringError("sessions", "\(path): not a regular file")
        }
    }

    static func openFailure() -> String { errno == ELOOP ? "is a link (not followed)" : String(cString: strerror(errno)) }

    /// Repairs every session directory under `sessions` that needs it; returns what was done per id.
    public static func repairAll(sessions: String) -> [(id: String, result: Swift.Result<Result, SparringError>)] {
        var done: [(String, Swift.Result<Result, SparringError>)] = []
        // The store lists real session folders only: never a link out of it.
        for name in SessionStore(root: sessions).ids() {
            let directory = sessions + "/" + name
            let result = Swift.Result { () throws(SparringError) in try repair(directory: directory) }
            if case .success(.complete) = result { continue }
            done.append((name, result))
        }
        return done
    }

    /// Cuts `events.jsonl` (open as `fd`) after its last complete, readable line; returns the events and the bytes cut.
    static func keepCompleteEvents(fd: Int32, path: String) throws(SparringError) -> ([SessionEvent], Int) {
        let handle = FileHandle(fileDescriptor: fd, closeOnDealloc: false)
        guard let data = try? handle.readToEnd(), !data.isEmpty else { return ([], 0) }
        let decoder = JSONDecoder()
        var events: [SessionEvent] = []
        var kept = 0
        var lineStart = data.startIndex
        while let newline = data[lineStart...].firstIndex(of: 0x0A) {
            guard let event = try? decoder.decode(SessionEvent.self, from: data[lineStart..<newline]) else { break }
            events.append(event)
            lineStart = newline + 1
            kept = lineStart - data.startIndex
        }
        let cut = data.count - kept
        if cut > 0, ftruncate(fd, off_t(kept)) != 0 {
            throw SparringError("sessions", "\(path): cannot truncate (\(String(cString: strerror(errno))))")
        }
        return (events, cut)
    }

    /// Keeps every whole frame in `call.wav` and makes the header count them; returns the frames.
    static func repairWave(path: String, rate: Int, notes: inout [String]) throws(SparringError) -> Int {
        let channels = 2
        let headerBytes = WaveFile.headerBytes
        var fd = open(path, O_RDWR | O_NONBLOCK | O_NOFOLLOW | O_CLOEXEC)
        let created = fd < 0 && errno == ENOENT
        if created {
            // The call died before its recording began: an empty, valid file.
            fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0o600)
            notes.append("no recording; wrote an empty call.wav")
        }
        guard fd >= 0 else { throw SparringError("sessions", "\(path): \(openFailure())") }
        defer { close(fd) }
        try requireRegular(fd, path)
        var info = stat()
        guard fstat(fd, &info) == 0 else { throw SparringError("sessions", "\(path): \(String(cString: strerror(errno)))") }
        let size = Int(info.st_size)
        let frameBytes = channels * 2
        let dataBytes = max(0, size - headerBytes) / frameBytes * frameBytes
        if size != headerBytes + dataBytes, ftruncate(fd, off_t(headerBytes + dataBytes)) != 0 {
            throw SparringError("sessions", "\(path): cannot truncate (\(String(cString: strerror(errno))))")
        }
        if !created && size < headerBytes { notes.append("recording header incomplete; rewritten") }
        let header = WaveFile.header(rate: rate, channels: channels, dataBytes: dataBytes)
        let written = header.withUnsafeBytes { pwrite(fd, $0.baseAddress, $0.count, 0) }
        guard written == header.count else { throw SparringError("sessions", "\(path): cannot write the header") }
        fsync(fd)
        return dataBytes / frameBytes
    }

    static func summarize(id: String, events: [SessionEvent], frames: Int, rate: Int, directory: String) -> CallSummary {
        let start = events.lazy.compactMap(\.callStart).first
        let outcome = events.lazy.compactMap { event -> String? in if case let .outcome(outcome) = event.kind { outcome } else { nil } }.last
        let events = events.filter(\.isPlausible)
        let duration = max(Double(frames) / Double(rate), events.last?.t ?? 0)
        var transcript: [CallSummary.Line] = []
        var xruns = 0
        var bargeIns: [Double] = []
        for event in events {
            switch event.kind {
            case let .callerLineStart(text, _, _) where !text.isEmpty: transcript.append(.init(t: event.t, speaker: "caller", text: text))
            case let .utterance(utterance) where !utterance.text.isEmpty: transcript.append(.init(t: event.t, speaker: "agent", text: utterance.text))
            case let .xrun(count): xruns += count
            case let .bargeInStop(latency): bargeIns.append(latency)
            default: break
            }
        }
        return CallSummary(
            id: id, scenario: start?.scenario ?? scenarioFromID(id), agent: start?.agent ?? "unknown", seed: start?.seed ?? 0,
            started_at: start?.startedAt ?? "", duration_s: (duration * 100).rounded() / 100,
            outcome: outcome ?? "interrupted", ended_by: "crash", score: nil,
            turn_gap_ms: .init(p50: nil, p95: nil, count: 0),
            barge_in_ms: bargeIns,
            xruns: xruns, realtime: false, interrupted: true, transcript: transcript, session: directory)
    }

    /// `20261122T101500Z-debt-threat-1a2b` → `debt-threat`, for a session whose first event was lost.
    static func scenarioFromID(_ id: String) -> String {
        var parts = id.split(separator: "-")
        guard parts.count >= 3 else { return "unknown" }
        parts.removeFirst()
        parts.removeLast()
        return parts.joined(separator: "-")
    }
}
