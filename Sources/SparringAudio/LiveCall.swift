import Foundation
import Synchronization
import SparringCore
import SparringSessions
import SparringSpeech

/// Settings of one live call.
public struct CallOptions: Sendable {
    public var scenario: Scenario
    public var agent: String
    public var seed: UInt64
    public var sessions: String
    public var maxMinutes: Double = CallOptions.defaultMaxMinutes
    /// The shortest silence that ends the agent's turn (after a question, or
    /// for an agent who does not pause); `TurnEndPolicy` holds longer after
    /// unfinished words and as long as this agent's own mid-turn pauses.
    public var hangover = TurnEndPolicy.defaultBase
    /// False: every turn ends after exactly `hangover` of silence.
    public var adaptiveTurnEnd = true
    /// Interpolate the scenario's bias model with the generic one.
    public var bias = true
    /// Synthesize the start of the likely reply while the agent pauses (see `LiveCall.prepareReply`).
    public var prepareReplies = true
    /// Time the line rings before the caller speaks.
    public var ringSeconds = 1.0
    /// Practise a moment of an earlier call again: the caller starts there.
    public var retry: MomentRetry?

    /// The agent's name when none is given, for `sparring run` and sparringd alike.
    public static let defaultAgent = ProcessInfo.processInfo.environment["USER"].flatMap { $0.isEmpty ? nil : $0 } ?? "agent"
    /// A practice call ends after this many minutes, for `sparring run` and sparringd alike.
    public static let defaultMaxMinutes = 30.0
    /// A retried moment is a short call unless a limit is given.
    public static let retryMaxMinutes = 3.0
    /// A seed for a practice call: every call of a scenario should not be the same call.
    public static func freshSeed() -> UInt64 { UInt64.random(in: 1...999_999) }

    public init(scenario: Scenario, agent: String, seed: UInt64, sessions: String) {
        self.scenario = scenario
        self.agent = agent
        self.seed = seed
        self.sessions = sessions
    }
}

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

/// One call on a line: the audio loop, the recognizer, the caller engine, the synthesizer and the recorder.
///
/// Threads: the real-time loop; the recognizer, reading the capture ring;
/// the control queue, which alone owns the engine and the session log; the
/// synthesizer worker, writing into the playback ring; the recorder, draining
/// the record ring into `call.wav`. Call time is the loop's frame count.
public final class LiveCall<Line: DuplexLine>: @unchecked Sendable {
    public let loop: AudioLoop<Line>
    public let options: CallOptions
    public let session: SessionLog
    /// The call's summary once it ended, also when `run` threw after saving the session.
    public private(set) var summary: CallSummary?
    private let models: SpeechModels
    private let control = DispatchQueue(label: "sparring-control")
    private var engine: CallerEngine
    private let onEvent: @Sendable (SessionEvent) -> Void
    /// Told once whether the line opened (nil) or why not, before the call goes on or ends.
    public var onLineOpened: (@Sendable (LineError?) -> Void)?

    // Shared with other threads through atomics only.
    private let controlPending = Atomic<Int>(0)
    private let recognizerBusy = Atomic<Bool>(false)
    private let synthGeneration = Atomic<Int>(0)
    /// Whether the caller is talking (a line queued or playing), as the control queue last saw it:
    /// the recognizer thread tells the floor before each period.
    private let callerSpeaking = Atomic<Bool>(false)
    private let hangUpRequested = Atomic<Bool>(false)
    private let hangUpReason = Mutex("agent")
    private let stopping = Atomic<Bool>(false)

    // Control-queue state.
    private struct QueuedLine {
        var text: String; var start: Int?; var end: Int?; var started = false; var prepared = false
        /// For the first line of a reply: the agent's voice end and when the turn was judged over (seconds).
        var replyTo: (voiceEnd: Double, turnEnded: Double)?
        var queuedAt: Int
    }
    private var lines: [QueuedLine] = []
    private var opened = false
    private var endingSince: Int?
    private var endedBy = "caller"
    /// Why the recording stopped being written, if it did; told by the recorder thread.
    private let recorderFailure = Mutex<String?>(nil)
    private var gaps: [Double] = []
    private var bargeIns: [Double] = []
    private var pendingBargeAt: Int?
    private var xrunsLogged = 0
    private var transcript: [CallSummary.Line] = []
    /// Used only on the synthesizer worker, one line at a time.
    private var synthesisResampler: Resampler?
    /// Synthesizer worker only: the reply prepared during the agent's last pause, whole.
    private var prepared: (line: CallerLine, samples: [Int16])?
    /// Counts lines handed to the synthesizer: a preparation still running when one comes gives way.
    private let linesRequested = Atomic<Int>(0)
    private let startedAt = Date()

    public init(line: Line, options: CallOptions, models: SpeechModels,
                onEvent: @escaping @Sendable (SessionEvent) -> Void = { _ in }) throws(SparringError) {
        self.options = options
        self.models = models
        self.onEvent = onEvent
        loop = AudioLoop(line: line)
        engine = options.retry.map { CallerEngine(scenario: options.scenario, seed: options.seed, retrying: $0.point) }
            ?? CallerEngine(scenario: options.scenario, seed: options.seed)
        session = try SessionLog(sessions: options.sessions, id: SessionLog.newID(scenario: options.scenario.id))
    }

    private var rate: Int { loop.line.rate }
    private func seconds(_ frames: Int) -> Double { Double(frames) / Double(rate) }

    /// Everything is processed up to the loop's clock: what a lockstep line waits for.
    public func isSettled() -> Bool {
        loop.captureRing.readable == 0 && !recognizerBusy.load(ordering: .acquiring)
            && controlPending.load(ordering: .acquiring) == 0 && models.synthesizerWorker.pending.load(ordering: .acquiring) == 0
            && loop.recordRing.readable < loop.recordRing.capacity / 2
    }

    /// Asks the call to end from the agent's side (Ctrl-C, a hang-up request) or the daemon's (`shutdown`).
    public func hangUp(reason: String = "agent") {
        hangUpReason.withLock { $0 = reason }
        hangUpRequested.store(true, ordering: .releasing)
    }

    /// Runs the call to its end and returns its summary; the session is complete on return.
    public func run() throws(SparringError) -> CallSummary {
        // Made here, once per call: errors are reported, and nothing is built on the turn-gap path.
        let toRecognizer: Resampler, fromSynthesizer: Resampler
        do {
            toRecognizer = try Resampler(from: rate, to: Recognizer.sampleRate)
            fromSynthesizer = try Resampler(from: models.synthesizer.sampleRate, to: rate)
        } catch { throw SparringError("resampler", error.description) }
        synthesisResampler = fromSynthesizer
        let writer: WaveWriter
        do { writer = try WaveWriter(path: session.wavPath, rate: rate, channels: 2) } catch { throw error }
        // Where the meters start, so a mood plot of the call begins at the beginning.
        log(SessionEvent(t: 0, .callStart(.init(
            scenario: options.scenario.id, agent: options.agent, seed: options.seed,
            startedAt: ISO8601DateFormatter().string(from: startedAt), rate: rate, meters: engine.meters, mood: engine.mood.rawValue,
            retry: options.retry.map { "retry:\($0.session):\($0.moment)" }, phase: options.retry == nil ? nil : engine.phaseID))))

        do { try loop.start() } catch {
            onLineOpened?(error)
            log(SessionEvent(t: 0, .lineError(reason: error.description)))
            writer.close()
            _ = finish(endedBy: "device", outcome: .agentEnded)
            throw SparringError("device", error.description)
        }
        onLineOpened?(nil)
        log(SessionEvent(t: 0, .audioThread(realtime: loop.realtime, note: loop.realtimeNote)))

        let recorderDone = DispatchSemaphore(value: 0)
        let recognizerDone = DispatchSemaphore(value: 0)
        startNamedThread("sp-record") { [self] in record(into: writer); recorderDone.signal() }
        startNamedThread("sp-recognize") { [self] in
            prepareRecognizer()
            recognize(resampler: toRecognizer)
            recognizerDone.signal()
        }

        loop.join()
        stopping.store(true, ordering: .releasing)
        recognizerDone.wait()
        recorderDone.wait()
        writer.close()
        var summary: CallSummary!
        control.sync { summary = finish(endedBy: endedBy, outcome: engine.outcome ?? .agentEnded) }
        if let error = loop.error { throw SparringError("device", "\(error.description); session saved in \(session.directory)") }
        return summary
    }

    // MARK: - Recognizer thread

    /// Builds the scenario's biased search and starts the recognizer's call clock.
    ///
    /// Runs on the recognizer thread once the line is open: building the
    /// search takes a few tenths of a second, and meanwhile the capture ring
    /// (four seconds) keeps what the microphone hears while the line rings;
    /// the recognizer then catches up faster than real time. Nothing is lost,
    /// and the line is open sooner. If the bias cannot be built the call goes
    /// on with the generic model, and the session says so.
    private func prepareRecognizer() {
        let recognizer = models.recognizer
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
                dispatch { self.log(SessionEvent(t: 0, .recognizer(note: "\(reason); recognizing with the generic model"))) }
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

    private func recognize(resampler: Resampler) {
        let recognizer = models.recognizer
        let chunk = rate / 100
        let batch = loop.line.runsInRealTime ? Self.framesPerWakeInSpeech : 1
        /// How often the audio loop captures: the line's period (10 ms unless the device chose otherwise).
        let periodNanoseconds = UInt64(loop.line.periodFrames) * 1_000_000_000 / UInt64(rate)
        var buffer = [Int16](repeating: 0, count: chunk)
        var converted: [Int16] = []
        converted.reserveCapacity(Recognizer.sampleRate / 50)
        while true {
            recognizerBusy.store(true, ordering: .releasing)
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
                dispatch { [events] in self.period(events: events, clock: clock) }
            }
            recognizerBusy.store(false, ordering: .releasing)
            if loop.finished.load(ordering: .acquiring) && loop.captureRing.readable < chunk {
                let last = recognizer.flush()
                let clock = loop.clock
                control.sync { self.period(events: last.map { [.utterance($0)] } ?? [], clock: clock) }
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

    private func dispatch(_ work: @escaping @Sendable () -> Void) {
        controlPending.wrappingAdd(1, ordering: .acquiringAndReleasing)
        control.async { [self] in
            work()
            controlPending.wrappingSubtract(1, ordering: .acquiringAndReleasing)
        }
    }

    // MARK: - Control queue

    private func now(_ clock: Int) -> CallTime { CallTime(frames: clock, rate: rate) }

    /// One period's work on the control queue: recognizer events, caller line progress, timers, the end.
    private func period(events: [RecognizerEvent], clock: Int) {
        let t = now(clock)
        if !opened && t.seconds >= options.ringSeconds {
            opened = true
            perform(engine.handle(.callOpened, at: t), at: clock)
        }
        for recognized in events {
            switch recognized {
            case let .speechStarted(start, _):
                log(SessionEvent(t: start.seconds, .agentSpeechStart))
            case let .floor(.callerYields(start, pause)):
                // The caller answered into a pause: it hands the floor back, no barge-in.
                log(SessionEvent(t: start.seconds, .tookTurnEarly(holdMs: (pause * 1000).rounded())))
                pendingBargeAt = nil
                perform(engine.handle(.agentResumed, at: t), at: clock)
            case let .floor(.agentTakesFloor(start)), let .floor(.bargeIn(start)):
                // Over the caller (as the floor or, a moment later, the engine knows it), the barge-in's
                // latency runs from when the agent's voice began to when the caller's voice stopped.
                pendingBargeAt = engine.isCallerSpeaking ? Int(start.seconds * Double(rate)) : nil
                perform(engine.handle(.agentSpeechStarted, at: t), at: clock)
            case .floor:
                break
            case let .noiseIgnored(start):
                log(SessionEvent(t: start.seconds, .agentNoise))
            case let .partial(text):
                onEvent(SessionEvent(t: t.seconds, .partial(text: text)))
            case let .paused(words):
                prepareReply(to: words, at: t)
            case let .utterance(utterance):
                let voiceEnd = utterance.voiceEnd.seconds
                log(SessionEvent(t: voiceEnd, .agentSpeechEnd(holdMs: (utterance.hold * 1000).rounded())))
                perform(engine.handle(.agentSpeechStopped, at: t), at: clock)
                guard !utterance.text.isEmpty else { continue }
                let actions = engine.handle(.agentUtterance(AgentUtterance(text: utterance.text, start: utterance.start,
                                                                           end: CallTime(seconds: voiceEnd), confidence: utterance.confidence ?? 1,
                                                                           hypotheses: utterance.hypotheses)), at: t)
                transcript.append(.init(t: utterance.start.seconds, speaker: "agent", text: utterance.text))
                let moves: [MoveHit] = actions.lazy.compactMap { action -> [MoveHit]? in if case let .heard(_, moves) = action { return moves } else { return nil } }.first ?? []
                log(SessionEvent(t: utterance.start.seconds, .utterance(.init(
                    text: utterance.text, confidence: utterance.confidence, moves: moves,
                    words: utterance.words.map { .init(word: $0.word, start: $0.start.seconds, end: $0.end.seconds, confidence: $0.confidence) },
                    alternatives: utterance.alternatives, latencyMs: (utterance.finalizeSeconds * 10_000).rounded() / 10))))
                perform(actions, at: clock, replyTo: (voiceEnd, utterance.end.seconds))
            }
        }
        progressCallerLines(clock: clock)
        let xruns = loop.xruns.load(ordering: .relaxed)
        if xruns > xrunsLogged {
            log(SessionEvent(t: t.seconds, .xrun(count: xruns - xrunsLogged)))
            xrunsLogged = xruns
        }
        if let deadline = engine.nextDeadline, t >= deadline { perform(engine.handle(.tick, at: t), at: clock) }
        if engine.outcome == nil {
            if session.writeFailure != nil, !hangUpRequested.load(ordering: .acquiring) { hangUp(reason: CallSummary.diskFull) }
            if hangUpRequested.load(ordering: .acquiring) {
                endedBy = hangUpReason.withLock { $0 }
                if endedBy == CallSummary.diskFull {
                    let reason = session.writeFailure ?? recorderFailure.withLock { $0 } ?? "No space left on device"
                    log(SessionEvent(t: t.seconds, .diskFull(
                        reason: "cannot write the session in \(options.sessions) (\(reason)); the call is ended and what was recorded is kept")))
                }
                perform(engine.handle(.agentHungUp, at: t), at: clock)
            } else if t.seconds >= options.maxMinutes * 60 {
                endedBy = "time_limit"
                perform(engine.handle(.agentHungUp, at: t), at: clock)
            } else if loop.finished.load(ordering: .acquiring) {
                endedBy = loop.error == nil ? "agent" : "device"
                if let error = loop.error { log(SessionEvent(t: t.seconds, .lineError(reason: error.description))) }
                perform(engine.handle(.agentHungUp, at: t), at: clock)
            }
        }
        // Once over, let the caller's last words play, then stop the line (at once when nothing can be recorded).
        if engine.outcome != nil {
            let speaking = lines.contains { $0.end == nil || loop.playbackRing.consumed < $0.end! }
            if endingSince == nil { endingSince = clock }
            if (!speaking && clock - endingSince! > rate / 2) || clock - endingSince! > rate * 30 || endedBy == CallSummary.diskFull {
                loop.requestStop()
            }
        }
    }

    private func progressCallerLines(clock: Int) {
        let consumed = loop.playbackRing.consumed
        if let barge = pendingBargeAt, loop.flushedAt.load(ordering: .acquiring) >= barge {
            let latency = seconds(loop.flushedAt.load(ordering: .acquiring) - barge) * 1000
            bargeIns.append(latency)
            log(SessionEvent(t: seconds(clock), .bargeInStop(latencyMs: latency.rounded())))
            pendingBargeAt = nil
        }
        var index = 0
        while index < lines.count {
            guard let start = lines[index].start else { break }
            if !lines[index].started && consumed > start {
                lines[index].started = true
                // The turn gap runs from the agent's last voiced sample to the
                // caller's first audible sample of the reply on the line.
                let soundAt = loop.callerSoundStartedAt.load(ordering: .acquiring)
                var replyMs: Double?
                if let reply = lines[index].replyTo {
                    let first = soundAt >= lines[index].queuedAt ? seconds(soundAt) : seconds(clock)
                    gaps.append(((first - reply.voiceEnd) * 1000).rounded())
                    replyMs = ((first - reply.turnEnded) * 1000).rounded()
                }
                // latency_ms: from the end of the agent's turn being decided to the caller's first audible sample.
                log(SessionEvent(t: seconds(clock), .callerLineStart(text: lines[index].text, latencyMs: replyMs, prepared: lines[index].prepared)))
                transcript.append(.init(t: seconds(clock), speaker: "caller", text: lines[index].text))
            }
            if let end = lines[index].end, consumed >= end {
                log(SessionEvent(t: seconds(clock), .callerLineEnd(text: nil, interrupted: false)))
                lines.remove(at: index)
                perform(engine.handle(.callerLineFinished, at: now(clock)), at: clock)
                continue
            }
            index += 1
        }
    }

    private func perform(_ actions: [CallerAction], at clock: Int, replyTo: (voiceEnd: Double, turnEnded: Double)? = nil) {
        let t = seconds(clock)
        var firstReply = replyTo
        for action in actions {
            switch action {
            case let .say(line):
                lines.append(QueuedLine(text: line.text, replyTo: firstReply, queuedAt: clock))
                firstReply = nil
                log(SessionEvent(t: t, .callerLine(text: line.text, mood: line.mood.rawValue, cause: line.cause)))
                speak(line)
            case .stopSpeaking:
                synthGeneration.wrappingAdd(1, ordering: .acquiringAndReleasing)
                loop.flushRequested.store(true, ordering: .releasing)
                for line in lines { log(SessionEvent(t: t, .callerLineEnd(text: line.text, interrupted: true))) }
                lines.removeAll()
            case .heard:
                break
            case let .moodChanged(meters, band):
                log(SessionEvent(t: t, .mood(meters: meters.mapValues { ($0 * 10).rounded() / 10 }, mood: band.rawValue)))
            case let .phaseChanged(phase):
                log(SessionEvent(t: t, .phase(phase)))
            case let .triggered(kind):
                log(SessionEvent(t: t, .trigger(kind.rawValue)))
            case let .bargeIn(yielded):
                log(SessionEvent(t: t, .bargeIn(yielded: yielded)))
            case let .end(outcome):
                log(SessionEvent(t: t, .outcome(outcome.rawValue)))
            }
        }
        callerSpeaking.store(engine.isCallerSpeaking, ordering: .releasing)
    }

    /// The agent paused: if the words so far were the whole turn, what would the caller say?
    ///
    /// A copy of the engine (a value; the seeded choices come out the same)
    /// hears the partial hypothesis, and its first line is synthesized on the
    /// worker now (a few per cent of the line's length in CPU), so that when
    /// the turn ends with a reply to the same line the caller starts from audio
    /// already made. A preparation still running when a real line arrives is
    /// abandoned, so it never delays a reply. (The audio is not bit-identical
    /// to a later synthesis: eSpeak NG carries amplitude and echo state from
    /// one synthesis to the next.)
    private func prepareReply(to words: String, at t: CallTime) {
        guard options.prepareReplies, !words.isEmpty, engine.outcome == nil, !engine.isCallerSpeaking else { return }
        var speculative = engine
        _ = speculative.handle(.agentSpeechStopped, at: t)
        let actions = speculative.handle(.agentUtterance(AgentUtterance(text: words, start: t, end: t)), at: t)
        guard let line = actions.lazy.compactMap({ action -> CallerLine? in if case let .say(line) = action { line } else { nil } }).first else { return }
        let generation = synthGeneration.load(ordering: .acquiring)
        let requested = linesRequested.load(ordering: .acquiring)
        models.synthesizerWorker.submit { [self] in
            guard synthGeneration.load(ordering: .acquiring) == generation, prepared?.line != line,
                  let resampler = synthesisResampler else { return }
            prepared = nil
            resampler.reset()
            var samples: [Int16] = []
            var converted: [Int16] = []
            let superseded = { [self] in
                linesRequested.load(ordering: .acquiring) != requested || synthGeneration.load(ordering: .acquiring) != generation
            }
            let finished = try? models.synthesizer.speak(line.text, voice: line.voice, prosody: line.prosody, shouldStop: superseded) { chunk in
                converted.removeAll(keepingCapacity: true)
                resampler.process(chunk, into: &converted)
                samples += converted
            }
            if finished == true && !superseded() { prepared = (line, samples) }
        }
    }

    /// The voice a line falls back to when the caller's cannot speak it.
    static var fallbackVoice: String { "en" }

    /// Synthesizes on the worker; records where the line sits in the playback stream.
    /// A line prepared during the agent's pause goes into the ring as it is.
    private func speak(_ line: CallerLine) {
        let generation = synthGeneration.load(ordering: .acquiring)
        linesRequested.wrappingAdd(1, ordering: .acquiringAndReleasing)
        let ring = loop.playbackRing
        models.synthesizerWorker.submit { [self] in
            guard synthGeneration.load(ordering: .acquiring) == generation, let resampler = synthesisResampler else { return }
            let start = ring.written
            var cut = false
            /// Writes all of `buffer` unless the line is cancelled meanwhile.
            func put(_ buffer: UnsafeBufferPointer<Int16>) {
                var offset = 0
                while offset < buffer.count {
                    if synthGeneration.load(ordering: .acquiring) != generation { cut = true; return }
                    offset += ring.write(buffer.baseAddress! + offset, count: buffer.count - offset)
                    if offset < buffer.count { usleep(2_000) }
                }
            }
            let ready = prepared?.line == line ? prepared?.samples : nil
            prepared = nil
            if let ready {
                ready.withUnsafeBufferPointer { put($0) }
            } else {
                var converted: [Int16] = []
                // A line that cannot be spoken in the caller's voice is spoken in eSpeak NG's
                // default English voice: the agent hears the caller, and the event says why.
                for voice in [line.voice, Self.fallbackVoice] {
                    resampler.reset()
                    do throws(SpeechError) {
                        try models.synthesizer.speak(line.text, voice: voice, prosody: line.prosody,
                                                     shouldStop: { [self] in synthGeneration.load(ordering: .acquiring) != generation }) { samples in
                            converted.removeAll(keepingCapacity: true)
                            resampler.process(samples, into: &converted)
                            converted.withUnsafeBufferPointer { put($0) }
                        }
                        break
                    } catch {
                        let t = seconds(ring.written)
                        let fallback = voice == line.voice && voice != Self.fallbackVoice
                        let reason = error.description + (fallback ? "; spoken in '\(Self.fallbackVoice)' instead" : "; the line is not spoken")
                        dispatch { [self] in
                            log(SessionEvent(t: t, .synthesisError(text: line.text, reason: reason)))
                        }
                        if !fallback { cut = true; break }
                    }
                }
            }
            let end = ring.written
            let text = line.text
            let wasCut = cut
            let fromPrepared = ready != nil
            dispatch { [self] in
                guard let position = lines.firstIndex(where: { $0.text == text && $0.start == nil }) else { return }
                if wasCut && synthGeneration.load(ordering: .acquiring) != generation { return }
                lines[position].start = start
                lines[position].end = end
                lines[position].prepared = fromPrepared
            }
        }
    }

    // MARK: - Recorder thread

    private func record(into writer: WaveWriter) {
        // Woken ten times a second, it takes what came (ten periods) in one read.
        let chunk = rate / 100 * 2
        let buffer = UnsafeMutablePointer<Int16>.allocate(capacity: chunk * 16)
        defer { buffer.deallocate() }
        var sinceFlush = 0
        while true {
            let n = loop.recordRing.read(into: buffer, count: chunk * 16)
            if n > 0 {
                writer.append(UnsafeBufferPointer(start: buffer, count: n))
                sinceFlush += n / 2
                // A crash loses what is not yet on disk: at most the last quarter second written
                // here plus the tenth of a second still in the ring.
                if sinceFlush >= rate / 4 {
                    // A full disk ends the call; the ring is still drained so the audio loop never waits.
                    if !writer.flush(), !hangUpRequested.load(ordering: .acquiring) {
                        recorderFailure.withLock { $0 = writer.failure }
                        hangUp(reason: CallSummary.diskFull)
                    }
                    sinceFlush = 0
                }
                continue
            }
            if stopping.load(ordering: .acquiring) && loop.recordRing.readable == 0 { break }
            usleep(100_000)
        }
        writer.flush()
    }

    // MARK: - Session

    private func log(_ event: SessionEvent) {
        session.append(event)
        onEvent(event)
    }

    private func finish(endedBy: String, outcome: OutcomeKind) -> CallSummary {
        let duration = seconds(loop.clock)
        let xruns = loop.xruns.load(ordering: .relaxed)
        let dropped = (capture: loop.captureRing.dropped.load(ordering: .relaxed), recording: loop.recordRing.dropped.load(ordering: .relaxed))
        let overruns = dropped.capture + dropped.recording > 0 ? CallSummary.Overruns(capture: dropped.capture, recording: dropped.recording) : nil
        if let overruns {
            log(SessionEvent(t: duration, .overrun(
                count: overruns.capture + overruns.recording,
                reason: "samples dropped because a reader fell behind: \(overruns.capture) from the capture, \(overruns.recording) from the recording")))
        }
        log(SessionEvent(t: duration, .callEnd(outcome: outcome.rawValue, endedBy: endedBy, xruns: xruns)))
        let formatter = ISO8601DateFormatter()
        // A call the agent never spoke in (or that never opened) measures nothing about the agent.
        let agentSpoke = engine.record.utterances.contains { !$0.text.isEmpty }
        let score = agentSpoke ? Scorer.score(options.scenario, engine.record) : nil
        var summary = CallSummary(
            id: session.id, scenario: options.scenario.id, agent: options.agent, seed: options.seed,
            started_at: formatter.string(from: startedAt), duration_s: (duration * 100).rounded() / 100,
            outcome: outcome.rawValue, ended_by: endedBy, score: options.retry == nil ? score : nil,
            turn_gap_ms: .init(p50: percentile(gaps, 50).map { $0.rounded() }, p95: percentile(gaps, 95).map { $0.rounded() }, count: gaps.count),
            barge_in_ms: bargeIns, xruns: xruns, realtime: loop.realtime, interrupted: false,
            transcript: transcript.sorted { $0.t < $1.t }, session: session.directory)
        summary.difficulty = options.scenario.difficulty.rawValue
        summary.overruns = overruns
        summary.title = options.scenario.title
        summary.situation = options.scenario.persona.situation.trimmingCharacters(in: .whitespacesAndNewlines)
        if let score { summary.turning_points = Debrief.turningPoints(options.scenario, engine.record, score: score) }
        if let retry = options.retry {
            // A moment practised again is not a whole call: it is not scored, nor counted in pass rates.
            summary.retry = Debrief.compare(retry, engine.record)
            summary.unscored = "a retry of moment \(retry.moment) of \(retry.session), not a whole call"
        } else if !agentSpoke {
            summary.unscored = endedBy == "device" && duration < options.ringSeconds
                ? "no call: the line failed before the caller could speak" : "no agent speech: the agent never spoke"
        }
        try? session.writeSummary(summary)
        session.close()
        self.summary = summary
        return summary
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
