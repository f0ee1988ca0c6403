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
        /// The word's posterior in the utterance's lattice (0–1): how sure the decoder was of it; nil without a lattice.
        public var confidence: Double?
    }
    public var text: String
    /// Posterior probability of the hypothesis; nil when not computed (`-bestpath no`).
    public var confidence: Double?
    public var words: [Word]
    public var start: CallTime
    /// When the turn was judged over: the last voiced frame plus the hold.
    public var end: CallTime
    /// The agent's last voiced frame.
    public var voiceEnd: CallTime
    /// The silence that ended the turn (the policy's hold for these words).
    public var hold: Double
    /// Time `ps_end_utt`, `ps_get_hyp` and reading the lattice took: it sits on the turn-gap path.
    public var finalizeSeconds: Double
    /// Other word sequences the decoder found likely (PocketSphinx's n-best), best first, without the best itself.
    public var alternatives: [String] = []

    /// What move recognition reads: the best words with their confidences, then the alternatives.
    public var hypotheses: [HeardHypothesis] {
        let best = HeardHypothesis(words: words.map(\.word), confidence: words.allSatisfy { $0.confidence != nil } ? words.map { $0.confidence! } : nil)
        let first = best.words.isEmpty ? HeardHypothesis(text: text) : best
        return [first] + alternatives.map { HeardHypothesis(text: $0) }
    }
}

/// What the recognizer noticed in one period of audio.
public enum RecognizerEvent: Sendable, Equatable {
    /// The agent started speaking; `resumedAfter` is the pause, when this is
    /// the agent going on right after a turn was judged over (a false end).
    case speechStarted(CallTime, resumedAfter: Double?)
    /// What the call's floor decided about the agent's voice: taking a free floor, a barge-in
    /// over the caller, the caller giving the floor back (`CallFloor.Action`).
    case floor(CallFloor.Action)
    /// PocketSphinx's energy VAD heard something that began at this time and was never a
    /// voice (no periodic sound loud above the room): a noise, a cough, a breath. No turn opened.
    case noiseIgnored(CallTime)
    case partial(String)
    /// The agent fell silent mid-utterance; the words so far, for preparing a reply.
    case paused(String)
    case utterance(RecognizedUtterance)
}

/// PocketSphinx decoding a stream of 16 kHz mono samples into agent turns,
/// with the call's floor (`CallFloor`) deciding when turns open, pause and end.
///
/// Per 10 ms frame, `VoiceActivity` says whether it is voiced above the
/// room's noise floor and `Periodicity` whether it sounds like a voice; the
/// floor counts those into a sustained voice. PocketSphinx's energy VAD is
/// the floor's speech detector (ten frames of speech, so a click does not
/// open a turn); a turn opens only once a sustained voice confirms it, so
/// steady noise, a fan or a cough the VAD takes for speech opens nothing and
/// its words are thrown away (`noiseIgnored`). When the agent falls silent
/// the floor asks for the words so far and `TurnEndPolicy` says how long a
/// silence ends this turn; PocketSphinx's VAD is given a hangover longer
/// than any hold, so pauses stay inside the utterance (and its word timings)
/// until the floor ends it. `-bestpath no -fwdflat no` keep `ps_end_utt` to
/// milliseconds, because it runs between the agent's last word and the
/// caller's reply. One instance per thread: PocketSphinx is not thread-safe.
public final class Recognizer {
    public static let sampleRate = 16_000
    /// PocketSphinx's frames in `seconds` (100 a second), rounded: its VAD options count frames.
    static func frames(_ seconds: Double) -> Int { Int((seconds * 100).rounded()) }
    /// PocketSphinx's default log base (a float, as the decoder parses it), named so the
    /// language models read here score on the decoder's scale.
    static let logBase: Float = 1.0001
    public let decoder: OpaquePointer
    /// The log tables every language model here is read with (sphinxbase combines models only on the same tables).
    private let logmath: OpaquePointer
    /// The whole pronouncing dictionary; the decoder loads only the words the generic model knows.
    private let fullDictionary: String
    private let config: OpaquePointer
    private let alternativeCount: Int
    /// Whether an utterance with these best words is worth reading the lattice for (nil: every one).
    /// The lattice's best-path and posterior pass cost 33–84 ms more on 5–6.5 s utterances, on the
    /// turn-gap path, so a call reads it only when the best words carry no move.
    public var wantsLattice: (@Sendable (String) -> Bool)?
    /// The generic US English model; this holds one reference, every search built on it its own.
    private let generic: OpaquePointer
    /// The search in use: "generic" or a scenario's biased model. One at a time, because each
    /// search builds its own lexicon tree over the whole dictionary (tens of MB and ~0.3 s).
    public private(set) var activeSearch: String?
    /// Samples handed to PocketSphinx so far; behind the floor's clock by what is pending.
    private var samplesDecoded = 0
    /// Frames heard but not yet decoded, and for each its length and whether it was voiced.
    private var pending: [Int16] = []
    private var pendingFrames: [(count: Int, voiced: Bool)] = []
    /// Frames PocketSphinx is handed at most at once (1: each as it comes). A decoder woken
    /// for a single 10 ms frame finds its caches cold and spends nearly twice the CPU of one
    /// handed 250 ms at a time (README, "Measured"). Nothing waits on it mid-utterance:
    /// pauses, the end of a turn and a sustained voice are our own analysis, per frame.
    public var decodeEvery = 1 {
        didSet { pending.reserveCapacity(decodeEvery * Self.sampleRate / 100); pendingFrames.reserveCapacity(decodeEvery) }
    }
    /// Frames heard that PocketSphinx has not been handed yet.
    public var framesBehind: Int { pendingFrames.count }
    /// PocketSphinx's VAD after the last frame decoded.
    private var decoderInSpeech = false
    /// Samples handed to this decoder since it was made: PocketSphinx numbers word frames
    /// over its whole life, across utterances and calls.
    private var samplesEverDecoded = 0
    private var inUtterance = false
    private var lastPartial = ""
    /// Feed partial hypotheses no more often than this many samples (they cost a search).
    public var partialEverySamples = 4_000
    private var samplesSincePartial = 0
    /// Who has the floor; set per call by `beginCall`.
    public private(set) var floor = CallFloor(rate: Recognizer.sampleRate)
    /// When the floor ends turns.
    public var policy: TurnEndPolicy { floor.policy }
    private var voice = VoiceActivity()
    private var periodicity = Periodicity()
    /// When the last noise told began: the room heard as speech for long is told once, not at each restart.
    private var lastNoiseSince: CallTime?

    public struct Options: Sendable {
        public var model = AcousticModel.debian
        public var bestPath = false
        /// How many of the generic model's words (the likeliest) the decoder can recognize; nil: all 72,547.
        public var vocabulary: Int? = Recognizer.defaultVocabulary
        /// Read each utterance's lattice for word posteriors and up to this many alternative hypotheses (0: none).
        public var alternatives = Recognizer.defaultAlternatives
        public init() {}
    }

    /// How many of the generic model's words the decoder loads, the likeliest by unigram
    /// score. 40,000 cost 2 of 71 words on the LibriVox clips (23.9 → 26.8 % WER), none on
    /// the scripted agent lines, and saved 15 MB and a fifth of the decoding CPU against all
    /// of them (README, "Measured"); scenario words outside them come with the bias.
    /// `SPARRING_VOCABULARY=N` in the environment overrides it, to measure other sizes.
    public static let defaultVocabulary: Int? = Int(ProcessInfo.processInfo.environment["SPARRING_VOCABULARY"] ?? "") ?? 40_000

    /// At most this many HMMs stay active in a frame (PocketSphinx's `-maxhmmpf`, 30,000 by
    /// default): past it the frame's beam narrows to the best of them. On the debt-threat call's
    /// agent audio, 2,000 took decoding from 0.0395 to 0.032 s of CPU per second (medians of six
    /// interleaved runs) with the accuracy figures unchanged (LibriVox 26.8 / 36.6 % WER generic /
    /// biased, eSpeak NG lines' moves 83 % with the bias, Festival lines 6.9 % WER and all moves);
    /// 1,500 cost a LibriVox word with the bias and 1,000 six without it (README, "Measured").
    public static let maxActiveHMMs = 2_000

    /// Alternative hypotheses read from each utterance's lattice; `SPARRING_ALTERNATIVES=0` turns the lattice off, to measure it.
    public static let defaultAlternatives = Int(ProcessInfo.processInfo.environment["SPARRING_ALTERNATIVES"] ?? "") ?? 4
    /// PocketSphinx's acoustic scale for posteriors (its `-ascale` default): language and acoustic scores meet at 1/20.
    static let posteriorScale: Float = 1.0 / 20

    /// `SPARRING_DECODER_ARGS="-name value ..."` in the environment: more PocketSphinx options,
    /// replacing ours of the same name, to measure other settings with the bench and the speech tests.
    static let extraArguments = ProcessInfo.processInfo.environment["SPARRING_DECODER_ARGS"]?
        .split(separator: " ").map(String.init) ?? []

    public init(options: Options = Options()) throws(SpeechError) {
        // sphinxbase logs a configuration dump to stderr unless told not to.
        err_set_logfp(nil)
        for path in [options.model.hmm, options.model.languageModel, options.model.dictionary]
        where !FileManager.default.fileExists(atPath: path) {
            throw SpeechError("recognizer", "model file \(path) is missing (install pocketsphinx-en-us)")
        }
        let ours = [
            // No -lm: the generic model is read below and a search built only for the model a call uses.
            // -dict is set below, to the entries of the generic model's words.
            "-hmm", options.model.hmm, "-dict", options.model.dictionary, "-logbase", String(Self.logBase),
            "-bestpath", options.bestPath ? "yes" : "no", "-fwdflat", options.bestPath ? "yes" : "no",
            "-maxhmmpf", String(Self.maxActiveHMMs),
            // The VAD's own hangover outlasts every hold, so the policy ends turns.
            "-vad_prespeech", "20", "-vad_startspeech", String(Self.frames(CallFloor.detectorLead)), "-vad_postspeech", String(Self.frames(TurnEndPolicy().ceiling) + 20),
            "-logfn", "/dev/null",
        ]
        // PocketSphinx refuses an option given twice: one from the environment replaces ours.
        let replaced = Set(stride(from: 0, to: Self.extraArguments.count, by: 2).map { Self.extraArguments[$0] })
        let arguments = stride(from: 0, to: ours.count, by: 2).filter { !replaced.contains(ours[$0]) }
            .flatMap { ours[$0...$0 + 1] } + Self.extraArguments
        var argv: [UnsafeMutablePointer<CChar>?] = arguments.map { strdup($0) }
        defer { for pointer in argv { free(pointer) } }
        guard let config = sparring_ps_config(Int32(arguments.count), &argv) else {
            let extra = Self.extraArguments.isEmpty ? "" : " (with SPARRING_DECODER_ARGS=\"\(Self.extraArguments.joined(separator: " "))\")"
            throw SpeechError("recognizer", "PocketSphinx rejected its configuration\(extra)")
        }
        // What is built so far is freed if a later step fails.
        var logmath: OpaquePointer?, generic: OpaquePointer?, decoder: OpaquePointer?
        defer {
            if decoder == nil {
                if let generic { ngram_model_free(generic) }
                if let logmath { logmath_free(logmath) }
                cmd_ln_free_r(config)
            }
        }
        // The generic model before the decoder: its vocabulary decides which dictionary entries load.
        // Its log tables are its own, with the decoder's base; bias models are read with the same tables.
        logmath = logmath_init(Double(Self.logBase), 0, 0)
        guard logmath != nil else { throw SpeechError("recognizer", "PocketSphinx could not set up its log tables") }
        generic = ngram_model_read(config, options.model.languageModel, NGRAM_AUTO, logmath)
        guard let generic else {
            throw SpeechError("recognizer", "PocketSphinx could not read the language model \(options.model.languageModel)")
        }
        let dictionary = try Self.writeDictionary(from: options.model.dictionary, keeping: generic, likeliest: options.vocabulary)
        defer { unlink(dictionary) }
        cmd_ln_set_str_r(config, "-dict", dictionary)
        decoder = ps_init(config)
        guard let decoder, let logmath else {
            throw SpeechError("recognizer", "PocketSphinx could not load the model in \(options.model.hmm)")
        }
        self.logmath = logmath
        self.alternativeCount = max(0, min(10, options.alternatives))
        self.fullDictionary = options.model.dictionary
        self.config = config
        self.decoder = decoder
        self.generic = generic
    }

    deinit {
        ps_free(decoder)
        ngram_model_free(generic)
        logmath_free(logmath)
        cmd_ln_free_r(config)
    }

    /// Samples heard this call, on the floor's clock.
    public var clock: CallTime { floor.now }

    /// The agent is speaking, its voice is established and was heard less than `recently`
    /// (seconds) ago: nothing is due (see `CallFloor.isMidSpeech`).
    public func isMidSpeech(voicedWithin recently: Double) -> Bool { floor.isMidSpeech(voicedWithin: recently) }

    /// Whether the caller is talking, for the floor to tell a barge-in from the agent taking a free floor.
    public func caller(speaking: Bool) { floor.caller(speaking: speaking) }

    /// Starts a new call: ends any utterance in progress, sets the clock to zero
    /// and the turn-end policy to `policy` (what it learned of the last agent is forgotten).
    /// The decoder and its models stay loaded between calls.
    public func beginCall(policy: TurnEndPolicy = TurnEndPolicy()) {
        if inUtterance { ps_end_utt(decoder) }
        inUtterance = false
        lastPartial = ""
        samplesDecoded = 0
        pending.removeAll(keepingCapacity: true)
        pendingFrames.removeAll(keepingCapacity: true)
        decoderInSpeech = false
        samplesSincePartial = 0
        floor = CallFloor(policy: policy, rate: Self.sampleRate)
        voice = VoiceActivity()
        periodicity = Periodicity()
        lastNoiseSince = nil
    }

    private func seconds(_ samples: Int) -> Double { Double(samples) / Double(Self.sampleRate) }

    /// Feeds samples (one 10 ms frame at a time, as the call does); returns what happened in them.
    ///
    /// Our own analysis (voice, periodicity) and the floor run on every frame as it comes.
    /// PocketSphinx is handed the frames `decodeEvery` at a time, and at once whenever an
    /// answer needs every sample heard: a pause (its words), the end of a turn, every frame
    /// of a pause in progress (so that when the turn ends only `ps_end_utt` is left to do),
    /// and every frame while a voice has no turn yet (so speech starts are told when they
    /// would be without batching). What waits is the middle of an utterance, and silence.
    public func process(_ samples: UnsafeBufferPointer<Int16>) -> [RecognizerEvent] {
        guard samples.baseAddress != nil, !samples.isEmpty else { return [] }
        if activeSearch == nil { useGenericModel() }
        if !inUtterance {
            ps_start_utt(decoder)
            inUtterance = true
        }
        var events: [RecognizerEvent] = []
        let voiced = voice.isVoiced(samples)
        // Once the voice is established, its period is not computed again until a pause.
        let periodic = periodicity.isPeriodic(samples, measure: voiced && floor.wantsPeriodicity)
        for action in floor.heard(samples: samples.count, voiced: voiced, periodic: periodic) { tell(action, into: &events) }
        pending.append(contentsOf: samples)
        pendingFrames.append((samples.count, voiced))
        if pendingFrames.count >= max(1, decodeEvery) || floor.wantsEveryFrame { decodePending(into: &events) }
        while let due = floor.due {
            // Both need every frame heard: the words at the pause, the whole turn at its end.
            decodePending(into: &events)
            switch due {
            case .pause:
                tell(floor.paused(after: hypothesis() ?? ""), into: &events)
            case .end:
                if let end = floor.endTurn() { events.append(.utterance(finish(end))) }
            }
        }
        return events
    }

    private func tell(_ action: CallFloor.Action, into events: inout [RecognizerEvent]) {
        switch action {
        case let .speechStarted(start, resumedAfter): events.append(.speechStarted(start, resumedAfter: resumedAfter))
        case let .noise(since):
            // The VAD closed on something that never was a voice, or stayed open on the room: what the
            // search made of it goes. A stretch of the room is told once.
            ps_end_utt(decoder)
            ps_start_utt(decoder)
            if since != lastNoiseSince { events.append(.noiseIgnored(since)) }
            lastNoiseSince = since
        case let .paused(words, _): events.append(.paused(words))
        case .agentTakesFloor, .bargeIn, .callerYields: events.append(.floor(action))
        }
    }

    /// Hands PocketSphinx the frames not yet decoded, one by one: its VAD decides per frame,
    /// so speech start and word times come out as if each had been decoded on arrival.
    private func decodePending(into events: inout [RecognizerEvent]) {
        guard !pendingFrames.isEmpty else { return }
        pending.withUnsafeBufferPointer { all in
            var offset = 0
            for frame in pendingFrames {
                ps_process_raw(decoder, all.baseAddress! + offset, frame.count, 0, 0)
                offset += frame.count
                samplesDecoded += frame.count
                samplesEverDecoded += frame.count
                samplesSincePartial += frame.count
                decoderInSpeech = ps_get_in_speech(decoder) != 0
                for action in floor.detected(samples: frame.count, inSpeech: decoderInSpeech) { tell(action, into: &events) }
                if floor.inTurn, decoderInSpeech, frame.voiced, samplesSincePartial >= partialEverySamples {
                    samplesSincePartial = 0
                    if let hyp = hypothesis(), hyp != lastPartial {
                        lastPartial = hyp
                        events.append(.partial(hyp))
                    }
                }
            }
        }
        pending.removeAll(keepingCapacity: true)
        pendingFrames.removeAll(keepingCapacity: true)
    }

    /// The best hypothesis so far, without ending the utterance (cheap with `-bestpath no`).
    private func hypothesis() -> String? {
        guard let hyp = ps_get_hyp(decoder, nil).map({ String(cString: $0) }), !hyp.isEmpty else { return nil }
        return hyp.split(separator: " ").map { Self.clean(String($0)) }.joined(separator: " ")
    }

    /// Ends the current utterance (end of stream, or the call ending) and returns it if speech was in it.
    public func flush() -> RecognizedUtterance? {
        var ignored: [RecognizerEvent] = []
        decodePending(into: &ignored)
        guard let end = floor.endTurn() else {
            if inUtterance { ps_end_utt(decoder); inUtterance = false }
            return nil
        }
        return finish(end)
    }

    private func finish(_ turn: CallFloor.TurnEnd) -> RecognizedUtterance {
        let began = DispatchTime.now().uptimeNanoseconds
        ps_end_utt(decoder)
        var score: Int32 = 0
        let text = ps_get_hyp(decoder, &score).map { String(cString: $0) } ?? ""
        let logProbability = ps_get_prob(decoder)
        let confidence: Double? = logProbability == 0 ? nil : logmath_exp(ps_get_logmath(decoder), logProbability)
        var words: [RecognizedUtterance.Word] = []
        // Word frames count from the decoder's first frame, over its whole life (measured on ten
        // utterances: the last segment ends 0-5 frames short of the frames handed over so far),
        // so this call's clock began at:
        let callOrigin = samplesEverDecoded - samplesDecoded
        func time(_ frame: Int32) -> CallTime { CallTime(seconds: seconds(max(0, Int(frame) * Self.sampleRate / 100 - callOrigin))) }
        var segment = ps_seg_iter(decoder)
        // The first segment starts the utterance's search: its frame is where the lattice's frame 0 is.
        var latticeOrigin: Int32?
        while let current = segment {
            var first: Int32 = 0, last: Int32 = 0
            ps_seg_frames(current, &first, &last)
            if latticeOrigin == nil { latticeOrigin = first }
            if let word = ps_seg_word(current).map({ String(cString: $0) }), !word.hasPrefix("<"), !word.hasPrefix("["), word != "<sil>" {
                words.append(.init(word: Self.clean(word), start: time(first), end: time(last + 1)))
            }
            segment = ps_seg_next(current)
        }
        var alternatives: [String] = []
        if alternativeCount > 0, !words.isEmpty, wantsLattice?(words.map(\.word).joined(separator: " ")) ?? true { alternatives = readLattice(&words, origin: callOrigin, latticeOrigin: Int(latticeOrigin ?? 0)) }
        let finalize = Double(DispatchTime.now().uptimeNanoseconds - began) / 1e9
        inUtterance = false
        lastPartial = ""
        let cleaned = text.split(separator: " ").map { Self.clean(String($0)) }.joined(separator: " ")
        return RecognizedUtterance(text: cleaned, confidence: confidence.flatMap { $0.isFinite ? $0 : nil }, words: words,
                                   start: turn.start, end: turn.end, voiceEnd: turn.voiceEnd,
                                   hold: turn.hold, finalizeSeconds: finalize, alternatives: alternatives)
    }

    /// Word posteriors for `words` and the n-best alternatives, from the utterance's lattice.
    /// Lattice frames count from the utterance's first searched frame, `latticeOrigin` in the
    /// decoder's frames (which `ps_seg_frames` gives over its whole life).
    ///
    /// A word's confidence is the summed posterior of the lattice nodes for the same
    /// word that overlap its time: near 1 when every path there says it, low when
    /// the decoder had rivals. Alternatives are the distinct word sequences of
    /// PocketSphinx's A* n-best, fillers dropped, the best one left out.
    private func readLattice(_ words: inout [RecognizedUtterance.Word], origin: Int, latticeOrigin: Int) -> [String] {
        guard let activeSearch, let lm = ps_get_lm(decoder, activeSearch), let dag = ps_get_lattice(decoder) else { return [] }
        // Posteriors need the forward probabilities the best-path search computes.
        guard ps_lattice_bestpath(dag, lm, 1.0, Self.posteriorScale) != nil else { return [] }
        ps_lattice_posterior(dag, lm, Self.posteriorScale)
        let math = ps_lattice_get_logmath(dag)
        // Lattice nodes: base word, first frame, last end frame, posterior.
        var nodes: [(word: String, first: Int, last: Int, posterior: Double)] = []
        var iterator = ps_latnode_iter(dag)
        while let current = iterator {
            if let node = ps_latnode_iter_node(current), let base = ps_latnode_baseword(dag, node) {
                var firstEnd: Int16 = 0, lastEnd: Int16 = 0
                let start = ps_latnode_times(node, &firstEnd, &lastEnd)
                var link: OpaquePointer?
                let probability = ps_latnode_prob(dag, node, &link)
                nodes.append((String(cString: base), Int(start) + latticeOrigin, Int(lastEnd) + latticeOrigin, logmath_exp(math, probability)))
            }
            iterator = ps_latnode_iter_next(current)
        }
        func frame(_ time: CallTime) -> Int { (Int(time.seconds * Double(Self.sampleRate)) + origin) * 100 / Self.sampleRate }
        for index in words.indices {
            let (first, last) = (frame(words[index].start), frame(words[index].end) - 1)
            let posterior = nodes.filter { $0.word == words[index].word && $0.first <= last && $0.last >= first }
                .map(\.posterior).reduce(0, +)
            words[index].confidence = min(1, max(0, posterior.isFinite ? posterior : 0))
        }
        var found: [String] = []
        let best = words.map(\.word).joined(separator: " ")
        var seen: Set<String> = [best]
        var tried = 0
        var nbest = ps_nbest(decoder)
        while let current = nbest, found.count < alternativeCount, tried < alternativeCount * 5 {
            tried += 1
            var score: Int32 = 0
            if let hyp = ps_nbest_hyp(current, &score) {
                let text = String(cString: hyp).split(separator: " ")
                    .filter { !$0.hasPrefix("<") && !$0.hasPrefix("[") }.map { Self.clean(String($0)) }.joined(separator: " ")
                if !text.isEmpty, seen.insert(text).inserted { found.append(text) }
            }
            nbest = ps_nbest_next(current)
        }
        if let nbest { ps_nbest_free(nbest) }
        return found
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
    static let genericSearch = "generic"

    /// Switches to the search `name`, building it from the model `build` returns (one reference,
    /// handed over) the first time, and drops the search used before. Call between utterances.
    private func activate(_ name: String, build: () throws(SpeechError) -> OpaquePointer) throws(SpeechError) {
        _ = flush()
        guard activeSearch != name else { return }
        if ps_get_lm(decoder, name) == nil {
            let model = try build()
            defer { ngram_model_free(model) }
            guard ps_set_lm(decoder, name, model) == 0 else {
                throw SpeechError("recognizer", "PocketSphinx could not build a search for \(name)")
            }
        }
        guard ps_set_search(decoder, name) == 0 else {
            throw SpeechError("recognizer", "PocketSphinx could not switch to the search for \(name)")
        }
        if let previous = activeSearch { ps_unset_search(decoder, previous) }
        activeSearch = name
    }

    /// Switches to the generic model interpolated with `bias` (weight 0–1), named `name`.
    ///
    /// The bias's words the dictionary lacks are added from the full dictionary first
    /// (the search in use is dropped for that); words no dictionary spells are left out.
    public func useBias(_ bias: LanguageBias, name: String, weight: Float) throws(SpeechError) {
        let words = Set(bias.sentences.joined())
        if ps_get_lm(decoder, name) == nil, words.contains(where: { !knows($0) }) {
            _ = flush()
            if let previous = activeSearch { ps_unset_search(decoder, previous) }
            activeSearch = nil
            try addMissingWords(words)
        }
        let bias = bias.keeping { knows($0) }
        try activate(name) { () throws(SpeechError) -> OpaquePointer in
            let path = FileManager.default.temporaryDirectory.appendingPathComponent("sparring-bias-\(getpid())-\(name).arpa").path
            do { try bias.arpa.write(toFile: path, atomically: true, encoding: .utf8) } catch {
                throw SpeechError("recognizer", "cannot write the bias model \(path): \(error.localizedDescription)")
            }
            defer { unlink(path) }
            guard let biasModel = ngram_model_read(config, path, NGRAM_ARPA, logmath) else {
                throw SpeechError("recognizer", "PocketSphinx rejected the bias model for \(name)")
            }
            // The set takes its own references to its members (sphinxbase retains them).
            defer { ngram_model_free(biasModel) }
            var models: [OpaquePointer?] = [generic, biasModel]
            let names: [UnsafeMutablePointer<CChar>?] = [strdup("generic"), strdup(name)]
            defer { names.forEach { free($0) } }
            var nameArray: [UnsafeMutablePointer<CChar>?] = names
            var weights: [Float] = [1 - weight, weight]
            guard let group = ngram_model_set_init(config, &models, &nameArray, &weights, 2) else {
                throw SpeechError("recognizer", "PocketSphinx could not combine the models for \(name)")
            }
            return group
        }
    }

    /// Whether the shared generic model has `word` in its vocabulary (for tests: it must stay as read).
    func genericModelKnows(_ word: String) -> Bool {
        ngram_wid(generic, word) != ngram_unknown_wid(generic)
    }

    /// Whether the loaded dictionary can spell `word` (a bias model may only hold such words).
    public func knows(_ word: String) -> Bool {
        guard let phones = ps_lookup_word(decoder, word) else { return false }
        free(phones)
        return true
    }

    public func useGenericModel() {
        // Building a search on a model that read is cannot fail short of memory; then the call has no recognizer.
        try? activate(Self.genericSearch) { () throws(SpeechError) -> OpaquePointer in ngram_model_retain(generic) }
    }
}

extension Recognizer {
    /// Writes the entries of `path` (a CMU pronouncing dictionary) whose word `model` knows
    /// to a temporary file, and returns its path.
    ///
    /// cmudict spells 134,000 words, the generic model knows 72,547. PocketSphinx
    /// keeps every dictionary word in its hash, its word table and per-word arrays
    /// of each search, though it can never recognize a word the model lacks, so
    /// loading all of them costs some 15 MB for nothing. With `likeliest`, only
    /// that many of the model's words, by unigram score, are kept. Scenario words
    /// left out come in with `addMissingWords`.
    static func writeDictionary(from path: String, keeping model: OpaquePointer, likeliest: Int?) throws(SpeechError) -> String {
        guard var bytes = FileManager.default.contents(atPath: path).map(Array.init) else {
            throw SpeechError("recognizer", "cannot read the dictionary \(path)")
        }
        let unknown = ngram_unknown_wid(model)
        // The unigram score a word needs to be among the `likeliest`.
        var floor = Int32.min
        let count = Int(ngram_model_get_counts(model)[0])
        if let likeliest, likeliest < count {
            var scores = (0..<Int32(count)).map { wid -> Int32 in
                var used: Int32 = 0
                return ngram_ng_score(model, wid, nil, 0, &used)
            }
            scores.sort(by: >)
            floor = scores[likeliest - 1]
        }
        func wanted(_ word: UnsafePointer<CChar>) -> Bool {
            let wid = ngram_wid(model, word)
            guard wid != unknown else { return false }
            if floor == Int32.min { return true }
            var used: Int32 = 0
            return ngram_ng_score(model, wid, nil, 0, &used) >= floor
        }
        var kept: [UInt8] = []
        kept.reserveCapacity(bytes.count * 2 / 3)
        bytes.withUnsafeMutableBufferPointer { buffer in
            forEachEntry(in: buffer, where: wanted) { line in
                kept.append(contentsOf: line)
                kept.append(0x0A)
            }
        }
        let out = FileManager.default.temporaryDirectory.appendingPathComponent("sparring-dict-\(getpid())-\(UInt32.random(in: 0...UInt32.max)).dict").path
        guard FileManager.default.createFile(atPath: out, contents: Data(kept)) else {
            throw SpeechError("recognizer", "cannot write the trimmed dictionary \(out)")
        }
        return out
    }

    /// Calls `wanted` with each entry's word, without any "(2)", as a C string valid during the call,
    /// and `body` with the whole line of each entry it wanted.
    private static func forEachEntry(in buffer: UnsafeMutableBufferPointer<UInt8>, where wanted: (UnsafePointer<CChar>) -> Bool,
                                     _ body: (UnsafeBufferPointer<UInt8>) -> Void) {
        var start = 0
        while start < buffer.count {
            var end = start
            while end < buffer.count && buffer[end] != 0x0A { end += 1 }
            var wordEnd = start
            while wordEnd < end && buffer[wordEnd] != 0x20 && buffer[wordEnd] != 0x09 && buffer[wordEnd] != 0x28 { wordEnd += 1 }
            if wordEnd > start && wordEnd < end {
                let saved = buffer[wordEnd]
                buffer[wordEnd] = 0
                let keep = wanted(UnsafeRawPointer(buffer.baseAddress! + start).assumingMemoryBound(to: CChar.self))
                buffer[wordEnd] = saved
                if keep { body(UnsafeBufferPointer(rebasing: buffer[start..<end])) }
            }
            start = end + 1
        }
    }

    /// Adds to the decoder's dictionary those of `words` it lacks and the full dictionary spells.
    ///
    /// Only with no language-model search built: PocketSphinx (5prealpha) also adds
    /// each new word to every n-gram search's model, which would put scenario
    /// words into the shared generic model for every later call.
    func addMissingWords(_ words: Set<String>) throws(SpeechError) {
        let missing = words.filter { !knows($0) }
        guard !missing.isEmpty else { return }
        precondition(activeSearch == nil, "words are added only while no search is built")
        guard var bytes = FileManager.default.contents(atPath: fullDictionary).map(Array.init) else {
            throw SpeechError("recognizer", "cannot read the dictionary \(fullDictionary)")
        }
        var entries: [(word: String, phones: String)] = []
        bytes.withUnsafeMutableBufferPointer { buffer in
            Self.forEachEntry(in: buffer, where: { missing.contains(String(cString: $0)) }) { line in
                let text = String(decoding: line, as: UTF8.self)
                let parts = text.split(separator: " ", maxSplits: 1)
                if parts.count == 2 { entries.append((String(parts[0]), parts[1].trimmingCharacters(in: .whitespaces))) }
            }
        }
        for entry in entries where ps_add_word(decoder, entry.word, entry.phones, 0) < 0 {
            throw SpeechError("recognizer", "PocketSphinx could not add '\(entry.word)' from \(fullDictionary)")
        }
    }
}

extension Recognizer {
    /// Every agent turn in a recording of 16 kHz mono samples, decoded as a call would
    /// (10 ms frames, the same end-of-turn policy), the last one flushed at the end.
    public func transcribe(_ samples: [Int16]) -> [RecognizedUtterance] {
        beginCall()
        var utterances: [RecognizedUtterance] = []
        let frame = Self.sampleRate / 100
        samples.withUnsafeBufferPointer { all in
            var offset = 0
            while offset < all.count {
                let count = min(frame, all.count - offset)
                for case let .utterance(utterance) in process(UnsafeBufferPointer(rebasing: all[offset..<(offset + count)])) {
                    utterances.append(utterance)
                }
                offset += count
            }
        }
        if let last = flush() { utterances.append(last) }
        return utterances.filter { !$0.text.isEmpty }
    }
}
