import Foundation
@testable import SparringCore

/// The repository's own scenarios, voices and scripts, as shipped.
enum Shipped {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    static let scenariosDirectory = root.appendingPathComponent("scenarios").path
    static let voicesDirectory = root.appendingPathComponent("voices").path
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures").path

    static let catalog = Catalog.load(scenarios: scenariosDirectory, voices: voicesDirectory)
    static let ids = ["debt-threat", "tenant-repair", "benefit-payment", "retail-promise", "it-client-trust", "coaching-stuck",
                      "return-late", "debt-crisis", "it-invoice", "insurance-payout"]

    static func scenario(_ id: String) -> Scenario {
        guard let found = catalog.scenarios.first(where: { $0.id == id }) else { fatalError("scenario \(id) did not load: \(catalog.problems)") }
        return found
    }

    static func script(_ id: String, _ kind: String) throws -> [ScriptStep] {
        let path = "\(scenariosDirectory)/scripts/\(id).\(kind).txt"
        return try ScriptStep.parse(String(contentsOfFile: path, encoding: .utf8), file: path)
    }

    static func loader() -> ScenarioLoader { ScenarioLoader(library: catalog.library, voices: catalog.voices) }
}

/// A small scenario built in code for engine tests, so each test states what it relies on.
enum Tiny {
    static func yaml(barge: String = "yields", extra: String = "") -> String {
        """
        id: tiny
        title: Tiny test caller
        persona: {name: Test, situation: A test., voice: debtor, barge_in: \(barge)}
        meters:
          anger: {start: 50}
          trust: {start: 30}
        moods: {irritated: 40, furious: 75}
        heard_after: 1
        reactions:
          positive: ["Good."]
          negative: ["Bad."]
          neutral: ["Hm."]
        triggers:
          dead_air: {after: 5, hang_up_after: 2, lines: ["Hello? Are you still there?"], effect: {anger: 5}}
          monologue: {after: 10, lines: ["Stop, stop."], effect: {anger: 4}}
          interrupted: {lines: ["Let me finish!"], effect: {anger: 6}}
          repeated: {count: 3, lines: ["You keep saying that."], effect: {anger: 7, trust: -3}}
        outcomes:
          - {kind: hang_up, when: anger >= 95, lines: ["Bye."]}
        phases:
          - id: start
            lines: ["I am angry about this."]
            next:
              - {on: [agree_next_steps], when: trust >= 40, outcome: agree, lines: ["Deal."]}
        rubric:
          pass_mark: 50
          criteria:
            - {id: agreed, title: Agreed, weight: 1, evidence: {outcome: agree}}
        \(extra)
        """
    }

    static func scenario(barge: String = "yields") -> Scenario {
        let document = try! YAMLDocument.parse(data: Data(yaml(barge: barge).utf8), file: "tiny.yaml")
        let (scenario, problems) = Shipped.loader().parse(document)
        guard let scenario else { fatalError("tiny scenario: \(problems)") }
        return scenario
    }
}

extension Array where Element == CallerAction {
    var said: [String] { compactMap { if case let .say(line) = $0 { line.text } else { nil } } }
}
