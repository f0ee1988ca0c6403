import Foundation
import Synchronization

/// Plays a scripted agent into a call that runs on FIFO-backed ALSA `file` PCMs.
///
/// The call's capture PCM reads `agentFIFO`; its playback PCM writes
/// `callerFIFO`. This side writes the agent's audio and reads the caller's,
/// one 10 ms period at a time, keeping `lead` periods queued ahead (the file
/// plugin hands back stale frames when the FIFO holds less than a period),
/// and paces itself at `speed` times real time. It is the test line of the
/// whole-call tests and the benchmark, run from outside the call's process.
public final class FIFOFarEnd: @unchecked Sendable {
    public let agent: ScriptedAgent
    public let rate: Int
    public let speed: Double
    public let lead: Int
    private let agentFIFO: String
    private let callerFIFO: String
    /// Called once when the scripted agent has nothing more to say (to hang up).
    public var onHangUp: () -> Void = {}
    /// Frames read from the caller side so far: this side's clock.
    public private(set) var clock = 0
    public var seconds: Double { Double(clock) / Double(rate) }
    /// Monotonic nanoseconds when the call had opened both PCMs (for start-to-ready).
    public private(set) var readyAt: UInt64 = 0
    private let vanishing = Atomic<Bool>(false)

    /// Closes both FIFOs at the next period, as a headset pulled out would vanish.
    public func vanish() { vanishing.store(true, ordering: .releasing) }

    public init(agent: ScriptedAgent, agentFIFO: String, callerFIFO: String, rate: Int = 16_000, speed: Double = 1, lead: Int = 4) {
        self.agent = agent
        self.agentFIFO = agentFIFO
        self.callerFIFO = callerFIFO
        self.rate = rate
        self.speed = speed
        self.lead = lead
    }

    /// Writes the ALSA configuration naming the two PCMs `line_in` and `line_out`.
    public static func asoundrc(agentFIFO: String, callerFIFO: String) -> String {
        """
        pcm.line_in { type file slave.pcm "null" file "/dev/null" infile "\(agentFIFO)" format "raw" }
        pcm.line_out { type file slave.pcm "null" file "\(callerFIFO)" format "raw" }

        """
    }

    /// Runs until the call closes its playback side; returns the frames exchanged.
    @discardableResult
    public func run() -> Int {
        signal(SIGPIPE, SIG_IGN)
        // Same order as the call opens them: capture (our writer) first, then playback.
        let writer = open(agentFIFO, O_WRONLY)
        let reader = open(callerFIFO, O_RDONLY)
        readyAt = DispatchTime.now().uptimeNanoseconds
        defer { close(writer); close(reader) }
        guard writer >= 0, reader >= 0 else { return 0 }
        let period = rate / 100
        var out = [Int16](repeating: 0, count: period)
        var heard = [Int16](repeating: 0, count: period)
        for _ in 0..<lead { _ = out.withUnsafeBytes { write(writer, $0.baseAddress, $0.count) } }
        let pacer = RealTimePacer(period: 0.01 / speed)
        var hungUp = false
        var periods = 0
        while !vanishing.load(ordering: .acquiring) {
            var filled = 0
            let wanted = period * 2
            let ok: Bool = heard.withUnsafeMutableBytes { raw in
                while filled < wanted {
                    let n = read(reader, raw.baseAddress! + filled, wanted - filled)
                    if n <= 0 { return false }
                    filled += n
                }
                return true
            }
            if !ok { break }
            heard.withUnsafeBufferPointer { agent.hear($0.baseAddress!, frames: period, at: clock) }
            out.withUnsafeMutableBufferPointer { $0.update(repeating: 0) }
            let alive = out.withUnsafeMutableBufferPointer { agent.speak(into: $0.baseAddress!, frames: period, at: clock) }
            if !alive && !hungUp {
                hungUp = true
                onHangUp()
            }
            let written = out.withUnsafeBytes { write(writer, $0.baseAddress, $0.count) }
            if written < 0 { break }
            clock += period
            periods += 1
            if speed.isFinite { pacer.wait(forPeriod: periods) }
        }
        return clock
    }
}
