import ArgumentParser
import Foundation
import SparringCore
import SparringSpeech

struct ScenariosCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "scenarios",
        abstract: "List, validate or check scenarios.",
        subcommands: [List.self, Validate.self, Check.self],
        defaultSubcommand: List.self)

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List scenarios with id, title and persona.")

        @OptionGroup var catalog: CatalogOptions
        @Flag(help: "Print a JSON array of {id, title, persona, situation, voice, file}.")
        var json = false

        struct Entry: Encodable {
            var id, title, persona, situation, voice, file: String
        }

        func run() throws {
            let loaded = catalog.load(audition: true)
            if json {
                let entries = loaded.scenarios.map {
                    Entry(id: $0.id, title: $0.title, persona: $0.persona.name, situation: $0.persona.situation,
                          voice: $0.persona.voice.id, file: $0.file)
                }
                print(try Terminal.json(entries))
                return
            }
            if loaded.scenarios.isEmpty {
                throw Terminal.fail("no scenarios found in \(catalog.scenariosDirectory)")
            }
            let width = loaded.scenarios.map(\.id.count).max() ?? 0
            for scenario in loaded.scenarios {
                print("\(scenario.id.padding(toLength: width, withPad: " ", startingAt: 0))  \(scenario.title) — \(scenario.persona.name)")
            }
        }
    }

    struct Validate: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Check scenario, voice or move files; one line per problem as file:line: field: message.")

        @OptionGroup var catalog: CatalogOptions
        @Argument(help: "Files to check. moves.yaml is checked as the move library, files in a voices directory as voices.")
        var files: [String]

        func run() throws {
            var problems: [Problem] = []
            var warnings: [String] = []
            let audition = VoiceAudition.standalone()
            for file in files {
                let url = URL(fileURLWithPath: file)
                let found: [Problem]
                if url.lastPathComponent == "moves.yaml" {
                    found = MoveLibrary.load(path: file).1
                } else if url.deletingLastPathComponent().lastPathComponent == "voices" {
                    let (voice, read) = VoiceProfile.load(path: file)
                    found = read + [voice.flatMap(audition)].compactMap { $0 }
                } else {
                    let (scenario, read) = validateScenario(file, audition: audition)
                    found = read
                    if let scenario {
                        warnings += ScenarioLint.contradictions(in: scenario).map(\.description) + ScenarioLint.adviceGaps(in: scenario)
                            + ScenarioLint.unreachable(in: scenario) + ScenarioLint.assumedDetails(in: scenario)
                            + ScenarioLint.fewExamples(in: scenario)
                    }
                }
                problems += found
                if found.isEmpty { print("\(file): ok") }
            }
            for problem in problems { print(problem.description) }
            // Warnings are worth a look but do not fail the file: the check reads meaning, and can be wrong.
            for warning in warnings { print(warning) }
            if !problems.isEmpty { throw ExitCode(1) }
        }

        /// A scenario is checked against the moves and voices beside it, or those of the search path.
        private func validateScenario(_ file: String, audition: @escaping (VoiceProfile) -> Problem?) -> (Scenario?, [Problem]) {
            let directory = URL(fileURLWithPath: file).deletingLastPathComponent()
            let scenarioPath = catalog.scenarios == nil && FileManager.default.fileExists(atPath: directory.appendingPathComponent("moves.yaml").path)
                ? [directory.path] : catalog.scenarioPath
            let siblingVoices = directory.deletingLastPathComponent().appendingPathComponent("voices").path
            let voicePath = catalog.voices == nil && FileManager.default.fileExists(atPath: siblingVoices) ? [siblingVoices] : catalog.voicePath
            // The library and voices as a call would see them, without this file's own problems.
            let context = Catalog.load(scenarios: scenarioPath, voices: voicePath, audition: audition)
            let libraryProblems = context.problems.filter { $0.file.hasSuffix("moves.yaml") }
            if !libraryProblems.isEmpty { return (nil, libraryProblems) }
            return ScenarioLoader(library: context.library, voices: context.voices, mute: context.mute).load(path: file)
        }
    }

    struct Check: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Run each scenario many times in text and show where its calls end.",
            discussion: """
            Five kinds of agent call each scenario: its skilled script word for word, the same script \
            in other people's words (each move drawn from the labelled corpus), its dismissive script, \
            an uneven agent who slips into the dismissive script for about a third of the skilled lines, \
            and a restless one who says the skilled script with the slips of a real line (dead air, talking \
            over the caller, long turns, the closing question first). \
            The recognizer gets a share of words wrong, with confidences like PocketSphinx's, and the agent \
            sometimes starts in the caller's pause. Every agent says a line again when the caller asks for it \
            ("Sorry, what was that?"); the skilled, paraphrasing and dismissive agents answer a caller who asks \
            for something ("Wait, what exactly are you offering?", a line's `asks`) or what happens now \
            ("So what now?") with the line they said that makes what is asked for, or carries the call on \
            from where the caller is, in other words for the paraphrasing agent; and, with its lines said \
            and the caller still on the line, says its last \
            line twice more (the paraphrasing agent in other words) before it hangs up. \
            Prints, per scenario and agent, the share of calls reaching each outcome, how many calls had \
            a caller line said twice and, for the paraphrased agent, whose moves are known, the share of its \
            lines in which the caller heard a move the line did not make; then the caller lines no call said.
            """)

        @OptionGroup var catalog: CatalogOptions
        @Argument(help: "Scenario ids (default: all).") var scenarios: [String] = []
        @Option(help: "Calls per scenario and kind of agent.") var runs = 20
        @Option(help: "Share of the agent's words the simulated recognizer gets wrong.") var wordErrors = 0.2
        @Option(help: "Share of agent lines started in the pause after the caller's first sentence.") var earlyStarts = 0.15
        @Option(help: "The labelled corpus paraphrases are drawn from (default: the held-out test part); a scenario's own moves come from scenarios/SCENARIO.tsv beside it, when there is one.") var corpus: String?
        @Option(help: "First seed; call n uses a seed derived from it.") var seed: UInt64 = 1
        @Option(help: "Difficulties to run, comma-separated (strict, fair, empathic).") var difficulty = "fair"

        @Flag(help: "Agents say their scripts and nothing else: no line again when the caller asks for it or waits.")
        var scriptsOnly = false
        @Flag(help: "List the lines never said and the lines said twice.") var verbose = false
        @Option(help: "Print up to N calls per agent that missed the goal, turn by turn.") var showMisses = 0

        func run() throws {
            guard runs > 0, (0...1).contains(wordErrors), (0...1).contains(earlyStarts) else {
                throw Terminal.fail("--runs must be positive; --word-errors and --early-starts between 0 and 1")
            }
            let loaded = catalog.load()
            var chosen: [Scenario] = []
            for id in scenarios.isEmpty ? loaded.scenarios.map(\.id) : scenarios {
                do throws(SparringError) { chosen.append(try loaded.scenario(id)) } catch { throw Terminal.fail(error.message) }
            }
            guard let path = corpus ?? MovesCommand.Eval.defaultCorpus() else {
                throw Terminal.fail("no corpus given and Tests/Corpus/moves-test.tsv not found; pass --corpus FILE")
            }
            var levels: [Difficulty] = []
            for name in difficulty.split(separator: ",") {
                guard let level = Difficulty(rawValue: name.trimmingCharacters(in: .whitespaces)) else {
                    throw Terminal.fail("unknown difficulty '\(name)' (strict, fair or empathic)")
                }
                levels.append(level)
            }
            var settings = ScenarioCheck.Settings()
            settings.runs = runs
            settings.wordErrors = wordErrors
            settings.earlyStarts = earlyStarts
            settings.answers = !scriptsOnly
            settings.seed = seed
            print("\(runs) calls per scenario, difficulty and agent, \(Int(wordErrors * 100)) % word errors, \(Int(earlyStarts * 100)) % early starts"
                  + (scriptsOnly ? ", agents on their scripts alone" : ""))
            print("scenario          difficulty  agent        agree  hang_up  escalate  unresolved  agent_ended  repeats  wrong_move  false_hurt")
            var failed = false
            for scenario in chosen {
                let scripts = URL(fileURLWithPath: scenario.file).deletingLastPathComponent().appendingPathComponent("scripts")
                func script(_ kind: String) throws -> (steps: [ScriptStep], intended: [[String]?]) {
                    let file = scripts.appendingPathComponent("\(scenario.id).\(kind).txt").path
                    guard let text = try? String(contentsOfFile: file, encoding: .utf8) else { throw Terminal.fail("\(file): cannot read the file") }
                    do throws(Problems) { return (try ScriptStep.parse(text, file: file), ScriptStep.intendedMoves(text)) } catch {
                        throw Terminal.fail(error.description)
                    }
                }
                let lines: [LabelledLine]
                do throws(Problems) { lines = try MoveCorpus.load(path: path, for: scenario) } catch { throw Terminal.fail(error.description) }
                let skilled = try script("skilled")
                let check = ScenarioCheck(scenario: scenario, skilled: skilled.steps, dismissive: try script("dismissive").steps, corpus: lines,
                                          intended: skilled.intended)
                // A line counts as said when any difficulty said it.
                var left: [(place: String, text: String)]?
                let printer = TranscriptPrinter(scenario: scenario)
                for level in levels {
                    settings.difficulty = level
                    let report = check.run(settings)
                    for kind in ScenarioCheck.AgentKind.allCases {
                        let tally = report.tallies[kind]!
                        func share(_ outcome: OutcomeKind) -> String { String(format: "%5.0f %%", tally.share(outcome) * 100) }
                        let name = scenario.id.padding(toLength: 17, withPad: " ", startingAt: 0)
                        let columns = [share(.agree), share(.hangUp), " " + share(.escalate), "   " + share(.unresolved), "    " + share(.agentEnded),
                                       String(format: "%5d", tally.repeated.values.reduce(0, +)),
                                       tally.labelledLines == 0 ? "      -" : String(format: "%5.1f %%", tally.wrongMoveShare * 100),
                                       tally.labelledLines == 0 ? "         -" : String(format: "    %5.1f %%", tally.falseHurtShare * 100)]
                        print("\(name) \(level.rawValue.padding(toLength: 11, withPad: " ", startingAt: 0)) \(kind.rawValue.padding(toLength: 11, withPad: " ", startingAt: 0)) \(columns.joined(separator: "  "))")
                        for turns in tally.misses.prefix(showMisses) {
                            print("--- a \(kind.rawValue) call that missed")
                            for turn in turns { printer.turn(turn) }
                        }
                        if verbose { for (text, calls) in tally.repeated.sorted(by: { $0.value > $1.value }) { print("    said twice in \(calls) calls: \(text)") } }
                    }
                    if report.tallies[ScenarioCheck.AgentKind.dismissive]!.share(.agree) > 0 { failed = true }
                    let these = Set(report.neverSaid.map(\.text))
                    left = left?.filter { these.contains($0.text) } ?? report.neverSaid
                }
                for thin in scenario.thinPhases() {
                    print("\(scenario.id): phase \(thin.phase) has \(thin.lines) line\(thin.lines == 1 ? "" : "s") for \(thin.mood.rawValue) (3 or more keep calls apart)")
                }
                print("\(scenario.id): \(left?.count ?? 0) of \(scenario.everyLine.count) caller lines never said")
                if verbose { for (place, text) in left ?? [] { print("    never said (\(place)): \(text)") } }
            }
            if failed { throw Terminal.fail("a dismissive agent reached agreement") }
        }
    }
}
