import Foundation
import Testing
@testable import SparringAudio
import SparringCore
@testable import SparringSpeech

extension Live {

    /// The real PocketSphinx, eSpeak NG and speexdsp on real audio. The decoders are
    /// serialized: eSpeak NG is process-global, and a decoder costs ~100 MB.
    @Suite("Speech libraries", .serialized)
    struct SpeechTests {
        static let testData = "/usr/share/pocketsphinx/test/data"

        /// Feeds audio in 10 ms periods, as the live loop does, and collects the utterances.
        static func recognize(_ samples: [Int16], recognizer: Recognizer) -> [RecognizedUtterance] {
            var utterances: [RecognizedUtterance] = []
            samples.withUnsafeBufferPointer { all in
                var offset = 0
                while offset < all.count {
                    let count = min(160, all.count - offset)
                    for event in recognizer.process(UnsafeBufferPointer(rebasing: all[offset..<offset + count])) {
                        if case let .utterance(utterance) = event { utterances.append(utterance) }
                    }
                    offset += count
                }
            }
            // Half a second of silence lets the end-of-turn hangover run out.
            let silence = [Int16](repeating: 0, count: 160)
            for _ in 0..<80 {
                silence.withUnsafeBufferPointer { buffer in
                    for event in recognizer.process(buffer) { if case let .utterance(u) = event { utterances.append(u) } }
                }
            }
            if let last = recognizer.flush() { utterances.append(last) }
            return utterances
        }

        static func raw(_ path: String) throws -> [Int16] {
            let data = try Data(contentsOf: URL(fileURLWithPath: path))
            return data.withUnsafeBytes { Array($0.bindMemory(to: Int16.self)) }
        }

        @Test("goforward.raw is recognized as 'go forward ten meters'")
        func goForward() throws {
            let recognizer = try Recognizer()
            let utterances = Self.recognize(try Self.raw("\(Self.testData)/goforward.raw"), recognizer: recognizer)
            let text = utterances.map(\.text).joined(separator: " ")
            #expect(text == "go forward ten meters")
            let words = try #require(utterances.first?.words)
            #expect(words.map(\.word) == ["go", "forward", "ten", "meters"])
            #expect(zip(words, words.dropFirst()).allSatisfy { $0.start <= $1.start })
            #expect(utterances.allSatisfy { $0.finalizeSeconds < 0.1 })
        }

        @Test("the LibriVox clips are recognized within 35 % word error rate")
        func librivox() throws {
            let recognizer = try Recognizer()
            let directory = "\(Self.testData)/librivox"
            let lines = try String(contentsOfFile: "\(directory)/transcription", encoding: .utf8).split(separator: "\n")
            var errors = 0, words = 0
            for line in lines {
                let id = String(line[line.index(after: line.lastIndex(of: "(")!)..<line.lastIndex(of: ")")!])
                let reference = line.replacingOccurrences(of: "<s>", with: "").replacingOccurrences(of: "</s>", with: "")
                    .replacingOccurrences(of: "(\(id))", with: "")
                let audio = try WaveFile.read(path: "\(directory)/\(id).wav")
                #expect(audio.rate == 16_000)
                let hypothesis = Self.recognize(audio.samples, recognizer: recognizer).map(\.text).joined(separator: " ")
                let ref = Words.normalize(reference)
                errors += WordErrorRate.errors(reference: ref, hypothesis: Words.normalize(hypothesis))
                words += ref.count
            }
            let wer = Double(errors) / Double(words)
            print("librivox WER \(String(format: "%.1f", wer * 100)) % (\(errors)/\(words) words)")
            #expect(wer < 0.35)
        }

        @Test("the synthesizer produces audible speech of plausible length")
        func synthesize() throws {
            let synthesizer = try Synthesizer()
            #expect(synthesizer.sampleRate == 22_050)
            var samples: [Int16] = []
            let completed = try synthesizer.speak("I have been waiting six weeks for a plumber.", voice: "en-us+f3",
                                                  prosody: Prosody(rate: 170, pitch: 55, range: 55, volume: 100)) {
                samples.append(contentsOf: $0)
            }
            #expect(completed)
            let seconds = Double(samples.count) / 22_050
            #expect(seconds > 1.5 && seconds < 5, "\(seconds) s")
            let rms = (samples.reduce(0.0) { $0 + Double($1) * Double($1) } / Double(samples.count)).squareRoot()
            #expect(rms > 500, "rms \(rms)")
        }

        @Test("every shipped caller speaks audibly at every mood, with its exact voice and variant")
        func everyCallerSpeaks() throws {
            let synthesizer = try Synthesizer()
            let root = Live.LiveCallTests.root
            let catalog = Catalog.load(scenarios: root.appendingPathComponent("scenarios").path, voices: root.appendingPathComponent("voices").path)
            #expect(catalog.problems.isEmpty, "\(catalog.problems)")
            for scenario in catalog.scenarios {
                for mood in MoodBand.allCases {
                    let voice = scenario.persona.voice
                    var samples: [Int16] = []
                    try synthesizer.speak("I have been waiting three weeks.", voice: voice.espeakName, prosody: voice.prosody(for: mood)) {
                        samples.append(contentsOf: $0)
                    }
                    let audible = samples.filter(Audibility.isAudible).count
                    #expect(audible > 2_205, "\(scenario.id) (\(voice.espeakName), \(mood)): \(audible) audible samples")
                }
            }
        }

        @Test("corpus lines spoken by Festival and eSpeak NG are cached, recognized, and keep their moves")
        func spokenCorpus() throws {
            let cache = FileManager.default.temporaryDirectory.appendingPathComponent("sparring-corpus-test-\(UUID().uuidString)")
            defer { try? FileManager.default.removeItem(at: cache) }
            let synthesizer = try Synthesizer()
            let lines = ["I'm really sorry we let you down.", "Calm down, there's no need to shout.", "Hello, my name is Sam from the repairs team."]
            let slow = SpokenCorpus.voices[0], fast = SpokenCorpus.voices[1]
            let audio = try SpokenCorpus.render(lines, voice: slow, synthesizer: synthesizer, cache: cache)
            let quicker = try SpokenCorpus.render(lines, voice: fast, synthesizer: synthesizer, cache: cache)
            #expect(audio.allSatisfy { $0.count > 8_000 })
            // 1.25 times as fast is about four fifths as long.
            for (a, b) in zip(audio, quicker) { #expect(abs(Double(b.count) / Double(a.count) - 0.8) < 0.05, "\(a.count) → \(b.count)") }
            // A second render reads the cache: the same samples, and nothing new written.
            let files = try FileManager.default.contentsOfDirectory(atPath: cache.appendingPathComponent(slow.name).path).count
            #expect(try SpokenCorpus.render(lines, voice: slow, synthesizer: synthesizer, cache: cache) == audio)
            #expect(try FileManager.default.contentsOfDirectory(atPath: cache.appendingPathComponent(slow.name).path).count == files)
            let espeak = try SpokenCorpus.render(lines, voice: SpokenCorpus.voices[2], synthesizer: synthesizer, cache: cache)
            #expect(espeak.allSatisfy { $0.count > 8_000 })

            let recognizer = try Recognizer()
            let library = Catalog.load(scenarios: Live.LiveCallTests.root.appendingPathComponent("scenarios").path,
                                       voices: Live.LiveCallTests.root.appendingPathComponent("voices").path).library
            try recognizer.useBias(LanguageBias(sentences: LanguageBias.text(for: library)), name: "moves", weight: Recognizer.biasWeight)
            let heard = SpokenCorpus.hear(audio, recognizer: recognizer)
            let moves = MoveRecognizer.make(library)
            let found = heard.map { Set(moves.recognize($0).map(\.move)) }
            print("spoken corpus lines heard as: \(heard.map { $0.first?.words.joined(separator: " ") ?? "" }) → \(found)")
            #expect(found[0].contains("apology"))
            #expect(found[1].contains("calm_down"))
            #expect(found[2].contains("greeting"))
            #expect(heard.allSatisfy { $0.first?.confidence?.isEmpty == false })
            // Every line is its own utterance on one decoder: the lattice of the second and third
            // must be read at their own frames, or their words all come out at confidence 0.
            for (line, reading) in zip(lines, heard) {
                let confidence = reading.first?.confidence ?? []
                let mean = confidence.reduce(0, +) / Double(max(1, confidence.count))
                #expect(mean > 0.4, "\(line): word confidences \(confidence)")
            }
        }

        @Test("speexdsp's noise suppressor, once it has heard the room, takes steady noise down")
        func noiseSuppressor() {
            let pink = RoomNoise.pink(count: 48_000, seed: 5)
            var samples = pink.map { Int16(clamping: Int($0 * 3_000)) }
            let suppressor = NoiseSuppressor()
            suppressor.process(&samples)
            func rms(_ x: ArraySlice<Int16>) -> Double { (x.map { Double($0) * Double($0) }.reduce(0, +) / Double(x.count)).squareRoot() }
            let before = rms(pink.map { Int16(clamping: Int($0 * 3_000)) }[32_000...]), after = rms(samples[32_000...])
            #expect(20 * log10(before / after) > 6, "\(before) -> \(after)")
        }

        @Test("noise is mixed in at the stated SNR")
        func noiseLevel() throws {
            let speech = (0..<32_000).map { Int16(clamping: Int(8_000 * sin(Double($0) * 0.05))) }
            for snr in [10.0, 20.0] {
                let noisy = SpokenCorpus.withNoise(speech, snr: snr, seed: 3)
                let noise = zip(noisy, speech).map { Double($0) - Double($1) }
                let signalPower = speech.map { Double($0) * Double($0) }.reduce(0, +) / Double(speech.count)
                let noisePower = noise.map { $0 * $0 }.reduce(0, +) / Double(noise.count)
                let measured = 10 * log10(signalPower / noisePower)
                #expect(abs(measured - snr) < 1, "asked \(snr) dB, got \(measured)")
            }
        }

        @Test("a faster, louder prosody is faster and louder")
        func prosody() throws {
            let synthesizer = try Synthesizer()
            func measure(_ prosody: Prosody) throws -> (Double, Double) {
                var samples: [Int16] = []
                try synthesizer.speak("You people are thieves, you know that?", voice: "en-us+m3", prosody: prosody) { samples.append(contentsOf: $0) }
                let rms = (samples.reduce(0.0) { $0 + Double($1) * Double($1) } / Double(samples.count)).squareRoot()
                return (Double(samples.count) / 22_050, rms)
            }
            let calm = try measure(Prosody(rate: 160, pitch: 40, range: 45, volume: 100))
            let furious = try measure(Prosody(rate: 200, pitch: 54, range: 70, volume: 150))
            #expect(furious.0 < calm.0 * 0.9)
            #expect(furious.1 > calm.1 * 1.2)
        }

        @Test("synthesis stops mid-utterance when asked")
        func cancel() throws {
            let synthesizer = try Synthesizer()
            var full: [Int16] = []
            try synthesizer.speak("This is a long sentence that would take several seconds to say in full.", voice: "en-us", prosody: Prosody(rate: 170, pitch: 50, range: 50, volume: 100)) { full.append(contentsOf: $0) }
            var cut: [Int16] = []
            let completed = try synthesizer.speak("This is a long sentence that would take several seconds to say in full.",
                                                  voice: "en-us", prosody: Prosody(rate: 170, pitch: 50, range: 50, volume: 100),
                                                  shouldStop: { cut.count > 4_000 }) { cut.append(contentsOf: $0) }
            #expect(!completed)
            #expect(cut.count < full.count / 3, "cut \(cut.count) of \(full.count)")
            // The next line speaks normally after a cancelled one.
            var after: [Int16] = []
            #expect(try synthesizer.speak("Hello.", voice: "en-us", prosody: Prosody(rate: 170, pitch: 50, range: 50, volume: 100)) { after.append(contentsOf: $0) })
            #expect(after.count > 2_000)
        }

        @Test("an unknown voice is an error naming it")
        func badVoice() throws {
            let synthesizer = try Synthesizer()
            #expect(throws: SpeechError.self) { try synthesizer.check(voice: "xx-nonexistent") }
        }

        @Test("resampling keeps duration and pitch")
        func resample() throws {
            let resampler = try Resampler(from: 22_050, to: 16_000)
            let tone = (0..<22_050).map { Int16(10_000 * sin(2 * Double.pi * 440 * Double($0) / 22_050)) }
            let out = resampler.resample(tone)
            #expect(abs(out.count - 16_000) < 200, "\(out.count)")
            let crossings = zip(out, out.dropFirst()).filter { $0 < 0 && $1 >= 0 }.count
            #expect(abs(crossings - 440) <= 5, "\(crossings) rising zero crossings")
        }

        /// eSpeak NG's formant voice is recognized poorly by the US model (measured:
        /// about half the words lost), so this checks the chain — synthesis,
        /// resampling, recognition — by a content word coming back, not by WER.
        @Test("synthesized speech comes back through the recognizer")
        func roundTrip() throws {
            let synthesizer = try Synthesizer()
            let resampler = try Resampler(from: synthesizer.sampleRate, to: 16_000)
            var samples: [Int16] = []
            try synthesizer.speak("i understand that must be really stressful", voice: "en-us",
                                  prosody: Prosody(rate: 140, pitch: 50, range: 50, volume: 100)) { samples.append(contentsOf: $0) }
            let recognizer = try Recognizer()
            let speech = resampler.resample(samples)
            let utterances = Self.recognize([Int16](repeating: 0, count: 3_200) + speech, recognizer: recognizer)
            let speechSeconds = Double(speech.count) / 16_000
            // One turn, found where the speech is, with words across it.
            #expect(utterances.count == 1, "\(utterances.map(\.text))")
            let turn = try #require(utterances.first)
            #expect(turn.start.seconds > 0.1 && turn.start.seconds < 0.5, "starts at \(turn.start)")
            #expect(abs(turn.end.seconds - 0.5 - (0.2 + speechSeconds)) < 0.4, "ends at \(turn.end) for \(speechSeconds) s of speech")
            #expect(turn.words.count >= 4, "heard '\(turn.text)'")
        }
    }

    @Suite("Scenario bias", .serialized)
    struct BiasTests {
        static let catalog = Catalog.load(
            scenarios: URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("scenarios").path,
            voices: URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("voices").path)

        @Test("the bias model is valid ARPA whose distributions sum to one")
        func arpaIsNormalized() {
            let bias = LanguageBias(sentences: ["i understand", "i am sorry", "i understand how you feel"])
            let arpa = bias.arpa
            #expect(arpa.hasPrefix("\\data\\"))
            #expect(arpa.contains("ngram 2="))
            // P(w | "i") summed over the vocabulary with back-off equals one.
            var p1: [String: Double] = [:], bow: [String: Double] = [:], p2i: [String: Double] = [:]
            var section = ""
            for line in arpa.split(separator: "\n") {
                if line.hasPrefix("\\") { section = String(line); continue }
                let f = line.split(separator: " ")
                if section == "\\1-grams:", f.count >= 2 { p1[String(f[1])] = pow(10, Double(f[0])!); if f.count == 3 { bow[String(f[1])] = pow(10, Double(f[2])!) } }
                if section == "\\2-grams:", f.count == 3, f[1] == "i" { p2i[String(f[2])] = pow(10, Double(f[0])!) }
            }
            let total = p1.keys.filter { $0 != "<s>" }.reduce(0.0) { sum, w in sum + (p2i[w] ?? bow["i"]! * p1[w]!) }
            #expect(abs(total - 1) < 0.01, "sums to \(total)")
        }

        /// The decoder loads only dictionary entries the generic model has words for;
        /// a scenario word it lacks ("apologised", British spelling) comes in with the bias,
        /// and the shared generic model is not changed by it.
        @Test("the dictionary holds the generic model's words; a scenario word outside them comes with the bias")
        func trimmedDictionary() throws {
            let recognizer = try Recognizer()
            #expect(recognizer.knows("payment") && recognizer.knows("tomorrow"))
            let full = try String(contentsOfFile: AcousticModel.debian.dictionary, encoding: .utf8)
            #expect(full.contains("\napologised "), "cmudict spells it")
            #expect(!recognizer.knows("apologised") && !recognizer.genericModelKnows("apologised"))
            // Utterances recognized before and after the switch come from a working search.
            #expect(Self.recognizeGoForward(recognizer) == "go forward ten meters")
            try recognizer.useBias(LanguageBias(sentences: ["i apologised for the delay", "we can set up a payment plan"]),
                                   name: "apology", weight: Recognizer.biasWeight)
            #expect(recognizer.knows("apologised"))
            #expect(!recognizer.genericModelKnows("apologised"), "the generic model is shared between calls and must stay as read")
            #expect(Self.recognizeGoForward(recognizer) == "go forward ten meters")
            recognizer.useGenericModel()
            #expect(Self.recognizeGoForward(recognizer) == "go forward ten meters")
            // Words no dictionary spells are left out of the bias instead of failing it.
            try recognizer.useBias(LanguageBias(sentences: ["i xqzvv apologised"]), name: "unspellable", weight: Recognizer.biasWeight)
            #expect(!recognizer.knows("xqzvv"))
        }

        @Test("a vocabulary limit keeps the likeliest words; a scenario word beyond it comes with the bias")
        func vocabularyLimit() throws {
            var options = Recognizer.Options()
            options.vocabulary = 5_000
            let recognizer = try Recognizer(options: options)
            #expect(recognizer.knows("the") && recognizer.knows("money"))
            #expect(recognizer.genericModelKnows("reschedule") && !recognizer.knows("reschedule"))
            try recognizer.useBias(LanguageBias(sentences: ["we can reschedule the payments"]), name: "limit", weight: Recognizer.biasWeight)
            #expect(recognizer.knows("reschedule"))
        }

        static func recognizeGoForward(_ recognizer: Recognizer) -> String {
            let samples = (try? SpeechTests.raw("\(SpeechTests.testData)/goforward.raw")) ?? []
            return SpeechTests.recognize(samples, recognizer: recognizer).map(\.text).joined(separator: " ")
        }

        @Test("synthetic eSpeak agent lines with and without the bias")
        func biasHelps() throws {
            let scenario = try #require(Self.catalog.scenarios.first { $0.id == "debt-threat" })
            let synthesizer = try Synthesizer()
            let resampler = try Resampler(from: synthesizer.sampleRate, to: 16_000)
            let agent = try #require(Self.catalog.voices["agent"])
            let lines = [
                "Good afternoon, my name is Sam from the collections team.",
                "I understand, that must be really stressful for you.",
                "Can you tell me what you can afford each month?",
                "What I can do is set up a payment plan for you.",
                "The next step is that you will receive the agreement by Friday.",
                "I can hear that you are angry, and I understand why.",
                "How much could you manage each month?",
                "I can not write off the debt, but the fees stop growing.",
                "So what I am hearing is that you want to pay, but not all at once.",
                "Does that work for you?",
            ]
            let recognizer = try Recognizer()
            let bias = LanguageBias(sentences: LanguageBias.text(for: scenario))
            #expect(recognizer.knows("payment") && !recognizer.knows("xqzvv"))
            let matcher = MoveRecognizer.make(scenario.moves)
            func measure() throws -> (wer: Double, moves: Double) {
                var errors = 0, words = 0, movesRight = 0, movesTotal = 0
                for line in lines {
                    var samples: [Int16] = []
                    try synthesizer.speak(line, voice: agent.espeakName, prosody: agent.base) { samples.append(contentsOf: $0) }
                    let heard = SpeechTests.recognize([Int16](repeating: 0, count: 3_200) + resampler.resample(samples), recognizer: recognizer)
                        .map(\.text).joined(separator: " ")
                    errors += WordErrorRate.errors(reference: Words.normalize(line), hypothesis: Words.normalize(heard))
                    words += Words.normalize(line).count
                    let expected = Set(matcher.recognize(line).map(\.move))
                    let got = Set(matcher.recognize(heard).map(\.move))
                    movesTotal += expected.count
                    movesRight += expected.intersection(got).count
                }
                return (Double(errors) / Double(words), Double(movesRight) / Double(movesTotal))
            }
            let generic = try measure()
            try recognizer.useBias(bias, name: scenario.id, weight: Recognizer.biasWeight)
            let biased = try measure()
            print(String(format: "synthetic agent lines: WER %.0f %% → %.0f %%, move accuracy %.0f %% → %.0f %% with the scenario bias",
                         generic.wer * 100, biased.wer * 100, generic.moves * 100, biased.moves * 100))
            // eSpeak's output (and so these figures) varies between runs in one process
            // (generic WER measured 36–51 %); the bias's effect is within that, so the
            // test holds it to doing no real harm rather than to a gain.
            #expect(biased.wer <= generic.wer + 0.1)
            #expect(biased.moves >= generic.moves - 0.15)
        }

        /// Human speech outside the scenario's domain must not be ruined by the bias.
        @Test("LibriVox clips with and without the scenario bias")
        func librivoxWithBias() throws {
            let scenario = try #require(Self.catalog.scenarios.first { $0.id == "debt-threat" })
            let recognizer = try Recognizer()
            let directory = "\(SpeechTests.testData)/librivox"
            let lines = try String(contentsOfFile: "\(directory)/transcription", encoding: .utf8).split(separator: "\n")
            func wer() throws -> Double {
                var errors = 0, words = 0
                for line in lines {
                    let id = String(line[line.index(after: line.lastIndex(of: "(")!)..<line.lastIndex(of: ")")!])
                    let reference = Words.normalize(line.replacingOccurrences(of: "<s>", with: "").replacingOccurrences(of: "</s>", with: "").replacingOccurrences(of: "(\(id))", with: ""))
                    let audio = try WaveFile.read(path: "\(directory)/\(id).wav")
                    let heard = SpeechTests.recognize(audio.samples, recognizer: recognizer).map(\.text).joined(separator: " ")
                    errors += WordErrorRate.errors(reference: reference, hypothesis: Words.normalize(heard))
                    words += reference.count
                }
                return Double(errors) / Double(words)
            }
            let generic = try wer()
            try recognizer.useBias(LanguageBias(sentences: LanguageBias.text(for: scenario)),
                                   name: scenario.id, weight: Recognizer.biasWeight)
            let biased = try wer()
            print(String(format: "LibriVox WER %.1f %% generic, %.1f %% with the debt-threat bias", generic * 100, biased * 100))
            #expect(biased < 0.5)
        }

        @Test("Festival agent lines (the simulated agent): WER and move accuracy with and without the bias")
        func festivalLines() throws {
            let scenario = try #require(Self.catalog.scenarios.first { $0.id == "debt-threat" })
            let recognizer = try Recognizer()
            let models = try LiveCallTests.models()
            let script = try String(contentsOfFile: LiveCallTests.root.appendingPathComponent("scenarios/scripts/debt-threat.skilled.txt").path, encoding: .utf8)
            let lines = try ScriptStep.parse(script).compactMap { if case let .say(text, _) = $0 { text } else { nil } }
            let audio = try lines.map { try models.renderFestival($0, voice: "cmu_us_slt_arctic_hts", rate: 16_000) }
            let matcher = MoveRecognizer.make(scenario.moves)
            func measure() -> (Double, Double) {
                var errors = 0, words = 0, right = 0, total = 0
                for (line, samples) in zip(lines, audio) {
                    let heard = SpeechTests.recognize([Int16](repeating: 0, count: 3_200) + samples, recognizer: recognizer).map(\.text).joined(separator: " ")
                    errors += WordErrorRate.errors(reference: Words.normalize(line), hypothesis: Words.normalize(heard))
                    words += Words.normalize(line).count
                    let expected = Set(matcher.recognize(line).map(\.move))
                    total += expected.count
                    right += expected.intersection(Set(matcher.recognize(heard).map(\.move))).count
                }
                return (Double(errors) / Double(words), Double(right) / Double(total))
            }
            let generic = measure()
            try recognizer.useBias(LanguageBias(sentences: LanguageBias.text(for: scenario)),
                                   name: scenario.id, weight: Recognizer.biasWeight)
            let biased = measure()
            print(String(format: "Festival agent lines: WER %.1f %% → %.1f %%, move accuracy %.0f %% → %.0f %% with the bias",
                         generic.0 * 100, biased.0 * 100, generic.1 * 100, biased.1 * 100))
            #expect(biased.1 >= 0.85)
            #expect(biased.0 < 0.2)
        }
    }

}
