/// The version both executables report with `--version`.
public enum SparringVersion {
    public static let current = "0.6.0"
}
