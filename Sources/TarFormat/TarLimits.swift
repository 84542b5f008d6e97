/// Every limit the reader enforces, named, with defaults safe for untrusted input.
///
/// A limit guards memory (extended headers are buffered), time (entry counts) or sanity (names).
/// The reader never allocates by a size a header declares before checking it against these.
public struct TarLimits: Sendable, Equatable {
    /// Largest pax `x` or `g` extended header body, in bytes (Go's archive/tar uses 1 MiB: CVE-2022-2879).
    public var maxPaxHeaderSize: Int64 = 1 << 20
    /// Longest entry or link name, in bytes, from any source (ustar fields, pax, GNU `L`/`K`).
    public var maxNameLength: Int = 64 * 1024
    /// Most entries an archive may hold (extended headers are not counted).
    public var maxEntryCount: Int = 10_000_000
    /// Most segments a GNU sparse map may hold (old GNU extension blocks or pax maps; CVE-2025-58183).
    public var maxSparseSegments: Int = 64 * 1024
    /// Largest sparse map stored in a pax 1.0 sparse entry's data, in bytes.
    public var maxSparseMapSize: Int64 = 1 << 20
    /// Most components an entry name (or hard-link target) may have, not counting empty and `.` ones. Table 2.9
    /// asks decoders to accept at least 256; a parent directory holds the whole path so far, so what a decoder or
    /// validator keeps for the parents of one name grows with depth times length: the limit bounds it.
    public var maxPathDepth: Int = 1024

    public init() {}

    /// The defaults.
    public static let `default` = TarLimits()
}
