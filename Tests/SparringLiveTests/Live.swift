import Testing

/// Every test that touches the speech libraries runs inside this suite, one at
/// a time: eSpeak NG's state is process-global, and each decoder holds ~100 MB.
@Suite("Real speech libraries and live calls", .serialized)
enum Live {}
