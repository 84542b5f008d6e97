#if canImport(Glibc)
import Glibc
#endif

/// The index's file objects in their canonical form, read without allocating: most of an index is a long run of
/// them, so the walks try this first and fall back to the general grammar (eight-bytes-at-a-time tests in
/// V2JSONWordScans.swift).
extension V2JSONCursor {
    /// A file object of the index in exactly the canonical form (table 5.8: `{"path":"...","size":N,"offset":N,
    /// "sha256":"<64 lowercase hex>"}` with a printable ASCII path that needs no escape), read without allocating:
    /// the positions of the path's bytes and of the digest's hex digits in the input, which stay loaded until the
    /// next `peek`. Nil, having consumed nothing, for anything else (the general walk then reads it).
    public mutating func canonicalFileObject() throws -> (path: Range<Int>, size: Int64, offset: Int64, sha256: Range<Int>)? {
        let start = at
        guard let f = try input.withLoaded(from: start, count: Self.canonicalFileWindow, Self.canonicalFile) else { return nil }
        at = start + f.length
        return (f.path.lowerBound + start..<f.path.upperBound + start, f.size, f.offset,
                f.sha256.lowerBound + start..<f.sha256.upperBound + start)
    }

    /// `canonicalFileObject()` for a walk that needs the fields only where they lie: a canonical file object (no
    /// whitespace before it either) is consumed and `body` called with the path's bytes and the digest's hex
    /// digits in the input, valid during the call; true then. False, having consumed nothing and called nothing,
    /// for anything else. The input may drop what lies before the object, as after `peek`.
    public mutating func canonicalFileObject(
        _ body: (_ path: UnsafeRawBufferPointer, _ size: Int64, _ offset: Int64, _ sha256: UnsafeRawBufferPointer) throws -> Void
    ) throws -> Bool {
        let start = at
        input.release(before: start)
        return try input.withLoaded(from: start, count: Self.canonicalFileWindow) { b -> Bool in
            guard let f = Self.canonicalFile(b) else { return false }
            at = start + f.length
            let base = UnsafeRawPointer(b.baseAddress!)
            try body(UnsafeRawBufferPointer(start: base + f.path.lowerBound, count: f.path.count), f.size, f.offset,
                     UnsafeRawBufferPointer(start: base + f.sha256.lowerBound, count: 64))
            return true
        }
    }

    /// A canonical file object with a path of up to 4096 bytes fits in this many bytes.
    private static let canonicalFileWindow = 4400

    /// The canonical file object at the start of `b`: where its path and digest lie in `b`, its values and its
    /// length; nil when `b` does not start with one.
    private static func canonicalFile(_ b: UnsafeBufferPointer<UInt8>)
        -> (path: Range<Int>, size: Int64, offset: Int64, sha256: Range<Int>, length: Int)? {
        guard let base = b.baseAddress, b.count >= 2, base[0] == 0x7B else { return nil }
        let end = base + b.count
        var p = base
        @inline(__always) func literal(_ word: StaticString) -> Bool {
            let n = word.utf8CodeUnitCount
            guard end - p >= n, memcmp(p, word.utf8Start, n) == 0 else { return false }
            p += n
            return true
        }
        // 1 to 18 digits, with no leading zero but in 0 itself.
        @inline(__always) func integer() -> Int64? {
            let s = p
            let limit = end - s > 18 ? s + 18 : end
            var v: Int64 = 0
            while p < limit {
                let d = p.pointee &- 0x30
                guard d < 10 else { break }
                v = v &* 10 &+ Int64(d)
                p += 1
            }
            guard p > s, p - s == 1 || s.pointee != 0x30 else { return nil }
            return v
        }
        guard literal("{\"path\":\"") else { return nil }
        let pathStart = p
        // Eight bytes at a time while none is a control byte, DEL or above, '"' or '\\', then byte by byte.
        while end - p >= 8, plainWord(UnsafeRawPointer(p).loadUnaligned(as: UInt64.self)) { p += 8 }
        while p < end, p.pointee >= 0x20, p.pointee < 0x7F, p.pointee != 0x22, p.pointee != 0x5C { p += 1 }
        let pathEnd = p
        guard literal("\",\"size\":"), let size = integer(), literal(",\"offset\":"), let offset = integer(),
              literal(",\"sha256\":\""), end - p >= 64 else { return nil }
        let shaStart = p
        for k in stride(from: 0, to: 64, by: 8) where !lowercaseHexWord(UnsafeRawPointer(p + k).loadUnaligned(as: UInt64.self)) {
            return nil
        }
        p += 64
        guard literal("\"}") else { return nil }
        return ((pathStart - base)..<(pathEnd - base), size, offset, (shaStart - base)..<(shaStart - base + 64), p - base)
    }
}
