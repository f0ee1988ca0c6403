import Testing
@testable import SparringCore

@Suite("Move recognition")
struct MatcherTests {
    let matcher = MoveMatcher(library: Shipped.catalog.library)

    func moves(_ text: String) -> Set<String> { Set(matcher.recognize(text).map(\.move)) }

    @Test("contractions and punctuation do not matter")
    func normalization() {
        #expect(Words.normalize("I'm sorry, it's NOT your fault!") == ["i", "am", "sorry", "it", "is", "not", "your", "fault"])
        #expect(Words.normalize("don't can't won't") == ["do", "not", "can", "not", "will", "not"])
        #expect(moves("There's nothing I can do.") == moves("there is nothing i can do"))
    }

    @Test("one line can carry several moves")
    func severalMoves() {
        let found = moves("good morning my name is sam i understand this must be frustrating can you tell me what happened")
        #expect(found.isSuperset(of: ["greeting", "acknowledge_feelings", "open_question"]))
    }

    @Test("a dropped or substituted word in a long phrase is tolerated")
    func tolerance() {
        #expect(moves("so what i'm hearing is").contains("listening_summary"))
        #expect(moves("so what am hearing").contains("listening_summary"))             // "i" dropped
        #expect(moves("if i understand the correctly").contains("listening_summary"))  // "you" → "the"
        #expect(moves("nothing we can do about that").contains("hide_behind_rules"))
    }

    @Test("short and function-word phrases must be whole")
    func strictness() {
        #expect(!moves("tell me what happened").contains("explain_facts"))
        #expect(!moves("so i have put your case as urgent").contains("verify_caller"))
        #expect(!moves("what i can do is offer a plan").contains("hide_behind_rules"))
        #expect(!moves("down the road").contains("calm_down"))
    }

    @Test("negation cancels a move")
    func negation() {
        #expect(!moves("it is not your fault").contains("blame_caller"))
        #expect(!moves("i do not understand why").contains("acknowledge_feelings"))
        #expect(moves("that is your fault").contains("blame_caller"))
    }

    @Test("word forms meet through a light stem, long words through one edit")
    func stems() {
        #expect(Words.stem("waiting") == "wait")
        #expect(Words.stem("waited") == "wait")
        #expect(moves("i apologise").contains("apology"))
        #expect(moves("i apologize").contains("apology"))
        #expect(moves("a paymant plan").contains("offer_solution"))
    }

    @Test("conditions parse and explain their mistakes")
    func conditions() throws {
        let condition = try Condition.parse("anger >= 80 and trust <= 15").get()
        #expect(condition.holds(["anger": 85, "trust": 10]))
        #expect(!condition.holds(["anger": 85, "trust": 20]))
        if case let .failure(error) = Condition.parse("anger => 80") { #expect(error.message.contains("anger => 80")) } else { Issue.record("accepted =>") }
        if case .success = Condition.parse("anger >= 180") { Issue.record("accepted 180") }
        if case .success = Condition.parse("") { Issue.record("accepted empty") }
    }

    @Test("scripts parse silences and interruptions, and name the bad line")
    func scripts() throws {
        let steps = try ScriptStep.parse("# c\nhello\n\n[silence 8]\n[interrupt] wait\n")
        #expect(steps == [.say("hello", interrupting: false), .silence(8), .say("wait", interrupting: true)])
        #expect(throws: Problems.self) { try ScriptStep.parse("ok\n[silence x]", file: "s.txt") }
        do { _ = try ScriptStep.parse("ok\n[silence x]", file: "s.txt") } catch {
            #expect(error.description.hasPrefix("s.txt:2:"))
        }
    }
}
