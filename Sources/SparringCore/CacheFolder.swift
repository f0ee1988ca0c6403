import Foundation

/// The user's cache folder for Sparring: `$XDG_CACHE_HOME/sparring/NAME`, or `~/.cache/sparring/NAME`.
public enum CacheFolder {
    public static func path(_ name: String, environment: [String: String] = ProcessInfo.processInfo.environment) -> String {
        let base = environment["XDG_CACHE_HOME"].flatMap { $0.isEmpty ? nil : $0 } ?? (NSHomeDirectory() + "/.cache")
        return base + "/sparring/" + name
    }

    /// FNV-1a over `text`'s bytes: a name that stays the same from run to run (Swift's `Hasher` does not).
    public static func stableHash(_ text: String) -> UInt64 {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in text.utf8 { hash = (hash ^ UInt64(byte)) &* 0x100_0000_01b3 }
        return hash
    }
}
