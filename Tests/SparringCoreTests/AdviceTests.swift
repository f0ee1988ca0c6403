import Foundation
import Testing
@testable import SparringCore

/// The debrief's advice must be advice the caller would take: every line it offers is heard,
/// by the same recognizer the caller uses, as a move that helps.
@Suite("Advice in the shipped scenarios")
struct AdviceTests {
    @Test("every move that hurts has instead lines, each heard as the move it names")
    func insteadLinesAreHeard() {
        let library = Shipped.catalog.library
        let recognizer = MoveRecognizer.make(library)
        for move in library.all where move.hurts {
            #expect(!move.instead.isEmpty, "\(move.id) has no instead lines")
            for alternative in move.instead {
                let heard = recognizer.recognize([HeardHypothesis(text: alternative.text)]).map(\.move)
                #expect(heard.contains(alternative.move), "\(move.id).instead \(alternative.move): \"\(alternative.text)\" heard as \(heard)")
                #expect(!heard.contains { library[$0]?.hurts == true }, "\"\(alternative.text)\" heard as \(heard)")
            }
        }
    }

    @Test("every phase says what the caller waits for, in lines its caller hears as moves that help", arguments: Shipped.ids)
    func waitingForLinesHelp(id: String) {
        let scenario = Shipped.scenario(id)
        let recognizer = MoveRecognizer.make(scenario.moves)
        for phase in scenario.phases {
            guard let waiting = phase.waitingFor else {
                Issue.record("\(id) phase \(phase.id) has no waiting_for")
                continue
            }
            #expect(waiting.say.count >= 2)
            for line in waiting.say {
                let heard = recognizer.recognize([HeardHypothesis(text: line.text)], expecting: Set(phase.expects)).map(\.move)
                #expect(heard.contains(line.move) && !heard.contains { scenario.moves[$0]?.hurts == true },
                        "\(id) \(phase.id) \(line.move): \"\(line.text)\" heard as \(heard)")
                #expect(Set(phase.expects).union(phase.transitions.flatMap(\.onMoves)).contains(line.move),
                        "\(id) \(phase.id): \(line.move) is not what the phase waits for")
            }
        }
    }
}
