// `sparring-bench --turns`: the end-of-turn benchmark, on the recognizer alone.
//
// Agent turns with inner pauses (Tests/Corpus/turns.tsv) are spoken by
// several voices and laid end to end as one call per voice: three seconds of
// the line alone while it rings, then each turn, then the caller's answer
// (on the agent's microphone, only the room). The whole track is fed to the
// recognizer frame by frame, clean and with each room noise under it, and
// every decision it takes is scored against where the speech really is:
//   take-over   the turn was judged over inside one of its own pauses
//   gap         the turn's last speech sample → the turn judged over
//   missed      no end of turn before the next turn began
//   noise       an utterance made of the room alone
//   WER         the words heard in each turn against what was said
// and, separately, minutes of each noise alone. This is the decision the
// live call acts on; the caller's own reply time comes on top (`make bench`).
import Foundation
import SparringAudio
import SparringCore
import SparringSessions
import SparringSpeech

/// Prints a line and flushes it, so a run of minutes shows its progress also into a file.
func emit(_ line: String) {
    print(line)
    fflush(nil)
}

/// `--verbose`: each take-over, with the words it cut after.
let verbose = arguments.contains("--verbose")

struct BenchTurn {
    var parts: [String]
    var text: String { parts.joined(separator: " ") }
}

/// One voice's call: the speech alone, and where each turn's speech lies.
struct TurnTrack {
    var voice: String
    var speech: [Int16]
    /// Sample ranges: the turn from its first to its last speech sample.
    var turns: [(range: Range<Int>, text: String)]
}

struct TurnTally {
    var turns = 0, takeOvers = 0, missed = 0, noiseUtterances = 0
    var gaps: [Double] = []
    var errors = 0, words = 0
    var cpu = 0.0, audio = 0.0

    mutating func add(_ other: TurnTally) {
        turns += other.turns; takeOvers += other.takeOvers; missed += other.missed
        noiseUtterances += other.noiseUtterances; gaps += other.gaps
        errors += other.errors; words += other.words; cpu += other.cpu; audio += other.audio
    }
    var takeOverRate: Double { Double(takeOvers) / Double(max(1, turns)) }
    var wer: Double { Double(errors) / Double(max(1, words)) }
}

func threadCPU() -> Double { CPUTime.thread() }

func loadTurns(_ path: String, part: String) throws -> [BenchTurn] {
    let text = try String(contentsOfFile: path, encoding: .utf8)
    var turns: [BenchTurn] = []
    for (number, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated()
    where !line.hasPrefix("#") && !line.trimmingCharacters(in: .whitespaces).isEmpty {
        let columns = line.split(separator: "\t", omittingEmptySubsequences: false).map(String.init)
        guard columns.count == 3, ["dev", "test"].contains(columns[0]), ["question", "statement", "trailing"].contains(columns[1]) else {
            throw SparringError("turns", "\(path):\(number + 1): expected part (dev|test), ending (question|statement|trailing) and text, tab-separated")
        }
        guard part == "all" || columns[0] == part else { continue }
        let parts = columns[2].components(separatedBy: " | ").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        turns.append(BenchTurn(parts: parts))
    }
    return turns
}

/// Lays a voice's turns end to end with drawn pauses: 3 s of ringing first, 2.5 s for the caller after each.
func layOut(_ turns: [BenchTurn], voice: String, audio: [String: [Int16]], seed: UInt64) -> TurnTrack {
    var random = SeededRandom(seed: seed)
    var speech = [Int16](repeating: 0, count: 48_000)
    var placed: [(range: Range<Int>, text: String)] = []
    for turn in turns {
        let start = speech.count
        for (index, part) in turn.parts.enumerated() {
            if index > 0 { speech += [Int16](repeating: 0, count: 4_800 + Int(random.next() % 6_401)) }
            speech += audio[part] ?? []
        }
        placed.append((start..<speech.count, turn.text))
        speech += [Int16](repeating: 0, count: 40_000)
    }
    return TurnTrack(voice: voice, speech: speech, turns: placed)
}

/// Feeds `samples` to the recognizer in 10 ms frames from a new call with `policy`, then flushes it:
/// each utterance with the sample count at which it was decided, and the thread's CPU seconds.
func feed(_ samples: [Int16], to recognizer: Recognizer, policy: TurnEndPolicy) -> (utterances: [(at: Int, utterance: RecognizedUtterance)], cpu: Double) {
    recognizer.useGenericModel()
    recognizer.beginCall(policy: policy)
    var utterances: [(at: Int, utterance: RecognizedUtterance)] = []
    let began = threadCPU()
    samples.withUnsafeBufferPointer { all in
        var offset = 0
        while offset + 160 <= all.count {
            for event in recognizer.process(UnsafeBufferPointer(rebasing: all[offset..<(offset + 160)])) {
                if case let .utterance(u) = event { utterances.append((offset + 160, u)) }
            }
            offset += 160
        }
    }
    if let last = recognizer.flush() { utterances.append((samples.count, last)) }
    return (utterances, threadCPU() - began)
}

/// Feeds one track to the recognizer and scores every decision.
func score(_ samples: [Int16], track: TurnTrack, recognizer: Recognizer, hold: Double) -> TurnTally {
    let (utterances, cpu) = feed(samples, to: recognizer, policy: TurnEndPolicy(base: hold))
    var tally = TurnTally()
    tally.cpu = cpu
    tally.audio = Double(samples.count) / 16_000
    tally.turns = track.turns.count
    var heard = [[String]](repeating: [], count: track.turns.count)
    var ended = [Bool](repeating: false, count: track.turns.count)
    var takenOver = [Bool](repeating: false, count: track.turns.count)
    for (at, utterance) in utterances {
        let start = Int(utterance.start.seconds * 16_000)
        // The turn whose window (its first sample to the next turn's) holds the decision.
        guard let index = track.turns.lastIndex(where: { $0.range.lowerBound <= at }) else {
            tally.noiseUtterances += 1  // in the ringing, before the agent said anything
            continue
        }
        let range = track.turns[index].range
        if at < range.upperBound {
            if verbose, !takenOver[index] {
                emit(String(format: "  take-over %@ at %.2f s after %.0f ms of silence: \"%@\" in \"%@\"", track.voice,
                             Double(at - range.lowerBound) / 16_000, utterance.hold * 1000, utterance.text, track.turns[index].text))
            }
            takenOver[index] = true
            heard[index] += Words.normalize(utterance.text)
        } else if start >= range.upperBound {
            tally.noiseUtterances += 1  // began after the agent had finished: the room alone
        } else {
            if !ended[index] { tally.gaps.append(Double(at - range.upperBound) / 16) }  // ms
            ended[index] = true
            heard[index] += Words.normalize(utterance.text)
        }
    }
    for (index, turn) in track.turns.enumerated() {
        if takenOver[index] { tally.takeOvers += 1 }
        if !ended[index] { tally.missed += 1 }
        let reference = Words.normalize(turn.text)
        tally.errors += Words.editDistance(reference, heard[index])
        tally.words += reference.count
    }
    return tally
}

/// Utterances the recognizer makes of `samples` of noise alone.
func noiseAlone(_ samples: [Int16], recognizer: Recognizer) -> (utterances: [String], cpu: Double) {
    let (utterances, cpu) = feed(samples, to: recognizer, policy: TurnEndPolicy())
    return (utterances.map(\.utterance.text), cpu)
}

/// Jobs run on `threads` threads, each with its own recognizer (PocketSphinx is not thread-safe).
final class JobPool<Result>: @unchecked Sendable {
    private let lock = NSLock()
    private var next = 0
    private(set) var results: [Result?]
    private(set) var failure: String?
    init(count: Int) { results = Array(repeating: nil, count: count) }
    func take() -> Int? { lock.withLock { guard next < results.count else { return nil }; next += 1; return next - 1 } }
    func put(_ index: Int, _ result: Result) { lock.withLock { results[index] = result } }
    func fail(_ reason: String) { lock.withLock { failure = failure ?? reason } }

    /// Each job gets a recognizer of its own: one reused from job to job carries PocketSphinx's
    /// state (its cepstral mean, its noise estimate) over, and the figures would move with which
    /// jobs a thread happened to run before.
    func run(threads: Int, _ job: @escaping @Sendable (Int, Recognizer) -> Result) throws {
        DispatchQueue.concurrentPerform(iterations: threads) { _ in
            while let index = take() {
                let recognizer: Recognizer
                do { recognizer = try Recognizer() } catch { fail("\(error)"); return }
                put(index, job(index, recognizer))
            }
        }
        if let failure { throw SparringError("recognizer", failure) }
    }
}

func turnBench(root: String, models: SpeechModels) throws {
    let part = option("--part", "test")
    let holds = option("--holds", "200,300,500").split(separator: ",").compactMap { Double($0).map { $0 / 1000 } }
    let noises = option("--noises", "clean,pink,babble,fan").split(separator: ",").map(String.init)
    let snr = Double(option("--snr", "20")) ?? 20
    let minutes = Double(option("--noise-minutes", "30")) ?? 30
    let threads = max(1, Int(option("--threads", "2")) ?? 2)
    let voiceNames = option("--voices", SpokenCorpus.voices.map(\.name).joined(separator: ",")).split(separator: ",").map(String.init)
    let voices = SpokenCorpus.voices.filter { voiceNames.contains($0.name) }
    let known = RoomNoise.allCases.map(\.rawValue)
    func check(_ flag: String, _ names: [String], known: [String]) throws {
        for name in names where !known.contains(name) {
            throw SparringError("turns", "\(flag): unknown noise '\(name)' (known: \(known.joined(separator: ", ")))")
        }
    }
    try check("--noises", noises, known: ["clean"] + known)
    let aloneNames = option("--alone", known.joined(separator: ",")).split(separator: ",").map(String.init)
    try check("--alone", aloneNames, known: known)
    guard let noiseSeed = UInt64(option("--noise-seed", "900")) else {
        throw SparringError("turns", "--noise-seed: expected a whole number, got '\(option("--noise-seed", ""))'")
    }
    let turns = try loadTurns(option("--corpus", root + "/Tests/Corpus/turns.tsv"), part: part)
    let parts = Array(Set(turns.flatMap(\.parts))).sorted()
    emit("turns: \(turns.count) \(part) turns × \(voices.count) voices (\(voices.map(\.name).joined(separator: ", "))), pauses 300–700 ms, noise at \(Int(snr)) dB SNR")

    var tracks: [TurnTrack] = []
    for (index, voice) in voices.enumerated() {
        let rendered = try SpokenCorpus.render(parts, voice: voice, synthesizer: models.synthesizer)
        let audio = Dictionary(uniqueKeysWithValues: zip(parts, rendered.map(trimmed)))
        tracks.append(layOut(turns, voice: voice.name, audio: audio, seed: UInt64(17 + index)))
    }
    // Babble from other lines than the turns: the held-out move corpus, in the same voices.
    var babbleSource: [[Int16]] = []
    if noises.contains("babble") || minutes > 0 {
        let corpus = try String(contentsOfFile: root + "/Tests/Corpus/moves-test.tsv", encoding: .utf8)
        let lines = corpus.split(separator: "\n").filter { !$0.hasPrefix("#") }.compactMap { $0.split(separator: "\t").last.map(String.init) }
        for voice in voices { babbleSource += try SpokenCorpus.render(Array(lines.prefix(40)), voice: voice, synthesizer: models.synthesizer).map(trimmed) }
    }
    // Each track with each noise, at `snr` below that voice's active level.
    var mixed: [[[Int16]]] = []
    for noise in noises {
        mixed.append(tracks.enumerated().map { index, track in
            guard let kind = RoomNoise(rawValue: noise) else { return track.speech }
            return RoomNoise.mix(track.speech, kind.track(count: track.speech.count, seed: UInt64(101 + index), babbleFrom: babbleSource), snr: snr)
        })
    }

    let jobs = noises.indices.flatMap { n in holds.indices.flatMap { h in tracks.indices.map { (n, h, $0) } } }
    let pool = JobPool<TurnTally>(count: jobs.count)
    let mixedAudio = mixed, trackList = tracks
    let started = Date()
    try pool.run(threads: threads) { index, recognizer in
        let (n, h, t) = jobs[index]
        return score(mixedAudio[n][t], track: trackList[t], recognizer: recognizer, hold: holds[h])
    }
    emit(String(format: "(%.0f s on %d threads)", Date().timeIntervalSince(started), threads))
    emit("condition      hold   take-overs        missed  gap p50/p95       noise utt.  WER      CPU/s")
    var cleanWER: Double?
    for (n, noise) in noises.enumerated() {
        var atTwoPercent: (hold: Double, tally: TurnTally)?
        var conditionWER = 0.0
        for (h, hold) in holds.enumerated() {
            var tally = TurnTally()
            for (index, job) in jobs.enumerated() where job.0 == n && job.1 == h { tally.add(pool.results[index]!) }
            let p50 = percentile(tally.gaps, 50).map { String(format: "%.0f", $0) } ?? "–"
            let p95 = percentile(tally.gaps, 95).map { String(format: "%.0f", $0) } ?? "–"
            let name = noise == "clean" ? "clean" : "\(noise) \(Int(snr)) dB"
            emit(String(format: "%-14@ %3.0f ms %3d/%-3d %5.1f %%  %4d     %5@/%-5@ ms     %4d       %5.1f %%  %.3f",
                         name as NSString, hold * 1000, tally.takeOvers, tally.turns, tally.takeOverRate * 100, tally.missed,
                         p50 as NSString, p95 as NSString, tally.noiseUtterances, tally.wer * 100, tally.cpu / tally.audio))
            if atTwoPercent == nil, tally.takeOverRate <= 0.02 { atTwoPercent = (hold, tally) }
            conditionWER = tally.wer  // the last hold's: the hold barely moves the words heard
        }
        if let (hold, tally) = atTwoPercent {
            emit(String(format: "  at ≤ 2 %% take-overs (hold %.0f ms): gap p50 %.0f ms, p95 %.0f ms   goal ≤ 300 / 600 ms",
                         hold * 1000, percentile(tally.gaps, 50) ?? Double.nan, percentile(tally.gaps, 95) ?? Double.nan))
        } else {
            emit("  no hold tried reaches ≤ 2 % take-overs")
        }
        if noise == "clean" { cleanWER = conditionWER } else if let cleanWER {
            emit(String(format: "  WER %.1f points above clean   goal ≤ 5", (conditionWER - cleanWER) * 100))
        }
    }

    // The reference decoder's CPU on the same noisy audio (the first voice's track per condition).
    for (n, noise) in noises.enumerated() {
        let samples = mixed[n][0]
        let raw = FileManager.default.temporaryDirectory.appendingPathComponent("sparring-turns-\(UUID()).raw")
        try samples.withUnsafeBytes { try Data($0).write(to: raw) }
        defer { try? FileManager.default.removeItem(at: raw) }
        let reference = try referenceCPU(on: raw.path)
        var ours = TurnTally()
        for (index, job) in jobs.enumerated() where job.0 == n && job.2 == 0 && job.1 == 0 { ours.add(pool.results[index]!) }
        let audio = Double(samples.count) / 16_000
        emit(String(format: "CPU %@, %@: ours %.3f s per audio second, pocketsphinx_continuous %.3f (start-up included): %.2f×   goal ≤ 1.0×",
                     noise, tracks[0].voice, ours.cpu / ours.audio, reference / audio, (ours.cpu / ours.audio) / (reference / audio)))
    }

    // Minutes of each room noise alone: nothing in it is the agent.
    guard minutes > 0 else { return }
    let kinds = RoomNoise.allCases.filter { aloneNames.contains($0.rawValue) }
    let noisePool = JobPool<(utterances: [String], cpu: Double)>(count: kinds.count)
    // The noise at the level it has under the agent at `snr` (the first voice's active level).
    let level = RoomNoise.activePower(tracks[0].speech)
    let count = Int(minutes * 60 * 16_000)
    // Each noise's seed is the same whichever others run with it; another --noise-seed draws other minutes.
    let alone = kinds.map { kind in
        RoomNoise.mix([Int16](repeating: 0, count: count),
                      kind.track(count: count, seed: noiseSeed + UInt64(RoomNoise.allCases.firstIndex(of: kind)!), babbleFrom: babbleSource),
                      snr: snr, speechPower: level)
    }
    try noisePool.run(threads: threads) { index, recognizer in noiseAlone(alone[index], recognizer: recognizer) }
    for (index, kind) in kinds.enumerated() {
        let result = noisePool.results[index]!
        let examples = result.utterances.prefix(3).map { "\"\($0)\"" }.joined(separator: ", ")
        emit(String(format: "%g min of %@ noise alone: %d utterances%@ (%.3f s CPU per second)   goal 0",
                     minutes, kind.rawValue, result.utterances.count, examples.isEmpty ? "" : ": " + examples, result.cpu / (minutes * 60)))
    }
}
