/// Decompression bombs built directly in the compressed format, so that a file of a few kilobytes (zstd) or about
/// a megabyte (gzip) stands for more than a gigabyte of zero bytes without the generator ever producing them.
///
/// Each is one gzip member or zstd frame of zeros, meant to be appended to a valid archive: readers decode
/// concatenated members and frames as one stream (CKA-CMP-006/007), so the zeros follow the tar stream's
/// end-of-archive marker, where a v1 reader reads them as record padding (CKA-TAR-003) until its decompression
/// budget stops it (CKA-SEC-020).
public enum Bombs {
    /// A zstd frame (no checksum, no content size, 128 KiB window) of `blocks` RLE blocks of 128 KiB zeros: 4 bytes
    /// per block, a ratio of 32768.
    public static func zstdZeros(blocks: Int) -> [UInt8] {
        var out: [UInt8] = [0x28, 0xB5, 0x2F, 0xFD, 0x00, 0x38]  // descriptor 0; window 2^(10+7)
        let header = (128 << 10) << 3 | 1 << 1  // Block_Size 131072, Block_Type RLE
        for i in 0..<blocks {
            let h = header | (i == blocks - 1 ? 1 : 0)
            out += [UInt8(h & 0xFF), UInt8((h >> 8) & 0xFF), UInt8((h >> 16) & 0xFF), 0x00]
        }
        return out
    }

    /// The bytes `zstdZeros(blocks:)` stands for.
    public static func zstdZerosSize(blocks: Int) -> Int64 { Int64(blocks) << 17 }

    /// A gzip member (MTIME 0, OS 255) of one zero byte and `matches` matches of length 258 at distance 1, in one
    /// dynamic-Huffman deflate block whose length code 285 and distance code 0 have one bit each: two bits per
    /// 258 bytes, deflate's best ratio (1032).
    public static func gzipZeros(matches: Int) -> [UInt8] {
        var w = LSBBitWriter()
        w.write(1, 1)  // BFINAL
        w.write(2, 2)  // dynamic Huffman
        w.write(29, 5)  // HLIT: 286 literal/length codes
        w.write(0, 5)  // HDIST: 1 distance code
        w.write(14, 4)  // HCLEN: 18 code-length codes
        // Code-length code lengths in their permuted order; used: 18 (1 bit), 1 and 2 (2 bits).
        let order = [16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1]
        let lengths: [Int: Int] = [18: 1, 1: 2, 2: 2]
        for s in order { w.write(lengths[s] ?? 0, 3) }
        // Canonical codes: 18 -> 0, 1 -> 10, 2 -> 11.
        func zeros(_ n: Int) {
            w.huffman(0b0, 1)
            w.write(n - 11, 7)
        }
        w.huffman(0b11, 2)  // literal 0: length 2
        zeros(138)  // literals 1...138
        zeros(117)  // literals 139...255
        w.huffman(0b11, 2)  // 256 (end of block): length 2
        zeros(28)  // 257...284
        w.huffman(0b10, 2)  // 285 (length 258): length 1
        w.huffman(0b10, 2)  // distance code 0: length 1
        // Literal/length codes: 285 -> 0, 0 -> 10, 256 -> 11; distance 0 -> 0.
        w.huffman(0b10, 2)  // the literal zero byte
        w.zeroBits(2 * matches)  // each match: code 285 (0) and distance code 0 (0)
        w.huffman(0b11, 2)  // end of block
        w.flush()
        let size = gzipZerosSize(matches: matches)
        let header: [UInt8] = [0x1F, 0x8B, 0x08, 0x00, 0, 0, 0, 0, 0x00, 0xFF]
        return header + w.bytes + StoredContainers.le32(Checksums.crc32OfZeros(Int(size)))
            + StoredContainers.le32(UInt32(truncatingIfNeeded: size))
    }

    /// The bytes `gzipZeros(matches:)` stands for.
    public static func gzipZerosSize(matches: Int) -> Int64 { 1 + 258 * Int64(matches) }
}

/// Writes bits least significant first (deflate's order).
struct LSBBitWriter {
    var bytes: [UInt8] = []
    private var acc = 0
    private var count = 0

    /// `bits` bits of `value`, least significant first (header fields, extra bits).
    mutating func write(_ value: Int, _ bits: Int) {
        for i in 0..<bits { bit((value >> i) & 1) }
    }

    /// A Huffman code of `bits` bits, most significant first.
    mutating func huffman(_ code: Int, _ bits: Int) {
        for i in stride(from: bits - 1, through: 0, by: -1) { bit((code >> i) & 1) }
    }

    /// `n` zero bits, a byte at a time where possible.
    mutating func zeroBits(_ n: Int) {
        var n = n
        while n > 0, count != 0 {
            bit(0)
            n -= 1
        }
        bytes += [UInt8](repeating: 0, count: n / 8)
        for _ in 0..<(n % 8) { bit(0) }
    }

    mutating func bit(_ b: Int) {
        acc |= b << count
        count += 1
        if count == 8 {
            bytes.append(UInt8(acc))
            acc = 0
            count = 0
        }
    }

    mutating func flush() {
        if count > 0 { bytes.append(UInt8(acc)) }
        acc = 0
        count = 0
    }
}
