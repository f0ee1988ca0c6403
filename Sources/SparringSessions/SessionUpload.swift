import Crypto
import Foundation
import SparringCore

/// A session as an agent's machine sends it: its three files, one after another, in one body.
///
/// The `Sparring-Parts` header names each part and its length in bytes, in the
/// order they come (`summary.json=812, events.jsonl=20417, call.wav=2880044`);
/// `Sparring-Content-Hash` is the SHA-256 of the whole body. The hash makes an
/// upload idempotent (the same session sent twice is stored once) and catches a
/// body cut short on the way.
public struct SessionUpload: Sendable {
    public static let partsHeader = "Sparring-Parts"
    public static let hashHeader = "Sparring-Content-Hash"
    /// The files a session folder holds that the hub keeps. call.wav may be missing (a call that never started).
    public static let partNames = ["summary.json", "events.jsonl", "call.wav"]

    public var summary: CallSummary
    public var summaryData: Data
    public var events: [SessionEvent]
    public var eventsData: Data
    public var audio: WaveFile.Audio?
    public var wavBytes: Int
    public var contentHash: String

    /// The body and header of a session folder's upload, built on the agent's machine.
    public static func body(summary: Data, events: Data, wav: Data?) -> (body: Data, parts: String, hash: String) {
        var body = summary
        body.append(events)
        var parts = "summary.json=\(summary.count), events.jsonl=\(events.count)"
        if let wav {
            body.append(wav)
            parts += ", call.wav=\(wav.count)"
        }
        return (body, parts, ContentHash.sha256(body))
    }

    /// Checks and reads an upload; one line naming the part, the line or the field when anything is wrong.
    public static func parse(id: String, body: Data, parts header: String?, hash: String?) throws(SparringError) -> SessionUpload {
        try SessionStore.validate(id)
        guard let header, !header.isEmpty else { throw SparringError("bad_upload", "the \(partsHeader) header is missing") }
        var lengths: [(String, Int)] = []
        for item in header.split(separator: ",") {
            let pair = item.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
            guard pair.count == 2, let length = Int(pair[1]), length >= 0 else {
                throw SparringError("bad_upload", "\(partsHeader): '\(DisplayText.terminal(String(item)))' is not NAME=BYTES")
            }
            guard partNames.contains(pair[0]) else {
                throw SparringError("bad_upload", "\(partsHeader): unknown part '\(DisplayText.terminal(pair[0]))' (known: \(partNames.joined(separator: ", ")))")
            }
            guard !lengths.contains(where: { $0.0 == pair[0] }) else {
                throw SparringError("bad_upload", "\(partsHeader): part \(pair[0]) is named twice")
            }
            lengths.append((pair[0], length))
        }
        let total = lengths.reduce(0) { $0 + $1.1 }
        guard total == body.count else {
            throw SparringError("bad_upload", "the parts add up to \(total) bytes but the body has \(body.count)")
        }
        let computed = ContentHash.sha256(body)
        guard let hash, hash.lowercased() == computed else {
            throw SparringError("bad_upload", "\(hashHeader) does not match the body (sent \(DisplayText.terminal(String((hash ?? "none").prefix(64)))))")
        }
        var parts: [String: Data] = [:]
        var offset = body.startIndex
        for (name, length) in lengths {
            parts[name] = body.subdata(in: offset..<offset + length)
            offset += length
        }
        guard let summaryData = parts["summary.json"] else { throw SparringError("bad_upload", "the upload has no summary.json") }
        let summary = try SessionChecks.summary(summaryData, file: "summary.json")
        guard summary.id == id else {
            throw SparringError("bad_upload", "summary.json: id '\(DisplayText.terminal(summary.id))' is not the session '\(id)' it was sent as")
        }
        let eventsData = parts["events.jsonl"] ?? Data()
        var events: [SessionEvent] = []
        let decoder = JSONDecoder()
        for (index, line) in eventsData.split(separator: 0x0A, omittingEmptySubsequences: false).enumerated() where !line.isEmpty {
            guard let event = try? decoder.decode(SessionEvent.self, from: Data(line)), event.isPlausible else {
                throw SparringError("bad_upload", "events.jsonl:\(index + 1): not an event of a call")
            }
            events.append(event)
        }
        var audio: WaveFile.Audio?
        if let wav = parts["call.wav"], !wav.isEmpty {
            audio = try WaveFile.parse(wav, name: "call.wav")
        }
        return SessionUpload(summary: summary, summaryData: summaryData, events: events, eventsData: eventsData, audio: audio,
                             wavBytes: parts["call.wav"]?.count ?? 0, contentHash: computed)
    }
}

/// SHA-256 in lowercase hex: what names content on the hub and in uploads.
public enum ContentHash {
    public static func sha256(_ data: Data) -> String {
        SHA256.hash(data: data).map { String(format: "%02x", $0) }.joined()
    }
}

/// One call on a hub, as `GET /api/v1/sessions` lists it (the hub writes it, `sparring sessions --hub` reads it).
public struct HubSession: Codable, Sendable, Equatable {
    public var id: String
    public var agent: String
    public var team: String?
    public var scenario: String
    public var started_at: String
    public var duration_s: Double
    public var outcome: String
    public var score: Double?
    public var passed: Bool?
    public var difficulty: String?
    /// The supervisor's score, when one overrode the automatic one.
    public var override_score: Double?
    /// The caller's anger when the call ended.
    public var end_anger: Double?
    public var audio_bytes: Int?
    public var wav_bytes: Int?

    public init(id: String, agent: String, team: String?, scenario: String, started_at: String, duration_s: Double, outcome: String,
                score: Double?, passed: Bool?, difficulty: String?, override_score: Double?, end_anger: Double?, audio_bytes: Int?,
                wav_bytes: Int?) {
        self.id = id
        self.agent = agent
        self.team = team
        self.scenario = scenario
        self.started_at = started_at
        self.duration_s = duration_s
        self.outcome = outcome
        self.score = score
        self.passed = passed
        self.difficulty = difficulty
        self.override_score = override_score
        self.end_anger = end_anger
        self.audio_bytes = audio_bytes
        self.wav_bytes = wav_bytes
    }
}
