import ArgumentParser
import Foundation
import SparringCore
import SparringSpeech

struct ScenariosCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "scenarios",
        abstract: "List or validate scenarios.",
        subcommands: [List.self, Validate.self],
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
                    found = validateScenario(file, audition: audition)
                }
                problems += found
                if found.isEmpty { print("\(file): ok") }
            }
            for problem in problems { print(problem.description) }
            if !problems.isEmpty { throw ExitCode(1) }
        }

        /// A scenario is checked against the moves and voices beside it, or those of the search path.
        private func validateScenario(_ file: String, audition: @escaping (VoiceProfile) -> Problem?) -> [Problem] {
            let directory = URL(fileURLWithPath: file).deletingLastPathComponent()
            let scenarioPath = catalog.scenarios == nil && FileManager.default.fileExists(atPath: directory.appendingPathComponent("moves.yaml").path)
                ? [directory.path] : catalog.scenarioPath
            let siblingVoices = directory.deletingLastPathComponent().appendingPathComponent("voices").path
            let voicePath = catalog.voices == nil && FileManager.default.fileExists(atPath: siblingVoices) ? [siblingVoices] : catalog.voicePath
            // The library and voices as a call would see them, without this file's own problems.
            let context = Catalog.load(scenarios: scenarioPath, voices: voicePath, audition: audition)
            let libraryProblems = context.problems.filter { $0.file.hasSuffix("moves.yaml") }
            if !libraryProblems.isEmpty { return libraryProblems }
            return ScenarioLoader(library: context.library, voices: context.voices, mute: context.mute).load(path: file).1
        }
    }
}
