import Foundation
import Synchronization
import SparringCore
import SparringSessions
import SparringSpeech

/// One call on a line: the wiring between its threads.
///
/// Threads: the real-time audio loop (`AudioLoop`); the recognizer thread
/// (`CallListener`: the recognizer and the call's floor, reading the capture
/// ring); the control queue, here, which alone owns the caller engine, the
/// caller lines' progress on the line and the session log; the synthesizer
/// worker (`CallerSpeech`, writing into the playback ring); the recorder
/// (`CallRecorder`, draining the record ring into `call.wav`). The summary is
/// `CallSummary.live`. Call time is the loop's frame count.
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
    /// The recognizer thread; made when the call runs.
    private var listener: CallListener<Line>?
    private let hangUpRequested = Atomic<Bool>(false)
    private let hangUpReason = Mutex("agent")

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
    private var recorder: CallRecorder?
    /// Turn gaps, barge-in latencies and the transcript, for the summary.
    private var measures = CallMeasures()
    private var pendingBargeAt: Int?
    private var xrunsLogged = 0
    /// Speaks the caller's lines into the playback ring; made when the call runs.
    private var speech: CallerSpeech?
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
        loop.captureRing.readable == 0 && listener?.busy.load(ordering: .acquiring) != true
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
        // The parts hold the call weakly: it owns them, and a cycle would keep every call's session open.
        speech = CallerSpeech(models: models, ring: loop.playbackRing, resampler: fromSynthesizer, placed: { [weak self] placed in
            guard let self else { return }
            dispatch { [self] in
                guard let position = lines.firstIndex(where: { $0.text == placed.text && $0.start == nil }) else { return }
                if placed.cut, speech?.cancelled(since: placed.generation) == true { return }
                lines[position].start = placed.start
                lines[position].end = placed.end
                lines[position].prepared = placed.prepared
            }
        }, failed: { [weak self] text, frame, reason in
            guard let self else { return }
            let t = seconds(frame)
            dispatch { [self] in log(SessionEvent(t: t, .synthesisError(text: text, reason: reason))) }
        })
        let writer: WaveWriter
        do { writer = try WaveWriter(path: session.wavPath, rate: rate, channels: 2) } catch { throw error }
        // Where the meters start, so a mood plot of the call begins at the beginning.
        log(SessionEvent(t: 0, .callStart(.init(
            scenario: options.scenario.id, agent: options.agent, seed: options.seed,
            startedAt: ISO8601DateFormatter().string(from: startedAt), rate: rate, meters: engine.meters, mood: engine.mood.rawValue,
            retry: options.retry.map { "retry:\($0.session):\($0.moment)" }, phase: options.retry == nil ? nil : engine.phaseID))))

        // A full disk ends the call.
        let recorder = CallRecorder(ring: loop.recordRing, writer: writer, rate: rate) { [weak self] in
            guard let self, !hangUpRequested.load(ordering: .acquiring) else { return }
            hangUp(reason: CallSummary.diskFull)
        }
        self.recorder = recorder
        let listener = CallListener(loop: loop, recognizer: models.recognizer, options: options, resampler: toRecognizer,
                                    heard: { [weak self] events, clock in
                                        guard let self else { return }
                                        dispatch { [self] in period(events: events, clock: clock) }
                                    },
                                    heardLast: { [weak self] events, clock in
                                        guard let self else { return }
                                        control.sync { period(events: events, clock: clock) }
                                    },
                                    note: { [weak self] note in
                                        guard let self else { return }
                                        dispatch { [self] in log(SessionEvent(t: 0, .recognizer(note: note))) }
                                    })
        self.listener = listener

        do { try loop.start() } catch {
            onLineOpened?(error)
            log(SessionEvent(t: 0, .lineError(reason: error.description)))
            writer.close()
            _ = finish(endedBy: "device", outcome: .agentEnded)
            throw SparringError("device", error.description)
        }
        onLineOpened?(nil)
        log(SessionEvent(t: 0, .audioThread(realtime: loop.realtime, note: loop.realtimeNote)))

        recorder.start()
        listener.start()

        loop.join()
        listener.join()
        recorder.finish()
        var summary: CallSummary!
        control.sync { summary = finish(endedBy: endedBy, outcome: engine.outcome ?? .agentEnded) }
        if let error = loop.error { throw SparringError("device", "\(error.description); session saved in \(session.directory)") }
        return summary
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
                measures.transcript.append(.init(t: utterance.start.seconds, speaker: "agent", text: utterance.text))
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
                    let reason = session.writeFailure ?? recorder?.failure.withLock { $0 } ?? "No space left on device"
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
            measures.bargeIns.append(latency)
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
                    measures.gaps.append(((first - reply.voiceEnd) * 1000).rounded())
                    replyMs = ((first - reply.turnEnded) * 1000).rounded()
                }
                // latency_ms: from the end of the agent's turn being decided to the caller's first audible sample.
                log(SessionEvent(t: seconds(clock), .callerLineStart(text: lines[index].text, latencyMs: replyMs, prepared: lines[index].prepared)))
                measures.transcript.append(.init(t: seconds(clock), speaker: "caller", text: lines[index].text))
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
                speech?.speak(line)
            case .stopSpeaking:
                speech?.cancel()
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
        // The floor on the recognizer thread tells a barge-in from the agent taking a free floor by it.
        listener?.callerSpeaking.store(engine.isCallerSpeaking, ordering: .releasing)
    }

    /// The agent paused: if the words so far were the whole turn, what would the caller say?
    ///
    /// A copy of the engine (a value; the seeded choices come out the same)
    /// hears the partial hypothesis, and its first line is synthesized ahead
    /// (`CallerSpeech.prepare`), so that when the turn ends with a reply to the
    /// same line the caller starts from audio already made.
    private func prepareReply(to words: String, at t: CallTime) {
        guard options.prepareReplies, !words.isEmpty, engine.outcome == nil, !engine.isCallerSpeaking else { return }
        var speculative = engine
        _ = speculative.handle(.agentSpeechStopped, at: t)
        let actions = speculative.handle(.agentUtterance(AgentUtterance(text: words, start: t, end: t)), at: t)
        guard let line = actions.lazy.compactMap({ action -> CallerLine? in if case let .say(line) = action { line } else { nil } }).first else { return }
        speech?.prepare(line)
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
        let summary = CallSummary.live(
            options: options, record: engine.record, measures: measures, id: session.id, directory: session.directory,
            startedAt: startedAt, duration: duration, outcome: outcome, endedBy: endedBy,
            xruns: xruns, realtime: loop.realtime, overruns: overruns)
        try? session.writeSummary(summary)
        session.close()
        self.summary = summary
        return summary
    }
}
