import Foundation

/// The scenarios, voices and move library found in a scenarios and a voices directory.
public struct Catalog: Sendable {
    public var scenarios: [Scenario]
    public var voices: [String: VoiceProfile]
    public var library: MoveLibrary
    /// Problems in files that were skipped; the rest of the catalog still works.
    public var problems: [Problem]
    /// Voices that were read but cannot speak, with the problem that says why.
    public var mute: [String: Problem] = [:]

    public func scenario(_ id: String) throws(SparringError) -> Scenario {
        if let found = scenarios.first(where: { $0.id == id }) { return found }
        // A scenario that was read but skipped: say why, not merely that it is unknown.
        if let problem = problems.first(where: { URL(fileURLWithPath: $0.file).deletingPathExtension().lastPathComponent == id }) {
            throw SparringError("unusable-scenario", "scenario '\(id)' cannot be used: \(problem.description)")
        }
        let known = scenarios.map(\.id).joined(separator: ", ")
        throw SparringError("unknown-scenario", "unknown scenario '\(id)' (known: \(known))")
    }

    /// The directories scenarios (`name` "scenarios", with moves.yaml) or voices ("voices") are read
    /// from, layered in order: what `given` names (a colon list, from `--scenarios`), else
    /// `$SPARRING_SCENARIOS` (a colon list), else the ones that came with Sparring and then the
    /// user's own (`$XDG_CONFIG_HOME/sparring/scenarios`). The command line and sparringd share it.
    public static func searchPath(_ name: String, given: String? = nil,
                                  environment: [String: String] = ProcessInfo.processInfo.environment) -> [String] {
        if let given, !given.isEmpty { return given.split(separator: ":").map(String.init) }
        if let set = environment["SPARRING_\(name.uppercased())"], !set.isEmpty { return set.split(separator: ":").map(String.init) }
        return [shippedDirectory(name), userDirectory(name, environment: environment)]
    }

    /// `$XDG_CONFIG_HOME/sparring/NAME`: where a user adds scenarios and voices of their own.
    public static func userDirectory(_ name: String, environment: [String: String] = ProcessInfo.processInfo.environment) -> String {
        let config = environment["XDG_CONFIG_HOME"].flatMap { $0.isEmpty ? nil : $0 } ?? (NSHomeDirectory() + "/.config")
        return config + "/sparring/\(name)"
    }

    /// Where the scenarios or voices that come with Sparring are: the share directory beside an
    /// installed binary, else the source tree the binary was built from, else the usual prefixes.
    public static func shippedDirectory(_ name: String) -> String {
        let executable = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath().deletingLastPathComponent()
        let sourceTree = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let candidates = [
            executable.appendingPathComponent("../share/sparring/\(name)").standardized.path,
            sourceTree.appendingPathComponent(name).path,
            "/usr/local/share/sparring/\(name)",
            "/usr/share/sparring/\(name)",
        ]
        return candidates.first { isDirectory($0) } ?? candidates[0]
    }

    static func isDirectory(_ path: String) -> Bool {
        var directory: ObjCBool = false
        return FileManager.default.fileExists(atPath: path, isDirectory: &directory) && directory.boolValue
    }

    static func yamlFiles(in directory: String) -> [String] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
        return names.filter { $0.hasSuffix(".yaml") || $0.hasSuffix(".yml") }.sorted().map { "\(directory)/\($0)" }
    }

    /// Loads everything; a broken file is reported and skipped, never fatal.
    public static func load(scenarios scenariosDirectory: String, voices voicesDirectory: String,
                            audition: ((VoiceProfile) -> Problem?)? = nil) -> Catalog {
        load(scenarios: [scenariosDirectory], voices: [voicesDirectory], audition: audition)
    }

    /// Loads several directories in order (the installed ones, then the user's).
    ///
    /// A later directory adds to an earlier one: its voices and moves replace
    /// those with the same id, and its scenarios may use the moves and voices
    /// of all. A missing user directory is not a problem; a missing first one
    /// is. Two scenarios with one id: the first is kept and the second reported.
    ///
    /// `audition` hears each voice speak (nil when it can, else why not): a voice
    /// that cannot speak is a problem in its file, and the
    /// scenarios that use it are skipped with that reason.
    public static func load(scenarios scenariosDirectories: [String], voices voicesDirectories: [String],
                            audition: ((VoiceProfile) -> Problem?)? = nil) -> Catalog {
        var problems: [Problem] = []
        var voices: [String: VoiceProfile] = [:]
        var mute: [String: Problem] = [:]
        for (index, directory) in voicesDirectories.enumerated() {
            if !isDirectory(directory) {
                if index == 0 { problems.append(Problem(file: directory, line: 0, field: "", message: "voices directory not found")) }
                continue
            }
            for file in yamlFiles(in: directory) {
                let (voice, found) = VoiceProfile.load(path: file)
                problems += found
                guard let voice, found.isEmpty else { continue }
                if let problem = audition?(voice) {
                    problems.append(problem)
                    mute[voice.id] = problem
                    voices[voice.id] = nil
                } else {
                    voices[voice.id] = voice
                    mute[voice.id] = nil
                }
            }
        }
        var library = MoveLibrary()
        var foundLibrary = false
        for (index, directory) in scenariosDirectories.enumerated() {
            let movesFile = "\(directory)/moves.yaml"
            if !isDirectory(directory) {
                if index == 0 { problems.append(Problem(file: directory, line: 0, field: "", message: "scenarios directory not found")) }
            } else if FileManager.default.fileExists(atPath: movesFile) {
                let (loaded, found) = MoveLibrary.load(path: movesFile)
                for id in loaded.order { if let move = loaded.moves[id] { library.add(move) } }
                library.noMove += loaded.noMove
                library.wordGroups.merge(loaded.wordGroups) { $0 + $1 }
                problems += found
                foundLibrary = true
            }
        }
        if !foundLibrary, let first = scenariosDirectories.first, isDirectory(first) {
            problems.append(Problem(file: "\(first)/moves.yaml", line: 0, field: "", message: "the shared move library is missing"))
        }
        let loader = ScenarioLoader(library: library, voices: voices, mute: mute)
        var scenarios: [Scenario] = []
        for directory in scenariosDirectories where isDirectory(directory) {
            for file in yamlFiles(in: directory) where !file.hasSuffix("/moves.yaml") {
                let (scenario, found) = loader.load(path: file)
                problems += found
                guard let scenario else { continue }
                if let clash = scenarios.first(where: { $0.id == scenario.id }) {
                    problems.append(Problem(file: file, line: 0, field: "id", message: "id '\(scenario.id)' is also used by \(clash.file)"))
                    continue
                }
                scenarios.append(scenario)
            }
        }
        return Catalog(scenarios: scenarios, voices: voices, library: library, problems: problems, mute: mute)
    }
}
