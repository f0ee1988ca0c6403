/// When a sample is sound rather than silence on the line.
///
/// One definition for everything that listens: the loop's turn-gap and
/// barge-in marks, the scripted agent deciding the caller has stopped, and
/// the benchmark. 64 of 32 767 is about −54 dBFS: above the dither of a quiet
/// line, below the softest syllable either synthesizer produces.
public enum Audibility {
    public static let threshold: Int16 = 64

    @inline(__always)
    public static func isAudible(_ sample: Int16) -> Bool { sample > threshold || sample < -threshold }

    /// Whether any sample of the block is audible; allocation-free, for the real-time thread.
    @inline(__always)
    public static func anyAudible(_ samples: UnsafePointer<Int16>, count: Int) -> Bool {
        for i in 0..<count where isAudible(samples[i]) { return true }
        return false
    }
}
