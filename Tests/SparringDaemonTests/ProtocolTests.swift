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

    @Test("a key given twice in one object is refused, naming it; the same key in different objects is fine")
    func duplicateKeys() throws {
        #expect(code(#"{"v":1,"op":"status","op":"hangup"}"#) == .malformed)
        if case let .failure(error) = parse(#"{"v":1,"op":"start","scenario":"a","scenario":"b"}"#) {
            #expect(error.message == "field 'scenario' appears twice")
        } else { Issue.record("accepted a duplicate key") }
        // Escapes are resolved before comparing: "\u006fp" is "op".
        #expect(code(#"{"v":1,"op":"status","op":"hangup"}"#) == .malformed)
        #expect(ControlRequest.duplicateKey(in: Data(#"{"a":{"k":1},"b":{"k":2},"c":["k","k"],"k":"a\"k\":"}"#.utf8)) == nil)
        #expect(ControlRequest.duplicateKey(in: Data(#"{"a":{"k":1,"k":2}}"#.utf8)) == "k")
        #expect(try parse(#"{"v":1,"op":"status","id":"op"}"#).get().op == "status")
    }

    @Test("the socket directory: made private when absent; one that is a link, someone else's or open to others is refused")
    func socketDirectory() throws {
        let base = "/tmp/sparring-sockdir-\(UUID().uuidString.prefix(8))"
        defer { try? FileManager.default.removeItem(atPath: base) }
        try ControlServer.prepare(path: base + "/run/control.sock")
        var info = stat()
        #expect(lstat(base + "/run", &info) == 0 && info.st_mode & 0o777 == 0o700)
        // Open to others: refused, and left as it was.
        try FileManager.default.createDirectory(atPath: base + "/open", withIntermediateDirectories: true)
        chmod(base + "/open", 0o755)
        do { try ControlServer.prepare(path: base + "/open/control.sock"); Issue.record("trusted a 0755 directory") } catch {
            #expect(error.message.contains("open to others (mode 755)"), "\(error.message)")
        }
        #expect(lstat(base + "/open", &info) == 0 && info.st_mode & 0o777 == 0o755)
        do { try ControlServer.prepare(path: "/tmp/control.sock"); Issue.record("trusted /tmp") } catch {
            #expect(error.message.hasPrefix("/tmp: "))
        }
        #expect(lstat("/tmp", &info) == 0 && info.st_mode & 0o7777 == 0o1777)
        #expect(symlink(base + "/run", base + "/link") == 0)
        #expect(throws: ControlError.self) { try ControlServer.prepare(path: base + "/link/control.sock") }
        // Someone else's (checked on its lstat, so this runs as any user).
        var foreign = stat()
        foreign.st_mode = S_IFDIR | 0o700
        foreign.st_uid = geteuid() + 1
        #expect(ControlServer.directoryProblem(foreign)?.contains("belongs to uid") == true)
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
