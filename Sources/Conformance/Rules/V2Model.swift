import CheckpointArchive
import TarFormat

/// What a v2 check learnt about the archive, for the report.
public struct V2CheckResult: Sendable {
    /// The header, when `cka-header.json` could be read into the model (unknown section kinds are left out).
    public var header: ArchiveHeader?
    /// `sha256:<hex>` of the index content, when the index was read.
    public var indexDigest: String?
    /// The header's `profile` member as written.
    public var profile: String?
    /// How the tar stream ended (nil when the check stopped before its end).
    public var tarEnd: TarEnd?

    public init(header: ArchiveHeader? = nil, indexDigest: String? = nil, profile: String? = nil, tarEnd: TarEnd? = nil) {
        self.header = header
        self.indexDigest = indexDigest
        self.profile = profile
        self.tarEnd = tarEnd
    }
}

/// Where a gzip member or zstd frame of the archive file begins, and the tar-stream offset its output begins
/// at: what CKA-FRM-001 and the `compressedStart` values of CKA-IDX-007 are about.
public struct V2FrameBoundary: Sendable, Equatable {
    public var compressedOffset: Int64
    public var tarOffset: Int64

    public init(compressedOffset: Int64, tarOffset: Int64) {
        self.compressedOffset = compressedOffset
        self.tarOffset = tarOffset
    }
}

/// A regular file as the stream holds it, for the index's `files` (table 5.8). Kept for every file until
/// the index arrives, so it is compact: the digest is 32 bytes, not 64 hex characters.
struct V2FileRecord {
    var path: String
    var size: Int64
    var offset: Int64
    var headerOffset: Int64
    /// When digests are verified.
    var digest: V2Digest?

    init(_ h: TarHeader, sha256: String?) {
        path = h.path
        size = h.size
        offset = h.dataOffset
        headerOffset = h.headerOffset
        digest = sha256.flatMap(V2Digest.init(hex:))
    }
}

/// A SHA-256 digest held in 32 bytes.
struct V2Digest: Equatable {
    var bytes: SIMD32<UInt8>

    /// From 64 lowercase hex digits; nil for anything else.
    init?(hex: String) {
        let utf8 = Array(hex.utf8)
        guard utf8.count == 64 else { return nil }
        func nibble(_ c: UInt8) -> UInt8? {
            switch c {
            case 0x30...0x39: return c - 0x30
            case 0x61...0x66: return c - 0x61 + 10
            default: return nil
            }
        }
        var b = SIMD32<UInt8>()
        for i in 0..<32 {
            guard let hi = nibble(utf8[2 * i]), let lo = nibble(utf8[2 * i + 1]) else { return nil }
            b[i] = hi << 4 | lo
        }
        bytes = b
    }

    var hex: String { Hex.string((0..<32).map { bytes[$0] }) }
}

/// Findings about an entry or a document, through the collector.
struct V2Reporter {
    let collector: DiagnosticCollector

    func callAsFunction(_ id: String, _ message: String, path: String?, offset: Int64?) {
        collector.report(id, message, path: path, offset: offset)
    }

    func callAsFunction(_ id: String, _ message: String, _ h: TarHeader) {
        collector.report(id, message, path: h.path, offset: h.headerOffset)
    }

    func ran(_ ids: [String]) { for id in ids { collector.ran(id) } }
}
