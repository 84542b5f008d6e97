/// A compression format that may wrap an archive, recognised by the magic bytes at the start of a stream.
///
/// `gzip` and `zstd` can be decoded and encoded; `bzip2` and `xz` only decoded (Podman imports v1 archives in
/// them, CKA-CMP-004); `lz4` is recognised so that it is refused with a clear `CompressionError.unsupported`
/// instead of being read as a corrupt archive.
public enum CompressionFormat: String, Sendable, Hashable, CaseIterable, CustomStringConvertible {
    /// Not compressed (or not a format recognised here).
    case none
    /// gzip (RFC 1952), possibly several members one after another.
    case gzip
    /// Zstandard (RFC 8878), possibly several frames, including skippable frames.
    case zstd
    /// bzip2: decoded, not encoded.
    case bzip2
    /// xz: decoded, not encoded.
    case xz
    /// LZ4 frame format: recognised, not supported.
    case lz4

    /// How many leading bytes `detect(prefix:)` needs to tell every format apart.
    public static let detectionPrefixLength = 6

    /// Whether this module can decode and encode the format (the methods an archive may use, CKA-CMP-001).
    public var isSupported: Bool {
        switch self {
        case .none, .gzip, .zstd: return true
        case .bzip2, .xz, .lz4: return false
        }
    }

    /// Whether this module can decode the format: the supported ones, and bzip2 and xz.
    public var isDecodable: Bool { self != .lz4 }

    /// The usual file name extension, without the dot (empty for `none`).
    public var fileExtension: String {
        switch self {
        case .none: return ""
        case .gzip: return "gz"
        case .zstd: return "zst"
        case .bzip2: return "bz2"
        case .xz: return "xz"
        case .lz4: return "lz4"
        }
    }

    /// The format's name as people write it ("gzip", "zstd", ...).
    public var description: String { rawValue }

    /// Recognises a format from the first bytes of a stream.
    ///
    /// - gzip: `1f 8b`
    /// - zstd: a frame (`28 b5 2f fd`) or a skippable frame (magic `0x184D2A50...0x184D2A5F`, little-endian)
    /// - bzip2: `"BZh"` followed by a block-size digit `1`...`9`
    /// - xz: `fd 37 7a 58 5a 00`
    /// - lz4: a frame (`04 22 4d 18`) or a legacy frame (`02 21 4c 18`)
    ///
    /// - Parameter prefix: the first bytes of the stream; `detectionPrefixLength` bytes are enough, fewer
    ///   are accepted (a stream shorter than a magic number is simply not that format).
    /// - Returns: the format, or `.none` when no magic number matches.
    public static func detect<C: Collection>(prefix: C) -> CompressionFormat where C.Element == UInt8 {
        let b = Array(prefix.prefix(detectionPrefixLength))
        func starts(with magic: [UInt8]) -> Bool {
            b.count >= magic.count && b[0..<magic.count].elementsEqual(magic)
        }
        if starts(with: [0x1F, 0x8B]) { return .gzip }
        if starts(with: [0x28, 0xB5, 0x2F, 0xFD]) { return .zstd }
        if b.count >= 4, b[0] & 0xF0 == 0x50, b[1] == 0x2A, b[2] == 0x4D, b[3] == 0x18 { return .zstd }
        if b.count >= 4, starts(with: [0x42, 0x5A, 0x68]), (0x31...0x39).contains(b[3]) { return .bzip2 }
        if starts(with: [0xFD, 0x37, 0x7A, 0x58, 0x5A, 0x00]) { return .xz }
        if starts(with: [0x04, 0x22, 0x4D, 0x18]) || starts(with: [0x02, 0x21, 0x4C, 0x18]) { return .lz4 }
        return .none
    }

    /// Guesses a format from a file name's extension (`.gz`, `.tgz`, `.zst`, `.tzst`, ...).
    ///
    /// Detection by content (`detect(prefix:)`) is authoritative when reading; this is for choosing an
    /// encoder when writing.
    public static func fromFileName(_ name: String) -> CompressionFormat {
        let lower = name.lowercased()
        let table: [(String, CompressionFormat)] = [
            (".gz", .gzip), (".tgz", .gzip), (".zst", .zstd), (".zstd", .zstd), (".tzst", .zstd),
            (".bz2", .bzip2), (".tbz2", .bzip2), (".xz", .xz), (".txz", .xz), (".lz4", .lz4),
        ]
        for (suffix, format) in table where lower.hasSuffix(suffix) { return format }
        return .none
    }
}
