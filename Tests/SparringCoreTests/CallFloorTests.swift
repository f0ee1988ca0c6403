import Testing
@testable import SparringCore

/// The floor driven by scripted periods, 10 ms each, as the recognizer drives it.
@Suite("The call's floor")
struct CallFloorTests {
    /// What a stretch of the agent's microphone holds.
    enum Sound {
        /// A voice: loud and periodic.
        case voice(Double)
        /// Loud but without a period: a cough, a fan switched on, a knock.
        case noise(Double)
        case silence(Double)

        var seconds: Double {
            switch self { case let .voice(s), let .noise(s), let .silence(s): s }
        }
    }

    /// Feeds the floor 10 ms periods (160 samples at 16 kHz) and a detector that hears speech after
    /// ten loud periods in a row and stops a second after the last loud one, as PocketSphinx's VAD is
    /// set up. Answers pauses with `words`; collects what the floor did, with the period's time.
    struct Run {
        var floor: CallFloor
        var log: [(t: Double, action: CallFloor.Action)] = []
        var turns: [CallFloor.TurnEnd] = []
        var loudRun = 0
        var quietRun = 0
        var detectorSpeech = false
        var words: (Double) -> String = { _ in "i will call you back" }
        var callerSpeaking: (Double) -> Bool = { _ in false }

        init(_ policy: TurnEndPolicy = TurnEndPolicy(base: 0.2), detector: Bool = true) {
            floor = CallFloor(policy: policy, rate: 16_000, usesDetector: detector)
        }

        mutating func play(_ sounds: Sound...) {
            for sound in sounds {
                for _ in 0..<Int((sound.seconds * 100).rounded()) {
                    let loud: Bool, periodic: Bool
                    switch sound {
                    case .voice: (loud, periodic) = (true, true)
                    case .noise: (loud, periodic) = (true, false)
                    case .silence: (loud, periodic) = (false, false)
                    }
                    period(loud: loud, periodic: periodic)
                }
            }
        }

        mutating func period(loud: Bool, periodic: Bool) {
            floor.caller(speaking: callerSpeaking(floor.now.seconds))
            let t = floor.now.seconds + 0.01
            for action in floor.heard(samples: 160, voiced: loud, periodic: periodic && floor.wantsPeriodicity) { log.append((t, action)) }
            loudRun = loud ? loudRun + 1 : 0
            quietRun = loud ? 0 : quietRun + 1
            if loudRun >= 10 { detectorSpeech = true }
            if quietRun >= 100 { detectorSpeech = false }
            for action in floor.detected(samples: 160, inSpeech: detectorSpeech) {
                log.append((t, action))
                if case .noise = action { restartDetector() }
            }
            while let due = floor.due {
                switch due {
                case .pause: log.append((t, floor.paused(after: words(t))))
                case .end:
                    if let end = floor.endTurn() { turns.append(end) }
                    restartDetector()
                }
            }
        }

        /// The decoder's utterance ends with a turn and with noise: its VAD starts again from silence.
        mutating func restartDetector() {
            detectorSpeech = false
            loudRun = 0
        }

        var starts: [(t: Double, at: Double, resumed: Double?)] {
            log.compactMap { if case let .speechStarted(at, resumed) = $0.action { ($0.t, at.seconds, resumed) } else { nil } }
        }
        func count(_ match: (CallFloor.Action) -> Bool) -> Int { log.filter { match($0.action) }.count }
    }

    /// The policy for an agent already heard not pausing: statements end after the base hold.
    static let alreadyHeard = TurnEndPolicy(base: 0.2, priorPause: 0)

    static func takes(_ action: CallFloor.Action) -> Bool { if case .agentTakesFloor = action { true } else { false } }
    static func bargeIn(_ action: CallFloor.Action) -> Bool { if case .bargeIn = action { true } else { false } }

    @Test("a voice opens a turn when the detector hears it, dated where the detector began; its end comes after the hold")
    func voiceOpensAndEnds() throws {
        var run = Run()
        run.words = { _ in "i have booked it for monday" }
        run.play(.silence(1), .voice(1.5), .silence(1.5))
        let start = try #require(run.starts.first)
        #expect(run.starts.count == 1)
        // Ten loud periods before the detector decides; the turn is dated 100 ms before that.
        #expect(abs(start.t - 1.1) < 0.011 && abs(start.at - 1.0) < 0.011, "\(start)")
        #expect(start.resumed == nil)
        #expect(run.count(Self.takes) == 1)
        let turn = try #require(run.turns.first)
        #expect(run.turns.count == 1)
        #expect(abs(turn.voiceEnd.seconds - 2.5) < 1e-9)
        // A first statement holds as if the agent paused 0.6 s (`TurnEndPolicy.priorPause`).
        #expect(abs(turn.hold - 0.68) < 1e-9)
        #expect(abs(turn.end.seconds - 3.18) < 1e-9)
        #expect(run.count { if case .paused("i have booked it for monday", hold: let hold) = $0 { abs(hold - 0.68) < 1e-9 } else { false } } == 1)
    }

    @Test("loud sound without a voice's period opens nothing, and the detector's speech is told as noise")
    func noiseOpensNothing() {
        let isNoise: (CallFloor.Action) -> Bool = { if case .noise = $0 { true } else { false } }
        var run = Run()
        run.play(.silence(0.5), .noise(0.3), .silence(1.5))
        #expect(run.starts.isEmpty && run.turns.isEmpty)
        #expect(run.count(isNoise) == 1)
        // A voice after it opens its own turn.
        run.play(.voice(0.5), .silence(1.2))
        #expect(run.starts.count == 1 && run.turns.count == 1)

        // The detector hearing speech with no voice for `unconfirmedLimit` is hearing the room: told as noise
        // then (the recognizer drops what it decoded), not only when it closes, and again after that.
        var long = Run()
        long.play(.silence(0.5), .noise(2), .silence(1.5))
        let told = long.log.filter { isNoise($0.action) }
        #expect(long.starts.isEmpty && told.count >= 2)
        // One stretch of the room, told with one start each time.
        let starts = told.compactMap { entry -> Double? in if case let .noise(since) = entry.action { since.seconds } else { nil } }
        #expect(Set(starts).count == 1, "\(starts)")
        // The detector went into speech 0.1 s into the noise.
        #expect(abs((told.first?.t ?? 0) - (0.6 + CallFloor.unconfirmedLimit)) < 0.015, "first told at \(told.map(\.t))")
        // A voice coming out of the room's noise opens its turn where the voice began, or as much as
        // `confirmWindow` before it (the detector heard it first), not where the room's noise began.
        long.play(.noise(1), .voice(0.5), .silence(1.2))
        #expect(long.starts.count == 1 && long.turns.count == 1)
        let opened = long.starts.first?.at ?? 0
        #expect(opened >= 5 - CallFloor.confirmWindow - 0.011 && opened <= 5.011, "opened at \(opened)")
    }

    @Test("over the caller, 60 ms of voice are a barge-in at once; the turn that opens after it adds nothing")
    func bargeIn() throws {
        var run = Run()
        run.callerSpeaking = { $0 < 3 }
        run.play(.silence(2), .voice(1), .silence(1.5))
        let barge = try #require(run.log.first { Self.bargeIn($0.action) })
        #expect(abs(barge.t - 2.06) < 0.011, "told at \(barge.t) s")
        #expect(run.count(Self.bargeIn) == 1)
        #expect(run.count(Self.takes) == 0)
        #expect(run.starts.count == 1 && run.starts[0].t > barge.t)
    }

    @Test("a cough over the caller is no barge-in")
    func coughOverCaller() {
        var run = Run()
        run.callerSpeaking = { _ in true }
        run.play(.silence(1), .noise(0.3), .silence(2))
        #expect(run.count(Self.bargeIn) == 0 && run.starts.isEmpty)
    }

    @Test("a pause after 'and' stays inside the turn; the pause is learned and the statement's end waits past it")
    func pauseInsideTurn() throws {
        var run = Run()
        run.words = { $0 < 2 ? "i will book the repair and" : "i will call you on friday" }
        run.play(.silence(0.5), .voice(1), .silence(0.5), .voice(1), .silence(1.5))
        let turn = try #require(run.turns.first)
        #expect(run.turns.count == 1 && run.starts.count == 1)
        #expect(run.floor.policy.recentPauses.contains { abs($0 - 0.5) < 0.011 })
        #expect(abs(turn.hold - 0.58) < 1e-9, "hold \(turn.hold)")
        #expect(run.count { if case .paused(_, hold: 0.8) = $0 { true } else { false } } == 1)
    }

    @Test("a question ends the turn after the base hold, however long the agent paused before")
    func questionHandsOver() throws {
        var policy = TurnEndPolicy(base: 0.25)
        policy.observe(pause: 0.7)
        var run = Run(policy)
        run.words = { _ in "can you tell me what happened" }
        run.play(.voice(1.2), .silence(1.5))
        #expect(try #require(run.turns.first).hold == 0.25)
    }

    @Test("the agent going on after a turn judged over: the pause is reported and learned; a caller already answering gives the floor back")
    func resumed() throws {
        var run = Run(Self.alreadyHeard)
        // The caller's reply is queued right after the first turn ends.
        run.callerSpeaking = { $0 > 1.75 && $0 < 4 }
        run.play(.silence(0.5), .voice(1), .silence(0.6), .voice(1), .silence(1.5))
        #expect(run.turns.count == 2)
        let second = try #require(run.starts.last)
        #expect(abs((second.resumed ?? 0) - 0.6) < 0.011, "\(second)")
        #expect(run.floor.policy.recentPauses.contains { abs($0 - 0.6) < 0.011 })
        #expect(run.count { if case .callerYields(_, pause: let pause) = $0 { abs(pause - 0.6) < 0.011 } else { false } } == 1)
        // Going on is not a barge-in, however loud.
        #expect(run.count(Self.bargeIn) == 0)
        #expect(run.count(Self.takes) == 1)
    }

    @Test("without a detector (a text rehearsal) the sustained voice opens the turn")
    func withoutDetector() throws {
        var run = Run(detector: false)
        run.play(.silence(1), .voice(2), .silence(1))
        let start = try #require(run.starts.first)
        #expect(abs(start.t - 1.06) < 0.011 && abs(start.at - 0.99) < 0.011, "\(start)")
        #expect(run.turns.count == 1 && run.count(Self.takes) == 1)
        #expect(abs(try #require(run.turns.first).hold - 0.68) < 1e-9)
    }

    @Test("the decoder is wanted on every frame while a voice waits for its turn and in a pause, not mid-speech")
    func decodingWanted() {
        var run = Run()
        run.play(.silence(1))
        #expect(!run.floor.wantsEveryFrame)
        run.play(.voice(0.05))
        #expect(run.floor.wantsEveryFrame && !run.floor.inTurn)
        run.play(.voice(0.5))
        #expect(run.floor.inTurn && !run.floor.wantsEveryFrame && run.floor.isMidSpeech(voicedWithin: 0.04))
        #expect(!run.floor.wantsPeriodicity)
        run.play(.silence(0.15))
        #expect(run.floor.wantsEveryFrame && !run.floor.isMidSpeech(voicedWithin: 0.04))
        #expect(run.floor.wantsPeriodicity)
    }

    @Test("a caller who answered and finished had its turn: the agent speaking next is no resumption")
    func callerAnsweredBetween() throws {
        var run = Run(Self.alreadyHeard)
        // The caller's "Hm." plays from the turn's end for 0.3 s; the agent speaks 0.5 s after the turn ended.
        run.callerSpeaking = { $0 > 1.75 && $0 < 2.05 }
        run.play(.silence(0.5), .voice(1), .silence(0.75), .voice(1), .silence(1.5))
        #expect(run.turns.count == 2)
        #expect(run.starts.count == 2 && run.starts.allSatisfy { $0.resumed == nil })
        #expect(run.floor.policy.recentPauses.isEmpty)
        #expect(run.count(Self.takes) == 2 && run.count { if case .callerYields = $0 { true } else { false } } == 0)
    }

    @Test("a text rehearsal ends each agent turn with the hold the floor gives its words")
    func rehearsalHolds() throws {
        var driver = RehearsalDriver(scenario: Tiny.scenario(), seed: 3)
        _ = driver.open()
        /// Seconds from the end of the agent's voice to the end of its turn.
        func hold(_ text: String) throws -> Double {
            let turn = driver.step(.say(text, interrupting: false))
            #expect(!turn.caller.isEmpty, "the caller said nothing after \(text)")
            let said = try #require(driver.engine.record.utterances.last)
            #expect(said.text == text)
            return driver.now - said.end
        }
        // A first statement, before the agent was heard pausing: the prior pause plus the margin.
        #expect(abs(try hold("I have looked at your account") - 0.68) < 0.011)
        #expect(abs(try hold("I will book the repair and") - 0.8) < 0.011)
        #expect(abs(try hold("Can you tell me what happened") - 0.2) < 0.011)
        // From the fourth turn an agent who never paused gets the base. The caller's short answers
        // ("Hm.") came between the agent's lines: speaking a second after them is no pause of the agent's.
        #expect(abs(try hold("I have sent the letter today") - 0.2) < 0.011)
        #expect(driver.floor.policy.recentPauses.isEmpty)
    }
}
