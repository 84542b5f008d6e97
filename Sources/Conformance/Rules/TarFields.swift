import TarFormat

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

    /// A numeric field: its name, range and the width of its v2 encoding (digits before the terminator).
    struct NumericField {
        let name: String
        let range: Range<Int>
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
    var hasUstarOrGNUMagic: Bool {
        let m = Array(bytes[257..<265])
        return m == Array("ustar\u{0}00".utf8) || m == Array("ustar  \u{0}".utf8)
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
/// in order, duplicates kept. Nil when the body breaks the record grammar (CKA-TAR-020, which the reader
/// reports as malformed).
enum TarPaxBody {
    struct Record {
        var key: [UInt8]
        var value: [UInt8]
        var keyString: String { String(decoding: key, as: UTF8.self) }
    }

    static func records(_ body: [UInt8]) -> [Record]? {
        var out: [Record] = []
        var i = 0
        while i < body.count {
            var j = i
            var length = 0
            while j < body.count, (0x30...0x39).contains(body[j]), j - i < 10 {
                length = length * 10 + Int(body[j] - 0x30)
                j += 1
            }
            guard j > i, body[i] != 0x30, j < body.count, body[j] == 0x20, length > j - i + 1,
                  i + length <= body.count, body[i + length - 1] == 0x0A else { return nil }
            let content = body[(j + 1)..<(i + length - 1)]
            guard let eq = content.firstIndex(of: 0x3D) else { return nil }
            let key = Array(content[content.startIndex..<eq])
            guard !key.isEmpty, !key.contains(0) else { return nil }
            out.append(Record(key: key, value: Array(content[(eq + 1)...])))
            i += length
        }
        return out
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
        var n = raw[...]
        if v1, n.count >= 2, n[n.startIndex] == 0x2E, n[n.startIndex + 1] == 0x2F { n = n.dropFirst(2) }
        if n.last == 0x2F { n = n.dropLast() }
        return .name(Array(n))
    }

    /// Why a normalised name breaks CKA-TAR-034, or nil.
    static func problem(_ name: [UInt8]) -> String? {
        if name.isEmpty { return "the name is empty" }
        if name.first == 0x2F { return "the name is absolute" }
        for c in name.split(separator: 0x2F, omittingEmptySubsequences: false) {
            if c.isEmpty { return "the name has an empty component ('//')" }
            if c.elementsEqual([0x2E]) { return "the name has a '.' component" }
            if c.elementsEqual([0x2E, 0x2E]) { return "the name has a '..' component" }
        }
        return nil
    }

    /// The proper prefixes of a name, component-wise (`a/b/c` -> `a`, `a/b`).
    static func properPrefixes(_ name: [UInt8]) -> [[UInt8]] {
        var out: [[UInt8]] = []
        for (i, c) in name.enumerated() where c == 0x2F && i > 0 { out.append(Array(name[..<i])) }
        return out
    }

    static func display(_ bytes: [UInt8]) -> String { String(decoding: bytes, as: UTF8.self) }
}
