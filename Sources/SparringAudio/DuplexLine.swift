/// Why a line stopped or could not start, naming the device.
public struct LineError: Error, Sendable, CustomStringConvertible {
    public var device: String
    public var message: String
    public init(device: String, _ message: String) {
        self.device = device
        self.message = message
    }
    public var description: String { "\(device): \(message)" }
}

/// A full-duplex audio line the real-time loop runs on: a headset, FIFO-backed
/// PCMs, or an in-memory line with a scripted far end.
///
/// `capture` blocks for one period and paces the call; `play` hands one
/// period to the far end. Both run on the real-time thread only, and must not
/// allocate once `start` has returned.
public protocol DuplexLine: AnyObject {
    var rate: Int { get }
    var periodFrames: Int { get }
    var name: String { get }
    func start() throws(LineError)
    /// Fills `buffer` with one period; returns the frames captured, 0 when the line has ended.
    func capture(into buffer: UnsafeMutablePointer<Int16>, frames: Int) throws(LineError) -> Int
    func play(_ buffer: UnsafePointer<Int16>, frames: Int) throws(LineError)
    /// Xruns recovered so far.
    var xruns: Int { get }
    func stop()
    /// Whether the line delivers periods at the speed of sound (a device, a paced FIFO).
    /// False for a line that waits for the pipeline to settle after every period.
    var runsInRealTime: Bool { get }
}

extension DuplexLine {
    public var runsInRealTime: Bool { true }
}
