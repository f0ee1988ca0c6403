import Foundation
import NIOCore
import NIOPosix

/// A client's end of the control socket (used by `sparring call`, `status`, `hangup` and the tests).
public final class ControlConnection {
    private var inbound: NIOAsyncChannelInboundStream<ControlFrame>.AsyncIterator
    private let outbound: NIOAsyncChannelOutboundWriter<ByteBuffer>
    private let decoder = JSONDecoder()

    init(inbound: NIOAsyncChannelInboundStream<ControlFrame>, outbound: NIOAsyncChannelOutboundWriter<ByteBuffer>) {
        self.inbound = inbound.makeAsyncIterator()
        self.outbound = outbound
    }

    /// What a user sees when nothing answers on the socket.
    public static func notRunning(_ path: String) -> String {
        "sparringd is not running (nothing answers on \(path)); start it with `systemctl --user start sparringd`, or run `sparringd` in another terminal"
    }

    /// Connects, runs `body`, and closes; a missing daemon is one clear `DaemonError`.
    public static func with<T: Sendable>(path: String, _ body: (ControlConnection) async throws -> T) async throws -> T {
        let channel: NIOAsyncChannel<ControlFrame, ByteBuffer>
        do {
            channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
                .connect(unixDomainSocketPath: path) { channel in
                    channel.eventLoop.makeCompletedFuture {
                        // Replies carry whole sessions' events: allow more than requests may.
                        try channel.pipeline.syncOperations.addHandler(ByteToMessageHandler(ControlFrameDecoder(limit: 64 << 20)))
                        return try NIOAsyncChannel<ControlFrame, ByteBuffer>(wrappingChannelSynchronously: channel)
                    }
                }
        } catch {
            throw DaemonError(notRunning(path), unreachable: true)
        }
        return try await channel.executeThenClose { inbound, outbound in
            try await body(ControlConnection(inbound: inbound, outbound: outbound))
        }
    }

    public func send(_ request: ControlRequest) async throws {
        try await sender.send(request)
    }

    /// Sends from another task (a signal handler's hang-up) while this one reads.
    public var sender: Sender { Sender(outbound: outbound) }

    public struct Sender: Sendable {
        let outbound: NIOAsyncChannelOutboundWriter<ByteBuffer>
        public func send(_ request: ControlRequest) async throws {
            var data = try JSONEncoder().encode(request)
            data.append(0x0A)
            try await outbound.write(ByteBuffer(bytes: data))
        }
    }

    /// Sends raw bytes, for tests that speak badly on purpose.
    public func sendRaw(_ bytes: [UInt8]) async throws {
        try await outbound.write(ByteBuffer(bytes: bytes))
    }

    /// The next message from the daemon; nil when it closed the connection.
    public func next() async throws -> ControlMessage? {
        while let frame = try await inbound.next() {
            guard case let .line(buffer) = frame else { continue }
            return try decoder.decode(ControlMessage.self, from: Data(buffer.readableBytesView))
        }
        return nil
    }

    /// The reply to the last request, skipping events that arrive before it.
    public func reply() async throws -> ControlMessage {
        while let message = try await next() {
            if message.ok != nil { return message }
        }
        throw DaemonError("sparringd closed the connection")
    }

    /// One request and its reply.
    public func request(_ request: ControlRequest) async throws -> ControlMessage {
        try await send(request)
        return try await reply()
    }

    /// Whether something accepts connections on `path` (a plain connect, for the daemon's start-up check).
    public static func answers(path: String) -> Bool {
        guard let fd = connectPlain(path: path) else { return false }
        close(fd)
        return true
    }

    /// A blocking client socket connected to `path` (the caller closes it), or nil; reads time
    /// out after `readTimeout` seconds when given. For one-shot and hostile clients in tests and
    /// benchmarks, which must control every byte and every close.
    /// `nonBlocking`: never wait for room in the listener's backlog (nil when there is none).
    public static func connectPlain(path: String, readTimeout: Int? = nil, nonBlocking: Bool = false) -> Int32? {
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | (nonBlocking ? Int32(SOCK_NONBLOCK.rawValue) : 0), 0)
        guard fd >= 0 else { return nil }
        guard withUnixAddress(path, { connect(fd, $0, $1) }) == 0 else {
            close(fd)
            return nil
        }
        if let readTimeout {
            var timeout = timeval(tv_sec: readTimeout, tv_usec: 0)
            setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        }
        return fd
    }
}
