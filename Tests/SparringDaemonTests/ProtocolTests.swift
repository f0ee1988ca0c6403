import Foundation
import NIOCore
import NIOEmbedded
import Testing
@testable import SparringDaemon

@Suite("Control protocol")
struct ProtocolTests {
    func parse(_ text: String) -> Result<ControlRequest, ControlError> { ControlRequest.parse(Data(text.utf8)) }

    func code(_ text: String) -> ControlErrorCode? {
        if case let .failure(error) = parse(text) { return error.code }
        return nil
    }

    @Test("requests: every way to be wrong has its own code and one line")
    func requests() throws {
        #expect(code("hello") == .malformed)
        #expect(code("[1]") == .malformed)
        #expect(code(#"{"op":"status"}"#) == .version)
        #expect(code(#"{"v":2,"op":"status"}"#) == .version)
        #expect(code(#"{"v":1}"#) == .missingField)
        #expect(code(#"{"v":1,"op":"dance"}"#) == .unknownOp)
        #expect(code(#"{"v":1,"op":"start"}"#) == .missingField)
        #expect(code(#"{"v":"1","op":"status"}"#) == .malformed)
        #expect(ControlRequest.parse(Data([0xFF, 0xFE])).failureCode == .malformed)
        let request = try parse(#"{"v":1,"id":"a","op":"start","scenario":"debt-threat","seed":4,"extra":true}"#).get()
        #expect(request.id == .text("a") && request.scenario == "debt-threat" && request.seed == 4)
        #expect(try parse(#"{"v":1,"id":7,"op":"status"}"#).get().id == .number(7))
        if case let .failure(error) = parse(#"{"v":1,"op":"\#(String(repeating: "x", count: 500))"}"#) {
            #expect(error.message.count < 200)
        }
    }

    @Test("replies carry the request's id and op; a line ends in one newline")
    func replies() throws {
        var request = ControlRequest(op: "hangup", id: .number(3))
        request.v = 1
        let line = ControlMessage.failure(to: request, ControlError(.noCall, "no call is on the line")).line()
        #expect(line.last == 0x0A && line.dropLast().firstIndex(of: 0x0A) == nil)
        let decoded = try JSONDecoder().decode(ControlMessage.self, from: line)
        #expect(decoded.id == .number(3) && decoded.op == "hangup" && decoded.ok == false && decoded.error == .noCall)
    }

    @Test("frames: lines split anywhere, CRLF tolerated, an oversized line answered once and skipped")
    func frames() throws {
        let channel = EmbeddedChannel(handler: ByteToMessageHandler(ControlFrameDecoder(limit: 16)))
        func feed(_ text: String) throws { try channel.writeInbound(ByteBuffer(string: text)) }
        func frames() throws -> [ControlFrame] {
            var out: [ControlFrame] = []
            while let frame: ControlFrame = try channel.readInbound() { out.append(frame) }
            return out
        }
        try feed("ab")
        try feed("c\r\nde\n\n")
        #expect(try frames() == [.line(ByteBuffer(string: "abc")), .line(ByteBuffer(string: "de"))])
        try feed(String(repeating: "x", count: 10))
        try feed(String(repeating: "x", count: 10))      // over the limit: answered now
        #expect(try frames() == [.oversized])
        try feed(String(repeating: "x", count: 100))     // still the same line: nothing more
        try feed("x\nok\n")
        #expect(try frames() == [.line(ByteBuffer(string: "ok"))])
        try feed(String(repeating: "y", count: 20) + "\nfine\n")   // too long with its newline in one piece
        #expect(try frames() == [.oversized, .line(ByteBuffer(string: "fine"))])
        try feed("last")
        _ = try channel.finish()
    }
}

extension Result where Failure == ControlError {
    var failureCode: ControlErrorCode? { if case let .failure(error) = self { error.code } else { nil } }
}
