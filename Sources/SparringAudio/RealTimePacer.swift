import Foundation

/// Sleeps until the next period of a stream is due on the monotonic clock, counted from
/// when it was made, so a writer keeps real time however long each period's work took.
/// Used by what feeds audio into a call or a decoder from outside at the speed of speech.
public struct RealTimePacer {
    private let start = DispatchTime.now().uptimeNanoseconds
    private let periodNanoseconds: Double

    /// `period` in seconds of wall clock per period (10 ms at real time; less to run faster).
    public init(period: Double) { periodNanoseconds = period * 1e9 }

    /// Returns once period `index` (from 0) is due; at once when it already is.
    public func wait(forPeriod index: Int) {
        let due = start + UInt64(Double(index) * periodNanoseconds)
        let now = DispatchTime.now().uptimeNanoseconds
        if due > now { usleep(UInt32((due - now) / 1_000)) }
    }
}
