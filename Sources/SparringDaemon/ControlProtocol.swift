import Foundation
import SparringCore
import SparringSessions

/// The control socket's protocol, version 1: JSON objects, one per line (UTF-8, `\n`).
///
/// Every request carries `"v": 1` and an `op`; an optional `id` (number or
/// string) comes back on its reply. Replies have `ok`; failures add `error`
/// (a stable code) and `message` (one line for a person). While subscribed,
/// a client also receives `{"v":1,"event":{...}}` for each event of the
/// current call and `{"v":1,"summary":{...}}` when it ends. See
/// `systemd/PROTOCOL.md` for the full description.
public enum ControlProtocol {
    public static let version = 1
    /// Longest accepted line, newline excluded; longer ones are discarded whole and answered `oversized`.
    public static let maxLineBytes = 65_536
    public static let operations = ["start", "hangup", "status", "subscribe", "unsubscribe", "scenarios"]
}

/// A request's `id`, echoed on its reply.
public enum RequestID: Codable, Sendable, Equatable {
    case number(Int)
    case text(String)

    public init(from decoder: Decoder) throws {
        let container = try decoder.singleValueContainer()
        if let number = try? container.decode(Int.self) { self = .number(number) } else { self = .text(try container.decode(String.self)) }
    }

    public func encode(to encoder: Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self {
        case let .number(number): try container.encode(number)
        case let .text(text): try container.encode(text)
        }
    }
}

public struct ControlRequest: Codable, Sendable, Equatable {
    public var v: Int?
    public var id: RequestID?
    public var op: String?
    /// start: the scenario id, the agent's name, the caller's seed, and whether to subscribe to the call at once.
    public var scenario: String?
    public var agent: String?
    public var seed: UInt64?
    /// start: strict, fair (the default) or empathic.
    public var difficulty: String?
    /// start: practise a moment of an earlier call again, `SESSION_ID:MOMENT` (see `Debrief`).
    public var from: String?
    public var subscribe: Bool?

    public init(op: String, id: RequestID? = nil) {
        v = ControlProtocol.version
        self.op = op
        self.id = id
    }
}

/// Machine-readable error codes of replies.
public enum ControlErrorCode: String, Codable, Sendable {
    case malformed, oversized, version, unknownOp = "unknown_op", missingField = "missing_field"
    case busy, noCall = "no_call", unknownScenario = "unknown_scenario", device, shuttingDown = "shutting_down", failed
}

public struct ControlError: Error, Sendable, Equatable {
    public var code: ControlErrorCode
    public var message: String
    public init(_ code: ControlErrorCode, _ message: String) {
        self.code = code
        self.message = message
    }
}

/// The call on the line, as `status` shows it.
public struct CallStatus: Codable, Sendable, Equatable {
    public var session: String
    public var scenario: String
    public var agent: String
    public var seed: UInt64
    public var started_at: String
    /// Seconds on the call clock at the last event.
    public var t: Double
    public var mood: String?
    public var meters: [String: Double]?
    /// "agent", "caller", or nil while nobody speaks.
    public var speaking: String?

    /// Takes the call's state as its events tell it (`LiveStatus`).
    public mutating func show(_ live: LiveStatus) {
        t = live.t
        mood = live.mood
        meters = live.meters
        speaking = live.speaking
    }
}

public struct DaemonStatus: Codable, Sendable, Equatable {
    public var state: String
    public var call: CallStatus?
    public var pid: Int32
    public var protocol_version: Int
    public var uptime_s: Double
    public var calls: Int
    public var scenarios: Int
    public var problems: [String]
    public var capture: String
    public var playback: String
    public var rate: Int
    public var sessions: String
}

public struct ScenarioInfo: Codable, Sendable, Equatable {
    public var id: String
    public var title: String
    public var file: String
}

/// Everything the daemon sends: a reply, an event of the current call, or its summary.
public struct ControlMessage: Codable, Sendable {
    public var v = ControlProtocol.version
    public var id: RequestID?
    public var op: String?
    public var ok: Bool?
    public var error: ControlErrorCode?
    public var message: String?
    public var session: String?
    public var status: DaemonStatus?
    public var scenarios: [ScenarioInfo]?
    public var event: SessionEvent?
    public var summary: CallSummary?

    public init() {}

    public static func reply(to request: ControlRequest?, _ fill: (inout ControlMessage) -> Void = { _ in }) -> ControlMessage {
        var message = ControlMessage()
        message.id = request?.id
        message.op = request?.op
        message.ok = true
        fill(&message)
        return message
    }

    public static func failure(to request: ControlRequest?, _ error: ControlError) -> ControlMessage {
        var message = ControlMessage()
        message.id = request?.id
        message.op = request?.op
        message.ok = false
        message.error = error.code
        message.message = error.message
        return message
    }

    /// One line of the protocol, newline included.
    public func line() -> Data {
        var data = (try? ControlMessage.encoder.encode(self)) ?? Data(#"{"v":1,"ok":false,"error":"failed"}"#.utf8)
        data.append(0x0A)
        return data
    }

    static let encoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return encoder
    }()
}

extension ControlRequest {
    /// Parses one line; every way it can be wrong is a `ControlError` for the reply.
    public static func parse(_ line: some DataProtocol) -> Result<ControlRequest, ControlError> {
        let data = Data(line)
        guard String(data: data, encoding: .utf8) != nil else { return .failure(ControlError(.malformed, "the line is not UTF-8")) }
        guard (try? JSONSerialization.jsonObject(with: data)) is [String: Any] else {
            return .failure(ControlError(.malformed, "expected one JSON object per line"))
        }
        if let key = duplicateKey(in: data) {
            return .failure(ControlError(.malformed, "field '\(key.prefix(40))' appears twice"))
        }
        let request: ControlRequest
        do { request = try JSONDecoder().decode(ControlRequest.self, from: data) } catch let DecodingError.typeMismatch(_, context) {
            return .failure(ControlError(.malformed, "field '\(context.codingPath.map(\.stringValue).joined(separator: "."))' has the wrong type"))
        } catch {
            return .failure(ControlError(.malformed, "cannot read the request"))
        }
        guard let v = request.v else { return .failure(ControlError(.version, "missing \"v\" (this daemon speaks version \(ControlProtocol.version))")) }
        guard v == ControlProtocol.version else {
            return .failure(ControlError(.version, "protocol version \(v) is not supported (this daemon speaks version \(ControlProtocol.version))"))
        }
        guard let op = request.op else { return .failure(ControlError(.missingField, "missing \"op\"")) }
        guard ControlProtocol.operations.contains(op) else {
            return .failure(ControlError(.unknownOp, "unknown op '\(op.prefix(40))' (known: \(ControlProtocol.operations.joined(separator: ", ")))"))
        }
        if op == "start", request.scenario == nil { return .failure(ControlError(.missingField, "start needs \"scenario\"")) }
        return .success(request)
    }

    /// The first key that appears twice in one object of a valid JSON text, if any.
    ///
    /// JSON decoders keep the last of two equal keys silently; a request meaning two
    /// things at once is refused instead. The text was parsed already, so only strings,
    /// escapes and nesting need following.
    static func duplicateKey(in data: Data) -> String? {
        var objects: [Set<String>?] = []   // one entry per open container; nil for an array
        var index = data.startIndex
        func readString() -> String {
            var bytes: [UInt8] = []
            index += 1
            while index < data.endIndex, data[index] != 0x22 {
                if data[index] == 0x5C { bytes.append(data[index]); index += 1 }
                if index < data.endIndex { bytes.append(data[index]); index += 1 }
            }
            index += 1
            // Compare keys as the decoder will see them: escapes resolved.
            let literal = "\"" + String(decoding: bytes, as: UTF8.self) + "\""
            return (try? JSONDecoder().decode(String.self, from: Data(literal.utf8))) ?? literal
        }
        while index < data.endIndex {
            switch data[index] {
            case UInt8(ascii: "{"): objects.append([]); index += 1
            case UInt8(ascii: "["): objects.append(nil); index += 1
            case UInt8(ascii: "}"), UInt8(ascii: "]"): _ = objects.popLast(); index += 1
            case 0x22:
                let string = readString()
                var next = index
                while next < data.endIndex, [0x20, 0x09, 0x0A, 0x0D].contains(data[next]) { next += 1 }
                if next < data.endIndex, data[next] == UInt8(ascii: ":"), let last = objects.indices.last, objects[last] != nil {
                    if objects[last]!.contains(string) { return string }
                    objects[last]!.insert(string)
                }
            default: index += 1
            }
        }
        return nil
    }
}
