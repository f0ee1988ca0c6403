import Foundation
import Synchronization
import Testing
import SparringTestSupport
@testable import SparringAudio
@testable import SparringCore
@testable import SparringSessions
@testable import SparringSpeech

extension Live {

    /// Whole calls through the real recognizer, engine, synthesizer and recorder.
    @Suite("Live calls on the in-memory line", .serialized)
    struct LiveCallTests {
        static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        static let catalog = Catalog.load(scenarios: root.appendingPathComponent("scenarios").path, voices: root.appendingPathComponent("voices").path)
        /// Loaded once for the test process; the suites that run side by side wait for the one load.
        static let sharedModels = Mutex<SpeechModels?>(nil)
        static func models() throws -> SpeechModels {
            let loaded: Swift.Result<SpeechModels, any Error> = sharedModels.withLock { models in
                if let models { return .success(models) }
                do {
                    let made = try SpeechModels()
                    models = made
                    return .success(made)
                } catch { return .failure(error) }
            }
            return try loaded.get()
        }

        /// Handed over from the thread the call ran on, then only read.
        struct Result: @unchecked Sendable {
            var summary: CallSummary
            var events: [SessionEvent]
            var agent: ScriptedAgent
            var audio: WaveFile.Audio
            var rendered: [[Int16]]
        }

        static func call(_ scenarioID: String, script: String, seed: UInt64 = 1, prepare: Bool = true) async throws -> Result {
            let models = try models()
            let agent = try models.scriptedAgent(try ScriptStep.parse(script), voice: .festival("cmu_us_slt_arctic_hts"), rate: 16_000)
            return try await call(scenarioID, agent: agent, seed: seed, prepare: prepare)
        }

        static func call(_ scenarioID: String, agent: ScriptedAgent, seed: UInt64 = 1, prepare: Bool = true) async throws -> Result {
            try await call(try #require(catalog.scenarios.first { $0.id == scenarioID }), agent: agent, seed: seed, prepare: prepare)
        }

        /// A whole call on the in-memory line, waited for on a thread of its own rather than on one of
        /// the test tasks' shared threads (a call blocks its caller until it ends).
        static func call(_ scenario: Scenario, agent: ScriptedAgent, seed: UInt64 = 1, prepare: Bool = true) async throws -> Result {
            nonisolated(unsafe) let agent = agent
            return try await onOwnThread { try blockingCall(scenario, agent: agent, seed: seed, prepare: prepare) }
        }

        static func blockingCall(_ scenario: Scenario, agent: ScriptedAgent, seed: UInt64, prepare: Bool) throws -> Result {
            let models = try models()
            let rendered = agent.lines
            let line = MemoryLine(farEnd: agent)
            let sessions = FileManager.default.temporaryDirectory.appendingPathComponent("sparring-live-\(UUID())").path
            var options = CallOptions(scenario: scenario, agent: "test", seed: seed, sessions: sessions)
            options.maxMinutes = 4
            options.prepareReplies = prepare
            let live = try LiveCall(line: line, options: options, models: models)
            line.settled = { live.isSettled() }
            let summary = try live.run()
            let events = try Self.events(in: live.session.directory)
            let audio = try WaveFile.read(path: live.session.wavPath)
            return Result(summary: summary, events: events, agent: agent, audio: audio, rendered: rendered)
        }

        @Test("a reply prepared while the agent pauses is the same line, at the same time, as one synthesized after the turn")
        func preparedReplies() async throws {
            let script = try Self.skilled("tenant-repair")
            let prepared = try await Self.call("tenant-repair", script: script)
            let plain = try await Self.call("tenant-repair", script: script, prepare: false)
            let starts = prepared.events.filter { $0.type == "caller_line_start" }
            let plainStarts = plain.events.filter { $0.type == "caller_line_start" }
            func fromPrepared(_ event: SessionEvent) -> Bool { if case .callerLineStart(_, _, true) = event.kind { true } else { false } }
            #expect(starts.filter(fromPrepared).count >= 3, "too few replies came from prepared audio")
            #expect(!plain.events.contains(where: fromPrepared))
            // The same caller lines in the same order, starting within 100 ms of each other, and a call
            // of the same length. (Not sample for sample: eSpeak NG carries amplitude and echo state
            // from one synthesis to the next, so a line sounds slightly different after another one.)
            #expect(starts.map(\.text) == plainStarts.map(\.text))
            #expect(zip(starts, plainStarts).allSatisfy { abs($0.t - $1.t) < 0.1 }, "\(zip(starts, plainStarts).map { ($0.t, $1.t) })")
            #expect(abs(prepared.audio.frames - plain.audio.frames) < 1_600)
            #expect(prepared.summary.outcome == plain.summary.outcome)
        }

        /// The events of the session in `directory`, in order.
        static func events(in directory: String) throws -> [SessionEvent] {
            let text = try String(contentsOfFile: directory + "/events.jsonl", encoding: .utf8)
            return try text.split(separator: "\n").map { try JSONDecoder().decode(SessionEvent.self, from: Data($0.utf8)) }
        }

        static func skilled(_ id: String) throws -> String {
            try String(contentsOfFile: root.appendingPathComponent("scenarios/scripts/\(id).skilled.txt").path, encoding: .utf8)
        }

        @Test("a skilled agent: the caller opens, answers every line, and agrees; the recording is aligned")
        func skilledCall() async throws {
            let result = try await Self.call("debt-threat", script: try Self.skilled("debt-threat"))
            #expect(result.summary.outcome == "agree")
            #expect(result.summary.score?.passed == true)
            #expect(result.summary.ended_by == "caller")
            // The audio thread's priority is reported once, at the start, whatever it got.
            let priority = result.events.filter { $0.type == "audio_thread" }
            #expect(priority.count == 1 && priority.first?.t == 0)
            #expect(priority.first.map { event in
                guard case let .audioThread(realtime, note) = event.kind else { return false }
                return realtime == note.hasPrefix("audio thread running SCHED_FIFO")
            } == true, "\(priority)")
            // The caller speaks first.
            let firstCaller = try #require(result.events.first { $0.type == "caller_line_start" })
            let firstAgent = try #require(result.events.first { $0.type == "agent_speech_start" })
            #expect(firstCaller.t < firstAgent.t)
            // Every agent line was heard and got a caller reply. A line the agent paused in for
            // longer than its earlier pauses can be heard in two parts: the caller answered into
            // the pause and gave the floor back (took_turn_early), once per extra part. With the 200 ms
            // base hold that happens at sentence breaks longer than any pause the agent made before
            // (twice in this script's ten lines); more would mean the hold stopped learning.
            let utterances = result.events.filter { $0.type == "utterance" }
            let early = result.events.filter { $0.type == "took_turn_early" }.count
            #expect(early <= 2)
            #expect(utterances.count == result.agent.lineStarts.count + early)
            #expect(result.summary.turn_gap_ms.count >= result.agent.lineStarts.count)
            // Anger went down, trust up.
            let moods = result.events.compactMap(\.meters)
            #expect(moods.last!["anger"]! < 40 && moods.last!["trust"]! > 55)

            // call.wav: channel 1 is exactly what the agent said, where it said it; channel 2 exactly what it heard.
            #expect(result.audio.channels == 2 && result.audio.rate == 16_000)
            let agentChannel = result.audio.channel(0), callerChannel = result.audio.channel(1)
            for (start, samples) in zip(result.agent.lineStarts, result.rendered) {
                // A line past the recording's end fails here rather than crashing the test process.
                guard start >= 0, start + samples.count <= agentChannel.count else {
                    Issue.record("agent line at frame \(start) (\(samples.count) samples) lies past the recording's \(agentChannel.count)")
                    continue
                }
                #expect(Array(agentChannel[start..<start + samples.count]) == samples, "agent line at frame \(start) misplaced")
            }
            #expect(callerChannel.count == result.agent.heard.count)
            #expect(callerChannel == result.agent.heard)
            #expect(result.summary.xruns == 0)

            // summary.json holds what the supervisor tools need.
            let directory = try #require(result.summary.session)
            let json = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: directory + "/summary.json"))) as? [String: Any]
            for key in ["id", "scenario", "agent", "started_at", "duration_s", "outcome", "score", "turn_gap_ms", "xruns", "transcript"] {
                #expect(json?[key] != nil, "summary.json lacks \(key)")
            }
            let attributes = try FileManager.default.attributesOfItem(atPath: directory)
            #expect((attributes[.posixPermissions] as? Int) == 0o700)
            #expect((try FileManager.default.attributesOfItem(atPath: directory + "/call.wav")[.posixPermissions] as? Int) == 0o600)
        }

        @Test("a dismissive agent is escalated or hung up on")
        func dismissiveCall() async throws {
            let script = try String(contentsOfFile: Self.root.appendingPathComponent("scenarios/scripts/debt-threat.dismissive.txt").path, encoding: .utf8)
            let result = try await Self.call("debt-threat", script: script)
            #expect(["hang_up", "escalate"].contains(result.summary.outcome))
            #expect(result.summary.score?.passed == false)
            #expect(result.events.contains { $0.moves.contains { $0.move == "calm_down" } })
        }

        @Test("dead air: the caller prompts, then hangs up, and the call ends by itself")
        func deadAir() async throws {
            let result = try await Self.call("debt-threat", script: "[silence 30]\n")
            let prompts = result.events.filter { $0.kind == .trigger("dead_air") }
            #expect(prompts.count >= 2)
            #expect(result.events.contains { $0.type == "caller_line" && $0.text?.hasPrefix("Hello?") == true })
            #expect(result.summary.outcome == "hang_up")
            // The agent never spoke: the call measures nothing about them, so it has no score.
            #expect(result.summary.score == nil)
            #expect(result.summary.unscored?.hasPrefix("no agent speech") == true)
            // The first prompt comes 6 s (the scenario's dead_air.after) after the opening line ends.
            let openingEnd = try #require(result.events.first { $0.type == "caller_line_end" })
            #expect(abs(prompts[0].t - openingEnd.t - 6) < 0.1, "prompt at \(prompts[0].t), opening ended \(openingEnd.t)")
        }

        @Test("barge-in: a yielding caller stops within 150 ms of the agent starting")
        func bargeIn() async throws {
            let result = try await Self.call("tenant-repair", script: "[interrupt] Good morning, you are through to the repairs team, my name is Sam.\n")
            let barge = try #require(result.events.first { $0.type == "barge_in" })
            #expect(barge.kind == .bargeIn(yielded: true))
            let stop = try #require(result.events.first { $0.type == "barge_in_stop" })
            guard case let .bargeInStop(latency) = stop.kind else { Issue.record("\(stop)"); return }
            print("barge-in stop latency \(latency) ms")
            #expect(latency <= 150)
            // On the recording, the caller's channel falls silent soon after the agent's first sample.
            let agentStart = try #require(result.agent.lineStarts.first)
            let caller = result.audio.channel(1)
            let after = caller[(agentStart + 16_000 * 3 / 10)..<(agentStart + 16_000)]
            #expect(!after.contains(where: Audibility.isAudible), "caller still audible 300 ms after the agent began")
            // As recorded: the caller's last audible sample after the agent's first audible one.
            let agentChannel = result.audio.channel(0)
            let agentVoice = try #require(agentChannel[agentStart...].firstIndex(where: Audibility.isAudible))
            let window = caller[agentVoice..<(agentVoice + 16_000)]
            let lastAudible = window.lastIndex(where: Audibility.isAudible) ?? agentVoice
            let recorded = Double(lastAudible - agentVoice) / 16
            print("barge-in: caller's last audible sample \(recorded) ms after the agent's first, on the recording")
            #expect(recorded <= 150)
        }

        /// A cough: a burst of noise with a sharp attack and a 250 ms decay, loud, without a pitch.
        static func cough(seconds: Double = 0.35, seed: UInt64 = 3) -> [Int16] {
            var generator = SeededRandom(seed: seed)
            var low: Double = 0
            return (0..<Int(seconds * 16_000)).map { index in
                let t = Double(index) / 16_000
                let envelope = min(1, t / 0.01) * exp(-t / 0.12)
                low += (Double.random(in: -1...1, using: &generator) - low) * 0.5
                return Int16(max(-32_000, min(32_000, low * envelope * 24_000)))
            }
        }

        @Test("a cough over a yielding caller is no barge-in: the caller goes on")
        func coughIsNoBargeIn() async throws {
            let result = try await Self.call("tenant-repair", agent: ScriptedAgent(steps: [.say(Self.cough(), interrupting: true)], rate: 16_000))
            // PocketSphinx's VAD heard something (so a rule on its speech start would have barged in):
            // the cough is logged as a noise ignored, or as speech that no voice backs ...
            #expect(result.events.contains { $0.type == "agent_noise" || $0.type == "agent_speech_start" },
                    "the cough was too quiet to test anything")
            // ... but the caller was not interrupted.
            #expect(!result.events.contains { $0.type == "barge_in" })
            #expect(!result.events.contains { if case .callerLineEnd(_, true) = $0.kind { true } else { false } })
        }
    }

    @Suite("ALSA lines", .serialized)
    struct ALSALineTests {
        @Test("a missing capture device is one clear error naming it, and the session is kept")
        func missingDevice() throws {
            let scenario = try #require(LiveCallTests.catalog.scenarios.first)
            let sessions = FileManager.default.temporaryDirectory.appendingPathComponent("sparring-alsa-\(UUID())").path
            let live = try LiveCall(line: ALSALine(capture: "hw:97,0", playback: "hw:97,0"),
                                    options: CallOptions(scenario: scenario, agent: "t", seed: 1, sessions: sessions),
                                    models: try LiveCallTests.models())
            do {
                _ = try live.run()
                Issue.record("a call on a missing device ran")
            } catch {
                #expect(error.message.contains("hw:97,0"))
                #expect(!error.message.contains("\n"))
            }
            let summary = try String(contentsOfFile: live.session.directory + "/summary.json", encoding: .utf8)
            #expect(summary.contains("\"ended_by\" : \"device\""))
        }
    }

    /// An in-memory line with something done before each capture (the period's number is given):
    /// a device that fails after some periods, a disk that fills. It keeps the inner line's pace.
    final class HookedLine: DuplexLine {
        let inner: MemoryLine<ScriptedAgent>
        let name: String
        private let beforeCapture: (Int) throws(LineError) -> Void
        private var periods = 0
        var rate: Int { inner.rate }
        var periodFrames: Int { inner.periodFrames }
        var xruns: Int { 0 }
        var runsInRealTime: Bool { inner.runsInRealTime }
        init(inner: MemoryLine<ScriptedAgent>, name: String, beforeCapture: @escaping (Int) throws(LineError) -> Void) {
            self.inner = inner
            self.name = name
            self.beforeCapture = beforeCapture
        }
        func start() throws(LineError) {}
        func capture(into buffer: UnsafeMutablePointer<Int16>, frames: Int) throws(LineError) -> Int {
            periods += 1
            try beforeCapture(periods)
            return try inner.capture(into: buffer, frames: frames)
        }
        func play(_ buffer: UnsafePointer<Int16>, frames: Int) throws(LineError) { try inner.play(buffer, frames: frames) }
        func stop() {}
    }

    @Suite("Line rates and failures", .serialized)
    struct LineFailureTests {
        @Test("a device that vanishes mid-call: one line naming it, the session so far saved")
        func vanishingDevice() throws {
            let scenario = try #require(LiveCallTests.catalog.scenarios.first { $0.id == "debt-threat" })
            let models = try LiveCallTests.models()
            let agent = ScriptedAgent(steps: [.silence(60)], rate: 16_000)
            let memory = MemoryLine(farEnd: agent)
            // Pulled out 4 s into the call, like a headset.
            let line = HookedLine(inner: memory, name: "usb-headset") { (period: Int) throws(LineError) in
                if period > 400 { throw LineError(device: "usb-headset", "capture stopped: No such device") }
            }
            let sessions = FileManager.default.temporaryDirectory.appendingPathComponent("sparring-vanish-\(UUID())").path
            let live = try LiveCall(line: line, options: CallOptions(scenario: scenario, agent: "t", seed: 1, sessions: sessions), models: models)
            memory.settled = { live.isSettled() }
            do {
                _ = try live.run()
                Issue.record("the call did not report the failed device")
            } catch {
                #expect(error.message.hasPrefix("usb-headset: capture stopped"))
                #expect(error.message.contains(live.session.directory))
            }
            let summary = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: live.session.directory + "/summary.json"))) as? [String: Any]
            #expect(summary?["ended_by"] as? String == "device")
            let audio = try WaveFile.read(path: live.session.wavPath)
            #expect(abs(audio.seconds - 4) < 0.1, "recorded \(audio.seconds) s")
            let events = try String(contentsOfFile: live.session.directory + "/events.jsonl", encoding: .utf8)
            #expect(events.contains("\"type\":\"line_error\""))
            #expect(events.contains("caller_line_start"))
        }

        @Test("a 48 kHz line: resampled for the recognizer and from eSpeak NG, recorded at 48 kHz")
        func rate48k() throws {
            let scenario = try #require(LiveCallTests.catalog.scenarios.first { $0.id == "debt-threat" })
            let models = try LiveCallTests.models()
            let lines = ["Calm down sir, there is no need to shout.", "Those are the rules, you should have paid on time."]
            let agent = ScriptedAgent(steps: try lines.map { .say(try models.renderFestival($0, voice: "cmu_us_slt_arctic_hts", rate: 48_000), interrupting: false) }, rate: 48_000)
            let line = MemoryLine(farEnd: agent, rate: 48_000)
            let sessions = FileManager.default.temporaryDirectory.appendingPathComponent("sparring-48k-\(UUID())").path
            let live = try LiveCall(line: line, options: CallOptions(scenario: scenario, agent: "t", seed: 1, sessions: sessions), models: models)
            line.settled = { live.isSettled() }
            let summary = try live.run()
            #expect(["hang_up", "escalate"].contains(summary.outcome), "recognized: \(summary.transcript)")
            let audio = try WaveFile.read(path: live.session.wavPath)
            #expect(audio.rate == 48_000 && audio.channels == 2)
            // The caller's voice reached the line at 48 kHz: audible, and it lasts as long as the lines say.
            let caller = audio.channel(1)
            #expect(caller.filter(Audibility.isAudible).count > 48_000)
        }
    }

}

extension Live {
    /// A line that answers at once with silence, as ALSA's `null` does; `live` says whether it claims to keep real time.
    final class NullLine: DuplexLine {
        let runsInRealTime: Bool
        init(live: Bool) { runsInRealTime = live }
        let rate = 16_000
        let periodFrames = 160
        let name = "null"
        var xruns: Int { 0 }
        func start() throws(LineError) {}
        func capture(into buffer: UnsafeMutablePointer<Int16>, frames: Int) throws(LineError) -> Int {
            buffer.update(repeating: 0, count: frames)
            return frames
        }
        func play(_ buffer: UnsafePointer<Int16>, frames: Int) throws(LineError) {}
        func stop() {}
    }

    @Suite("Overruns", .serialized)
    struct OverrunTests {
        @Test("audio that comes faster than the recorder drains it is counted: an overrun event and the summary say how much was dropped")
        func overrunsReported() throws {
            let scenario = try #require(LiveCallTests.catalog.scenarios.first { $0.id == "debt-threat" })
            let sessions = FileManager.default.temporaryDirectory.appendingPathComponent("sparring-overrun-\(UUID())").path
            var options = CallOptions(scenario: scenario, agent: "t", seed: 1, sessions: sessions)
            options.maxMinutes = 0.5
            // Not claiming real time: nothing stops it, and the recorder cannot keep up.
            let live = try LiveCall(line: NullLine(live: false), options: options, models: try LiveCallTests.models())
            let summary = try live.run()
            let overruns = try #require(summary.overruns, "no overruns reported for 30 s of audio delivered at once")
            #expect(overruns.recording > 0)
            let events = try LiveCallTests.events(in: live.session.directory)
            let event = try #require(events.first { $0.type == "overrun" })
            guard case let .overrun(count, _) = event.kind else { Issue.record("\(event)"); return }
            #expect(count == overruns.capture + overruns.recording)
            // The recording holds what was not dropped: less than the call's 30 s.
            let audio = try WaveFile.read(path: live.session.wavPath)
            #expect(audio.seconds < summary.duration_s)
        }

        @Test("a device that claims to be live but delivers audio faster than real time ends the call with one line naming it")
        func fasterThanRealTime() throws {
            let scenario = try #require(LiveCallTests.catalog.scenarios.first { $0.id == "debt-threat" })
            let sessions = FileManager.default.temporaryDirectory.appendingPathComponent("sparring-null-\(UUID())").path
            var options = CallOptions(scenario: scenario, agent: "t", seed: 1, sessions: sessions)
            options.maxMinutes = 20
            let live = try LiveCall(line: NullLine(live: true), options: options, models: try LiveCallTests.models())
            do {
                _ = try live.run()
                Issue.record("a line running faster than real time was taken for a live one")
            } catch {
                #expect(error.message.hasPrefix("null: capture runs faster than real time"), "\(error.message)")
            }
            let summary = try SessionStore(root: sessions).load(live.session.id).summary
            #expect(summary.ended_by == "device")
            #expect(summary.duration_s < 60, "the call clock ran to \(summary.duration_s) s")
        }
    }
}
