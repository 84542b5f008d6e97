#if canImport(Glibc)
import Glibc
#endif

/// Byte comparisons for the hot paths, on raw memory.
enum Bytes {
    /// Whether the bytes at `p` begin with the bytes of `literal`.
    @inline(__always)
    static func equal(_ p: UnsafePointer<UInt8>, _ literal: StaticString) -> Bool {
        memcmp(p, literal.utf8Start, literal.utf8CodeUnitCount) == 0
    }

    /// Whether two byte sequences are equal (one `memcmp`).
    static func same<A: ContiguousCollection, B: ContiguousCollection>(_ a: A, _ b: B) -> Bool
    where A.Element == UInt8, B.Element == UInt8 {
        a.count == b.count && a.withContiguousBytes { x in b.withContiguousBytes { y in
            x.count == 0 || memcmp(x.baseAddress!, y.baseAddress!, x.count) == 0
        } }
    }

    /// Whether the `count` bytes at `p` are all zero.
    static func allZero(_ p: UnsafePointer<UInt8>, _ count: Int) -> Bool {
        orOfBytes(p, count) == 0
    }

    /// Whether the `count` bytes at `p` are all below 0x80.
    static func isASCII(_ p: UnsafePointer<UInt8>, _ count: Int) -> Bool {
        orOfBytes(p, count) & 0x8080_8080_8080_8080 == 0
    }

    /// The bitwise OR of the bytes at `p`, folded into the eight bytes of a word: sixteen at a time, the last
    /// sixteen overlapping the ones before, so that a header field of 100 or 155 bytes costs a dozen vector loads,
    /// not a loop per byte with a scalar tail. Fewer than sixteen bytes are ORed one by one.
    @inline(__always)
    static func orOfBytes(_ p: UnsafePointer<UInt8>, _ count: Int) -> UInt64 {
        guard count >= 16 else {
            var acc: UInt8 = 0
            for i in 0..<count { acc |= p[i] }
            return UInt64(acc)
        }
        let raw = UnsafeRawPointer(p)
        var acc = raw.loadUnaligned(fromByteOffset: count - 16, as: SIMD16<UInt8>.self)
        var i = 0
        while i + 32 <= count {
            acc |= raw.loadUnaligned(fromByteOffset: i, as: SIMD16<UInt8>.self)
                | raw.loadUnaligned(fromByteOffset: i + 16, as: SIMD16<UInt8>.self)
            i += 32
        }
        if i + 16 <= count { acc |= raw.loadUnaligned(fromByteOffset: i, as: SIMD16<UInt8>.self) }
        // Two words, ORed: the lanes' comparison with zero compiles to a long shuffle.
        let words = unsafeBitCast(acc, to: SIMD2<UInt64>.self)
        return words[0] | words[1]
    }

    /// Whether no byte of the `count` bytes at `p` that follows a zero byte is non-zero: a NUL-terminated string
    /// field whose unused end is all NULs (or a field the string fills). An all-zero field passes on one OR over
    /// it; otherwise each byte is compared with the one before it, sixteen pairs at a time, the last sixteen
    /// overlapping the ones before, with no search for the NUL and no second pass over the rest.
    static func zeroAfterFirstZero(_ p: UnsafePointer<UInt8>, _ count: Int) -> Bool {
        guard count > 16 else {
            var i = 1
            while i < count {
                if p[i - 1] == 0, p[i] != 0 { return false }
                i += 1
            }
            return true
        }
        // Most fields past the name are empty: all zero is one OR over the field.
        if allZero(p, count) { return true }
        let raw = UnsafeRawPointer(p)
        @inline(__always) func clean(_ i: Int) -> Bool {
            let before = raw.loadUnaligned(fromByteOffset: i - 1, as: SIMD16<UInt8>.self)
            let here = raw.loadUnaligned(fromByteOffset: i, as: SIMD16<UInt8>.self)
            return !any((before .== .zero) .& (here .!= .zero))
        }
        // One loop, its last window moved back to end at `count` (one place that compares, compiled once).
        let last = count - 16
        var i = 1
        while true {
            let at = min(i, last)
            guard clean(at) else { return false }
            if at == last { return true }
            i += 16
        }
    }

    /// Whether a slash-separated name may have a component that is empty or starts with '.': a '/' or '.' first
    /// or right after a '/', or a '/' last. False rules both out; true only says to look (`.wh.x` starts with
    /// '.' and is a proper name). Eight bytes at a time, the last word overlapping the one before.
    static func mayHaveDotOrEmptyComponent(_ p: UnsafeRawBufferPointer) -> Bool {
        let n = p.count
        guard n > 0, p[n - 1] != 0x2F else { return n > 0 }
        guard n >= 8 else {
            var afterSlash = true
            for c in p {
                if afterSlash, c == 0x2F || c == 0x2E { return true }
                afterSlash = c == 0x2F
            }
            return false
        }
        // The top bit of each byte of the word that equals `b`.
        @inline(__always) func equal(_ x: UInt64, _ b: UInt8) -> UInt64 {
            let t = x ^ (0x0101_0101_0101_0101 &* UInt64(b))
            return ~(((t & 0x7F7F_7F7F_7F7F_7F7F) &+ 0x7F7F_7F7F_7F7F_7F7F) | t) & 0x8080_8080_8080_8080
        }
        // Whether a byte of the word at `at` that follows a '/' (or, with `first`, its first byte) is '/' or '.'.
        @inline(__always) func suspect(_ at: Int, first: Bool) -> Bool {
            let x = UInt64(littleEndian: p.loadUnaligned(fromByteOffset: at, as: UInt64.self))
            let slash = equal(x, 0x2F)
            return (slash << 8 | (first ? 0x80 : 0)) & (slash | equal(x, 0x2E)) != 0
        }
        var at = 0
        while at + 8 <= n {
            if suspect(at, first: at == 0 || p[at - 1] == 0x2F) { return true }
            at += 8
        }
        return at < n && suspect(n - 8, first: p[n - 9] == 0x2F)
    }
}

/// Byte collections with contiguous storage, for `Bytes.same`.
protocol ContiguousCollection: Collection {
    func withContiguousBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R
}

extension Array: ContiguousCollection where Element == UInt8 {
    func withContiguousBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R { try withUnsafeBytes(body) }
}

extension ArraySlice: ContiguousCollection where Element == UInt8 {
    func withContiguousBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R { try withUnsafeBytes(body) }
}
