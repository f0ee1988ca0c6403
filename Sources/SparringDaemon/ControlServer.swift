import Foundation
import Logging
import NIOCore
import NIOPosix
import ServiceLifecycle

/// One line read from a client, or notice that one was too long to keep.
public enum ControlFrame: Sendable, Equatable {
    case line(ByteBuffer)
    case oversized
}

/// Splits a client's bytes into lines of at most `limit` bytes.
///
/// A longer line is answered once as `oversized` as soon as the limit is
/// passed, and its bytes are dropped up to the next newline, so a client
/// sending megabytes without a newline costs no more than `limit` of memory.
public struct ControlFrameDecoder: ByteToMessageDecoder {
    public typealias InboundOut = ControlFrame
    let limit: Int
    private var discarding = false

    public init(limit: Int = ControlProtocol.maxLineBytes) { self.limit = limit }

    public mutating func decode(context: ChannelHandlerContext, buffer: inout ByteBuffer) throws -> DecodingState {
        guard let newline = buffer.readableBytesView.firstIndex(of: 0x0A) else {
            if buffer.readableBytes > limit {
                if !discarding { context.fireChannelRead(wrapInboundOut(.oversized)) }
                discarding = true
                buffer.moveReaderIndex(to: buffer.writerIndex)
            }
            return .needMoreData
        }
        let length = newline - buffer.readerIndex
        if discarding || length > limit {
            if !discarding { context.fireChannelRead(wrapInboundOut(.oversized)) }
            discarding = false
            buffer.moveReaderIndex(forwardBy: length + 1)
            return .continue
        }
        var line = buffer.readSlice(length: length)!
        buffer.moveReaderIndex(forwardBy: 1)
        // Tolerate CRLF from hand-typed clients.
        if line.readableBytesView.last == 0x0D { line = line.getSlice(at: line.readerIndex, length: line.readableBytes - 1)! }
        if line.readableBytes > 0 { context.fireChannelRead(wrapInboundOut(.line(line))) }
        return .continue
    }

    public mutating func decodeLast(context: ChannelHandlerContext, buffer: inout ByteBuffer, seenEOF: Bool) throws -> DecodingState {
        // A last line without its newline is still a request.
        while try decode(context: context, buffer: &buffer) == .continue {}
        if buffer.readableBytes > 0, !discarding, buffer.readableBytes <= limit {
            context.fireChannelRead(wrapInboundOut(.line(buffer.readSlice(length: buffer.readableBytes)!)))
        }
        buffer.moveReaderIndex(to: buffer.writerIndex)
        return .needMoreData
    }
}

/// The control socket as a service: a Unix socket, mode 0600 in a 0700 directory.
public struct ControlServer: Service {
    let path: String
    let desk: CallDesk
    let logger: Logger
    /// Told once the socket listens (readiness).
    let onListening: @Sendable () -> Void
    /// A connection with no traffic either way for this long is closed (a watched call always has some).
    let idleTimeout: TimeAmount

    public init(path: String, desk: CallDesk, logger: Logger, idleTimeoutSeconds: Int = 600,
                onListening: @escaping @Sendable () -> Void = {}) {
        self.idleTimeout = .seconds(Int64(idleTimeoutSeconds))
        self.path = path
        self.desk = desk
        self.logger = logger
        self.onListening = onListening
    }

    /// Makes the socket's directory (0700) if it is absent, refuses one that others own or
    /// may enter, and refuses to take over a socket another daemon answers on.
    ///
    /// An existing directory is never changed: `--socket /tmp/x.sock` must not make /tmp
    /// private, and a directory someone else made in advance must not be trusted.
    static func prepare(path: String) throws(ControlError) {
        let directory = (path as NSString).deletingLastPathComponent
        var info = stat()
        if lstat(directory, &info) != 0 {
            do {
                try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
            } catch {
                throw ControlError(.failed, "\(directory): cannot create the socket directory (\(error.localizedDescription))")
            }
            guard lstat(directory, &info) == 0 else { throw ControlError(.failed, "\(directory): cannot create the socket directory") }
        }
        if let problem = directoryProblem(info) { throw ControlError(.failed, "\(directory): \(problem); give --socket a path in a private directory") }
        if ControlConnection.answers(path: path) {
            throw ControlError(.busy, "\(path): another sparringd is already listening there")
        }
    }

    /// Why a socket directory with this `lstat` cannot be trusted, or nil.
    static func directoryProblem(_ info: stat) -> String? {
        if (info.st_mode & S_IFMT) != S_IFDIR { return "the socket directory is not a directory (links are not followed)" }
        if info.st_uid != geteuid() { return "the socket directory belongs to uid \(info.st_uid), not to this user (\(geteuid()))" }
        if info.st_mode & 0o077 != 0 { return "the socket directory is open to others (mode \(String(info.st_mode & 0o7777, radix: 8)))" }
        return nil
    }

    public func run() async throws {
        do { try Self.prepare(path: path) } catch { throw DaemonError(error.message) }
        let server: NIOAsyncChannel<NIOAsyncChannel<ControlFrame, ByteBuffer>, Never>
        do {
            server = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
                .serverChannelOption(.backlog, value: 64)
                // A client that half-closes after its request (`socat`, `nc -N`) still gets the answer.
                .childChannelOption(.allowRemoteHalfClosure, value: true)
                .bind(unixDomainSocketPath: path, cleanupExistingSocketFile: true) { [idleTimeout] channel in
                    channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.addHandler(IdleStateHandler(allTimeout: idleTimeout))
                        try channel.pipeline.syncOperations.addHandler(IdleCloser())
                        try channel.pipeline.syncOperations.addHandler(ByteToMessageHandler(ControlFrameDecoder()))
                        return try NIOAsyncChannel<ControlFrame, ByteBuffer>(wrappingChannelSynchronously: channel)
                    }
                }
        } catch {
            throw DaemonError("\(path): cannot listen (\(error))")
        }
        chmod(path, 0o600)
        logger.info("listening", metadata: ["socket": "\(path)"])
        onListening()
        defer { unlink(path) }
        try await withGracefulShutdownHandler {
            try await withThrowingDiscardingTaskGroup { group in
                try await server.executeThenClose { connections in
                    for try await connection in connections {
                        group.addTask { await serve(connection) }
                    }
                }
            }
        } onGracefulShutdown: {
            server.channel.close(promise: nil)
            desk.disconnectAll()
        }
    }

    /// Clients served at once; more are told so and closed: 256, or fewer under a low
    /// descriptor limit, so that clients, a call's files and the daemon's own never need more
    /// descriptors than the process may open. At the limit, accept fails with EMFILE while the
    /// listening socket stays readable, and the event loop retries it at full speed. Read once
    /// the daemon has raised its soft limit (`Daemon.raiseDescriptorLimit`).
    static let maximumClients: Int = {
        var limit = rlimit()
        guard getrlimit(__rlimit_resource_t(RLIMIT_NOFILE.rawValue), &limit) == 0 else { return 256 }
        return min(256, max(4, Int(clamping: limit.rlim_cur) - reservedDescriptors))
    }()

    /// Descriptors kept for the daemon itself (models, logs, the socket, its event loops: about
    /// 20 when idle) and for a call (the two PCMs, the session's files: about 20 more).
    static let reservedDescriptors = 48

    /// One client: its requests in order, its outbox written as it fills.
    private func serve(_ connection: NIOAsyncChannel<ControlFrame, ByteBuffer>) async {
        let channel = connection.channel
        guard let client = desk.connect(limit: Self.maximumClients, close: { channel.close(promise: nil) }) else {
            let refusal = ControlMessage.failure(to: nil, ControlError(.busy, "too many clients (\(Self.maximumClients)); try again"))
            try? await connection.executeThenClose { _, outbound in try await outbound.write(ByteBuffer(bytes: refusal.line())) }
            return
        }
        let (id, lines) = client
        defer { desk.disconnect(id) }
        do {
            try await connection.executeThenClose { inbound, outbound in
                try await withThrowingTaskGroup(of: Side.self) { group in
                    group.addTask {
                        for await line in lines { try await outbound.write(ByteBuffer(bytes: line)) }
                        return .writer
                    }
                    group.addTask {
                        for try await frame in inbound {
                            switch frame {
                            case let .line(buffer): await desk.receive(Data(buffer.readableBytesView), from: id)
                            case .oversized: desk.receiveOversized(from: id)
                            }
                        }
                        return .reader
                    }
                    // The client closed its side: what is queued still goes out. The
                    // daemon closed the outbox (shutdown): stop reading.
                    let first = try await group.next()
                    desk.disconnect(id)
                    if first == .writer { group.cancelAll() }
                    _ = try await group.next()
                }
            }
        } catch {
            logger.debug("client connection ended", metadata: ["client": "\(id)", "reason": "\(error)"])
        }
    }
}

private enum Side { case writer, reader }

/// Closes a connection once `IdleStateHandler` finds it idle.
final class IdleCloser: ChannelInboundHandler, Sendable {
    typealias InboundIn = NIOAny
    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if event is IdleStateHandler.IdleStateEvent { context.close(promise: nil) } else { context.fireUserInboundEventTriggered(event) }
    }
}

/// A startup or configuration failure: one line for the log and the terminal.
public struct DaemonError: Error, CustomStringConvertible {
    public var description: String
    /// The daemon could not be reached at all (no socket, nobody listening).
    public var unreachable: Bool
    public init(_ description: String, unreachable: Bool = false) {
        self.description = description
        self.unreachable = unreachable
    }
}
