import Foundation
import Testing
@testable import SparringCore

@Suite("Caller engine")
struct EngineTests {
    private func time(_ seconds: Double) -> CallTime { CallTime(seconds: seconds) }

    @Test("the same seed and agent give the same call; another seed varies the caller", arguments: Shipped.ids)
    func determinism(id: String) throws {
        let steps = try Shipped.script(id, "skilled")
        func run(_ seed: UInt64) throws -> String {
            var driver = RehearsalDriver(scenario: Shipped.scenario(id), seed: seed)
            let encoder = JSONEncoder()
            encoder.outputFormatting = .sortedKeys
            return String(decoding: try encoder.encode(driver.run(steps)), as: UTF8.self)
        }
        #expect(try run(42) == run(42))
        let others = try (43...50).map { try run(UInt64($0)) }
        #expect(others.contains { $0 != (try? run(42)) }, "no seed changed a single caller line")
    }

    @Test("words the recognizer was unsure of get a 'what was that?', once, and cost the agent nothing")
    func unclear() {
        var engine = CallerEngine(scenario: Shipped.scenario("debt-threat"), seed: 1)
        _ = engine.handle(.callOpened, at: .zero)
        _ = engine.handle(.callerLineFinished, at: time(3))
        let before = engine.meters
        func mumble(_ at: Double) -> [CallerAction] {
            let heard = HeardHypothesis(words: ["fog", "the", "sill"], confidence: [0.2, 0.3, 0.25])
            _ = engine.handle(.agentSpeechStarted, at: time(at))
            return engine.handle(.agentUtterance(AgentUtterance(text: "fog the sill", start: time(at), end: time(at + 1),
                                                                hypotheses: [heard])), at: time(at + 1.2))
        }
        let first = mumble(4)
        #expect(first.contains(.triggered(.unclear)))
        #expect(first.said.count == 1)
        #expect(Triggers.defaultUnclear.lines.lines(for: engine.mood).contains(first.said[0]))
        #expect(engine.meters["trust"] == before["trust"])
        // Asked once: the next unclear turn is answered as if nothing recognizable was said.
        _ = engine.handle(.callerLineFinished, at: time(7))
        let second = mumble(8)
        #expect(!second.contains(.triggered(.unclear)))
        // The same words typed are clear: no asking on a typed line.
        var typed = CallerEngine(scenario: Shipped.scenario("debt-threat"), seed: 1)
        _ = typed.handle(.callOpened, at: .zero)
        let actions = typed.handle(.agentUtterance(AgentUtterance(text: "fog the sill", start: time(4), end: time(5))), at: time(5))
        #expect(!actions.contains(.triggered(.unclear)))
        #expect(AgentUtterance(text: "x", start: .zero, end: .zero, hypotheses: [HeardHypothesis(words: ["okay"], confidence: [0.9])]).isClear)
        #expect(!AgentUtterance(text: "x", start: .zero, end: .zero, hypotheses: [HeardHypothesis(words: ["okay"], confidence: [0.6])]).isClear)
    }

    @Test("the caller speaks first when the call opens")
    func callerOpens() {
        var engine = CallerEngine(scenario: Tiny.scenario(), seed: 1)
        let actions = engine.handle(.callOpened, at: .zero)
        #expect(actions.said == ["I am angry about this."])
        #expect(engine.isCallerSpeaking)
    }

    @Test("dead air prompts the agent, and repeated dead air ends in a hang-up")
    func deadAir() {
        var engine = CallerEngine(scenario: Tiny.scenario(), seed: 1)
        _ = engine.handle(.callOpened, at: .zero)
        _ = engine.handle(.callerLineFinished, at: time(2))
        #expect(engine.nextDeadline == time(7))
        #expect(engine.handle(.tick, at: time(6.9)).isEmpty)
        let first = engine.handle(.tick, at: time(7))
        #expect(first.contains(.triggered(.deadAir)))
        #expect(first.said == ["Hello? Are you still there?"])
        #expect(engine.meters["anger"] == 55)
        _ = engine.handle(.callerLineFinished, at: time(8))
        _ = engine.handle(.tick, at: time(13))                      // second prompt
        _ = engine.handle(.callerLineFinished, at: time(14))
        let last = engine.handle(.tick, at: time(19))               // third silence: gone
        #expect(last.contains(.end(.hangUp)))
        #expect(engine.outcome == .hangUp)
    }

    @Test("agent speech resets the dead-air clock")
    func speechResetsDeadAir() {
        var engine = CallerEngine(scenario: Tiny.scenario(), seed: 1)
        _ = engine.handle(.callOpened, at: .zero)
        _ = engine.handle(.callerLineFinished, at: time(2))
        _ = engine.handle(.agentSpeechStarted, at: time(4))
        #expect(engine.handle(.tick, at: time(7.5)).isEmpty)
        _ = engine.handle(.agentSpeechStopped, at: time(8))
        #expect(engine.nextDeadline == time(13))
    }

    @Test("an agent who talks without a pause gets cut in on")
    func monologue() {
        var engine = CallerEngine(scenario: Tiny.scenario(), seed: 1)
        _ = engine.handle(.callOpened, at: .zero)
        _ = engine.handle(.callerLineFinished, at: time(2))
        _ = engine.handle(.agentSpeechStarted, at: time(3))
        #expect(engine.nextDeadline == time(13))
        #expect(engine.handle(.tick, at: time(12)).isEmpty)
        let cut = engine.handle(.tick, at: time(13))
        #expect(cut.contains(.triggered(.monologue)))
        #expect(cut.said == ["Stop, stop."])
        #expect(engine.handle(.tick, at: time(20)).isEmpty, "fires once per stretch of speech")
    }

    @Test("a yielding caller stops when talked over")
    func bargeInYields() {
        var engine = CallerEngine(scenario: Tiny.scenario(barge: "yields"), seed: 1)
        _ = engine.handle(.callOpened, at: .zero)
        let actions = engine.handle(.agentSpeechStarted, at: time(1))
        #expect(actions.contains(.bargeIn(yielded: true)))
        #expect(actions.contains(.stopSpeaking))
        #expect(actions.said.isEmpty)
        #expect(!engine.isCallerSpeaking)
        #expect(engine.meters["anger"] == 56)
    }

    @Test("a pushing caller keeps talking and gets angrier")
    func bargeInPushes() {
        var engine = CallerEngine(scenario: Tiny.scenario(barge: "pushes"), seed: 1)
        _ = engine.handle(.callOpened, at: .zero)
        let actions = engine.handle(.agentSpeechStarted, at: time(1))
        #expect(actions.contains(.bargeIn(yielded: false)))
        #expect(!actions.contains(.stopSpeaking))
        #expect(actions.said == ["Let me finish!"])
        #expect(engine.meters["anger"] == 59)
    }

    @Test("a caller who answered into the agent's pause gives the floor back, whatever its persona, and takes no offence")
    func resumedAgent() {
        var engine = CallerEngine(scenario: Tiny.scenario(barge: "pushes"), seed: 1)
        _ = engine.handle(.callOpened, at: .zero)
        let anger = engine.meters["anger"]
        let actions = engine.handle(.agentResumed, at: time(1))
        #expect(actions.contains(.stopSpeaking))
        #expect(!actions.contains { if case .bargeIn = $0 { true } else { false } })
        #expect(actions.said.isEmpty)
        #expect(!engine.isCallerSpeaking)
        #expect(engine.meters["anger"] == anger)
        #expect(engine.record.triggers.isEmpty)
        // The agent holds the floor now: the monologue clock runs from here.
        #expect(engine.nextDeadline != nil || engine.scenario.triggers.monologue == nil)
    }

    @Test("the same move three turns running stops working")
    func repeatedMove() {
        var engine = CallerEngine(scenario: Tiny.scenario(), seed: 1)
        _ = engine.handle(.callOpened, at: .zero)
        var last: [CallerAction] = []
        for turn in 0..<3 {
            let t = Double(turn * 10 + 5)
            last = engine.handle(.agentUtterance(AgentUtterance(text: "i understand", start: time(t), end: time(t + 1))), at: time(t + 1))
        }
        #expect(last.contains(.triggered(.repeated)))
        #expect(last.said == ["You keep saying that."])
        // Two acknowledgements (-9 each) then the repeat's +7.
        #expect(engine.meters["anger"] == Double(50 - 9 - 9 + 7))
    }

    @Test("a worn-out move does not swallow the move said with it: the agreement still lands")
    func repeatedMoveWithAgreement() {
        var engine = CallerEngine(scenario: Tiny.scenario(), seed: 1)
        _ = engine.handle(.callOpened, at: .zero)
        var last: [CallerAction] = []
        for (turn, text) in ["i understand", "i understand", "i understand, so shall we agree on that plan then?"].enumerated() {
            let t = Double(turn * 10 + 5)
            last = engine.handle(.agentUtterance(AgentUtterance(text: text, start: time(t), end: time(t + 1))), at: time(t + 1))
        }
        #expect(engine.record.utterances.last?.moves.map(\.move).contains("agree_next_steps") == true)
        #expect(last.contains(.triggered(.repeated)))
        // One reaction to the turn: the agreement, not "You keep saying that."
        #expect(last.said == ["Deal."])
        #expect(engine.outcome == .agree)
    }

    @Test("a solution before the caller feels heard lands badly; after, it helps")
    func prematureSolution() {
        var early = CallerEngine(scenario: Tiny.scenario(), seed: 1)
        _ = early.handle(.callOpened, at: .zero)
        _ = early.handle(.agentUtterance(AgentUtterance(text: "what i can do is offer a payment plan", start: time(1), end: time(2))), at: time(2))
        #expect(early.meters["anger"] == 56)

        var late = CallerEngine(scenario: Tiny.scenario(), seed: 1)
        _ = late.handle(.callOpened, at: .zero)
        _ = late.handle(.agentUtterance(AgentUtterance(text: "i understand how stressful this is", start: time(1), end: time(2))), at: time(2))
        _ = late.handle(.agentUtterance(AgentUtterance(text: "what i can do is offer a payment plan", start: time(3), end: time(4))), at: time(4))
        #expect(late.meters["anger"] == Double(50 - 9 - 8))
    }

    @Test("a transition with a condition fires only when it holds")
    func conditionalOutcome() {
        var engine = CallerEngine(scenario: Tiny.scenario(), seed: 1)
        _ = engine.handle(.callOpened, at: .zero)
        // trust 30 + 8 = 38 < 40: no agreement yet (premature: caller not heard).
        var actions = engine.handle(.agentUtterance(AgentUtterance(text: "i understand", start: time(1), end: time(2))), at: time(2))
        actions = engine.handle(.agentUtterance(AgentUtterance(text: "the next step is a call by friday", start: time(3), end: time(4))), at: time(4))
        #expect(engine.outcome == .agree, "trust \(engine.meters["trust"]!)")
        #expect(actions.said == ["Deal."])
        #expect(engine.handle(.tick, at: time(100)).isEmpty, "an ended call reacts to nothing")
    }

    @Test("meters drift with call time")
    func drift() {
        let scenario = Shipped.scenario("tenant-repair")      // anger drifts 1.5 per minute
        var engine = CallerEngine(scenario: scenario, seed: 1)
        _ = engine.handle(.callOpened, at: .zero)
        _ = engine.handle(.callerLineFinished, at: time(60))
        #expect(abs(engine.meters["anger"]! - 71.5) < 0.001)
    }

    @Test("the rehearsal clock runs [silence N] through the dead-air trigger")
    func rehearsalSilence() {
        var driver = RehearsalDriver(scenario: Tiny.scenario(), seed: 1)
        _ = driver.open()
        let turn = driver.step(.silence(8))
        #expect(turn.triggers == ["dead_air"])
        #expect(turn.caller == ["Hello? Are you still there?"])
    }

    @Test("an interrupting script line is a barge-in")
    func rehearsalInterrupt() {
        var driver = RehearsalDriver(scenario: Tiny.scenario(barge: "pushes"), seed: 1)
        _ = driver.open()
        let turn = driver.step(.say("but listen", interrupting: true))
        #expect(turn.triggers.contains("interrupted"))
        #expect(turn.caller.first == "Let me finish!")
    }

    @Test("scores cite the moment and the words")
    func evidence() throws {
        var driver = RehearsalDriver(scenario: Shipped.scenario("debt-threat"), seed: 1)
        let result = driver.run(try Shipped.script("debt-threat", "dismissive"))
        let failed = try #require(result.score.criteria["no_provocation"])
        #expect(!failed.passed)
        #expect(failed.evidence.contains { $0.text.contains("calm down") && $0.t.seconds > 0 })
    }
}
