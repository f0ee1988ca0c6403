import Foundation

/// Who has the floor of a call, decided period by period: when the agent's
/// turn opens, pauses and ends, when the agent's voice over the caller is a
/// barge-in, and when a caller who answered into the agent's pause gives the
/// floor back.
///
/// Pure: no threads, no audio, no C. It is told, in call order, each period
/// of the agent's microphone (`heard`: voiced above the room, periodic like a
/// voice), each frame the speech detector has judged (`detected`: PocketSphinx's
/// VAD, which runs behind the microphone when frames are decoded in batches),
/// the words so far when it asks for them (`paused`), and whether the caller is
/// talking (`caller(speaking:)`); it answers with actions, and says what is
/// `due`. The recognizer wires it to the microphone and the decoder in live
/// calls and `simulate`; `RehearsalDriver` feeds it the periods of typed lines.
/// Its clock is the count of samples it was told of, at `rate`.
///
/// The detector starts again from silence after each turn and after noise (the
/// recognizer ends the decoder's utterance then).
///
/// The rules:
/// - A voice is *sustained* when `Sustain.needed` of the last `Sustain.window`
///   periods were voiced and periodic: a cough, a click or a breath never is.
/// - A turn opens when the detector hears speech and a sustained voice came
///   up to `confirmWindow` before it or comes while the detector still hears
///   it; a detector that closes without one heard noise (`noise`), and so
///   did one that heard speech for `unconfirmedLimit` without a voice (the
///   room: babble), which starts again from there. Without a
///   detector (`usesDetector` false) the sustained voice opens the turn.
/// - Over the caller, the sustained voice is a barge-in at once (60 ms after
///   the voice began), before the detector decides; the turn that opens
///   after it adds nothing. On a free floor the opened turn is the agent
///   taking the floor.
/// - When the agent falls silent for `TurnEndPolicy.shortest` mid-turn, the
///   floor asks for the words so far (`due == .pause`) and the policy says how
///   long a silence ends the turn after them; the turn ends then (`due == .end`),
///   or when the detector stops hearing speech.
/// - Speech opening within `resumeWindow` of a turn judged over is the agent
///   going on: the pause is learned as one of this agent's mid-turn pauses,
///   and a caller already answering gives the floor back (`callerYields`)
///   instead of being barged in on. Unless the caller answered and finished
///   meanwhile ("Hm."): then the agent starts a new turn.
/// What the caller does about a barge-in, and how long a silence it bears
/// (dead air), is the caller's character: `CallerEngine` decides it.
public struct CallFloor: Sendable {
    public enum Action: Sendable, Equatable {
        /// The agent's turn opened at this time; `resumedAfter` is the pause when the agent went
        /// on within `resumeWindow` of a turn judged over.
        case speechStarted(CallTime, resumedAfter: Double?)
        /// The turn opened on a free floor: the caller hears the agent begin.
        case agentTakesFloor(CallTime)
        /// The agent's sustained voice over the caller, begun at this time.
        case bargeIn(CallTime)
        /// The agent went on after a pause the caller already answered in: the caller gives the
        /// floor back and takes no offence.
        case callerYields(CallTime, pause: Double)
        /// The detector heard something from this time that never was a voice; no turn opened. Told when
        /// the detector closes, and every `unconfirmedLimit` while it stays open on the room, with the
        /// same `since` through the stretch: what was decoded of it goes each time.
        case noise(since: CallTime)
        /// The agent paused after these words; a silence of `hold` ends the turn.
        case paused(String, hold: Double)
    }

    /// What the wiring must do before the next period.
    public enum Due: Sendable, Equatable {
        /// The agent paused: tell `paused(after:)` the words so far.
        case pause
        /// The turn is over: `endTurn()`.
        case end
    }

    /// A turn judged over.
    public struct TurnEnd: Sendable, Equatable {
        public var start: CallTime
        /// The agent's last voiced sample.
        public var voiceEnd: CallTime
        /// When the turn was judged over: the voice end plus the hold.
        public var end: CallTime
        /// The silence that ended the turn.
        public var hold: Double
    }

    /// Counts periodic loud periods into a sustained voice: `needed` of the last `window`
    /// (60 ms of voice within 70 ms at 10 ms periods).
    public struct Sustain: Sendable {
        public var needed = 6
        public var window = 7
        private var history: UInt32 = 0

        public init() {}

        /// One period: whether it was voiced and periodic. Says whether the voice is sustained now.
        public mutating func take(periodic: Bool) -> Bool {
            history = (history << 1) | (periodic ? 1 : 0)
            let mask: UInt32 = window >= 32 ? .max : (1 << UInt32(window)) - 1
            return (history & mask).nonzeroBitCount >= needed
        }

        /// Forgets the periods heard so far (a new stretch of speech).
        public mutating func reset() { history = 0 }
    }

    /// Speech opening this soon (seconds) after a turn was judged over means the agent had not finished.
    public static let resumeWindow = 1.0
    /// A detector's speech start counts if a sustained voice came this long (seconds) before it, or after.
    public static let confirmWindow = 0.3
    /// After a voiced period with no turn open, the detector is wanted on every frame for this long
    /// (seconds): PocketSphinx's VAD needs ten frames of speech, a few more on a soft onset.
    public static let startWatch = 0.2
    /// A turn opening this soon (seconds) after a barge-in is the same act.
    public static let bargeInSameAct = 0.3
    /// The detector hearing speech this long (seconds) with no voice confirming it is hearing the room
    /// (babble holds PocketSphinx's VAD open for seconds). Chosen on the turn corpus's development part
    /// in babble (`sparring-bench --turns --part dev --noises babble`): take-overs at a 500 ms hold
    /// 30 % without it, 25 % at 0.3 s, 23 % at 0.5 s, 26 % at 1 s; word errors 108, 82, 85 and 89 %.
    public static let unconfirmedLimit = 0.5
    /// The detector decides after this much speech (seconds; the recognizer sets PocketSphinx's
    /// `-vad_startspeech` from it): speech began that much earlier.
    public static let detectorLead = 0.1

    public let rate: Int
    public let usesDetector: Bool
    /// When turns end; it learns this agent's mid-turn pauses.
    public private(set) var policy: TurnEndPolicy
    private var sustain = Sustain()

    /// Samples told of by `heard`, and by `detected`.
    public private(set) var clock = 0
    private var decoded = 0
    private var lastVoiced = 0
    private var speechStart: CallTime?
    private var voicedInUtterance = false
    /// The hold of the silence in progress inside a turn, once the agent paused and the words came.
    private var pauseHold: Double?
    /// The last turn judged over: its voice end and when it ended, to notice the agent going on.
    private var lastTurn: (voiceEnd: Int, endedAt: Int)?
    /// The first voiced sample after the last turn ended.
    private var voicedSinceTurn: Int?
    /// The current stretch of voice has been sustained (told once per stretch).
    private var sustainedSent = false
    /// The end of the last period of sustained voice.
    private var lastSustained = Int.min / 2
    /// Where the detector went into speech that no voice has confirmed yet (detector samples).
    private var unconfirmedSince: Int?
    /// Where the detector began hearing the room as speech, in a stretch it was restarted in.
    private var roomHeardSince: Int?
    /// Since when the detector has heard no speech (detector samples).
    private var detectorQuietSince: Int?
    private var detectorInSpeech: Bool
    private var callerSpeaking = false
    /// The caller has talked since the last turn was judged over.
    private var callerSpokeSinceTurn = false
    /// When the agent's voice over the caller was last taken as a barge-in.
    private var bargedAt: CallTime?

    public init(policy: TurnEndPolicy = TurnEndPolicy(), rate: Int, usesDetector: Bool = true) {
        self.policy = policy
        self.rate = rate
        self.usesDetector = usesDetector
        detectorInSpeech = !usesDetector
    }

    private func seconds(_ samples: Int) -> Double { Double(samples) / Double(rate) }
    private func time(_ samples: Int) -> CallTime { CallTime(seconds: seconds(samples)) }
    private func samples(_ seconds: Double) -> Int { Int((seconds * Double(rate)).rounded()) }

    public var now: CallTime { time(clock) }
    /// A turn is open.
    public var inTurn: Bool { speechStart != nil }
    /// A periodicity measure is wanted for the next loud period (none once the voice is sustained, until a pause).
    public var wantsPeriodicity: Bool { !sustainedSent }
    /// The detector's verdict is wanted on every frame now, not in batches: in a pause (so that the
    /// turn's end finds nothing left to decode), and while a voice has no turn yet.
    public var wantsEveryFrame: Bool {
        pauseHold != nil || (speechStart == nil && seconds(clock - lastVoiced) < Self.startWatch)
    }

    /// The agent is speaking, its voice is established and was heard less than `recently` (seconds)
    /// ago. A pause is noticed after `TurnEndPolicy.shortest` of silence and a turn ends later still,
    /// so until then nothing is due; before the voice is established a barge-in may be.
    public func isMidSpeech(voicedWithin recently: Double) -> Bool {
        speechStart != nil && voicedInUtterance && sustainedSent && seconds(clock - lastVoiced) < recently
    }

    /// Whether the caller is talking (its line queued or playing) from now on.
    public mutating func caller(speaking: Bool) {
        callerSpeaking = speaking
        if speaking, lastTurn != nil { callerSpokeSinceTurn = true }
    }

    /// One period of the agent's microphone, `samples` long: voiced (above the room's noise) and
    /// periodic (like a voice; only asked while `wantsPeriodicity`).
    public mutating func heard(samples count: Int, voiced: Bool, periodic: Bool) -> [Action] {
        let silenceBefore = clock - lastVoiced
        clock += count
        if voiced {
            if speechStart != nil {
                if pauseHold != nil { policy.observe(pause: seconds(silenceBefore)) }
                voicedInUtterance = true
            }
            if lastTurn != nil, voicedSinceTurn == nil { voicedSinceTurn = clock - count }
            lastVoiced = clock
            pauseHold = nil
        }
        var actions: [Action] = []
        if sustain.take(periodic: voiced && periodic && !sustainedSent), !sustainedSent {
            sustainedSent = true
            lastSustained = clock
            let began = time(max(0, clock - sustain.window * count))
            let resuming = lastTurn.map { seconds(clock - $0.endedAt) <= Self.resumeWindow + 0.1 } ?? false
            if !resuming, callerSpeaking {
                bargedAt = began
                actions.append(.bargeIn(began))
            }
            if !usesDetector, speechStart == nil { actions += open(at: max(0, clock - sustain.window * count), decidedAt: clock) }
        } else if sustainedSent, voiced {
            lastSustained = clock
        } else if sustainedSent, seconds(clock - lastVoiced) >= policy.shortest {
            sustainedSent = false
            sustain.reset()
        }
        return actions
    }

    /// The detector's verdict on its next frame, `samples` long: whether it hears speech.
    public mutating func detected(samples count: Int, inSpeech: Bool) -> [Action] {
        decoded += count
        guard usesDetector else { return [] }
        detectorInSpeech = inSpeech
        var actions: [Action] = []
        if speechStart == nil, let since = unconfirmedSince, !inSpeech {
            unconfirmedSince = nil
            actions.append(.noise(since: time(noiseStart(detectorSince: since))))
        }
        // A stretch of the room heard as speech ends once the detector has been quiet a while (the
        // decoder it restarts may take a few frames to hear the room again).
        detectorQuietSince = inSpeech ? nil : detectorQuietSince ?? decoded
        if let quiet = detectorQuietSince, decoded - quiet > samples(Self.startWatch) { roomHeardSince = nil }
        if inSpeech && speechStart == nil {
            if unconfirmedSince == nil { unconfirmedSince = decoded }
            let since = unconfirmedSince!
            if decoded - since >= samples(Self.unconfirmedLimit), lastSustained < decoded - samples(Self.confirmWindow) {
                // The detector has heard speech for a while and no voice came with it (babble, a radio):
                // it is the room. What the search made of it goes now, so a voice that comes later opens
                // a turn that holds only its own words. The whole stretch is told as one noise.
                unconfirmedSince = nil
                let start = noiseStart(detectorSince: since)
                roomHeardSince = start
                actions.append(.noise(since: time(start)))
                return actions
            }
            guard lastSustained >= since - samples(Self.confirmWindow) else { return actions }
            unconfirmedSince = nil
            roomHeardSince = nil
            // After a detector held open by noise, the speech began shortly before the voice.
            actions += open(at: max(0, since - samples(Self.detectorLead), lastSustained - samples(Self.confirmWindow)), decidedAt: decoded)
        }
        return actions
    }

    /// Where the noise the detector has heard since `since` began: the start of the room's stretch
    /// when it was restarted in one, else shortly before the detector decided.
    private func noiseStart(detectorSince since: Int) -> Int {
        roomHeardSince ?? max(0, since - samples(Self.detectorLead))
    }

    private mutating func open(at startSample: Int, decidedAt now: Int) -> [Action] {
        let start = time(startSample)
        speechStart = start
        // Voice heard since then counts, though the turn opens only now.
        voicedInUtterance = lastVoiced > startSample
        var resumed: Double?
        // A caller who answered and finished had its turn: the agent speaking now starts a new one.
        let callerHadTurn = callerSpokeSinceTurn && !callerSpeaking
        if let turn = lastTurn, seconds(now - turn.endedAt) <= Self.resumeWindow + 0.1, !callerHadTurn {
            let pause = seconds((voicedSinceTurn ?? now) - turn.voiceEnd)
            policy.observe(pause: pause)
            resumed = pause
        }
        lastTurn = nil
        voicedSinceTurn = nil
        var actions: [Action] = [.speechStarted(start, resumedAfter: resumed)]
        if let pause = resumed, callerSpeaking {
            actions.append(.callerYields(start, pause: pause))
        } else if let barged = bargedAt, start - barged < Self.bargeInSameAct {
            // The barge-in already told the caller.
        } else if !callerSpeaking {
            actions.append(.agentTakesFloor(start))
        }
        return actions
    }

    /// What must happen before the next period, if anything.
    public var due: Due? {
        guard speechStart != nil else { return nil }
        let silence = seconds(clock - lastVoiced)
        if voicedInUtterance && pauseHold == nil && silence >= policy.shortest { return .pause }
        if !detectorInSpeech || silence >= pauseHold ?? .infinity { return .end }
        return nil
    }

    /// The words so far at the pause `due` asked about: the turn ends after the policy's hold for them.
    public mutating func paused(after words: String) -> Action {
        let hold = max(policy.hold(after: words), policy.shortest)
        pauseHold = hold
        return .paused(words, hold: hold)
    }

    /// Closes the open turn (it is `due`, or the stream ended).
    public mutating func endTurn() -> TurnEnd? {
        guard let start = speechStart else { return nil }
        let hold = pauseHold ?? seconds(clock - lastVoiced)
        speechStart = nil
        pauseHold = nil
        voicedInUtterance = false
        lastTurn = (voiceEnd: lastVoiced, endedAt: clock)
        voicedSinceTurn = nil
        callerSpokeSinceTurn = false
        policy.turnEnded()
        return TurnEnd(start: start, voiceEnd: time(min(lastVoiced, clock)), end: time(clock), hold: hold)
    }
}
