import CAllocCount
import Foundation
import Synchronization
import Testing
@testable import SparringAudio

extension Live {
    /// What the audio thread does once a call is running: nothing that can wait on another thread.
    @Suite("The real-time path", .serialized)
    struct RealTimePathTests {
        /// ALSA's null PCMs, which answer at once, as a line the loop does not hold to real time:
        /// alsa-lib's own read and write, as fast as it gives periods.
        final class UnpacedALSA: DuplexLine {
            let inner: ALSALine
            init(_ inner: ALSALine) { self.inner = inner }
            var rate: Int { inner.rate }
            var periodFrames: Int { inner.periodFrames }
            var name: String { inner.name }
            var xruns: Int { inner.xruns }
            var runsInRealTime: Bool { false }
            func start() throws(LineError) { try inner.start() }
            func capture(into buffer: UnsafeMutablePointer<Int16>, frames: Int) throws(LineError) -> Int {
                try inner.capture(into: buffer, frames: frames)
            }
            func play(_ buffer: UnsafePointer<Int16>, frames: Int) throws(LineError) { try inner.play(buffer, frames: frames) }
            func stop() { inner.stop() }
        }

        @Test("the audio thread allocates nothing in 10,000 periods on an ALSA line: capture, rings, playback, recording")
        func noAllocations() throws {
            // The counter sees what any library allocates on the watched thread: an array made here is counted.
            sparring_alloc_watch(pthread_self())
            let made = [Int](repeating: 7, count: 1_000 + Int.random(in: 0..<10))
            let seen = sparring_alloc_count()
            sparring_alloc_watch(0)
            #expect(seen > 0 && made.count >= 1_000, "the allocation counter saw nothing: it does not replace the allocator")

            let loop = AudioLoop(line: UnpacedALSA(ALSALine(capture: "null", playback: "null")))
            // A second of caller audio waits to be played before the loop starts, so the loop's first
            // 100 periods copy real samples to playback and the recording, the rest silence.
            let tone = (0..<16_000).map { Int16(8_000 * sin(Double($0) * 2 * .pi * 440 / 16_000)) }
            tone.withUnsafeBufferPointer { loop.playbackRing.write($0.baseAddress!, count: $0.count) }
            try loop.start()
            let thread = try #require(loop.thread)
            sparring_alloc_watch(thread)
            let from = loop.clock, periods = 10_000
            let deadline = Date().addingTimeInterval(120)
            while loop.clock - from < periods * loop.line.periodFrames && !loop.finished.load(ordering: .acquiring) && Date() < deadline {
                usleep(2_000)
            }
            let allocations = sparring_alloc_count()
            let ran = (loop.clock - from) / loop.line.periodFrames
            sparring_alloc_watch(0)
            loop.requestStop()
            loop.join()
            #expect(loop.error == nil, "\(loop.error?.description ?? "")")
            #expect(ran >= periods, "only \(ran) periods ran")
            #expect(allocations == 0, "\(allocations) allocations in \(ran) periods on the audio thread")
        }
    }
}
