import Foundation

/// CPU time of the calling thread, for benchmarks that compare decoders on the same audio.
public enum CPUTime {
    public static func thread() -> Double {
        var spec = timespec()
        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &spec)
        return Double(spec.tv_sec) + Double(spec.tv_nsec) / 1e9
    }
}
