import CheckpointArchive
import TarFormat
#if canImport(Glibc)
import Glibc
#endif

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
    /// A failure of the temporary files that keep the check's memory bounded: the findings are then incomplete.
    public var temporaryFileError: String?

    public init(header: ArchiveHeader? = nil, indexDigest: String? = nil, profile: String? = nil, tarEnd: TarEnd? = nil) {
        self.header = header
        self.indexDigest = indexDigest
        self.profile = profile
        self.tarEnd = tarEnd
    }
}

/// A regular file as the stream holds it, for the index's `files` (table 5.8). Kept in a `RecordSpool` until
/// the index arrives, so that memory does not grow with the number of files.
struct V2FileRecord {
    var path: [UInt8]
    var size: Int64
    var offset: Int64
    var headerOffset: Int64
    /// The archive offset of the member or frame holding the entry's header (framed archives).
    var compressedOffset: Int64?
    /// When digests are verified.
    var digest: V2Digest?

    init(_ h: TarHeader, sha256: String?, compressedOffset: Int64?) {
        path = h.pathBytes
        size = h.size
        offset = h.dataOffset
        headerOffset = h.headerOffset
        self.compressedOffset = compressedOffset
        digest = sha256.flatMap(V2Digest.init(hex:))
    }

    var pathString: String { String(decoding: path, as: UTF8.self) }

    /// Where the fields after the path lie, counted from the path's end: size, offset and header offset (`int`),
    /// the compressed offset (`optionalInt`: a presence byte, then the value), whether a digest follows (`bool`),
    /// then the digest (`data`: its length, then 32 bytes). `encode`, `matches` and `init(_:)` agree on it.
    enum Layout {
        static let size = 0, offset = 8, headerOffset = 16, compressedFlag = 24, compressed = 25, digestFlag = 33
        static let digestLength = 34, digest = 42
        /// The bytes after the path without a digest, and with one.
        static let withoutDigest = 34, withDigest = 74
    }

    /// Writes the path (`data`), then the fields of `Layout` in one append.
    func encode(into w: inout RecordWriter) {
        w.data(path)
        let digest = digest
        w.fields(digest == nil ? Layout.withoutDigest : Layout.withDigest) { out in
            out.storeBytes(of: size.littleEndian, toByteOffset: Layout.size, as: Int64.self)
            out.storeBytes(of: offset.littleEndian, toByteOffset: Layout.offset, as: Int64.self)
            out.storeBytes(of: headerOffset.littleEndian, toByteOffset: Layout.headerOffset, as: Int64.self)
            out[Layout.compressedFlag] = compressedOffset == nil ? 0 : 1
            out.storeBytes(of: (compressedOffset ?? 0).littleEndian, toByteOffset: Layout.compressed, as: Int64.self)
            out[Layout.digestFlag] = digest == nil ? 0 : 1
            guard let digest else { return }
            out.storeBytes(of: Int64(32).littleEndian, toByteOffset: Layout.digestLength, as: Int64.self)
            withUnsafeBytes(of: digest.bytes) {
                out.baseAddress!.advanced(by: Layout.digest).copyMemory(from: $0.baseAddress!, byteCount: 32)
            }
        }
    }

    /// Whether the record `encode` wrote as `raw` has this path, size and data offset, and, when it holds a digest,
    /// `digest()`: the index's usual case, compared where the record lies.
    static func matches(_ raw: UnsafeRawBufferPointer, path: UnsafeRawBufferPointer, size: Int64, offset: Int64,
                        digest: () -> V2Digest?) -> Bool {
        @inline(__always) func int(_ at: Int) -> Int64 { Int64(littleEndian: raw.loadUnaligned(fromByteOffset: at, as: Int64.self)) }
        guard raw.count >= 8 else { return false }
        let n = Int(int(0))
        let fields = 8 + n  // where the path ends
        guard n == path.count, raw.count >= fields + Layout.withoutDigest,
              n == 0 || memcmp(raw.baseAddress! + 8, path.baseAddress!, n) == 0,
              int(fields + Layout.size) == size, int(fields + Layout.offset) == offset else { return false }
        guard raw[fields + Layout.digestFlag] != 0 else { return true }
        guard raw.count == fields + Layout.withDigest, let d = digest() else { return false }
        return withUnsafeBytes(of: d.bytes) { memcmp(raw.baseAddress! + fields + Layout.digest, $0.baseAddress!, 32) == 0 }
    }

    init(_ r: RecordReader) {
        var r = r
        path = r.data()
        size = r.int()
        offset = r.int()
        headerOffset = r.int()
        compressedOffset = r.optionalInt()
        digest = r.bool() ? V2Digest(bytes: r.data()) : nil
    }
}

/// A SHA-256 digest held in 32 bytes.
struct V2Digest: Equatable {
    var bytes: SIMD32<UInt8>

    /// From 64 lowercase hex digits; nil for anything else.
    init?(hex: String) { self.init(hexBytes: hex.utf8) }

    /// From 64 lowercase hex digits (nil for anything else).
    init?<C: Collection>(hexBytes hex: C) where C.Element == UInt8 {
        guard hex.count == 64 else { return nil }
        var b = SIMD32<UInt8>()
        let ok = withUnsafeMutableBytes(of: &b) { out -> Bool in
            hex.withContiguousStorageIfAvailable { Self.decode($0, into: out) }
                ?? Array(hex).withUnsafeBufferPointer { Self.decode($0, into: out) }
        }
        guard ok else { return nil }
        bytes = b
    }

    private static func decode(_ digits: UnsafeBufferPointer<UInt8>, into out: UnsafeMutableRawBufferPointer) -> Bool {
        var high: UInt8 = 0
        for i in 0..<64 {
            let c = digits[i]
            let v: UInt8
            if c &- 0x30 < 10 { v = c &- 0x30 } else if c &- 0x61 < 6 { v = c &- 0x61 &+ 10 } else { return false }
            if i & 1 == 0 { high = v } else { out[i >> 1] = high << 4 | v }
        }
        return true
    }

    /// From 32 bytes.
    init(bytes raw: [UInt8]) {
        var b = SIMD32<UInt8>()
        for i in 0..<min(32, raw.count) { b[i] = raw[i] }
        bytes = b
    }

    var hex: String { Hex.string((0..<32).map { bytes[$0] }) }
}

/// Findings about an entry or a document, through the collector.
struct V2Reporter {
    let collector: DiagnosticCollector

    func callAsFunction(_ id: String, _ message: String, path: String?, offset: Int64?,
                        compressedOffset: Int64? = nil) {
        collector.report(id, message, path: path, offset: offset, compressedOffset: compressedOffset)
    }

    func callAsFunction(_ id: String, _ message: String, _ h: TarHeader) {
        collector.report(id, message, path: h.path, offset: h.headerOffset)
    }

    func ran(_ ids: [String]) { for id in ids { collector.ran(id) } }
}
