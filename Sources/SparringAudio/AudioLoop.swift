import Foundation
import Synchronization
import SparringCore

/// The one real-time thread of a call: per period, capture, hand off, play.
///
/// It owns both directions of the line and touches nothing else: no
/// allocation, locks, logging or Swift concurrency inside the loop. Buffers
/// are allocated before it starts; it talks to the rest of the call through
/// rings and atomics, and never waits for a consumer. It asks for SCHED_FIFO
/// and reports whether it got it.
public final class AudioLoop<Line: DuplexLine>: @unchecked Sendable {
    public let line: Line
    /// Captured audio for the recognizer (line rate, mono).
    public let captureRing: SampleRing
    /// Caller audio from the synthesizer (line rate, mono).
    public let playbackRing: SampleRing
    /// Interleaved (agent, caller) frames for the recording.
    public let recordRing: SampleRing

    /// Frames captured since the call opened: the call clock.
    public let frames = Atomic<Int>(0)
    /// When the last period was put in the capture ring (`DispatchTime` nanoseconds), so a
    /// consumer can sleep until the next one instead of polling.
    public let capturedAt = Atomic<UInt64>(0)
    /// Set by the synthesizer side to drop queued caller audio; the loop clears it.
    public let flushRequested = Atomic<Bool>(false)
    /// Signalled after each period put in the capture ring of a line that is not paced (the in-memory
    /// line, which waits for the call to settle), so the recognizer wakes for it instead of polling.
    /// A paced line never signals it: no system call on the real-time path.
    public let periodWritten = DispatchSemaphore(value: 0)
    /// Frame at which the caller's audio last went from silence to sound (for turn gaps).
    public let callerSoundStartedAt = Atomic<Int>(-1)
    /// Frame at which a flush was carried out (for barge-in latency).
    public let flushedAt = Atomic<Int>(-1)
    /// The line's recovered xruns, published by the loop for other threads.
    public let xruns = Atomic<Int>(0)
    public let stopRequested = Atomic<Bool>(false)
    public let finished = Atomic<Bool>(false)
    public private(set) var error: LineError?
    /// Whether the thread got SCHED_FIFO, and the sentence that says so; both are set before `start` returns.
    public private(set) var realtime = false
    public private(set) var realtimeNote = ""
    /// The audio thread, once `start` has returned, for what watches it (the allocation test).
    public private(set) var thread: pthread_t?

    private let capture: UnsafeMutablePointer<Int16>
    private let playback: UnsafeMutablePointer<Int16>
    private let stereo: UnsafeMutablePointer<Int16>
    private let done = DispatchSemaphore(value: 0)
    /// Signalled by the thread once it has asked for its priority: what it got is published by then.
    private let promoted = DispatchSemaphore(value: 0)
    private var joined = false
    /// Read here, not on the audio thread: the first read of the environment allocates and locks.
    private let speedAllowance = LinePace.speedAllowance

    public init(line: Line, seconds: Int = 4) {
        self.line = line
        let period = line.periodFrames
        captureRing = SampleRing(capacity: line.rate * seconds)
        playbackRing = SampleRing(capacity: line.rate * 60)
        recordRing = SampleRing(capacity: line.rate * 2 * seconds)
        capture = .allocate(capacity: period)
        playback = .allocate(capacity: period)
        stereo = .allocate(capacity: period * 2)
    }

    deinit {
        capture.deallocate()
        playback.deallocate()
        stereo.deallocate()
    }

    public var clock: Int { frames.load(ordering: .acquiring) }

    /// Starts the line and the thread; errors opening the line come back here.
    public func start() throws(LineError) {
        try line.start()
        // The closure is allocated here, once; the loop inside allocates nothing.
        startNamedThread("sp-audio", stackSize: 1 << 20) { [self] in
            thread = pthread_self()
            promote()
            promoted.signal()
            run()
            done.signal()
        }
        // Written by the thread before the signal, read by others after this wait: no race on the note or the thread.
        promoted.wait()
    }

    public func requestStop() { stopRequested.store(true, ordering: .releasing) }

    /// Waits for the loop to end (after `requestStop`, or when the line ends).
    public func join() {
        guard !joined else { return }
        done.wait()
        joined = true
    }

    private func promote() {
        var parameters = sched_param()
        parameters.sched_priority = 70
        let result = pthread_setschedparam(pthread_self(), Int32(SCHED_FIFO), &parameters)
        realtime = result == 0
        realtimeNote = realtime ? "audio thread running SCHED_FIFO priority 70"
            : "audio thread at normal priority: SCHED_FIFO not permitted (\(String(cString: strerror(result))); raise LimitRTPRIO or rtprio in limits.conf)"
    }

    private func run() {
        let period = line.periodFrames
        var callerWasSilent = true
        let paced = line.runsInRealTime
        let allowance = speedAllowance
        let startedAt = DispatchTime.now().uptimeNanoseconds
        var periods = 0
        defer {
            line.stop()
            finished.store(true, ordering: .releasing)
        }
        while !stopRequested.load(ordering: .acquiring) {
            capture.update(repeating: 0, count: period)
            let got: Int
            do { got = try line.capture(into: capture, frames: period) } catch {
                self.error = error
                return
            }
            if got == 0 { return }
            captureRing.write(capture, count: got)
            // clock_gettime through the vDSO: no system call, no allocation.
            capturedAt.store(DispatchTime.now().uptimeNanoseconds, ordering: .releasing)
            if !paced { periodWritten.signal() }

            if flushRequested.load(ordering: .acquiring) {
                playbackRing.discardAll()
                flushedAt.store(frames.load(ordering: .relaxed), ordering: .releasing)
                flushRequested.store(false, ordering: .releasing)
            }
            let played = playbackRing.read(into: playback, count: got)
            if played < got { (playback + played).update(repeating: 0, count: got - played) }
            let sounding = Audibility.anyAudible(playback, count: got)
            if sounding && callerWasSilent {
                callerSoundStartedAt.store(frames.load(ordering: .relaxed), ordering: .releasing)
            }
            callerWasSilent = !sounding
            do { try line.play(playback, frames: got) } catch {
                self.error = error
                return
            }
            for i in 0..<got {
                stereo[2 * i] = capture[i]
                stereo[2 * i + 1] = playback[i]
            }
            recordRing.write(stereo, count: got * 2)
            xruns.store(line.xruns, ordering: .relaxed)
            let total = frames.wrappingAdd(got, ordering: .releasing).newValue
            periods &+= 1
            // About once a second of audio: a live line keeps pace with the wall clock.
            if paced && periods % 100 == 0 {
                let audio = Double(total) / Double(line.rate)
                let wall = Double(DispatchTime.now().uptimeNanoseconds - startedAt) / 1e9
                if audio > wall * allowance + LinePace.secondsAhead {
                    self.error = LineError(device: line.name, String(format: "capture runs faster than real time (%.1f s of audio in %.1f s): not a live device, or its input ended", audio, wall))
                    return
                }
            }
        }
    }
}

/// How a line that claims to be live is held to real time.
enum LinePace {
    /// How far a live line's audio may run ahead of the wall clock before it is taken for
    /// one that is not live (ALSA's `null`, a file plugin at the end of its input): then
    /// nothing paces the call, the recording cannot keep up, and the call clock means nothing.
    static let secondsAhead = 2.0

    /// How many times real time a line may run: 1, unless a test rig that plays FIFOs faster
    /// on purpose says otherwise in `SPARRING_LINE_SPEED`.
    static let speedAllowance: Double = {
        guard let text = ProcessInfo.processInfo.environment["SPARRING_LINE_SPEED"], let value = Double(text), value >= 1 else { return 1 }
        return value
    }()
}
