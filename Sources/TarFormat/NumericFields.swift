#if canImport(Glibc)
import Glibc
#endif
/// Parsing and formatting of numeric header fields: octal text and GNU base-256 binary.
///
/// Kept apart from I/O so each rule can be tested on bare bytes.
enum NumericFields {
    /// Parses an octal or base-256 field.
    /// - Returns: the value, or nil when the field is neither (bad digit, overflow).
    static func parse(_ field: UnsafeRawBufferPointer) -> Int64? {
        guard let first = field.first else { return 0 }
        if first & 0x80 != 0 { return parseBase256(field) }
        return parseOctal(field)
    }

    /// Octal text with optional leading spaces and trailing spaces or NULs; an all-blank field is 0.
    static func parseOctal(_ field: UnsafeRawBufferPointer) -> Int64? {
        // The usual form, zero-padded digits and a NUL or space at the end, in one loop.
        if field.count >= 2, field.count <= 12, let p = field.baseAddress?.assumingMemoryBound(to: UInt8.self) {
            let last = p[field.count - 1]
            var value: Int64 = 0
            var i = 0
            while i < field.count - 1, p[i] &- 0x30 < 8 {
                value = value << 3 | Int64(p[i] &- 0x30)
                i += 1
            }
            if i == field.count - 1, last == 0 || last == 0x20 { return value }
        }
        var start = 0
        var end = field.count
        // Some writers end the field at the first NUL and leave junk after it.
        if let base = field.baseAddress, let nul = memchr(base, 0, field.count) { end = UnsafeRawPointer(nul) - base }
        while start < end, field[start] == 0x20 { start += 1 }
        while end > start, field[end - 1] == 0x20 || field[end - 1] == 0 { end -= 1 }
        var value: Int64 = 0
        for i in start..<end {
            let c = field[i]
            guard c >= 0x30, c <= 0x37 else { return nil }
            guard value <= (Int64.max >> 3) else { return nil }
            value = value << 3 | Int64(c - 0x30)
        }
        return value
    }

    /// GNU base-256: the top bit of the first byte is set; the next bit is the sign (two's complement).
    static func parseBase256(_ field: UnsafeRawBufferPointer) -> Int64? {
        let negative = field[0] & 0x40 != 0
        let invert: UInt8 = negative ? 0xFF : 0
        var value: UInt64 = 0
        for (i, byte) in field.enumerated() {
            var c = byte ^ invert
            if i == 0 { c &= 0x7F }
            guard value >> 56 == 0 else { return nil }
            value = value << 8 | UInt64(c)
        }
        guard value >> 63 == 0 else { return nil }
        return negative ? ~Int64(value) : Int64(value)
    }

    /// Largest value that fits as octal digits in a field of `width` bytes (one byte is the terminator).
    static func maxOctal(width: Int) -> Int64 { (Int64(1) << (3 * Int64(width - 1))) - 1 }

    /// Writes `value` as zero-padded octal followed by NUL; false when it does not fit.
    static func formatOctal(_ value: Int64, into field: UnsafeMutableRawBufferPointer) -> Bool {
        guard value >= 0, value <= maxOctal(width: field.count) else { return false }
        var v = value
        field[field.count - 1] = 0
        for i in stride(from: field.count - 2, through: 0, by: -1) {
            field[i] = 0x30 + UInt8(v & 7)
            v >>= 3
        }
        return true
    }

    /// Writes `value` in GNU base-256 (any Int64 fits in 8 or more bytes).
    static func formatBase256(_ value: Int64, into field: UnsafeMutableRawBufferPointer) {
        var v = value
        for i in stride(from: field.count - 1, through: 1, by: -1) {
            field[i] = UInt8(truncatingIfNeeded: v)
            v >>= 8
        }
        field[0] = value < 0 ? 0xFF : 0x80
    }
}
