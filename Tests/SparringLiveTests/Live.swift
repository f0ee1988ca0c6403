import Testing

/// Every test that uses the speech libraries in this process runs inside this
/// suite, one at a time: eSpeak NG's state is process-global, and each decoder
/// holds ~100 MB.
@Suite("Real speech libraries and live calls", .serialized)
enum Live {}

/// sparringd's calls, one at a time: the daemon's recognizer and synthesizer live
/// in its own process, so this suite runs beside `Live`. The only speech made here
/// is the scripted agent's, by Festival in processes of its own.
@Suite("Calls through the daemon", .serialized)
enum LiveProcesses {}

/// `sparring run` on FIFO-backed ALSA lines and the command line on hostile files,
/// one at a time, beside the other suites for the same reason.
@Suite("Calls through ALSA and hostile files", .serialized)
enum LiveLines {}

/// The supervisors' commands (list, show, replay, report, the hub in a browser) on
/// calls recorded by `sparring simulate`, one at a time: the calls are made in
/// child processes, so this suite runs beside the others.
@Suite("Recorded calls", .serialized)
enum LiveRecorded {}
