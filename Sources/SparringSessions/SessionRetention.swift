import Foundation
import SparringCore

/// Deletes sessions older than a number of days (`sparring sessions prune`, and the daemon daily).
public enum SessionRetention {
    /// Removes session directories whose call started more than `days` ago; returns the ids removed.
    ///
    /// The age is the summary's `started_at`, or the directory's modification
    /// time when there is no readable summary. A session still being recorded
    /// (its events file locked) is never removed, and nothing outside the store
    /// is touched: links are not followed.
    public static func prune(sessions: String, olderThan days: Int, now: Date = Date()) -> [String] {
        let cutoff = now.addingTimeInterval(-Double(days) * 86_400)
        var removed: [String] = []
        let formatter = ISO8601DateFormatter()
        // The store lists real session folders only: links are not followed.
        for name in SessionStore(root: sessions).ids() {
            let directory = sessions + "/" + name
            var info = stat()
            guard lstat(directory, &info) == 0, !isRecording(directory) else { continue }
            var started = Date(timeIntervalSince1970: Double(info.st_mtim.tv_sec))
            if let data = try? SessionStore.read(directory, "summary.json"),
               let summary = try? SessionChecks.summary(data, file: directory + "/summary.json"),
               let date = formatter.date(from: summary.started_at) {
                started = date
            }
            guard started < cutoff else { continue }
            if (try? FileManager.default.removeItem(atPath: directory)) != nil { removed.append(name) }
        }
        return removed
    }

    /// Whether a live call holds the session's events file.
    public static func isRecording(_ directory: String) -> Bool {
        // Never waits on a FIFO in the file's place, and never follows a link out of the folder.
        let fd = open(directory + "/events.jsonl", O_RDONLY | O_NONBLOCK | O_NOFOLLOW | O_CLOEXEC)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        guard SafeFile.isRegular(fd) else { return false }
        if flock(fd, LOCK_EX | LOCK_NB) != 0 { return true }
        flock(fd, LOCK_UN)
        return false
    }
}
