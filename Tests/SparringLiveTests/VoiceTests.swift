import Foundation
import Testing
@testable import SparringAudio
@testable import SparringCore
import SparringSessions
@testable import SparringSpeech

extension Live {

    /// Every caller can speak: voices are heard before a call depends on them.
    @Suite("Caller voices", .serialized)
    struct VoiceTests {
        static var root: URL { LiveCallTests.root }

        /// A voice file written to a fresh directory, as an author would.
        static func voiceFile(_ name: String, _ text: String) throws -> String {
            let directory = FileManager.default.temporaryDirectory.appendingPathComponent("sparring-voices-\(UUID())/voices")
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            let path = directory.appendingPathComponent("\(name).yaml").path
            try text.write(toFile: path, atomically: true, encoding: .utf8)
            return path
        }

        static func audition(_ text: String) throws -> Problem? {
            let path = try voiceFile("caller", text)
            let (voice, problems) = VoiceProfile.load(path: path)
            #expect(problems.isEmpty)
            let models = try LiveCallTests.models()
            return models.audition(try #require(voice))
        }

        @Test("a voice eSpeak NG lacks, a non-English voice and an unknown variant are problems at their line")
        func badVoices() throws {
            let missing = try #require(try Self.audition("description: x\nespeak_voice: en-gb\n"))
            #expect(missing.line == 2 && missing.field == "espeak_voice")
            #expect(missing.message.contains("no voice 'en-gb'") && missing.message.contains("en-US"), "\(missing)")
            let klingon = try #require(try Self.audition("espeak_voice: klingon\n"))
            #expect(klingon.line == 1 && klingon.message.contains("English"), "\(klingon)")
            let variant = try #require(try Self.audition("espeak_voice: en-us\nvariant: zz\n"))
            #expect(variant.line == 2 && variant.field == "variant", "\(variant)")
            let silent = try #require(try Self.audition("espeak_voice: en-us\nvolume: 0\n"))
            #expect(silent.message.contains("silent when calm"), "\(silent)")
            #expect(try Self.audition("espeak_voice: en-us\nvariant: f2\n") == nil)
        }

        @Test("every shipped voice speaks at every mood")
        func shippedVoices() throws {
            let models = try LiveCallTests.models()
            let catalog = Catalog.load(scenarios: Self.root.appendingPathComponent("scenarios").path,
                                       voices: Self.root.appendingPathComponent("voices").path, audition: models.audition)
            #expect(catalog.problems.isEmpty, "\(catalog.problems)")
            #expect(catalog.voices.count == 11 && catalog.scenarios.count == LiveCallTests.catalog.scenarios.count)
        }

        @Test("a scenario whose voice cannot speak is skipped with the voice's problem, and asking for it says why")
        func muteScenario() throws {
            let voices = URL(fileURLWithPath: try Self.voiceFile("debtor", "espeak_voice: en-gb\nvariant: m3\n")).deletingLastPathComponent().path
            let models = try LiveCallTests.models()
            let catalog = Catalog.load(scenarios: Self.root.appendingPathComponent("scenarios").path, voices: voices, audition: models.audition)
            #expect(!catalog.scenarios.contains { $0.id == "debt-threat" })
            let problem = try #require(catalog.problems.first { $0.file.hasSuffix("debt-threat.yaml") })
            #expect(problem.field == "persona.voice" && problem.description.contains("debtor.yaml:1: espeak_voice:"), "\(problem)")
            #expect(throws: SparringError.self) { try catalog.scenario("debt-threat") }
            do { _ = try catalog.scenario("debt-threat") } catch {
                #expect(error.message.hasPrefix("scenario 'debt-threat' cannot be used: ") && error.message.contains("no voice 'en-gb'"))
            }
        }

        @Test("every line of every shipped scenario is audible in its caller's voice at the mood it is written for")
        func everyLineSpeaks() throws {
            let models = try LiveCallTests.models()
            var spoken = 0
            for scenario in LiveCallTests.catalog.scenarios {
                let voice = scenario.persona.voice
                for (place, mood, text) in scenario.everyLine {
                    var audible = 0, total = 0
                    models.synthesizerWorker.sync {
                        _ = try? models.synthesizer.speak(text, voice: voice.espeakName, prosody: voice.prosody(for: mood)) { samples in
                            total += samples.count
                            for sample in samples where Audibility.isAudible(sample) { audible += 1 }
                        }
                    }
                    // A person needs a syllable at least: 0.15 s of sound, a fifth of the line at least.
                    let seconds = Double(audible) / Double(models.synthesizer.sampleRate)
                    #expect(seconds >= 0.15 && audible * 5 >= total, "\(scenario.file) \(place) (\(mood)): '\(text)' \(seconds) s audible")
                    spoken += 1
                }
            }
            #expect(spoken > 300)
        }

        @Test("a line the caller's voice cannot speak is an event, and the agent hears it in the fallback voice")
        func synthesisFailure() async throws {
            var scenario = try #require(LiveCallTests.catalog.scenarios.first { $0.id == "debt-threat" })
            scenario.persona.voice.espeakVoice = "en-gb"
            let models = try LiveCallTests.models()
            let agent = try models.scriptedAgent(try ScriptStep.parse("[silence 8]\n"), voice: .festival("cmu_us_slt_arctic_hts"), rate: 16_000)
            let result = try await LiveCallTests.call(scenario, agent: agent)
            let failures = result.events.filter { $0.type == "synthesis_error" }
            #expect(!failures.isEmpty)
            let reasons = failures.map { event -> String in if case let .synthesisError(_, reason) = event.kind { reason } else { "" } }
            #expect(reasons.allSatisfy { $0.contains("no voice 'en-gb+m3'") && $0.contains("spoken in 'en'") }, "\(reasons)")
            // Not silence: the opening line is on the recording.
            let opened = try #require(result.events.first { $0.type == "caller_line_start" })
            let ended = try #require(result.events.first { $0.type == "caller_line_end" })
            #expect(ended.t - opened.t > 1)
        }
    }
}

extension Live.LiveCallTests {
    @Test("a strict caller: the difficulty shifts the meters, is saved in the session and shown in the report")
    func difficulty() async throws {
        let scenario = try #require(Self.catalog.scenarios.first { $0.id == "debt-threat" })
        let models = try Self.models()
        let agent = try models.scriptedAgent(try ScriptStep.parse("[silence 3]\n"), voice: .festival("cmu_us_slt_arctic_hts"), rate: 16_000)
        let result = try await Self.call(scenario.at(.strict), agent: agent)
        #expect(result.summary.difficulty == "strict")
        let directory = try #require(result.summary.session)
        let stored = try SessionStore(root: URL(fileURLWithPath: directory).deletingLastPathComponent().path)
            .load(URL(fileURLWithPath: directory).lastPathComponent)
        #expect(stored.summary.difficulty == "strict")
        let html = SessionReport.html(stored, audio: result.audio)
        #expect(html.contains("<span id=\"difficulty\">strict caller</span>"))
        // Headed by the scenario's title and the caller's situation, not its id.
        #expect(html.contains("<h1>\(SessionReport.escape(scenario.title))</h1>"))
        #expect(html.contains("<p class=\"situation\">Rune received a collection notice"))
        // The agent kept silent: the banner says so; the caller spoke.
        #expect(html.contains("The agent said nothing audible") && !html.contains("The caller said nothing audible"))
    }
}
