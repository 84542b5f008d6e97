#if canImport(Glibc)
import Glibc
#endif

/// What `ckpt-vectors run` runs, on which vectors, within which limits.
public struct RunOptions: Sendable {
    /// The vectors directory (with `manifest.json`).
    public var vectors = "Vectors"
    /// The decoder under test: `CMD {archive} {dir}`.
    public var decoder: CommandTemplate?
    /// The encoder under test: `CMD {dir} {archive}`.
    public var encoder: CommandTemplate?
    /// Arguments appended to the decoder command for cases that pin the index digest (`{digest}` is replaced by
    /// the `sha256:<hex>` value), e.g. `--expect-index-digest {digest}`. Without it those cases are skipped.
    public var pin: CommandTemplate?
    /// Shell patterns (or, without `*`, `?` and `[`, substrings) of the vector ids to run; all when empty.
    public var filters: [String] = []
    /// Time, memory and file-size limits of every command.
    public var limits = ChildProcess.Limits()
    /// The most bytes a decoder may write into `{dir}`, in MiB; more is resource exhaustion (CKA-VEC-008).
    public var outputLimitMiB = 1024
    /// Compare numeric owners (only meaningful when the programs run as root and can restore them).
    public var compareOwners = geteuid() == 0

    public init() {}

    /// Whether the vector `id` is selected by `filters`.
    public func selects(_ id: String) -> Bool {
        guard !filters.isEmpty else { return true }
        return filters.contains { pattern in
            pattern.contains(where: { "*?[".contains($0) }) ? fnmatch(pattern, id, 0) == 0 : id.contains(pattern)
        }
    }
}
