/// The escape sequences of a JSON string (RFC 8259, section 7), decoded one way for both strict JSON readers of
/// this module: `V1JSON` (legacy metadata) and `V2JSONCursor` (v2 documents, which also note non-canonical
/// escapes for CKA-V2-054).
enum JSONEscape {
    /// Why an escape could not be decoded, at the offset reached.
    struct Failure: Error {
        let reason: String
        let offset: Int
    }

    /// Decodes the escape whose backslash is at `i`, appends its UTF-8 bytes to `out` and leaves `i` after it.
    /// - Parameter byte: the input byte at an offset, nil past the end.
    /// - Returns: whether the escape is canonical (CKA-V2-054): `\"`, `\\`, one of the five short control escapes,
    ///   or a lowercase `\u00xx` for another control character.
    /// - Throws: `Failure` for a truncated or unknown escape, a bad hex digit or a lone surrogate.
    static func decode(at i: inout Int, into out: inout [UInt8], byte: (Int) throws -> UInt8?) throws -> Bool {
        func fail(_ reason: String) -> Failure { Failure(reason: reason, offset: i) }
        func hex4() throws -> (value: UInt32, lowercase: Bool) {
            var v: UInt32 = 0
            var lower = true
            for _ in 0..<4 {
                guard let c = try byte(i) else { throw fail("short \\u escape") }
                switch c {
                case 0x30...0x39: v = v << 4 | UInt32(c - 0x30)
                case 0x61...0x66: v = v << 4 | UInt32(c - 0x61 + 10)
                case 0x41...0x46: v = v << 4 | UInt32(c - 0x41 + 10); lower = false
                default: throw fail("bad hex digit in a \\u escape")
                }
                i += 1
            }
            return (v, lower)
        }
        i += 1  // the backslash
        guard let e = try byte(i) else { throw fail("unterminated escape") }
        i += 1
        switch e {
        case 0x22, 0x5C: out.append(e)
        case 0x62: out.append(0x08)
        case 0x66: out.append(0x0C)
        case 0x6E: out.append(0x0A)
        case 0x72: out.append(0x0D)
        case 0x74: out.append(0x09)
        case 0x2F:
            out.append(0x2F)
            return false
        case 0x75:
            var (v, lower) = try hex4()
            var canonical = v < 0x20 && ![0x08, 0x09, 0x0A, 0x0C, 0x0D].contains(v) && lower
            if (0xD800...0xDBFF).contains(v) {
                guard try byte(i) == 0x5C, try byte(i + 1) == 0x75 else {
                    throw fail("lone surrogate in a \\u escape (not valid UTF-8)")
                }
                i += 2
                let (low, _) = try hex4()
                guard (0xDC00...0xDFFF).contains(low) else { throw fail("invalid surrogate pair (not valid UTF-8)") }
                v = 0x10000 + ((v - 0xD800) << 10) + (low - 0xDC00)
                canonical = false
            } else if (0xDC00...0xDFFF).contains(v) {
                throw fail("lone surrogate in a \\u escape (not valid UTF-8)")
            }
            // Every value left is a Unicode scalar: surrogates were combined or refused above.
            out.append(contentsOf: Array(String(Character(Unicode.Scalar(v)!)).utf8))
            return canonical
        default:
            throw fail("invalid escape")
        }
        return true
    }
}
