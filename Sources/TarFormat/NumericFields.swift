#if canImport(Glibc)
import Glibc
#endif
/// Parsing and formatting of numeric header fields: octal text and GNU base-256 binary.
///
/// Kept apart from I/O so each rule can be tested on bare bytes.
enum NumericFields {
    /// Parses an octal or base-256 field.
    /// - Returns: the value, or nil when the field is neither (bad digit, overflow).
    @inline(__always)
    static func parse(_ field: UnsafeRawBufferPointer) -> Int64? {
        guard let first = field.first else { return 0 }
        if first & 0x80 != 0 { return parseBase256(field) }
        return parseOctal(field)
    }

    /// Octal text with optional leading spaces and trailing spaces or NULs; an all-blank field is 0.
    @inline(__always)
    static func parseOctal(_ field: UnsafeRawBufferPointer) -> Int64? {
        // The usual form, compiled into each caller; anything else out of line.
        if let v = parseUsualOctal(field) { return v }
        return parseOtherOctal(field)
    }

    /// The usual form, zero-padded digits and a NUL or space at the end, a word at a time for the 8- and 12-byte
    /// fields of a header; nil for any other form (which may still be valid).
    @inline(__always)
    static func parseUsualOctal(_ field: UnsafeRawBufferPointer) -> Int64? {
        if let base = field.baseAddress {
            if field.count == 8 {
                let w = UInt64(littleEndian: base.loadUnaligned(as: UInt64.self))
                if let v = octalDigits(w << 8 | 0x30, terminator: UInt8(truncatingIfNeeded: w >> 56)) { return Int64(v) }
                // The checksum's form: six digits, NUL, space.
                if w >> 48 == 0x2000, let v = octalDigits(w << 16 | 0x3030, terminator: 0) { return Int64(v) }
            } else if field.count == 12 {
                let w = UInt64(littleEndian: base.loadUnaligned(as: UInt64.self))
                let t = UInt32(littleEndian: base.loadUnaligned(fromByteOffset: 8, as: UInt32.self))
                // Eight digits, then the last three (bytes 8-10) after five '0' digits.
                if let high = octalDigits(w, terminator: 0),
                   let low = octalDigits(UInt64(t & 0x00FF_FFFF) << 40 | 0x0000_0030_3030_3030,
                                         terminator: UInt8(truncatingIfNeeded: t >> 24)) {
                    return Int64(high << 9 | low)
                }
            }
        }
        return nil
    }

    /// The forms `parseUsualOctal` leaves: other widths, leading spaces, junk after a NUL.
    @inline(never)
    static func parseOtherOctal(_ field: UnsafeRawBufferPointer) -> Int64? {
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

    /// The value of eight octal digits in a little-endian word (the first byte the most significant digit), when
    /// every byte is an octal digit and `terminator` is NUL or space; nil otherwise.
    @inline(__always)
    private static func octalDigits(_ w: UInt64, terminator: UInt8) -> UInt64? {
        guard terminator == 0 || terminator == 0x20, w & 0xF8F8_F8F8_F8F8_F8F8 == 0x3030_3030_3030_3030 else {
            return nil
        }
        let d = w & 0x0707_0707_0707_0707
        // Pairs of digits into 16-bit lanes, pairs of those into 32-bit lanes, then the two halves.
        let pairs = ((d & 0x00FF_00FF_00FF_00FF) << 3) + ((d >> 8) & 0x00FF_00FF_00FF_00FF)
        let quads = ((pairs & 0x0000_FFFF_0000_FFFF) << 6) + ((pairs >> 16) & 0x0000_FFFF_0000_FFFF)
        return ((quads & 0xFFFF_FFFF) << 12) + (quads >> 32)
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

/// Numeric header fields for other modules: the fast path of a validator's own field checks.
public enum TarNumericField {
    /// The value of an 8- or 12-byte field in its usual form (zero-padded octal digits, then a NUL or space; or
    /// the checksum's six digits, NUL, space), or nil for any other form, which may still be valid.
    public static func usualOctal(_ field: UnsafeRawBufferPointer) -> Int64? {
        NumericFields.parseUsualOctal(field)
    }
}
