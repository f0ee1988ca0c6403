import Foundation
import Testing
import SparringTestSupport
@testable import SparringCore
@testable import SparringSessions

extension LiveRecorded.SupervisorTests {
    /// The debrief of calls recorded through the whole pipeline (Festival agent, PocketSphinx, engine, eSpeak NG).
    @Test("a recorded call's debrief: show --debrief gives each moment with what was said, the mood, the criterion and an alternative")
    func showDebrief() async throws {
        let calls = try await Self.calls()
        let dismissive = calls.summaries[1]
        let points = try #require(dismissive.turning_points)
        // What a trainer picks in the dismissive call: moves that hurt, worst first, and no best moment.
        let hurting: Set<String> = ["calm_down", "hide_behind_rules", "blame_caller", "argue_back", "labelling", "pressure"]
        #expect(points.first?.kind == .hurt && hurting.contains(points.first?.move ?? ""), "\(points.map(\.headline))")
        #expect(!points.contains { $0.kind == .best })
        #expect(points.allSatisfy { $0.kind == .best || $0.alternative != nil })

        let shown = try await sparring(["show", dismissive.id, "--debrief"])
        #expect(shown.status == 0, "\(shown.err)")
        let first = try #require(points.first)
        for part in ["1. \(first.headline)", "You said: \"\(first.said ?? "")\"", "The caller: \(first.moodBefore.rawValue) → ",
                     "A conscious alternative", "--from \(dismissive.id):1"] {
            #expect(shown.out.contains(part), "missing \(part) in:\n\(shown.out)")
        }
        let json = try await sparring(["show", dismissive.id, "--debrief", "--json"])
        #expect(try JSONDecoder().decode([TurningPoint].self, from: Data(json.out.utf8)) == points)

        // A skilled call has its best moment.
        let skilled = calls.summaries[0]
        #expect(skilled.turning_points?.contains { $0.kind == .best } == true, "\(skilled.turning_points ?? [])")
    }

    @Test("--from practises a moment again: the retry starts in its phase and mood with the line before it, and is linked to it")
    func retryMoment() async throws {
        let calls = try await Self.calls()
        let original = calls.summaries[1]
        let point = try #require(original.turning_points?.first)
        // In a folder of its own, so the other tests' listings keep their three calls.
        let folder = calls.root + "/retry-sessions"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: calls.sessions + "/" + original.id, toPath: folder + "/" + original.id)
        let script = calls.root + "/retry.txt"
        try "\(point.alternative ?? "I understand why you are angry.")\n".write(toFile: script, atomically: true, encoding: .utf8)
        let run = try await sparring(["simulate", original.scenario, "--script", script, "--from", "\(original.id):1", "--seed", "5", "--json"], sessions: folder)
        #expect(run.status == 0, "\(run.err)")
        let retry = try JSONDecoder().decode(CallSummary.self, from: Data(try #require(run.out.split(separator: "\n").last).utf8))
        #expect(retry.id != original.id)
        let result = try #require(retry.retry)
        #expect(result.session == original.id && result.moment == 1 && result.headline == point.headline)
        #expect(!result.verdict.isEmpty)
        print("retry of \"\(point.headline)\": \(result.verdict) (said \"\(result.saidNow ?? "")\")")
        // Where it started: the moment's phase and meters, and the caller's line before it.
        let events = try SessionStore(root: folder).load(retry.id).events
        let start = try #require(events.lazy.compactMap(\.callStart).first)
        #expect(start.retry == "retry:\(original.id):1" && start.phase == point.phase)
        for (name, value) in point.before { #expect(abs((start.meters?[name] ?? -1) - value) < 0.01, "\(name)") }
        #expect(retry.difficulty == original.difficulty)
        let said = events.first { $0.type == "caller_line_start" }?.text
        #expect(said == point.callerLine, "opened with \(said ?? "nothing"), not \(point.callerLine ?? "nothing")")
        let shown = try await sparring(["show", retry.id, "--debrief"], sessions: folder)
        #expect(shown.out.contains("This call practised moment 1 of \(original.id) again"), "\(shown.out)")

        // A moment that is not there, a session of another scenario, a bad shape: one line each.
        for (from, scenario, message) in [("\(original.id):9", original.scenario, "turning points 1 to"),
                                          ("\(original.id):1", "tenant-repair", "is a call of 'debt-threat'"),
                                          ("nonsense", original.scenario, "expected SESSION_ID:MOMENT"),
                                          ("20990101T000000Z-nothing-0000:1", original.scenario, "no session")] {
            let bad = try await sparring(["simulate", scenario, "--script", script, "--from", from], sessions: folder)
            #expect(bad.status == 1 && bad.err.split(separator: "\n").count == 1 && bad.err.contains(message), "\(from): \(bad.err)")
        }
    }
}
