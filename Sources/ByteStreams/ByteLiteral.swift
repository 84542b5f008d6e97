#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

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
}
