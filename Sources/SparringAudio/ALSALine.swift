import CALSA
import Foundation

/// A headset (or any named ALSA PCM pair) as a full-duplex line.
///
/// 16-bit mono at the line rate, 10 ms periods, a buffer of four periods.
/// Xruns are recovered with `snd_pcm_recover` and counted; a device that
/// disappears ends the line with an error naming it.
public final class ALSALine: DuplexLine {
    public let captureDevice: String
    public let playbackDevice: String
    public let rate: Int
    public let periodFrames: Int
    public var name: String { captureDevice == playbackDevice ? captureDevice : "\(captureDevice)/\(playbackDevice)" }
    public private(set) var xruns = 0
    private var capturePCM: OpaquePointer?
    private var playbackPCM: OpaquePointer?

    public init(capture: String = "default", playback: String = "default", rate: Int = 16_000) {
        captureDevice = capture
        playbackDevice = playback
        self.rate = rate
        periodFrames = rate / 100
    }

    deinit { stop() }

    public func start() throws(LineError) {
        capturePCM = try open(captureDevice, stream: SND_PCM_STREAM_CAPTURE)
        playbackPCM = try open(playbackDevice, stream: SND_PCM_STREAM_PLAYBACK)
        // Linking starts both together; plugin PCMs answer -ENOSYS, which is fine.
        _ = snd_pcm_link(capturePCM, playbackPCM)
        let silence = [Int16](repeating: 0, count: periodFrames * 2)
        _ = silence.withUnsafeBufferPointer { snd_pcm_writei(playbackPCM, $0.baseAddress, snd_pcm_uframes_t(periodFrames * 2)) }
        _ = snd_pcm_start(capturePCM)
    }

    private func open(_ device: String, stream: snd_pcm_stream_t) throws(LineError) -> OpaquePointer {
        try ALSAPCM.open(device, stream: stream, rate: rate, periodFrames: periodFrames)
    }

    public func capture(into buffer: UnsafeMutablePointer<Int16>, frames: Int) throws(LineError) -> Int {
        var done = 0
        while done < frames {
            let got = snd_pcm_readi(capturePCM, buffer + done, snd_pcm_uframes_t(frames - done))
            if got >= 0 { done += Int(got); continue }
            if Int32(got) == sparring_eagain() { continue }
            if Int32(got) == sparring_epipe() || Int32(got) == sparring_estrpipe() {
                xruns += 1
                if snd_pcm_recover(capturePCM, Int32(got), 1) >= 0 { _ = snd_pcm_start(capturePCM); continue }
            }
            throw LineError(device: captureDevice, "capture stopped: \(String(cString: snd_strerror(Int32(got))))")
        }
        return done
    }

    public func play(_ buffer: UnsafePointer<Int16>, frames: Int) throws(LineError) {
        guard let playbackPCM else { throw LineError(device: playbackDevice, "playback is not open") }
        xruns += try ALSAPCM.write(playbackPCM, buffer, frames: frames, device: playbackDevice)
    }

    public func stop() {
        if let capturePCM { snd_pcm_close(capturePCM) }
        if let playbackPCM { snd_pcm_drain(playbackPCM); snd_pcm_close(playbackPCM) }
        capturePCM = nil
        playbackPCM = nil
    }
}

/// The ALSA library's own messages on stderr are dropped: a command that reports each device
/// failure itself, in one line, calls this once before opening a device.
public func silenceALSALibraryMessages() { sparring_alsa_quiet() }

/// Opening ALSA PCMs the way every line and the replay want them.
enum ALSAPCM {
    /// One helper for every ALSA return code: a typed error with the operation, device and ALSA's message.
    @discardableResult
    static func alsa(_ code: Int32, _ operation: String, _ device: String) throws(LineError) -> Int32 {
        if code < 0 { throw LineError(device: device, "\(operation): \(String(cString: snd_strerror(code)))") }
        return code
    }

    /// Writes every frame, recovering from underruns (the line's and the replay's one write loop).
    ///
    /// Called on the real-time thread: no allocation unless it throws. Returns the xruns recovered.
    static func write(_ pcm: OpaquePointer, _ samples: UnsafePointer<Int16>, frames: Int, device: String) throws(LineError) -> Int {
        var done = 0
        var xruns = 0
        while done < frames {
            let put = snd_pcm_writei(pcm, samples + done, snd_pcm_uframes_t(frames - done))
            if put >= 0 { done += Int(put); continue }
            if Int32(put) == sparring_eagain() { continue }
            if Int32(put) == sparring_epipe() || Int32(put) == sparring_estrpipe() {
                xruns += 1
                if snd_pcm_recover(pcm, Int32(put), 1) >= 0 { continue }
            }
            throw LineError(device: device, "playback stopped: \(String(cString: snd_strerror(Int32(put))))")
        }
        return xruns
    }

    /// Opens a 16-bit mono PCM at `rate` with 10 ms periods and a buffer of `periods` of them, prepared.
    static func open(_ device: String, stream: snd_pcm_stream_t, rate: Int, periodFrames: Int, periods: Int = 4) throws(LineError) -> OpaquePointer {
        let direction = stream == SND_PCM_STREAM_CAPTURE ? "capture" : "playback"
        var pcm: OpaquePointer?
        // Opened non-blocking so a device in use answers "busy" at once instead
        // of waiting for its owner; reads and writes then block as the loop wants.
        let opened = snd_pcm_open(&pcm, device, stream, SND_PCM_NONBLOCK)
        guard opened >= 0, let pcm else {
            throw LineError(device: device, "cannot open for \(direction): \(String(cString: snd_strerror(opened)))")
        }
        if snd_pcm_nonblock(pcm, 0) < 0 {
            snd_pcm_close(pcm)
            throw LineError(device: device, "cannot switch \(direction) to blocking mode")
        }
        var params: OpaquePointer?
        snd_pcm_hw_params_malloc(&params)
        defer { snd_pcm_hw_params_free(params) }
        do throws(LineError) {
            try alsa(snd_pcm_hw_params_any(pcm, params), "\(direction) parameters", device)
            try alsa(snd_pcm_hw_params_set_access(pcm, params, SND_PCM_ACCESS_RW_INTERLEAVED), "\(direction) access", device)
            try alsa(snd_pcm_hw_params_set_format(pcm, params, SND_PCM_FORMAT_S16_LE), "\(direction) format S16_LE", device)
            try alsa(snd_pcm_hw_params_set_channels(pcm, params, 1), "\(direction) mono", device)
            let rateSet = snd_pcm_hw_params_set_rate(pcm, params, UInt32(rate), 0)
            if rateSet < 0 { throw LineError(device: device, "does not support \(rate) Hz for \(direction) (try --rate 48000)") }
            var period = snd_pcm_uframes_t(periodFrames)
            var direction0: Int32 = 0
            try alsa(snd_pcm_hw_params_set_period_size_near(pcm, params, &period, &direction0), "\(direction) period", device)
            var buffer = snd_pcm_uframes_t(periodFrames * periods)
            try alsa(snd_pcm_hw_params_set_buffer_size_near(pcm, params, &buffer), "\(direction) buffer", device)
            try alsa(snd_pcm_hw_params(pcm, params), "\(direction) configuration", device)
            try alsa(snd_pcm_prepare(pcm), "\(direction) prepare", device)
        } catch {
            snd_pcm_close(pcm)
            throw error
        }
        return pcm
    }
}
