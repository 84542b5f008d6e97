import Compression

/// The index locator that ends a framed archive (CKA-FRM-003..005): an empty gzip member carrying the
/// payload in FEXTRA, or a zstd skippable frame. Decompressors see neither.
public enum FramedLocator {
    /// The 32-byte payload: `CKAINDEX`, then the index member's archive offset, the index's tar offset and the
    /// tar stream's length as little-endian u64.
    public static func payload(indexCompressedOffset: Int64, indexOffset: Int64, tarLength: Int64) -> [UInt8] {
        var out = Array("CKAINDEX".utf8)
        for v in [indexCompressedOffset, indexOffset, tarLength] {
            withUnsafeBytes(of: UInt64(bitPattern: v).littleEndian) { out += $0 }
        }
        return out
    }

    /// The locator bytes for `format` (58 bytes for gzip, 40 for zstd).
    public static func bytes(format: CompressionFormat, indexCompressedOffset: Int64, indexOffset: Int64,
                             tarLength: Int64) -> [UInt8] {
        let p = payload(indexCompressedOffset: indexCompressedOffset, indexOffset: indexOffset, tarLength: tarLength)
        switch format {
        case .gzip:
            return [0x1F, 0x8B, 0x08, 0x04, 0, 0, 0, 0, 0x00, 0xFF, 0x24, 0x00, 0x43, 0x4B, 0x20, 0x00] + p
                + [0x03, 0x00, 0, 0, 0, 0, 0, 0, 0, 0]
        case .zstd:
            return [0x5E, 0x2A, 0x4D, 0x18, 0x20, 0x00, 0x00, 0x00] + p
        default:
            return []
        }
    }

    /// Parses a locator from the last bytes of an archive; nil when there is none.
    public static func parse(tail: [UInt8], format: CompressionFormat) -> (indexCompressedOffset: Int64, indexOffset: Int64,
                                                                           tarLength: Int64)? {
        let size = format == .gzip ? 58 : format == .zstd ? 40 : 0
        guard size > 0, tail.count >= size else { return nil }
        let t = Array(tail.suffix(size))
        let payloadStart = format == .gzip ? 16 : 8
        let expectedPrefix: [UInt8] = format == .gzip
            ? [0x1F, 0x8B, 0x08, 0x04, 0, 0, 0, 0, 0x00, 0xFF, 0x24, 0x00, 0x43, 0x4B, 0x20, 0x00]
            : [0x5E, 0x2A, 0x4D, 0x18, 0x20, 0x00, 0x00, 0x00]
        guard Array(t[0..<payloadStart]) == expectedPrefix,
              Array(t[payloadStart..<(payloadStart + 8)]) == Array("CKAINDEX".utf8) else { return nil }
        func u64(_ at: Int) -> Int64 {
            var v: UInt64 = 0
            for i in (0..<8).reversed() { v = v << 8 | UInt64(t[payloadStart + at + i]) }
            return Int64(bitPattern: v)
        }
        return (u64(8), u64(16), u64(24))
    }
}
