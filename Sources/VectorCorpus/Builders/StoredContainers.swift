/// Real xz and lz4 files made without a compressor: both formats can carry data uncompressed (xz in LZMA2
/// uncompressed chunks, lz4 in uncompressed blocks), so the generator builds them byte by byte and
/// deterministically, and `xz -d` and `lz4 -d` read them back (Tests/VectorTests checks that). They stand for
/// archives compressed with a method the specification does not allow (CKA-CMP-001).
public enum StoredContainers {
    /// An xz stream (one block, CRC-32 check) holding `data` in LZMA2 uncompressed chunks.
    public static func xz(_ data: [UInt8]) -> [UInt8] {
        let flags: [UInt8] = [0x00, 0x01]  // check type 1: CRC-32
        var out: [UInt8] = [0xFD, 0x37, 0x7A, 0x58, 0x5A, 0x00] + flags + le32(Checksums.crc32(flags))
        // Block header: size byte ((12 / 4) - 1), block flags (one filter, no sizes), filter LZMA2 (0x21) with one
        // property byte (dictionary size 4 KiB), padding to 8 bytes, CRC-32.
        var header: [UInt8] = [0x02, 0x00, 0x21, 0x01, 0x00, 0x00, 0x00, 0x00]
        header += le32(Checksums.crc32(header))
        var chunks: [UInt8] = []
        var at = 0
        while at < data.count {
            let n = min(65536, data.count - at)
            chunks += [at == 0 ? 0x01 : 0x02, UInt8((n - 1) >> 8), UInt8((n - 1) & 0xFF)]
            chunks += data[at..<(at + n)]
            at += n
        }
        chunks.append(0x00)  // end of LZMA2 data
        out += header + chunks
        out += [UInt8](repeating: 0, count: (4 - chunks.count % 4) % 4)  // block padding
        out += le32(Checksums.crc32(data))
        let unpadded = header.count + chunks.count + 4
        var index: [UInt8] = [0x00] + varint(1) + varint(unpadded) + varint(data.count)
        index += [UInt8](repeating: 0, count: (4 - index.count % 4) % 4)
        index += le32(Checksums.crc32(index))
        out += index
        let footer = le32(UInt32(index.count / 4 - 1)) + flags
        return out + le32(Checksums.crc32(footer)) + footer + [0x59, 0x5A]
    }

    /// An lz4 frame (independent 64 KiB blocks, content checksum) holding `data` in uncompressed blocks.
    public static func lz4(_ data: [UInt8]) -> [UInt8] {
        let descriptor: [UInt8] = [0x64, 0x40]  // version 01, independent blocks, content checksum; 64 KiB blocks
        var out: [UInt8] = [0x04, 0x22, 0x4D, 0x18] + descriptor + [UInt8((Checksums.xxh32(descriptor) >> 8) & 0xFF)]
        var at = 0
        while at < data.count {
            let n = min(65536, data.count - at)
            out += le32(UInt32(n) | 0x8000_0000)  // the high bit: stored uncompressed
            out += data[at..<(at + n)]
            at += n
        }
        return out + le32(0) + le32(Checksums.xxh32(data))
    }

    static func le32(_ v: UInt32) -> [UInt8] { (0..<4).map { UInt8((v >> (8 * $0)) & 0xFF) } }

    /// xz's multibyte integer: seven bits per byte, least significant first.
    static func varint(_ v: Int) -> [UInt8] {
        var v = v
        var out: [UInt8] = []
        while v >= 0x80 {
            out.append(UInt8(v & 0x7F) | 0x80)
            v >>= 7
        }
        return out + [UInt8(v)]
    }
}
