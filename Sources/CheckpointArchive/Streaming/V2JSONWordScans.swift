/// The eight-bytes-at-a-time tests `V2JSONCursor.canonicalFileObject` reads the index's file objects with (each
/// held to a byte-by-byte definition by V2JSONWordTests).
extension V2JSONCursor {
    /// Whether none of the eight bytes of `w` is below 0x20, 0x7F or above, '"' or '\\' (the bytes a path in canonical
    /// JSON may hold unescaped), with the usual word tricks: `v - 0x01...01 & ~v & 0x80...80` is non-zero exactly
    /// when some byte of `v` is zero.
    @inline(__always)
    static func plainWord(_ w: UInt64) -> Bool {
        let ones: UInt64 = 0x0101_0101_0101_0101, high: UInt64 = 0x8080_8080_8080_8080
        @inline(__always) func hasZero(_ v: UInt64) -> Bool { (v &- ones) & ~v & high != 0 }
        // A byte below 0x20: subtracting 0x20 borrows into its top bit (no byte is 0x80 or above here).
        let below = (w &- ones &* 0x20) & ~w & high != 0
        return w & high == 0 && !below && !hasZero(w ^ (ones &* 0x7F)) && !hasZero(w ^ (ones &* 0x22))
            && !hasZero(w ^ (ones &* 0x5C))
    }

    /// Whether all eight bytes of `w` are lowercase hex digits. With no byte at 0x80 or above, adding 0x80 - c to
    /// every byte sets a byte's top bit exactly when the byte is c or more, with no carry between bytes.
    @inline(__always)
    static func lowercaseHexWord(_ w: UInt64) -> Bool {
        let ones: UInt64 = 0x0101_0101_0101_0101, high: UInt64 = 0x8080_8080_8080_8080
        @inline(__always) func atLeast(_ c: UInt64) -> UInt64 { w &+ ones &* (0x80 &- c) }
        let digit = atLeast(0x30) & ~atLeast(0x3A), letter = atLeast(0x61) & ~atLeast(0x67)
        return w & high == 0 && (digit | letter) & high == high
    }
}
