import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Reads a file that may be hostile: only a regular file, never blocking, within a size limit.
///
/// A FIFO or device in the place of a file would block a plain read forever, and
/// a huge file would exhaust memory; both become one problem naming the file.
public enum SafeFile {
    /// With `followLinks` false a link in the file's place is refused (inside a session folder).
    public static func read(_ path: String, limit: Int = 1 << 20, followLinks: Bool = true) throws(Problem) -> Data {
        let fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC | (followLinks ? 0 : O_NOFOLLOW))
        guard fd >= 0 else {
            let reason = errno == ELOOP && !followLinks ? "is a link (not followed)" : String(cString: strerror(errno))
            throw Problem(file: path, line: 0, field: "", message: "cannot read the file (\(reason))")
        }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0 else { throw Problem(file: path, line: 0, field: "", message: "cannot read the file") }
        guard isRegular(info) else {
            throw Problem(file: path, line: 0, field: "", message: "not a regular file")
        }
        guard info.st_size <= limit else {
            throw Problem(file: path, line: 0, field: "", message: "file is \(info.st_size) bytes; the limit is \(limit)")
        }
        var data = Data(count: Int(info.st_size))
        var offset = 0
        while offset < data.count {
            let n = data.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress! + offset, $0.count - offset) }
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else { break }
            offset += n
        }
        return data.prefix(offset)
    }

    public static func readText(_ path: String, limit: Int = 1 << 20) throws(Problem) -> String {
        let data = try read(path, limit: limit)
        if data.contains(0) { throw Problem(file: path, line: 0, field: "", message: "binary file (contains NUL bytes), expected text") }
        guard let text = String(data: data, encoding: .utf8) else { throw Problem(file: path, line: 0, field: "", message: "not UTF-8 text") }
        return text
    }

    /// Whether `info` is a regular file's: a FIFO or a device in a file's place would block or never end.
    public static func isRegular(_ info: stat) -> Bool { (info.st_mode & S_IFMT) == S_IFREG }

    /// Whether the open descriptor `fd` is a regular file's.
    public static func isRegular(_ fd: Int32) -> Bool {
        var info = stat()
        return fstat(fd, &info) == 0 && isRegular(info)
    }

    /// `path` if it exists, else the nearest folder above it that does (a folder not made yet is
    /// judged by where it would be made).
    public static func nearestExisting(_ path: String) -> String {
        var current = URL(fileURLWithPath: path).standardized.path
        var info = stat()
        while stat(current, &info) != 0 && current != "/" {
            current = (current as NSString).deletingLastPathComponent
            if current.isEmpty { return "/" }
        }
        return current
    }

    /// Writes `data` at `offset`, retrying short writes; returns the bytes written (fewer on an error, errno set).
    public static func writeAll(_ fd: Int32, _ data: Data, at offset: Int) -> Int {
        data.withUnsafeBytes { raw -> Int in
            var done = 0
            while done < raw.count {
                let n = pwrite(fd, raw.baseAddress! + done, raw.count - done, off_t(offset + done))
                if n < 0 && errno == EINTR { continue }
                guard n > 0 else { return done }
                done += n
            }
            return done
        }
    }
}
