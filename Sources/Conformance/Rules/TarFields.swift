import ByteStreams
import TarFormat
#if canImport(Glibc)
import Glibc
#endif

/// The raw view of one 512-byte header block that the tar-layer rules need: field ranges, the strict numeric
/// grammar of CKA-TAR-012, the exact v2 encoding of CKA-TAR-014 and the unused bytes of CKA-TAR-042.
struct TarRawBlock {
    let bytes: [UInt8]
    /// Offset of the block in its tar stream.
    let offset: Int64

    init(_ block: UnsafeRawBufferPointer, offset: Int64) {
        bytes = Array(block)
        self.offset = offset
    }

    init(bytes: [UInt8], offset: Int64) {
        self.bytes = bytes
        self.offset = offset
    }

    /// Whether a header block passes every check of `TarLayerRules` on its fields, decided in one pass without
    /// allocating: the numeric fields follow the octal grammar of CKA-TAR-012 (v1, no base-256), or exactly the
    /// v2 encoding of CKA-TAR-014 with zero unused bytes (CKA-TAR-042). A block that does not pass is looked at
    /// in detail to say what is wrong.
    static func isClean(_ block: UnsafeRawBufferPointer, v2: Bool) -> Bool {
        let b = block.baseAddress!.assumingMemoryBound(to: UInt8.self)
        @inline(__always) func word(_ i: Int) -> UInt64 {
            UInt64(littleEndian: UnsafeRawPointer(b + i).loadUnaligned(as: UInt64.self))
        }
        @inline(__always) func octalField(_ lower: Int, _ upper: Int) -> Bool {
            var i = lower
            if v2 {
                // Octal digits and a NUL, a word at a time: every byte of a digit is 0b00110xxx.
                if upper - lower == 8 { return word(lower) & 0xFFF8_F8F8_F8F8_F8F8 == 0x0030_3030_3030_3030 }
                if upper - lower == 12 {
                    return word(lower) & 0xF8F8_F8F8_F8F8_F8F8 == 0x3030_3030_3030_3030
                        && UInt32(truncatingIfNeeded: word(lower + 4) >> 32) & 0xFFF8_F8F8 == 0x0030_3030
                }
                while i < upper - 1 {
                    guard b[i] &- 0x30 < 8 else { return false }
                    i += 1
                }
                return b[i] == 0
            }
            guard b[i] & 0x80 == 0 else { return false }
            while i < upper, b[i] == 0x20 { i += 1 }
            while i < upper, b[i] &- 0x30 < 8 { i += 1 }
            while i < upper {
                guard b[i] == 0 || b[i] == 0x20 else { return false }
                i += 1
            }
            return true
        }
        // mode, uid, gid, size, mtime; devmajor, devminor.
        guard octalField(100, 108), octalField(108, 116), octalField(116, 124), octalField(124, 136),
              octalField(136, 148), octalField(329, 337), octalField(337, 345) else { return false }
        guard v2 else { return true }
        // The checksum: six octal digits, NUL, space.
        guard word(148) & 0xFFFF_F8F8_F8F8_F8F8 == 0x2000_3030_3030_3030 else { return false }
        // String fields: nothing but NULs after their end (name, linkname, uname, gname, prefix), and the
        // unused tail of the block.
        @inline(__always) func stringField(_ lower: Int, _ upper: Int) -> Bool {
            Bytes.zeroAfterFirstZero(b + lower, upper - lower)
        }
        guard stringField(0, 100), stringField(157, 257), stringField(265, 297), stringField(297, 329),
              stringField(345, 500) else { return false }
        return word(500) == 0 && word(504) == 0
    }

    /// A numeric field: its name, range and the width of its v2 encoding (digits before the terminator).
    struct NumericField {
        let name: String
        let range: Range<Int>

        /// The largest value its octal digits hold (all bytes but the terminator).
        var largestOctal: Int64 { (1 << (3 * Int64(range.count - 1))) - 1 }
    }

    static let mode = NumericField(name: "mode", range: 100..<108)
    static let uid = NumericField(name: "uid", range: 108..<116)
    static let gid = NumericField(name: "gid", range: 116..<124)
    static let size = NumericField(name: "size", range: 124..<136)
    static let mtime = NumericField(name: "mtime", range: 136..<148)
    static let checksum = NumericField(name: "chksum", range: 148..<156)
    static let devmajor = NumericField(name: "devmajor", range: 329..<337)
    static let devminor = NumericField(name: "devminor", range: 337..<345)
    /// The numeric fields other than the checksum (which the reader has verified already).
    static let numericFields = [mode, uid, gid, size, mtime, devmajor, devminor]

    /// The string fields whose bytes after the terminating NUL are unused (CKA-TAR-042).
    static let stringFields: [(name: String, range: Range<Int>)] = [
        ("name", 0..<100), ("linkname", 157..<257), ("uname", 265..<297), ("gname", 297..<329), ("prefix", 345..<500),
    ]
    /// Bytes after the prefix field, unused by ustar.
    static let padding = 500..<512

    var typeflag: UInt8 { bytes[156] }

    func field(_ f: NumericField) -> ArraySlice<UInt8> { bytes[f.range] }

    /// Whether the magic and version are POSIX ustar (`ustar\0` `00`) or GNU (`ustar ` ` \0`); false for V7.
    var hasUstarOrGNUMagic: Bool { bytes.withUnsafeBytes { Self.hasUstarOrGNUMagic($0) } }

    static func hasUstarOrGNUMagic(_ block: UnsafeRawBufferPointer) -> Bool {
        let m = UnsafeRawBufferPointer(rebasing: block[257..<265])
        return m.elementsEqual("ustar\u{0}00".utf8) || m.elementsEqual("ustar  \u{0}".utf8)
    }

    /// The value of an octal field under the grammar of CKA-TAR-012 (nil when it does not parse; 0 when blank).
    static func octalValue(_ field: UnsafeRawBufferPointer) -> Int64? {
        // The usual form is one the grammar accepts, with the same value.
        if let v = TarNumericField.usualOctal(field) { return v }
        var i = 0
        while i < field.count, field[i] == 0x20 { i += 1 }
        var value: Int64 = 0
        while i < field.count, field[i] &- 0x30 < 8 {
            guard value <= Int64.max >> 3 else { return nil }
            value = value << 3 | Int64(field[i] - 0x30)
            i += 1
        }
        while i < field.count {
            guard field[i] == 0 || field[i] == 0x20 else { return nil }
            i += 1
        }
        return value
    }

    /// Whether the field holds a GNU base-256 number (top bit of the first byte set).
    func isBase256(_ f: NumericField) -> Bool { bytes[f.range.lowerBound] & 0x80 != 0 }

    /// Why a field breaks the octal grammar of CKA-TAR-012 (optional leading spaces, octal digits, then a NUL or
    /// space terminator or the end of the field; only NUL and space after the terminator), or nil.
    static func octalProblem(_ field: ArraySlice<UInt8>) -> String? {
        var i = field.startIndex
        while i < field.endIndex, field[i] == 0x20 { i += 1 }
        while i < field.endIndex, (0x30...0x37).contains(field[i]) { i += 1 }
        guard i < field.endIndex else { return nil }
        let c = field[i]
        guard c == 0 || c == 0x20 else { return "byte 0x\(String(c, radix: 16)) is not an octal digit" }
        if let junk = field[i...].first(where: { $0 != 0 && $0 != 0x20 }) {
            return "byte 0x\(String(junk, radix: 16)) after the field's terminator"
        }
        return nil
    }

    /// The value of an octal field (nil when it does not parse; 0 when blank).
    static func octalValue(_ field: ArraySlice<UInt8>) -> Int64? {
        guard octalProblem(field) == nil else { return nil }
        var value: Int64 = 0
        for c in field.drop(while: { $0 == 0x20 }) {
            guard (0x30...0x37).contains(c) else { break }
            guard value <= Int64.max >> 3 else { return nil }
            value = value << 3 | Int64(c - 0x30)
        }
        return value
    }

    /// Why a field is not written as CKA-TAR-014 requires of v2: zero-padded octal digits filling the field but
    /// its last byte, which is NUL; the checksum as six digits, NUL, space.
    func v2EncodingProblem(_ f: NumericField) -> String? {
        let field = bytes[f.range]
        if field.first! & 0x80 != 0 { return "base-256 encoding" }
        let isChecksum = f.range == Self.checksum.range
        let digits = isChecksum ? 6 : f.range.count - 1
        let body = field.prefix(digits)
        guard body.allSatisfy({ (0x30...0x37).contains($0) }) else {
            return "not \(digits) zero-padded octal digits"
        }
        let tail = Array(field.dropFirst(digits))
        let expected: [UInt8] = isChecksum ? [0, 0x20] : [0]
        guard tail == expected else { return isChecksum ? "not terminated by NUL and space" : "not terminated by NUL" }
        return nil
    }
}

/// Strict parsing of a pax extended header body into records, as the rules need them: raw key and value bytes
/// in order, duplicates kept, found without allocating. A body that breaks the record grammar (CKA-TAR-020, which
/// the reader reports as malformed) has no records.
enum TarPaxBody {
    /// Where one record's key and value lie in the body.
    /// Where a record's key and value lie in the body (TarFormat's grammar finds them).
    typealias Span = PaxRecordSpan

    /// The records of a body, read through its spans (valid while the body's bytes are).
    struct Records {
        let body: UnsafeRawBufferPointer
        let spans: [Span]

        var count: Int { spans.count }
        func key(_ i: Int) -> UnsafeRawBufferPointer { UnsafeRawBufferPointer(rebasing: body[spans[i].key]) }
        func value(_ i: Int) -> UnsafeRawBufferPointer { UnsafeRawBufferPointer(rebasing: body[spans[i].value]) }
        func keyString(_ i: Int) -> String { String(decoding: key(i), as: UTF8.self) }
    }

    /// Fills `spans` with the records of `body`; false (and `spans` unusable) when the grammar is broken.
    static func spans(_ body: UnsafeRawBufferPointer, into spans: inout [Span]) -> Bool {
        spans.removeAll(keepingCapacity: true)
        return PaxRecordGrammar.scan(body) { spans.append($0); return true } == nil
    }

    /// Whether bytes are valid UTF-8 (ASCII checked first, without building a string).
    static func isUTF8(_ bytes: UnsafeRawBufferPointer) -> Bool {
        if bytes.isEmpty || Bytes.isASCII(bytes.baseAddress!.assumingMemoryBound(to: UInt8.self), bytes.count) { return true }
        return String(validating: bytes, as: UTF8.self) != nil
    }
}

/// Entry names as part 2.7 normalises them.
enum TarNames {
    enum Normalised: Equatable {
        /// `./` or `.` in v1: the root of the tar (CKA-TAR-035).
        case root
        case name([UInt8])
    }

    /// Strips one leading `./` (v1 only) and one trailing `/`; `./` and `.` are the root in v1.
    static func normalise(_ raw: [UInt8], v1: Bool) -> Normalised {
        if v1, raw == [0x2E, 0x2F] || raw == [0x2E] { return .root }
        let dotSlash = v1 && raw.count >= 2 && raw[0] == 0x2E && raw[1] == 0x2F
        if !dotSlash, raw.last != 0x2F { return .name(raw) }  // nothing to strip: no copy
        var n = raw[...]
        if dotSlash { n = n.dropFirst(2) }
        if n.last == 0x2F { n = n.dropLast() }
        return .name(Array(n))
    }

    /// Why a normalised name breaks CKA-TAR-034, or nil.
    static func problem(_ name: [UInt8]) -> String? {
        if name.isEmpty { return "the name is empty" }
        if name.first == 0x2F { return "the name is absolute" }
        // Every problem below needs a component that is empty or starts with '.': one pass rules that out for the
        // usual name.
        return name.withUnsafeBytes(Bytes.mayHaveDotOrEmptyComponent) ? problemByComponents(name) : nil
    }

    /// `problem`'s answer for a name neither empty nor absolute, component by component.
    private static func problemByComponents(_ name: [UInt8]) -> String? {
        var problem: String?
        name.withUnsafeBytes { p in
            p.forEachRun(separatedBy: 0x2F) { r in
                switch r.count {
                case 0: problem = "the name has an empty component ('//')"
                case 1 where p[r.lowerBound] == 0x2E: problem = "the name has a '.' component"
                case 2 where p[r.lowerBound] == 0x2E && p[r.lowerBound + 1] == 0x2E: problem = "the name has a '..' component"
                default: return true
                }
                return false
            }
        }
        return problem
    }

    /// The proper prefixes of a name, component-wise (`a/b/c` -> `a`, `a/b`).
    static func properPrefixes(_ name: [UInt8]) -> [[UInt8]] {
        var out: [[UInt8]] = []
        for (i, c) in name.enumerated() where c == 0x2F && i > 0 { out.append(Array(name[..<i])) }
        return out
    }

    static func display(_ bytes: [UInt8]) -> String { String(decoding: bytes, as: UTF8.self) }
}
