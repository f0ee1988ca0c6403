import ArgumentParser
import Foundation
import SparringAudio
import SparringCore
import SparringDaemon
import SparringSessions
import SparringSpeech

/// Options shared by `run` and `simulate`.
struct CallArguments: ParsableArguments {
    @Option(help: "Agent name recorded with the session (default: $USER).")
    var agent: String = CallOptions.defaultAgent
    @Option(help: "Directory for session folders (default: the configured one, else $XDG_DATA_HOME/sparring/sessions).")
    var sessions: String?
    @Option(help: "Seed for the caller's choices (default: a fresh one for run, printed and saved in the session; 1 for simulate).")
    var seed: UInt64?
    @Option(name: .customLong("max-minutes"), help: "End the call after this many minutes.")
    var maxMinutes: Double = CallOptions.defaultMaxMinutes
    @Option(help: "Sample rate of the line in Hz (16000, or 48000 for devices that want it).")
    var rate: Int = 16_000
    @Option(help: "Shortest silence that ends the agent's turn, in milliseconds (longer after unfinished words and for agents who pause).")
    var hangover: Int = Int(TurnEndPolicy.defaultBase * 1000)
    @Flag(name: .customLong("fixed-hangover"), help: "End every turn after exactly --hangover of silence.")
    var fixedHangover = false
    @Flag(name: .customLong("no-prepare"), help: "Do not synthesize the likely reply while the agent pauses (for comparison).")
    var noPrepare = false
    @Flag(name: .customLong("no-bias"), help: "Recognize with the generic language model only.")
    var noBias = false
    @Option(help: "How hard the caller is to win over: strict, fair or empathic.")
    var difficulty: Difficulty = .fair
    @Flag(help: "Print the summary as JSON.")
    var json = false
    @Option(help: ArgumentHelp("Practise a moment of an earlier call again: the caller starts in that moment's phase and mood, with the line said before it (see `sparring show ID --debrief`).", valueName: "SESSION_ID:MOMENT"))
    var from: String?

    func validate() throws {
        if let problem = DisplayText.nameProblem(agent) { throw ValidationError("--agent: the name \(problem)") }
    }

    /// The sessions folder of this call.
    var folder: String { sessions ?? DaemonConfig.configuredSessions() }

    /// A moment practised again (`--from`), and how hard its caller was to win over.
    typealias Retry = (moment: MomentRetry, difficulty: Difficulty)

    /// `defaultSeed`: the seed when none is given (a fresh one for a practice call, a fixed one for a scripted one).
    func options(for scenario: Scenario, defaultSeed: UInt64, retry: Retry?) -> CallOptions {
        var options = CallOptions(scenario: scenario, agent: agent, seed: seed ?? defaultSeed, sessions: folder)
        options.maxMinutes = maxMinutes
        if let retry {
            // The caller is as hard to win over as the first time; a retry is a short call.
            options.scenario = scenario.at(retry.difficulty)
            options.retry = retry.moment
            if maxMinutes == CallOptions.defaultMaxMinutes { options.maxMinutes = CallOptions.retryMaxMinutes }
        }
        options.hangover = Double(max(100, hangover)) / 1000
        options.adaptiveTurnEnd = !fixedHangover
        options.prepareReplies = !noPrepare
        options.bias = !noBias
        return options
    }

    /// Checks the rate, finds the scenario and loads the speech models: every call command starts so.
    func prepare(_ catalog: CatalogOptions, scenario id: String) throws -> (Catalog, Scenario, SpeechModels, Retry?) {
        guard [8_000, 16_000, 22_050, 32_000, 44_100, 48_000].contains(rate) else {
            throw Terminal.fail("unsupported --rate \(rate) (use 16000 or 48000)")
        }
        // A moment that cannot be practised is said before the models load.
        var retry: Retry?
        if let from {
            do { retry = try SessionStore(root: folder).retry(from, scenario: id) } catch { throw Terminal.fail(error.message) }
        }
        // The models take most of the start; the scenarios are read meanwhile.
        nonisolated(unsafe) var models: Result<SpeechModels, SpeechError>?
        let modelsLoaded = DispatchSemaphore(value: 0)
        Thread {
            models = Result { () throws(SpeechError) in try SpeechModels() }
            modelsLoaded.signal()
        }.start()
        let loaded = catalog.load(quiet: json)
        let scenario: Scenario
        do { scenario = try loaded.scenario(id).at(difficulty) } catch { throw Terminal.fail(error.message) }
        modelsLoaded.wait()
        let ready: SpeechModels
        do { ready = try models!.get() } catch { throw Terminal.fail(error.description) }
        // The caller must be able to speak before the agent is put through.
        if let problem = ready.audition(scenario.persona.voice) {
            throw Terminal.fail("scenario '\(id)' cannot be used: \(problem)")
        }
        return (loaded, scenario, ready, retry)
    }
}

/// Prints a live call as it happens, one event per line.
struct LiveView {
    let quiet: Bool

    func show(_ event: SessionEvent) {
        guard !quiet, let (text, problem) = Self.describe(event) else { return }
        if problem { Terminal.warn(text) } else { print(text) }
    }

    /// One line for an event worth showing (and whether it reports a problem); nil for the rest.
    static func describe(_ event: SessionEvent) -> (String, Bool)? {
        let time = CallTime(seconds: event.t).description
        switch event.kind {
        case let .callerLineStart(text, _, _): return ("\(time)  CALLER  \(text)", false)
        case let .utterance(utterance):
            let moves = utterance.moves.map(\.move).joined(separator: ", ")
            return ("\(time)  AGENT   \(utterance.text)\(moves.isEmpty ? "" : "   [\(moves)]")", false)
        case let .mood(meters, mood):
            let list = meters.keys.sorted().map { "\($0) \(Int(meters[$0]!.rounded()))" }.joined(separator: "  ")
            return ("\(time)          \(list) (\(mood))", false)
        case let .trigger(trigger): return ("\(time)          (\(trigger.replacingOccurrences(of: "_", with: " ")))", false)
        case let .bargeIn(yielded): return ("\(time)          (agent talked over the caller; caller \(yielded ? "stopped" : "kept talking"))", false)
        case let .outcome(outcome): return ("\(time)          outcome: \(outcome)", false)
        // A failed line ends the call with its error, which says it once with the session's folder.
        case .lineError: return nil
        // Real-time scheduling is what a call should have; only its absence is worth a line.
        case let .audioThread(realtime, note): return realtime ? nil : (note, true)
        case let .diskFull(reason): return (reason, true)
        case let .synthesisError(text, reason): return ("caller could not speak \"\(text)\": \(reason)", true)
        default: return nil
        }
    }

    /// Fails with one line when the call was cut short because it could not be recorded.
    static func requireRecorded(_ summary: CallSummary) throws {
        if summary.ended_by == CallSummary.diskFull {
            throw Terminal.fail("the disk is full: the call was ended; what was recorded is kept in session \(summary.id)")
        }
    }

    /// `command`: how to practise a moment again (`run`, or `call` through sparringd).
    static func summary(_ summary: CallSummary, json: Bool, command: String = "run") throws {
        if json { print(try Terminal.json(summary)); return }
        print("")
        print("Session \(summary.id)")
        print("Seed \(summary.seed)")
        print("Outcome: \(summary.outcome.replacingOccurrences(of: "_", with: " ")) (ended by \(summary.ended_by)) after \(summary.duration_s) s")
        if let score = summary.score {
            print("Score: \(score.total.formatted()) / 100 — \(score.passed ? "passed" : "not passed")")
            for id in score.order { if let c = score.criteria[id] { print("  \(c.passed ? "✓" : "✗") \(c.title): \(c.note)") } }
        }
        Terminal.out(DebriefView.brief(summary, command: command), terminator: "")
        let gap = summary.turn_gap_ms
        print("Turn gap: p50 \(gap.p50.map { "\(Int($0)) ms" } ?? "–"), p95 \(gap.p95.map { "\(Int($0)) ms" } ?? "–") over \(gap.count) replies; xruns \(summary.xruns)")
        if let overruns = summary.overruns {
            print("Overruns: \(overruns.capture) capture and \(overruns.recording) recording samples dropped (a reader fell behind)")
        }
        if let session = summary.session { print("Saved in \(session)") }
    }
}

struct RunCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run", abstract: "One call on the headset, in this process; Ctrl-C hangs up.")

    @OptionGroup var catalog: CatalogOptions
    @Argument(help: "Scenario id.") var scenario: String
    @Option(help: "ALSA capture PCM (the headset microphone).") var capture = "default"
    @Option(help: "ALSA playback PCM (the headset ear).") var playback = "default"
    @OptionGroup var call: CallArguments

    func run() throws {
        // A playback device that is a pipe whose reader went away then fails a write (EPIPE),
        // which ends the call with a line naming the device, instead of killing the process.
        signal(SIGPIPE, SIG_IGN)
        // A failing device is reported once, in our words with its name; ALSA's own line would repeat it.
        silenceALSALibraryMessages()
        let (_, scenario, models, retry) = try call.prepare(catalog, scenario: self.scenario)
        let view = LiveView(quiet: call.json)
        let live: LiveCall<ALSALine>
        do {
            live = try LiveCall(line: ALSALine(capture: capture, playback: playback, rate: call.rate),
                                options: call.options(for: scenario, defaultSeed: CallOptions.freshSeed(), retry: retry), models: models,
                                onEvent: { view.show($0) })
        } catch { throw Terminal.fail(error.message) }
        signal(SIGINT, SIG_IGN)
        let interrupt = DispatchSource.makeSignalSource(signal: SIGINT, queue: .global())
        interrupt.setEventHandler { live.hangUp() }
        interrupt.resume()
        do {
            let summary = try live.run()
            try LiveView.summary(summary, json: call.json)
            HubAfterCall.send(sessions: (live.session.directory as NSString).deletingLastPathComponent)
            try LiveView.requireRecorded(summary)
        } catch let error as SparringError {
            throw Terminal.fail(error.message)
        }
    }
}

struct SimulateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "simulate",
        abstract: "A scripted agent speaks into a call through the whole pipeline, on an in-memory line.",
        discussion: "Each agent line is synthesized with the agent voice (voices/agent.yaml) and recognized by PocketSphinx like a headset microphone.")

    @OptionGroup var catalog: CatalogOptions
    @Argument(help: "Scenario id.") var scenario: String
    @Option(help: "Agent script (same format as rehearse --script).") var script: String
    @Option(help: "Voice of the scripted agent: festival:NAME (default, a Festival HTS voice) or a voice file name such as agent (eSpeak NG).")
    var voice = "festival:cmu_us_slt_arctic_hts"
    @OptionGroup var call: CallArguments

    func run() throws {
        let (loaded, scenario, models, retry) = try call.prepare(catalog, scenario: self.scenario)
        let agentVoice: AgentVoice
        if voice.hasPrefix("festival:") {
            agentVoice = .festival(String(voice.dropFirst("festival:".count)))
        } else if let profile = loaded.voices[voice] {
            agentVoice = .espeak(profile)
        } else {
            throw Terminal.fail("unknown agent voice '\(voice)' (a file in \(catalog.voicesDirectory), or festival:NAME)")
        }
        guard let text = FileManager.default.contents(atPath: script).flatMap({ String(data: $0, encoding: .utf8) }) else {
            throw Terminal.fail("\(script): cannot read the script")
        }
        let steps: [ScriptStep]
        do { steps = try ScriptStep.parse(text, file: script) } catch { throw Terminal.fail(error.description) }
        let view = LiveView(quiet: call.json)
        do {
            let agent = try models.scriptedAgent(steps, voice: agentVoice, rate: call.rate)
            let line = MemoryLine(farEnd: agent, rate: call.rate)
            let live = try LiveCall(line: line, options: call.options(for: scenario, defaultSeed: 1, retry: retry), models: models, onEvent: { view.show($0) })
            line.settled = { live.isSettled() }
            let summary = try live.run()
            try LiveView.summary(summary, json: call.json)
            try LiveView.requireRecorded(summary)
        } catch let error as SparringError {
            throw Terminal.fail(error.message)
        }
    }
}
