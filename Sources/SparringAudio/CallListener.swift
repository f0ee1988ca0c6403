import Foundation
import Synchronization
import SparringCore
import SparringSpeech

/// The call's recognizer thread: reads the capture ring, resamples each period
/// to 16 kHz, runs the recognizer (and with it the call's floor) on it, and
/// hands what it noticed to the call's control queue, batch by batch.
final class CallListener<Line: DuplexLine>: @unchecked Sendable {
    private let loop: AudioLoop<Line>
    private let recognizer: Recognizer
    private let options: CallOptions
    private let resampler: Resampler
    /// A batch of periods is being processed (`LiveCall.isSettled` waits for it).
    let busy = Atomic<Bool>(false)
    /// Whether the caller is talking, as the control queue last saw it: told to the floor before each batch.
    let callerSpeaking = Atomic<Bool>(false)
    private let heard: @Sendable (_ events: [RecognizerEvent], _ clock: Int) -> Void
    private let heardLast: @Sendable (_ events: [RecognizerEvent], _ clock: Int) -> Void
    private let note: @Sendable (String) -> Void
    private let done = DispatchSemaphore(value: 0)

    /// `heard` takes each batch's events with the loop's clock (without waiting for them to be
    /// handled); `heardLast` the last utterance at the end of the stream, and returns once it is
    /// handled; `note` a problem with the recognizer the session should say.
    init(loop: AudioLoop<Line>, recognizer: Recognizer, options: CallOptions, resampler: Resampler,
         heard: @escaping @Sendable (_ events: [RecognizerEvent], _ clock: Int) -> Void,
         heardLast: @escaping @Sendable (_ events: [RecognizerEvent], _ clock: Int) -> Void,
         note: @escaping @Sendable (String) -> Void) {
        self.loop = loop
        self.recognizer = recognizer
        self.options = options
        self.resampler = resampler
        self.heard = heard
        self.heardLast = heardLast
        self.note = note
    }

    func start() {
        startNamedThread("sp-recognize") { [self] in
            prepare()
            listen()
            done.signal()
        }
    }

    /// Returns once the end of the stream has been handled.
    func join() { done.wait() }

    /// Builds the scenario's biased search and starts the recognizer's call clock.
    ///
    /// Runs on the recognizer thread once the line is open: building the
    /// search takes a few tenths of a second, and meanwhile the capture ring
    /// (four seconds) keeps what the microphone hears while the line rings;
    /// the recognizer then catches up faster than real time. Nothing is lost,
    /// and the line is open sooner. If the bias cannot be built the call goes
    /// on with the generic model, and the session says so.
    private func prepare() {
        // Alternatives and word confidences matter only when the best words carry no move.
        // The move models train in the background from the start of the call, if nothing trained
        // them yet: no thread of the call waits, and the agent's first words find them ready.
        let moves = MoveRecognizer.make(options.scenario.moves)
        DispatchQueue.global(qos: .utility).async { moves.prepare() }
        recognizer.wantsLattice = { moves.recognize($0).isEmpty }
        if options.bias {
            let bias = LanguageBias(sentences: LanguageBias.text(for: options.scenario))
            do { try recognizer.useBias(bias, name: options.scenario.id, weight: Recognizer.biasWeight) } catch {
                recognizer.useGenericModel()
                let reason = error.description
                note("\(reason); recognizing with the generic model")
            }
        } else {
            recognizer.useGenericModel()
        }
        var policy = TurnEndPolicy(base: options.hangover)
        policy.adaptive = options.adaptiveTurnEnd
        recognizer.beginCall(policy: policy)
        // Off a real-time line (files, memory) nothing is gained: the decoder never waits cold there.
        recognizer.decodeEvery = loop.line.runsInRealTime ? Self.framesPerDecode : 1
    }

    /// Periods PocketSphinx is handed at most at once on a real-time line (`Recognizer.decodeEvery`).
    /// Our own analysis of each period (voice, pauses, end of turn, a sustained voice for
    /// barge-in) needs no decoder, and the recognizer catches the decoder up whenever its
    /// words or a speech start are wanted. Measured with `sparring-bench --decode FILE --paced 1
    /// --decode-every N --seconds 40`: 1, 6, 12, 25 and 50 periods cost about 1.3, 0.9, 0.85,
    /// 0.75 and 0.7 times pocketsphinx_continuous on that agent audio; 25 is where the gain flattens.
    static var framesPerDecode: Int { 25 }

    /// Periods per wake while the agent is mid-speech on a real-time line. Nothing is due
    /// then: a pause (voiced less recently than `voicedWithin`) brings back a wake every
    /// period, as does the rest of the call (speech starts, barge-ins); the two together
    /// stay under the 120 ms after which a pause is noticed.
    static var framesPerWakeInSpeech: Int { 6 }
    static var voicedWithin: Double { 0.04 }

    private func listen() {
        let rate = loop.line.rate
        let chunk = rate / 100
        let batch = loop.line.runsInRealTime ? Self.framesPerWakeInSpeech : 1
        /// How often the audio loop captures: the line's period (10 ms unless the device chose otherwise).
        let periodNanoseconds = UInt64(loop.line.periodFrames) * 1_000_000_000 / UInt64(rate)
        var buffer = [Int16](repeating: 0, count: chunk)
        var converted: [Int16] = []
        converted.reserveCapacity(Recognizer.sampleRate / 50)
        while true {
            busy.store(true, ordering: .releasing)
            var events: [RecognizerEvent] = []
            var frames = 0
            recognizer.caller(speaking: callerSpeaking.load(ordering: .acquiring))
            while loop.captureRing.readable >= chunk {
                let n = buffer.withUnsafeMutableBufferPointer { loop.captureRing.read(into: $0.baseAddress!, count: chunk) }
                converted.removeAll(keepingCapacity: true)
                buffer.withUnsafeBufferPointer { resampler.process(UnsafeBufferPointer(rebasing: $0[0..<n]), into: &converted) }
                events += converted.withUnsafeBufferPointer { recognizer.process($0) }
                frames += 1
            }
            if frames > 0 {
                let clock = loop.clock
                heard(events, clock)
            }
            busy.store(false, ordering: .releasing)
            if loop.finished.load(ordering: .acquiring) && loop.captureRing.readable < chunk {
                let last = recognizer.flush()
                let clock = loop.clock
                heardLast(last.map { [.utterance($0)] } ?? [], clock)
                return
            }
            guard loop.line.runsInRealTime else {
                // In lockstep the next period comes as soon as this one has settled: woken by it.
                _ = loop.periodWritten.wait(timeout: .now() + .milliseconds(2))
                continue
            }
            // Sleep until the period wanted should be in the ring: the next one, or mid-speech the
            // one that completes a batch; a millisecond after it is due. A period late by more
            // finds the ring short and brings a wake each millisecond until it comes.
            let wanted = batch > 1 && recognizer.isMidSpeech(voicedWithin: Self.voicedWithin)
                ? max(1, batch - loop.captureRing.readable / chunk) : 1
            let due = loop.capturedAt.load(ordering: .acquiring) + UInt64(wanted) * periodNanoseconds + 1_000_000
            let now = DispatchTime.now().uptimeNanoseconds
            usleep(UInt32(due > now ? min(due - now, UInt64(wanted) * periodNanoseconds) / 1_000 : 1_000))
        }
    }
}
