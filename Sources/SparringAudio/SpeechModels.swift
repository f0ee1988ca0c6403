import Foundation
import SparringCore
import SparringSpeech

/// The models a process loads once and reuses for every call.
public final class SpeechModels: @unchecked Sendable {
    public let recognizer: Recognizer
    let synthesizerWorker = SerialWorker(name: "sp-synthesize")
    public let synthesizer: Synthesizer

    /// Loads PocketSphinx here and eSpeak NG on the synthesizer's thread at the same time.
    public init() throws(SpeechError) {
        nonisolated(unsafe) var made: Result<Synthesizer, SpeechError>?
        let loaded = DispatchSemaphore(value: 0)
        synthesizerWorker.submit {
            made = Result { () throws(SpeechError) in try Synthesizer() }
            loaded.signal()
        }
        let recognizerMade = Result { () throws(SpeechError) in try Recognizer() }
        loaded.wait()
        recognizer = try recognizerMade.get()
        synthesizer = try made!.get()
    }
}

extension SpeechModels {
    /// Nil when `voice` speaks at every mood, else why not (see `VoiceAudition`); on the synthesizer's thread.
    public func audition(_ voice: VoiceProfile) -> Problem? {
        let synthesizer = self.synthesizer
        return synthesizerWorker.sync { VoiceAudition.problem(voice, using: synthesizer) }
    }

    /// Speaks `text` in `voice` at the line's rate, on the synthesizer's own thread.
    public func render(_ text: String, voice: VoiceProfile, rate: Int) throws(SparringError) -> [Int16] {
        let synthesizer = self.synthesizer
        let result: Result<[Int16], SpeechError> = synthesizerWorker.sync {
            Result { () throws(SpeechError) -> [Int16] in
                var samples: [Int16] = []
                try synthesizer.speak(text, voice: voice.espeakName, prosody: voice.base) { samples.append(contentsOf: $0) }
                return try Resampler(from: synthesizer.sampleRate, to: rate).resample(samples)
            }
        }
        do { return try result.get() } catch { throw SparringError("synthesizer", error.description) }
    }

    /// Speaks `text` with a Festival voice (`text2wave`), resampled to the line's rate (see `FestivalVoice`).
    public func renderFestival(_ text: String, voice: String, rate: Int) throws(SparringError) -> [Int16] {
        try FestivalVoice.render(text, voice: voice, rate: rate)
    }

    /// The scripted agent's turns, synthesized before the call starts, with an
    /// eSpeak NG voice profile or a Festival voice (`festival:NAME`).
    public func scriptedAgent(_ steps: [ScriptStep], voice: AgentVoice, rate: Int) throws(SparringError) -> ScriptedAgent {
        var prepared: [ScriptedAgent.Step] = []
        for step in steps {
            switch step {
            case let .say(text, interrupting):
                let samples: [Int16]
                switch voice {
                case let .espeak(profile): samples = try render(text, voice: profile, rate: rate)
                case let .festival(name): samples = try renderFestival(text, voice: name, rate: rate)
                }
                prepared.append(.say(samples, interrupting: interrupting))
            case let .silence(seconds): prepared.append(.silence(seconds))
            }
        }
        return ScriptedAgent(steps: prepared, rate: rate)
    }
}

/// Who speaks the scripted agent's lines in `simulate`.
public enum AgentVoice: Sendable {
    case espeak(VoiceProfile)
    case festival(String)
}
