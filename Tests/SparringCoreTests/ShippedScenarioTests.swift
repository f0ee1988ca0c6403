import Foundation
import Testing
@testable import SparringCore

@Suite("Shipped scenarios")
struct ShippedScenarioTests {
    @Test("every shipped file loads without problems")
    func catalogIsClean() {
        #expect(Shipped.catalog.problems.isEmpty, "\(Shipped.catalog.problems)")
        #expect(Set(Shipped.catalog.scenarios.map(\.id)) == Set(Shipped.ids))
        // No caller line says the agent has not done what they may already have done.
        for scenario in Shipped.catalog.scenarios { #expect(ScenarioLint.contradictions(in: scenario).isEmpty, "\(ScenarioLint.contradictions(in: scenario))") }
        // No line a caller could never say.
        for scenario in Shipped.catalog.scenarios { #expect(ScenarioLint.unreachable(in: scenario).isEmpty, "\(ScenarioLint.unreachable(in: scenario))") }
        // No agreement the caller sums up with a detail the agent may never have said.
        for scenario in Shipped.catalog.scenarios { #expect(ScenarioLint.assumedDetails(in: scenario).isEmpty, "\(ScenarioLint.assumedDetails(in: scenario))") }
        // Every move of a scenario's own has enough examples to be heard in other words.
        for scenario in Shipped.catalog.scenarios { #expect(ScenarioLint.fewExamples(in: scenario).isEmpty, "\(ScenarioLint.fewExamples(in: scenario))") }
    }

    @Test("a scenario's own move with few examples is reported at its line; the library's moves are not the scenario's to fix")
    func fewExamples() throws {
        var scenario = try Shipped.scenario("tenant-repair")
        var booking = try #require(scenario.moves["book_repair"])
        booking.examples = Array(booking.examples.prefix(7))
        scenario.moves.add(booking)
        var apology = try #require(scenario.moves["apology"])
        apology.examples = []
        scenario.moves.add(apology)
        let warned = ScenarioLint.fewExamples(in: scenario)
        #expect(warned == ["\(scenario.file):\(booking.line): moves.book_repair.examples: warning: 7 of them; a move with fewer than 20, "
                           + "in different words and sentence shapes, is often not heard when an agent says it in their own words"], "\(warned)")
        #expect(booking.line > 0)
    }

    @Test("a skilled agent reaches agreement with a passing score", arguments: Shipped.ids)
    func skilledAgentAgrees(id: String) throws {
        var driver = RehearsalDriver(scenario: Shipped.scenario(id), seed: 1)
        let result = driver.run(try Shipped.script(id, "skilled"))
        #expect(result.outcome == "agree")
        #expect(result.score.passed, "score \(result.score.total)")
        #expect(result.score.total >= 80)
    }

    @Test("a dismissive agent is hung up on or escalated, with a failing score", arguments: Shipped.ids)
    func dismissiveAgentFails(id: String) throws {
        var driver = RehearsalDriver(scenario: Shipped.scenario(id), seed: 1)
        let result = driver.run(try Shipped.script(id, "dismissive"))
        #expect(["hang_up", "escalate"].contains(result.outcome), "ended \(result.outcome)")
        #expect(!result.score.passed, "score \(result.score.total)")
        // The mood must have moved the right way before the end.
        let anger = result.turns.map { $0.mood["anger"]! }
        #expect(anger.last! > anger.first!)
    }

    @Test("the skilled agent's turns lower anger and raise trust overall", arguments: Shipped.ids)
    func skilledMoodCurve(id: String) throws {
        var driver = RehearsalDriver(scenario: Shipped.scenario(id), seed: 3)
        let turns = driver.run(try Shipped.script(id, "skilled")).turns
        #expect(turns.last!.mood["anger"]! < turns.first!.mood["anger"]! - 20)
        #expect(turns.last!.mood["trust"]! > turns.first!.mood["trust"]! + 30)
    }
}

@Suite("Robustness to recognition errors")
struct RobustnessTests {
    static let runs = 50

    /// With a fifth of the words substituted or dropped, the skilled script still
    /// reaches agreement in most runs. The rate is printed for the issue note.
    @Test("skilled scripts survive 20 % word errors in most runs", arguments: Shipped.ids)
    func noisySkilledScript(id: String) throws {
        let steps = try Shipped.script(id, "skilled")
        var agreed = 0
        for run in 0..<Self.runs {
            var driver = RehearsalDriver(scenario: Shipped.scenario(id), seed: UInt64(run))
            let noise = NoiseBox(RecognitionNoise(errorRate: 0.2, seed: UInt64(1000 + run)))
            driver.hearing = { noise.hear($0) }
            if driver.run(steps).outcome == "agree" { agreed += 1 }
        }
        let rate = Double(agreed) / Double(Self.runs)
        print("robustness \(id): \(agreed)/\(Self.runs) agree (\(Int(rate * 100)) %) at 20 % word errors")
        #expect(rate >= 0.6, "\(id) agreed in only \(agreed) of \(Self.runs) noisy runs")
    }

    @Test("simulated recognition gives the words it got wrong lower confidences, as PocketSphinx does")
    func noiseConfidence() {
        var noise = RecognitionNoise(errorRate: 0.2, seed: 4)
        let text = Array(repeating: "alpha beta gamma delta epsilon", count: 200).joined(separator: " ")
        let heard = noise.hear(text)
        let said: Set<String> = ["alpha", "beta", "gamma", "delta", "epsilon"]
        let confidence = heard.confidence ?? []
        #expect(confidence.count == heard.words.count && confidence.allSatisfy { (0...1).contains($0) })
        let right = zip(heard.words, confidence).filter { said.contains($0.0) }.map(\.1)
        let wrong = zip(heard.words, confidence).filter { !said.contains($0.0) }.map(\.1)
        func median(_ values: [Double]) -> Double { values.sorted()[values.count / 2] }
        #expect(!wrong.isEmpty && abs(median(right) - 0.72) < 0.08 && abs(median(wrong) - 0.10) < 0.08,
                "right \(median(right)), wrong \(median(wrong))")
    }

    @Test("which heard words a recognizer got right, by alignment with what was said")
    func heardCorrectly() {
        let said = Words.normalize("let me book a technician for tuesday")
        #expect(Words.heardCorrectly(said, Words.normalize("let me put it technician for tuesday morning"))
                == [true, true, false, false, true, true, true, false])
        #expect(Words.heardCorrectly(said, []) == [])
        #expect(Words.heardCorrectly([], ["so"]) == [false])
        #expect(Words.heardCorrectly(said, said) == Array(repeating: true, count: said.count))
        // The same table gives the word error count: two substitutions and an insertion.
        #expect(Words.editDistance(said, Words.normalize("let me put it technician for tuesday morning")) == 3)
        #expect(Words.editDistance(said, []) == said.count && Words.editDistance([], ["so"]) == 1)
    }

    @Test("the noise really changes about a fifth of the words")
    func noiseRate() {
        var noise = RecognitionNoise(errorRate: 0.2, seed: 9)
        let text = Array(repeating: "alpha beta gamma delta epsilon", count: 200).joined(separator: " ")
        let out = noise.corrupt(text).split(separator: " ")
        let words = Words.normalize(text)
        let kept = out.filter { ["alpha", "beta", "gamma", "delta", "epsilon"].contains(String($0)) }.count
        let changed = 1 - Double(kept) / Double(words.count)
        #expect(changed > 0.15 && changed < 0.25, "changed \(changed)")
    }
}

/// The noise source is a value with state; the rehearsal's hearing hook is a Sendable closure.
final class NoiseBox: @unchecked Sendable {
    private var noise: RecognitionNoise
    private let lock = NSLock()
    init(_ noise: RecognitionNoise) { self.noise = noise }
    func hear(_ text: String) -> HeardHypothesis { lock.withLock { noise.hear(text) } }
}
