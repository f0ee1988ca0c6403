import Foundation
import Testing
@testable import SparringCore

@Suite("Debrief")
struct DebriefTests {
    static let directory = Shipped.fixtures + "/debrief"
    static let calls = ((try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []).filter { $0.hasSuffix(".txt") }.sorted()

    /// A call's script and the moments a trainer picked for it, written in its header before the
    /// debrief existed: `# expect: first|has|best KIND MOVE TURN` (`-` for any; TURN is the agent's
    /// Nth line, `a|b` for either, `last` for the line the call ended on) and `# expect: no best`.
    @Test("the turning points are the ones a trainer picked", arguments: calls)
    func trainerPicks(name: String) throws {
        let path = "\(Self.directory)/\(name)"
        let text = try String(contentsOfFile: path, encoding: .utf8)
        let id = String(name.split(separator: ".")[0])
        let scenario = Shipped.scenario(id)
        var driver = RehearsalDriver(scenario: scenario, seed: 1)
        _ = driver.run(try ScriptStep.parse(text, file: path))
        let record = driver.engine.record
        let points = Debrief.turningPoints(scenario, record)
        func turn(_ point: TurningPoint) -> Int? {
            record.utterances.firstIndex { $0.start.seconds == point.t }.map { $0 + 1 }
        }
        let listing = points.map { "\($0.number). \($0.kind.rawValue) \($0.move ?? "-") turn \(turn($0).map(String.init) ?? "-") weight \($0.weight): \($0.headline)" }
            .joined(separator: "\n")
        func matches(_ point: TurningPoint, _ parts: [String]) -> Bool {
            let (kind, move, turns) = (parts[0], parts[1], parts[2])
            if kind != "-" && point.kind.rawValue != kind { return false }
            if move != "-" && point.move != move { return false }
            if turns == "-" { return true }
            let wanted = turns.split(separator: "|").map { $0 == "last" ? record.utterances.count : Int($0) ?? -1 }
            return turn(point).map(wanted.contains) ?? false
        }
        var checked = 0
        for line in text.split(separator: "\n") where line.hasPrefix("# expect: ") {
            let parts = line.dropFirst("# expect: ".count).split(separator: " ").map(String.init)
            checked += 1
            switch parts[0] {
            case "first":
                #expect(points.first.map { matches($0, Array(parts.dropFirst())) } == true, "\(name): \(line)\n\(listing)")
            case "has":
                #expect(points.contains { matches($0, Array(parts.dropFirst())) }, "\(name): \(line)\n\(listing)")
            case "best":
                let best = points.first { $0.kind == .best }
                #expect(best.map { matches($0, ["best"] + Array(parts.dropFirst())) } == true, "\(name): \(line)\n\(listing)")
            case "no":
                #expect(!points.contains { $0.kind == .best }, "\(name): \(line)\n\(listing)")
            default:
                Issue.record("\(name): cannot read \(line)")
            }
        }
        #expect(checked >= 2)
        // Every moment but the best offers an alternative the caller would take, and says what it cost.
        for point in points where point.kind != .best {
            #expect(point.alternative != nil, "\(name): no alternative for \(point.headline)")
            if let move = point.alternativeMove { #expect(scenario.moves[move]?.hurts == false) }
        }
        print("DEBRIEF \(name)\n\(listing)")
    }

    /// A trainer's first pick in every shipped scenario: the dismissive agent's worst moment is a move
    /// that hurt (or talking over the caller), with no best moment; the skilled agent's calls have
    /// no move that hurt, and a best moment.
    @Test("dismissive and skilled calls of every scenario: the picks a trainer makes first", arguments: Shipped.ids)
    func shippedScripts(id: String) throws {
        let scenario = Shipped.scenario(id)
        var dismissive = RehearsalDriver(scenario: scenario, seed: 1)
        let worst = dismissive.run(try Shipped.script(id, "dismissive")).turning_points
        #expect([.hurt, .trigger].contains(worst.first?.kind), "\(id): \(worst.map(\.headline))")
        #expect(!worst.contains { $0.kind == .best }, "\(id): \(worst.map(\.headline))")
        var skilled = RehearsalDriver(scenario: scenario, seed: 1)
        let best = skilled.run(try Shipped.script(id, "skilled")).turning_points
        #expect(best.contains { $0.kind == .best }, "\(id): \(best.map(\.headline))")
        #expect(!best.contains { $0.kind == .hurt }, "\(id): \(best.map(\.headline))")
    }

    @Test("scenarios check counts the paraphrased calls whose debrief names a hurt the agent's line did not make")
    func falseHurtCount() throws {
        let id = "tenant-repair"
        let skilledText = try String(contentsOfFile: "\(Shipped.scenariosDirectory)/scripts/\(id).skilled.txt", encoding: .utf8)
        func falseHurts(_ acknowledgement: String) throws -> Int {
            // The corpus's only line for acknowledging feelings (and a summary that adds nothing):
        // the paraphrased agent says it for that move.
            let corpus = [LabelledLine(text: acknowledgement, moves: ["acknowledge_feelings"]),
                          LabelledLine(text: "Right, okay.", moves: ["listening_summary"])]
            let check = ScenarioCheck(scenario: Shipped.scenario(id), skilled: try Shipped.script(id, "skilled"),
                                      dismissive: try Shipped.script(id, "dismissive"), corpus: corpus,
                                      intended: ScriptStep.intendedMoves(skilledText))
            var settings = ScenarioCheck.Settings()
            settings.runs = 5
            settings.wordErrors = 0
            settings.earlyStarts = 0
            return check.run(settings).tallies[.paraphrased]!.callsWithFalseHurt
        }
        // Filed as an acknowledgement, heard as telling the caller to calm down: every call's debrief accuses the agent.
        let accused = try falseHurts("Please calm down, there is no need to shout.")
        #expect(accused == 5, "\(accused) of 5")
        #expect(try falseHurts("I can hear how upset you are, and I understand why.") == 0)
    }

    static func slip() throws -> (Scenario, CallRecord, [TurningPoint]) {
        let scenario = Shipped.scenario("tenant-repair")
        var driver = RehearsalDriver(scenario: scenario, seed: 1)
        let path = "\(directory)/tenant-repair.slip.txt"
        _ = driver.run(try ScriptStep.parse(try String(contentsOfFile: path, encoding: .utf8), file: path))
        return (scenario, driver.engine.record, Debrief.turningPoints(scenario, driver.engine.record))
    }

    @Test("a moment says what was said, the mood before and after, the criterion, what the caller waited for, in the scenario's words")
    func momentDetails() throws {
        let (scenario, _, points) = try Self.slip()
        let slip = try #require(points.first)
        #expect(slip.said?.contains("calm down") == true)
        #expect(slip.moodAfter >= slip.moodBefore && (slip.after["anger"] ?? 0) > (slip.before["anger"] ?? 0))
        #expect(slip.criterion != nil && slip.criterionPassed == false, "\(slip)")
        let phase = try #require(scenario.phase(slip.phase))
        #expect(slip.need == phase.waitingFor?.need)
        // calm_down's instead names acknowledging feelings; the tenant scenario words it for this phase.
        #expect(phase.waitingFor?.say.contains { $0.text == slip.alternative && $0.move == slip.alternativeMove } == true, "\(slip)")
        #expect(slip.callerLine != nil && slip.number == 1)
        #expect(points.map(\.number) == Array(1...points.count))
    }

    @Test("without the scenario's words, the alternative is the move library's instead line")
    func libraryAlternative() throws {
        let scenario = Tiny.scenario()
        #expect(ScenarioLint.adviceGaps(in: scenario).first?.contains("phases.start.waiting_for: warning") == true)
        var driver = RehearsalDriver(scenario: scenario, seed: 1)
        _ = driver.run([.say("Calm down, there is no need to shout.", interrupting: false)])
        let point = try #require(Debrief.turningPoints(scenario, driver.engine.record).first)
        #expect(point.kind == .hurt && point.move == "calm_down")
        let instead = try #require(scenario.moves["calm_down"]?.instead)
        #expect(instead.contains { $0.text == point.alternative }, "\(point)")
    }

    @Test("a retry starts in the moment's phase and mood with the line said before it, and says whether it went better")
    func retry() throws {
        let (scenario, _, points) = try Self.slip()
        let point = try #require(points.first)
        let retry = MomentRetry(session: "s1", moment: 1, point: point)
        func practise(_ line: String) -> RetryResult {
            var engine = CallerEngine(scenario: scenario, seed: 9, retrying: point)
            let opening = engine.handle(.callOpened, at: .zero)
            #expect(opening.said == [point.callerLine!])
            #expect(engine.phaseID == point.phase && engine.meters == point.before && engine.mood == point.moodBefore)
            _ = engine.handle(.callerLineFinished, at: CallTime(seconds: 5))
            _ = engine.handle(.agentSpeechStarted, at: CallTime(seconds: 6))
            _ = engine.handle(.agentSpeechStopped, at: CallTime(seconds: 9))
            _ = engine.handle(.agentUtterance(AgentUtterance(text: line, start: CallTime(seconds: 6), end: CallTime(seconds: 9))),
                              at: CallTime(seconds: 9.5))
            return Debrief.compare(retry, engine.record)
        }
        let better = practise(try #require(point.alternative))
        #expect(better.better && better.verdict.hasPrefix("Better"), "\(better)")
        let same = practise("Please calm down, shouting at me will not help.")
        #expect(!same.better && same.verdict.hasPrefix("No better"), "\(same)")
        #expect(MomentRetry.parse("20261202T010938Z-debt-threat-7a71:2")! == ("20261202T010938Z-debt-threat-7a71", 2))
        #expect(MomentRetry.parse("nothing") == nil && MomentRetry.parse(":1") == nil && MomentRetry.parse("a:0") == nil)
    }
}
