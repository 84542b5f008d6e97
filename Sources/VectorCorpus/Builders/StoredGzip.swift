/// gzip (RFC 1952) with stored deflate blocks (RFC 1951 `BTYPE=00`): a valid gzip member whose bytes depend only
/// on the input, never on the zlib build, so that an uncompressed vector that carries a gzip layer inside it
/// (containerd's `rootfs-diff.tar`) is byte-identical wherever it is generated (CKA-VEC-007).
public enum StoredGzip {
    /// The gzip member holding `data`: a 10-byte header (no name, mtime 0, OS 255), stored blocks of at most
    /// 65535 bytes, CRC-32 and size.
    public static func encode(_ data: [UInt8]) -> [UInt8] {
        var out: [UInt8] = [0x1F, 0x8B, 8, 0, 0, 0, 0, 0, 0, 0xFF]
        var i = 0
        repeat {
            let n = min(65535, data.count - i)
            out.append(i + n == data.count ? 1 : 0)
            out += [UInt8(n & 0xFF), UInt8(n >> 8), UInt8(~n & 0xFF), UInt8((~n >> 8) & 0xFF)]
            out += data[i..<(i + n)]
            i += n
        } while i < data.count
        out += littleEndian(crc32(data)) + littleEndian(UInt32(truncatingIfNeeded: data.count))
        return out
    }

    /// CRC-32 of ISO 3309 / ITU-T V.42 (the gzip trailer's).
    public static func crc32(_ data: [UInt8]) -> UInt32 {
        var crc: UInt32 = 0xFFFF_FFFF
        for byte in data { crc = table[Int((crc ^ UInt32(byte)) & 0xFF)] ^ (crc >> 8) }
        return ~crc
    }

    private static let table: [UInt32] = (0..<256).map { n in
        var c = UInt32(n)
        for _ in 0..<8 { c = c & 1 == 1 ? 0xEDB8_8320 ^ (c >> 1) : c >> 1 }
        return c
    }

    private static func littleEndian(_ v: UInt32) -> [UInt8] { (0..<4).map { UInt8(truncatingIfNeeded: v >> (8 * $0)) } }
}
