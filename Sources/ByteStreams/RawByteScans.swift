#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The byte scans of the readers' and the validator's hot paths, on raw memory: comparisons with literals by
/// `memcmp`, byte searches by `memchr`, common prefixes a word at a time.
extension UnsafeRawBufferPointer {
    /// Whether these bytes are exactly the UTF-8 of `literal`: one length test and a `memcmp`, where comparing
    /// with `literal.utf8` of a `String` goes through the generic `elementsEqual` a byte at a time.
    @inlinable
    public func equals(_ literal: StaticString) -> Bool {
        count == literal.utf8CodeUnitCount && (count == 0 || memcmp(baseAddress!, literal.utf8Start, count) == 0)
    }

    /// Whether these bytes begin with the UTF-8 of `literal`.
    @inlinable
    public func hasPrefix(_ literal: StaticString) -> Bool {
        let n = literal.utf8CodeUnitCount
        return count >= n && (n == 0 || memcmp(baseAddress!, literal.utf8Start, n) == 0)
    }

    /// The offset of the first `byte` within `range` (found with `memchr`), nil when `range` holds none.
    @inlinable
    public func firstOffset(of byte: UInt8, in range: Range<Int>) -> Int? {
        guard !range.isEmpty, let base = baseAddress,
              let hit = memchr(base + range.lowerBound, Int32(byte), range.count) else { return nil }
        return UnsafeRawPointer(hit) - base
    }

    /// Calls `body` with the bounds of each run of bytes between `separator`s, first to last, empty runs included
    /// (`a//b/` has four, an empty buffer one), until `body` returns false.
    @inlinable
    public func forEachRun(separatedBy separator: UInt8, _ body: (Range<Int>) -> Bool) {
        var start = 0
        while true {
            let end = firstOffset(of: separator, in: start..<count) ?? count
            guard body(start..<end), end < count else { return }
            start = end + 1
        }
    }

    /// The length of the longest common prefix of these bytes and `other`, compared eight bytes at a time while
    /// they agree.
    @inlinable
    public func commonPrefixLength(with other: UnsafeRawBufferPointer) -> Int {
        let limit = Swift.min(count, other.count)
        var i = 0
        while i + 8 <= limit,
              loadUnaligned(fromByteOffset: i, as: UInt64.self) == other.loadUnaligned(fromByteOffset: i, as: UInt64.self) {
            i += 8
        }
        while i < limit, self[i] == other[i] { i += 1 }
        return i
    }
}
