/// The checksums the hand-built compressed containers need (CRC-32 of gzip and xz, bzip2's CRC, xxHash32 of
/// lz4), written out here so that the generator depends on no compressor library for formats it only builds.
public enum Checksums {
    private static let crc32Table: [UInt32] = (0..<256).map { n in
        var c = UInt32(n)
        for _ in 0..<8 { c = c & 1 != 0 ? 0xEDB8_8320 ^ (c >> 1) : c >> 1 }
        return c
    }

    private static let bzip2Table: [UInt32] = (0..<256).map { n in
        var c = UInt32(n) << 24
        for _ in 0..<8 { c = c & 0x8000_0000 != 0 ? (c << 1) ^ 0x04C1_1DB7 : c << 1 }
        return c
    }

    /// CRC-32 (IEEE 802.3, reflected; gzip, xz), continuing from `crc`.
    public static func crc32(_ bytes: [UInt8], _ crc: UInt32 = 0) -> UInt32 {
        var c = ~crc
        for b in bytes { c = crc32Table[Int((c ^ UInt32(b)) & 0xFF)] ^ (c >> 8) }
        return ~c
    }

    /// The CRC-32 of `count` zero bytes, computed in O(log count) as zlib's `crc32_combine` does: feeding a zero
    /// byte multiplies the register by x^8 modulo the polynomial.
    public static func crc32OfZeros(_ count: Int) -> UInt32 {
        ~multiplyModP(xPower8n(count), 0xFFFF_FFFF)
    }

    /// a * b modulo the CRC-32 polynomial, in the reflected representation (zlib `multmodp`).
    static func multiplyModP(_ a: UInt32, _ b: UInt32) -> UInt32 {
        var m: UInt32 = 1 << 31
        var p: UInt32 = 0
        var b = b
        while true {
            if a & m != 0 {
                p ^= b
                if a & (m - 1) == 0 { break }
            }
            m >>= 1
            b = b & 1 != 0 ? (b >> 1) ^ 0xEDB8_8320 : b >> 1
        }
        return p
    }

    /// x^(8n) modulo the polynomial (zlib `x2nmodp(n, 3)`).
    static func xPower8n(_ n: Int) -> UInt32 {
        var table: [UInt32] = []
        var q: UInt32 = 1 << 30  // x^1
        for _ in 0..<32 {
            table.append(q)
            q = multiplyModP(q, q)
        }
        var p: UInt32 = 1 << 31  // x^0
        var n = n
        var k = 3
        while n != 0 {
            if n & 1 != 0 { p = multiplyModP(table[k & 31], p) }
            n >>= 1
            k += 1
        }
        return p
    }

    /// bzip2's CRC (CRC-32 polynomial, not reflected), continuing from `crc`.
    public static func bzip2CRC(_ bytes: [UInt8], _ crc: UInt32 = 0) -> UInt32 {
        var c = ~crc
        for b in bytes { c = (c << 8) ^ bzip2Table[Int(((c >> 24) ^ UInt32(b)) & 0xFF)] }
        return ~c
    }

    /// xxHash32 with seed 0 (the lz4 frame's header and content checksums).
    public static func xxh32(_ bytes: [UInt8], seed: UInt32 = 0) -> UInt32 {
        let p1: UInt32 = 2_654_435_761, p2: UInt32 = 2_246_822_519, p3: UInt32 = 3_266_489_917
        let p4: UInt32 = 668_265_263, p5: UInt32 = 374_761_393
        func rotl(_ x: UInt32, _ r: UInt32) -> UInt32 { (x << r) | (x >> (32 - r)) }
        func u32(_ i: Int) -> UInt32 {
            UInt32(bytes[i]) | UInt32(bytes[i + 1]) << 8 | UInt32(bytes[i + 2]) << 16 | UInt32(bytes[i + 3]) << 24
        }
        func round(_ acc: UInt32, _ input: UInt32) -> UInt32 { rotl(acc &+ input &* p2, 13) &* p1 }
        var i = 0
        var h: UInt32
        if bytes.count >= 16 {
            var v = [seed &+ p1 &+ p2, seed &+ p2, seed, seed &- p1]
            while i + 16 <= bytes.count {
                for lane in 0..<4 { v[lane] = round(v[lane], u32(i + 4 * lane)) }
                i += 16
            }
            h = rotl(v[0], 1) &+ rotl(v[1], 7) &+ rotl(v[2], 12) &+ rotl(v[3], 18)
        } else {
            h = seed &+ p5
        }
        h = h &+ UInt32(truncatingIfNeeded: bytes.count)
        while i + 4 <= bytes.count {
            h = rotl(h &+ u32(i) &* p3, 17) &* p4
            i += 4
        }
        while i < bytes.count {
            h = rotl(h &+ UInt32(bytes[i]) &* p5, 11) &* p1
            i += 1
        }
        h ^= h >> 15
        h = h &* p2
        h ^= h >> 13
        h = h &* p3
        h ^= h >> 16
        return h
    }
}
