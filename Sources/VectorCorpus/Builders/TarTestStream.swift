import TarFormat

/// A header block built field by field, so that a test can break exactly one thing. Fields are given as the
/// exact bytes of the field (missing bytes are NUL); the checksum is computed (six digits, NUL, space) unless
/// `checksum` is set. The defaults make a v2-conforming regular file.
public struct TarTestHeader {
    public var name = "file"
    public var mode = "0000644\0"
    public var uid = "0000000\0"
    public var gid = "0000000\0"
    /// nil: the data size as 11 octal digits and NUL.
    public var size: String?
    public var mtime = "00000000000\0"
    public var checksum: String?
    public var type: UInt8 = 0x30
    public var linkname = ""
    public var magic = "ustar\u{0}00"
    public var uname = ""
    public var gname = ""
    public var devmajor = "0000000\0"
    public var devminor = "0000000\0"
    public var prefix = ""
    /// Raw bytes written over the block last (before the checksum), at their offset.
    public var patches: [(Int, [UInt8])] = []
    /// Raw bytes for the name field (instead of `name`), e.g. invalid UTF-8.
    public var nameBytes: [UInt8]?

    public init(_ name: String = "file", type: UInt8 = 0x30) {
        self.name = name
        self.type = type
    }

    public func block(dataSize: Int) -> [UInt8] {
        var b = [UInt8](repeating: 0, count: 512)
        func put(_ s: String, _ at: Int) { put(Array(s.utf8), at) }
        func put(_ bytes: [UInt8], _ at: Int) { for (i, c) in bytes.enumerated() { b[at + i] = c } }
        put(nameBytes ?? Array(name.utf8), 0)
        put(mode, 100)
        put(uid, 108)
        put(gid, 116)
        put(size ?? Self.octal(dataSize, digits: 11) + "\0", 124)
        put(mtime, 136)
        b[156] = type
        put(linkname, 157)
        put(magic, 257)
        put(uname, 265)
        put(gname, 297)
        put(devmajor, 329)
        put(devminor, 337)
        put(prefix, 345)
        for (at, bytes) in patches { put(bytes, at) }
        if let checksum {
            put(checksum, 148)
        } else {
            Self.fixChecksum(&b)
        }
        return b
    }

    public static func octal(_ v: Int, digits: Int) -> String {
        let s = String(v, radix: 8)
        return String(repeating: "0", count: max(0, digits - s.count)) + s
    }

    public static func fixChecksum(_ b: inout [UInt8], at offset: Int = 0) {
        for i in 148..<156 { b[offset + i] = 0x20 }
        let sum = b[offset..<(offset + 512)].reduce(0) { $0 + Int($1) }
        let digits = Array(octal(sum, digits: 6).utf8)
        for i in 0..<6 { b[offset + 148 + i] = digits[i] }
        b[offset + 154] = 0
        b[offset + 155] = 0x20
    }
}

/// Builds tar streams from raw pieces.
public enum TarTestStream {
    public static let end = [UInt8](repeating: 0, count: 1024)

    public static func padded(_ data: [UInt8]) -> [UInt8] { data + [UInt8](repeating: 0, count: (512 - data.count % 512) % 512) }

    /// A header and its padded data.
    public static func entry(_ h: TarTestHeader, _ data: [UInt8] = []) -> [UInt8] { h.block(dataSize: data.count) + padded(data) }

    public static func entry(_ h: TarTestHeader, _ text: String) -> [UInt8] { entry(h, Array(text.utf8)) }

    /// A regular file with default fields.
    public static func file(_ name: String, _ text: String = "") -> [UInt8] { entry(TarTestHeader(name), text) }

    public static func dir(_ name: String) -> [UInt8] {
        var h = TarTestHeader(name, type: 0x35)
        h.mode = "0000755\0"
        return entry(h)
    }

    /// A pax record `"<len> key=value\n"`.
    public static func record(_ key: String, _ value: [UInt8]) -> [UInt8] {
        PaxRecord(key: key, value: value).encoded
    }

    public static func record(_ key: String, _ value: String) -> [UInt8] { record(key, Array(value.utf8)) }

    /// An extended header (`x` by default) with the given body.
    public static func extended(_ body: [UInt8], type: UInt8 = 0x78, name: String = "PaxHeaders/file") -> [UInt8] {
        var h = TarTestHeader(name, type: type)
        h.mode = "0000644\0"
        return entry(h, body)
    }

    public static func pax(_ records: [(String, String)]) -> [UInt8] {
        extended(records.flatMap { record($0.0, $0.1) })
    }
}
