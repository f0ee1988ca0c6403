import ArgumentParser
import Foundation
import SparringCore

struct RehearseCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rehearse",
        abstract: "Rehearse a scenario in text: type the agent's lines, read the caller's.",
        discussion: """
            Interactive by default. With --script, runs unattended: one agent line per line, \
            [silence N] for N seconds of silence, [interrupt] WORDS to talk over the caller, # for comments.
            """)

    @OptionGroup var catalog: CatalogOptions
    @Argument(help: "Scenario id (see `sparring scenarios`).")
    var scenario: String
    @Option(help: "Agent script file.")
    var script: String?
    @Option(help: "Seed for the caller's choices; the same seed and lines give the same call.")
    var seed: UInt64 = 1
    @Option(help: "How hard the caller is to win over: strict, fair or empathic.")
    var difficulty: Difficulty = .fair
    @Flag(help: "Print one JSON object with turns, outcome and score.")
    var json = false

    func run() throws {
        let loaded = catalog.load(quiet: json)
        let scenario: Scenario
        do { scenario = try loaded.scenario(self.scenario).at(difficulty) } catch { throw Terminal.fail(error.message) }
        var driver = RehearsalDriver(scenario: scenario, seed: seed)

        if let script {
            guard let data = FileManager.default.contents(atPath: script), let text = String(data: data, encoding: .utf8) else {
                throw Terminal.fail("\(script): cannot read the script")
            }
            let steps: [ScriptStep]
            do { steps = try ScriptStep.parse(text, file: script) } catch { throw Terminal.fail(error.description) }
            let result = driver.run(steps)
            if json { print(try Terminal.json(result)) } else { TranscriptPrinter(scenario: scenario).print(result) }
            return
        }

        let printer = TranscriptPrinter(scenario: scenario)
        if !json { printer.header() }
        let opening = driver.open()
        driver.record(opening)
        if !json { printer.turn(opening) }
        while !driver.isOver {
            if Terminal.isInteractive { Swift.print("agent> ", terminator: "") }
            guard let line = readLine() else { break }
            let steps: [ScriptStep]
            do { steps = try ScriptStep.parse(line, file: "input") } catch {
                Terminal.warn(error.description)
                continue
            }
            for step in steps where !driver.isOver {
                let turn = driver.step(step)
                driver.record(turn)
                if !json { printer.turn(turn, echoAgent: !Terminal.isInteractive) }
            }
        }
        driver.hangUp()
        let result = driver.result()
        if json { print(try Terminal.json(result)) } else { printer.footer(result) }
    }
}

/// Prints a rehearsal as a transcript, a mood curve and a score.
struct TranscriptPrinter {
    let scenario: Scenario

    func print(_ result: RehearsalResult) {
        header()
        for turn in result.turns { self.turn(turn) }
        footer(result)
    }

    func header() {
        Swift.print("\(scenario.title)")
        Swift.print("Caller: \(scenario.persona.name). \(scenario.persona.situation)")
        Swift.print("")
    }

    func turn(_ turn: RehearsalTurn, echoAgent: Bool = true) {
        if let agent = turn.agent, echoAgent { Swift.print("AGENT   \(agent)") }
        if let silence = turn.silence_s { Swift.print("AGENT   … silent for \(silence.formatted()) s") }
        if turn.agent != nil || turn.silence_s != nil {
            let moves = turn.moves.isEmpty ? "no move recognized" : turn.moves.joined(separator: ", ")
            Swift.print("        [\(moves)]")
        }
        for trigger in turn.triggers { Swift.print("        (\(trigger.replacingOccurrences(of: "_", with: " ")))") }
        for line in turn.caller { Swift.print("CALLER  \(line)") }
        let meters = turn.mood.keys.sorted().map { "\($0) \(turn.mood[$0]!)" }.joined(separator: "  ")
        Swift.print("        \(meters)  ·  phase \(turn.phase)")
        Swift.print("")
    }

    func footer(_ result: RehearsalResult) {
        Swift.print("Outcome: \(result.outcome.replacingOccurrences(of: "_", with: " ")) after \(result.duration_s.formatted()) s")
        Swift.print("")
        Swift.print("Mood over the call (one mark per turn):")
        for meter in scenario.meterNames {
            let values = result.turns.compactMap { $0.mood[meter] }
            Swift.print("  \(meter.padding(toLength: 6, withPad: " ", startingAt: 0)) \(Self.curve(values))  \(values.map(String.init).joined(separator: " → "))")
        }
        Swift.print("")
        let score = result.score
        Swift.print("Score: \(score.total.formatted()) / 100 — \(score.passed ? "passed" : "not passed") (pass mark \(score.passMark.formatted()))")
        for id in score.order {
            guard let criterion = score.criteria[id] else { continue }
            let mark = criterion.passed ? "✓" : "✗"
            Swift.print("  \(mark) \(criterion.title) (\(criterion.weight.formatted())): \(criterion.note)")
            for item in criterion.evidence.prefix(3) { Swift.print("      at \(item.t): \(item.text)") }
        }
        Swift.print(DebriefView.brief(result.turning_points), terminator: "")
    }

    /// A sparkline of 0–100 values.
    static func curve(_ values: [Int]) -> String {
        let marks = Array("▁▂▃▄▅▆▇█")
        return String(values.map { marks[min(marks.count - 1, max(0, $0 * marks.count / 101))] })
    }
}
