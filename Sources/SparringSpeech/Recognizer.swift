import CPocketSphinx
import Foundation
import SparringCore

/// Where PocketSphinx's US English model lives on Debian (package pocketsphinx-en-us).
public struct AcousticModel: Sendable {
    public var hmm: String
    public var languageModel: String
    public var dictionary: String

    public static let debian = AcousticModel(
        hmm: "/usr/share/pocketsphinx/model/en-us/en-us",
        languageModel: "/usr/share/pocketsphinx/model/en-us/en-us.lm.bin",
        dictionary: "/usr/share/pocketsphinx/model/en-us/cmudict-en-us.dict")
}

/// One recognized agent turn: words, confidence, and when each word was said.
public struct RecognizedUtterance: Sendable, Equatable {
    public struct Word: Sendable, Equatable {
        public var word: String
        public var start: CallTime
        public var end: CallTime
    }
    public var text: String
    /// Posterior probability of the hypothesis; nil when not computed (`-bestpath no`).
    public var confidence: Double?
    public var words: [Word]
    public var start: CallTime
    public var end: CallTime
    /// Time `ps_end_utt` plus `ps_get_hyp` took: it sits on the turn-gap path.
    public var finalizeSeconds: Double
}

/// What the recognizer noticed in one period of audio.
public enum RecognizerEvent: Sendable, Equatable {
    case speechStarted(CallTime)
    case partial(String)
    case utterance(RecognizedUtterance)
}

/// PocketSphinx decoding a stream of 16 kHz mono samples into agent turns.
///
/// Speech start and end come from PocketSphinx's energy VAD, measured in
/// samples fed (the audio clock): `-vad_postspeech` is the end-of-turn
/// hangover. `-bestpath no -fwdflat no` keep `ps_end_utt` to milliseconds,
/// because it runs between the agent's last word and the caller's reply.
/// One instance per thread: PocketSphinx is not thread-safe.
public final class Recognizer {
    public static let sampleRate = 16_000
    public let decoder: OpaquePointer
    private let config: OpaquePointer
    private var samplesFed = 0
    private var inUtterance = false
    private var speechStart: CallTime?
    private var lastPartial = ""
    /// Feed partial hypotheses no more often than this many samples (they cost a search).
    public var partialEverySamples = 4_000
    private var samplesSincePartial = 0

    public struct Options: Sendable {
        public var model = AcousticModel.debian
        /// Silence after speech that ends the agent's turn, in 10 ms frames.
        public var hangoverFrames = 50
        public var bestPath = false
        public init() {}
    }

    public init(options: Options = Options()) throws(SpeechError) {
        // sphinxbase logs a configuration dump to stderr unless told not to.
        err_set_logfp(nil)
        for path in [options.model.hmm, options.model.languageModel, options.model.dictionary]
        where !FileManager.default.fileExists(atPath: path) {
            throw SpeechError("recognizer", "model file \(path) is missing (install pocketsphinx-en-us)")
        }
        let arguments = [
            "-hmm", options.model.hmm, "-lm", options.model.languageModel, "-dict", options.model.dictionary,
            "-bestpath", options.bestPath ? "yes" : "no", "-fwdflat", options.bestPath ? "yes" : "no",
            "-vad_prespeech", "20", "-vad_startspeech", "10", "-vad_postspeech", String(options.hangoverFrames),
            "-logfn", "/dev/null",
        ]
        var argv: [UnsafeMutablePointer<CChar>?] = arguments.map { strdup($0) }
        defer { for pointer in argv { free(pointer) } }
        guard let config = sparring_ps_config(Int32(arguments.count), &argv) else {
            throw SpeechError("recognizer", "PocketSphinx rejected its configuration")
        }
        guard let decoder = ps_init(config) else {
            cmd_ln_free_r(config)
            throw SpeechError("recognizer", "PocketSphinx could not load the model in \(options.model.hmm)")
        }
        self.config = config
        self.decoder = decoder
    }

    deinit {
        ps_free(decoder)
        cmd_ln_free_r(config)
    }

    public var clock: CallTime { CallTime(frames: samplesFed, rate: Self.sampleRate) }

    /// Starts a new call: ends any utterance in progress and sets the clock to zero.
    /// The decoder and its models stay loaded between calls.
    public func beginCall() {
        if inUtterance { ps_end_utt(decoder) }
        inUtterance = false
        speechStart = nil
        lastPartial = ""
        samplesFed = 0
        samplesSincePartial = 0
    }

    /// Feeds samples; returns what happened in them.
    public func process(_ samples: UnsafeBufferPointer<Int16>) -> [RecognizerEvent] {
        guard let base = samples.baseAddress, !samples.isEmpty else { return [] }
        if !inUtterance {
            ps_start_utt(decoder)
            inUtterance = true
        }
        ps_process_raw(decoder, base, samples.count, 0, 0)
        samplesFed += samples.count
        samplesSincePartial += samples.count
        var events: [RecognizerEvent] = []
        let inSpeech = ps_get_in_speech(decoder) != 0
        if inSpeech && speechStart == nil {
            // The VAD needs `-vad_startspeech` frames of speech to decide, so speech began that much earlier.
            speechStart = CallTime(seconds: max(0, clock.seconds - 0.1))
            events.append(.speechStarted(speechStart!))
        }
        if inSpeech, samplesSincePartial >= partialEverySamples {
            samplesSincePartial = 0
            if let hyp = ps_get_hyp(decoder, nil).map({ String(cString: $0) }), !hyp.isEmpty, hyp != lastPartial {
                lastPartial = hyp
                events.append(.partial(hyp))
            }
        }
        if !inSpeech, let start = speechStart {
            events.append(.utterance(finish(start: start)))
        }
        return events
    }

    /// Ends the current utterance (end of stream, or the call ending) and returns it if speech was in it.
    public func flush() -> RecognizedUtterance? {
        guard let start = speechStart else {
            if inUtterance { ps_end_utt(decoder); inUtterance = false }
            return nil
        }
        return finish(start: start)
    }

    private func finish(start: CallTime) -> RecognizedUtterance {
        let began = DispatchTime.now().uptimeNanoseconds
        ps_end_utt(decoder)
        var score: Int32 = 0
        let text = ps_get_hyp(decoder, &score).map { String(cString: $0) } ?? ""
        let finalize = Double(DispatchTime.now().uptimeNanoseconds - began) / 1e9
        let logProbability = ps_get_prob(decoder)
        let confidence: Double? = logProbability == 0 ? nil : logmath_exp(ps_get_logmath(decoder), logProbability)
        var words: [RecognizedUtterance.Word] = []
        // Word frames count from the utterance's first frame, which the VAD opens `-vad_prespeech` frames early.
        var segment = ps_seg_iter(decoder)
        let origin = max(0, start.seconds - 0.2)
        while let current = segment {
            var first: Int32 = 0, last: Int32 = 0
            ps_seg_frames(current, &first, &last)
            if let word = ps_seg_word(current).map({ String(cString: $0) }), !word.hasPrefix("<"), !word.hasPrefix("["), word != "<sil>" {
                words.append(.init(word: Self.clean(word), start: CallTime(seconds: origin + Double(first) / 100),
                                   end: CallTime(seconds: origin + Double(last + 1) / 100)))
            }
            segment = ps_seg_next(current)
        }
        inUtterance = false
        speechStart = nil
        lastPartial = ""
        let cleaned = text.split(separator: " ").map { Self.clean(String($0)) }.joined(separator: " ")
        return RecognizedUtterance(text: cleaned, confidence: confidence.flatMap { $0.isFinite ? $0 : nil }, words: words,
                                   start: start, end: clock, finalizeSeconds: finalize)
    }

    /// Alternative pronunciations come back as `word(2)`.
    static func clean(_ word: String) -> String {
        if let paren = word.firstIndex(of: "(") { return String(word[..<paren]) }
        return word
    }
}

extension Recognizer {
    /// Share of the scenario bias in the interpolated model; 0.9 measured best on synthetic agent lines.
    public static let biasWeight: Float = 0.9

    /// The search PocketSphinx built from `-lm` at start.
    var genericSearch: String { "_default" }

    /// Switches to the generic model interpolated with `bias` (weight 0–1), named `name`.
    ///
    /// Call between utterances. A search is built once per name and decoder and
    /// reused; the generic model is retained before it is grouped, because the
    /// group frees its members with it.
    public func useBias(_ bias: LanguageBias, name: String, weight: Float) throws(SpeechError) {
        _ = flush()
        if ps_get_lm(decoder, name) != nil {
            ps_set_search(decoder, name)
            return
        }
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("sparring-bias-\(getpid())-\(name).arpa").path
        do { try bias.arpa.write(toFile: path, atomically: true, encoding: .utf8) } catch {
            throw SpeechError("recognizer", "cannot write the bias model \(path): \(error.localizedDescription)")
        }
        defer { unlink(path) }
        guard let biasModel = ngram_model_read(config, path, NGRAM_ARPA, ps_get_logmath(decoder)) else {
            throw SpeechError("recognizer", "PocketSphinx rejected the bias model for \(name)")
        }
        guard let generic = ps_get_lm(decoder, genericSearch) else {
            ngram_model_free(biasModel)
            throw SpeechError("recognizer", "no generic language model to combine with")
        }
        ngram_model_retain(generic)
        var models: [OpaquePointer?] = [generic, biasModel]
        let names: [UnsafeMutablePointer<CChar>?] = [strdup("generic"), strdup(name)]
        defer { names.forEach { free($0) } }
        var nameArray: [UnsafeMutablePointer<CChar>?] = names
        var weights: [Float] = [1 - weight, weight]
        guard let group = ngram_model_set_init(config, &models, &nameArray, &weights, 2) else {
            throw SpeechError("recognizer", "PocketSphinx could not combine the models for \(name)")
        }
        guard ps_set_lm(decoder, name, group) == 0, ps_set_search(decoder, name) == 0 else {
            throw SpeechError("recognizer", "PocketSphinx could not use the combined model for \(name)")
        }
    }

    /// Whether the loaded dictionary can spell `word` (a bias model may only hold such words).
    public func knows(_ word: String) -> Bool {
        guard let phones = ps_lookup_word(decoder, word) else { return false }
        free(phones)
        return true
    }

    public func useGenericModel() {
        _ = flush()
        ps_set_search(decoder, genericSearch)
    }
}
