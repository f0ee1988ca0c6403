import ArgumentParser
import Foundation
import SparringCore
import SparringSpeech

@main
struct Sparring: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sparring",
        abstract: "Practise difficult phone calls with a scripted caller.",
        discussion: """
            Exit status: 0 success; 1 a failure (a bad file, a refused call, a device that fails, \
            a dismissive agent agreeing in `scenarios check`); 64 a usage error; 69 sparringd is \
            not running. Colours on a terminal are off when NO_COLOR is set.
            """,
        version: SparringVersion.current,
        subcommands: [ScenariosCommand.self, MovesCommand.self, HearCommand.self, RehearseCommand.self, RunCommand.self, SimulateCommand.self,
                      CallCommand.self, HangupCommand.self, StatusCommand.self,
                      SessionsCommand.self, ShowCommand.self, ReplayCommand.self, AnnotateCommand.self,
                      ReportCommand.self, ExportCommand.self, DeleteCommand.self, HubCommand.self])
}

/// Where scenarios and voices are read from; every command that needs them takes these.
struct CatalogOptions: ParsableArguments {
    @Option(name: .long, help: "Directories of scenario files and moves.yaml, colon-separated (default: $SPARRING_SCENARIOS, else the installed ones then ~/.config/sparring/scenarios).")
    var scenarios: String?

    @Option(name: .long, help: "Directories of voice files, colon-separated (default: $SPARRING_VOICES, else the installed ones then ~/.config/sparring/voices).")
    var voices: String?

    /// Where scenarios are read from, in layers (the same search path sparringd uses).
    var scenarioPath: [String] { Catalog.searchPath("scenarios", given: scenarios) }
    var voicePath: [String] { Catalog.searchPath("voices", given: voices) }
    var scenariosDirectory: String { scenarioPath.joined(separator: ":") }
    var voicesDirectory: String { voicePath.joined(separator: ":") }

    /// Loads the catalog; broken files are reported on stderr and skipped. With `audition`, each voice
    /// is heard speaking first (not while SpeechModels loads: eSpeak NG is one per process).
    func load(quiet: Bool = false, audition: Bool = false) -> Catalog {
        let catalog = Catalog.load(scenarios: scenarioPath, voices: voicePath, audition: audition ? VoiceAudition.standalone() : nil)
        if !quiet { for problem in catalog.problems { Terminal.warn(problem.description) } }
        return catalog
    }
}

enum Terminal {
    static func warn(_ line: String) {
        FileHandle.standardError.write(Data("sparring: \(DisplayText.terminal(line))\n".utf8))
    }

    /// Prints text that may hold what a file or a person wrote (names, notes, recognised words),
    /// with control characters shown, never sent to the terminal.
    static func out(_ text: String, terminator: String = "\n") {
        print(DisplayText.terminal(text), terminator: terminator)
    }

    /// Exit statuses, as `sparring --help` documents them (64 and 69 as in sysexits.h).
    static let failure: Int32 = 1
    static let usage: Int32 = 64
    static let unavailable: Int32 = 69

    /// Whether to colour terminal output (https://no-color.org: any non-empty NO_COLOR turns it off).
    static var colours: Bool { (ProcessInfo.processInfo.environment["NO_COLOR"] ?? "").isEmpty }

    /// Prints one clear line and exits non-zero.
    static func fail(_ line: String, code: Int32 = failure) -> ExitCode {
        warn(line)
        return ExitCode(code)
    }

    static func json<T: Encodable>(_ value: T) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return String(decoding: try encoder.encode(value), as: UTF8.self)
    }

    static var isInteractive: Bool { isatty(STDIN_FILENO) == 1 && isatty(STDOUT_FILENO) == 1 }
}
