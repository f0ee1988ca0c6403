import CSpeexDSP

/// Converts mono 16-bit audio between sample rates with speexdsp's resampler.
///
/// Used for eSpeak NG's 22 050 Hz into the line's rate, and for a 48 kHz
/// headset's capture into the recognizer's 16 kHz. Not thread-safe: each
/// instance is handed to one thread, which alone uses it.
public final class Resampler: @unchecked Sendable {
    public let inputRate: Int
    public let outputRate: Int
    private let state: OpaquePointer?

    public init(from inputRate: Int, to outputRate: Int, quality: Int32 = 5) throws(SpeechError) {
        self.inputRate = inputRate
        self.outputRate = outputRate
        if inputRate == outputRate {
            state = nil
            return
        }
        var error: Int32 = 0
        guard let state = speex_resampler_init(1, UInt32(inputRate), UInt32(outputRate), quality, &error), error == 0 else {
            throw SpeechError("resampler", "cannot convert \(inputRate) Hz to \(outputRate) Hz (speexdsp error \(error))")
        }
        self.state = state
        speex_resampler_skip_zeros(state)
    }

    deinit { if let state { speex_resampler_destroy(state) } }

    /// Forgets the previous block's tail, so a new line does not begin with the last one's end.
    public func reset() { if let state { speex_resampler_reset_mem(state); speex_resampler_skip_zeros(state) } }

    /// Resamples a block, appending to `output`.
    public func process(_ input: UnsafeBufferPointer<Int16>, into output: inout [Int16]) {
        guard let state else { output.append(contentsOf: input); return }
        guard let base = input.baseAddress, !input.isEmpty else { return }
        var consumed = 0
        var scratch = [Int16](repeating: 0, count: input.count * outputRate / inputRate + 64)
        while consumed < input.count {
            var inLength = UInt32(input.count - consumed)
            var outLength = UInt32(scratch.count)
            scratch.withUnsafeMutableBufferPointer { out in
                _ = speex_resampler_process_int(state, 0, base + consumed, &inLength, out.baseAddress, &outLength)
            }
            consumed += Int(inLength)
            output.append(contentsOf: scratch[0..<Int(outLength)])
            if inLength == 0 && outLength == 0 { break }
        }
    }

    public func resample(_ input: [Int16]) -> [Int16] {
        var output: [Int16] = []
        output.reserveCapacity(input.count * outputRate / inputRate + 64)
        input.withUnsafeBufferPointer { process($0, into: &output) }
        return output
    }
}
