import Foundation
import Logging
import Testing
@testable import SparringDaemon

@Suite("Log lines")
struct LogHandlerTests {
    @Test("fields are key=value, sorted, quoted when they hold spaces; one line per message")
    func fields() {
        var handler = JournalLogHandler(label: "sparringd", journal: false)
        handler.metadata = ["call": "abc"]
        let event = LogEvent(level: .notice, message: "ready\nnow", metadata: ["start_ms": "170", "socket": "/tmp/a b.sock"],
                             source: "test", file: #fileID, function: #function, line: #line)
        #expect(handler.line(for: event) == "sparringd[\(getpid())]: notice: ready now call=abc socket=\"/tmp/a b.sock\" start_ms=170\n")
        let journal = JournalLogHandler(label: "sparringd", journal: true)
        #expect(journal.line(for: event) == "<5>ready now socket=\"/tmp/a b.sock\" start_ms=170\n")
    }
}
