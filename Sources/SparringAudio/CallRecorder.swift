import Foundation
import Synchronization
import SparringCore
import SparringSessions

/// Writes what the call's record ring holds (agent and caller, interleaved) to
/// `call.wav` on its own thread.
///
/// Woken ten times a second, it takes what came (ten periods) in one read, and
/// flushes every quarter second: a crash loses at most that plus the tenth of
/// a second still in the ring. A full disk is told once (`onFull`); the ring
/// is still drained, so the audio loop never waits on the disk.
final class CallRecorder: @unchecked Sendable {
    private let ring: SampleRing
    private let writer: WaveWriter
    private let rate: Int
    private let onFull: @Sendable () -> Void
    private let stopping = Atomic<Bool>(false)
    private let done = DispatchSemaphore(value: 0)
    /// Why the recording stopped being written, if it did.
    let failure = Mutex<String?>(nil)

    init(ring: SampleRing, writer: WaveWriter, rate: Int, onFull: @escaping @Sendable () -> Void) {
        self.ring = ring
        self.writer = writer
        self.rate = rate
        self.onFull = onFull
    }

    func start() {
        startNamedThread("sp-record") { [self] in
            run()
            done.signal()
        }
    }

    /// Waits until the ring is drained and written (the audio loop has stopped), then closes the file.
    func finish() {
        stopping.store(true, ordering: .releasing)
        done.wait()
        writer.close()
    }

    private func run() {
        let chunk = rate / 100 * 2
        let buffer = UnsafeMutablePointer<Int16>.allocate(capacity: chunk * 16)
        defer { buffer.deallocate() }
        var sinceFlush = 0
        while true {
            let n = ring.read(into: buffer, count: chunk * 16)
            if n > 0 {
                writer.append(UnsafeBufferPointer(start: buffer, count: n))
                sinceFlush += n / 2
                if sinceFlush >= rate / 4 {
                    if !writer.flush() {
                        // Told once: the first failure is kept and reported, later ones are the same disk.
                        let first = failure.withLock { failure -> Bool in
                            guard failure == nil else { return false }
                            failure = writer.failure ?? "the recording could not be written"
                            return true
                        }
                        if first { onFull() }
                    }
                    sinceFlush = 0
                }
                continue
            }
            if stopping.load(ordering: .acquiring) && ring.readable == 0 { break }
            usleep(100_000)
        }
        writer.flush()
    }
}
