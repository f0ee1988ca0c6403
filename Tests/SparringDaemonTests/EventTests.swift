import Foundation
import Testing
@testable import SparringCore
@testable import SparringSessions
@testable import SparringDaemon

/// Session events: one typed kind each, one encoder, and the files earlier versions wrote.
@Suite("Session events")
struct EventTests {
    static let fixture = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("Fixtures/events-every-kind.jsonl")

    static func encode(_ event: SessionEvent) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return String(decoding: try encoder.encode(event), as: UTF8.self)
    }

    @Test("every kind of event written by a call reads back as its kind and writes the same line again")
    func roundTrip() throws {
        let lines = try String(contentsOf: Self.fixture, encoding: .utf8).split(separator: "\n").map(String.init)
        var names: Set<String> = []
        for line in lines {
            let event = try JSONDecoder().decode(SessionEvent.self, from: Data(line.utf8))
            #expect(try Self.encode(event) == line)
            names.insert(event.type)
            if case .other = event.kind { #expect(event.type == "a_kind_from_a_newer_version") }
        }
        // Every kind this version writes is in the fixture (partial is watched live, not logged, but sent).
        let written: Set<String> = [
            "call_start", "audio_thread", "recognizer", "line_error", "agent_speech_start", "agent_speech_end", "took_turn_early",
            "agent_noise", "partial", "utterance", "xrun", "disk_full", "barge_in_stop", "caller_line_start", "caller_line_end",
            "caller_line", "mood", "phase", "trigger", "barge_in", "outcome", "synthesis_error", "overrun", "call_end",
        ]
        #expect(written.isSubset(of: names), "\(written.subtracting(names))")
    }

    @Test("an event missing a field reads with the field empty rather than being lost; a bad time is not read")
    func lenient() throws {
        let bare = try JSONDecoder().decode(SessionEvent.self, from: Data(#"{"t":2,"type":"utterance"}"#.utf8))
        #expect(bare.kind == .utterance(.init(text: "")))
        let start = try JSONDecoder().decode(SessionEvent.self, from: Data(#"{"t":0,"type":"call_start","scenario":"x"}"#.utf8))
        #expect(start.callStart?.scenario == "x" && start.callStart?.rate == nil)
        #expect(throws: (any Error).self) { try JSONDecoder().decode(SessionEvent.self, from: Data(#"{"type":"mood"}"#.utf8)) }
        #expect(!SessionEvent(t: 1, .xrun(count: -3)).isPlausible)
        #expect(!SessionEvent(t: 1, .mood(meters: ["anger": .infinity], mood: "calm")).isPlausible)
    }

    @Test("the live status, the daemon's and the watcher's, is one projection of the events")
    func liveStatus() throws {
        var live = LiveStatus()
        live.apply(SessionEvent(t: 0, .callStart(.init(scenario: "s", agent: "a", seed: 1, startedAt: "", rate: 16_000,
                                                      meters: ["anger": 60], mood: "irritated"))))
        #expect(live.meters == ["anger": 60] && live.mood == "irritated" && live.speaking == nil)
        live.apply(SessionEvent(t: 1, .callerLineStart(text: "Hi.", latencyMs: nil, prepared: false)))
        #expect(live.speaking == "caller")
        live.apply(SessionEvent(t: 2, .callerLineEnd(text: nil, interrupted: false)))
        live.apply(SessionEvent(t: 3, .agentSpeechStart))
        live.apply(SessionEvent(t: 3.5, .partial(text: "good morning")))
        #expect(live.speaking == "agent" && live.partial == "good morning")
        live.apply(SessionEvent(t: 4, .utterance(.init(text: "good morning"))))
        live.apply(SessionEvent(t: 4.2, .mood(meters: ["anger": 50], mood: "irritated")))
        live.apply(SessionEvent(t: 3.9, .agentSpeechEnd(holdMs: 200)))
        #expect(live.partial == "" && live.speaking == nil && live.meters == ["anger": 50] && live.t == 4.2)
        var status = CallStatus(session: "x", scenario: "s", agent: "a", seed: 1, started_at: "", t: 0)
        status.show(live)
        #expect(status.t == 4.2 && status.mood == "irritated" && status.meters == ["anger": 50] && status.speaking == nil)
    }
}
