/// The listing formats of `ckpt list`: JSON Lines (one object per entry) and a `tar -tv`-like line.
public enum TarListing {
    /// One JSON object (no trailing newline) with the keys `path`, `type`, `size`, `mode`, `uid`, `gid`,
    /// `uname`, `gname`, `mtime`, and where they apply `linkname`, `devmajor`, `devminor`, `xattrs`.
    ///
    /// `size` is the logical size (sparse files included); `mtime` is a number of seconds, fractional
    /// when the archive records sub-seconds. Xattr values that are not UTF-8 are written as
    /// `{"base64": "..."}`.
    public static func jsonLine(_ h: TarHeader) -> String {
        var o = JSONObjectWriter()
        o.string("path", h.path)
        o.string("type", h.type.listingName)
        o.raw("size", String(h.size))
        o.raw("mode", String(h.mode))
        o.raw("uid", String(h.uid))
        o.raw("gid", String(h.gid))
        o.string("uname", h.uname)
        o.string("gname", h.gname)
        o.raw("mtime", mtimeNumber(h.mtime))
        if h.type == .symbolicLink || h.type == .hardLink { o.string("linkname", h.linkName) }
        if h.type == .characterDevice || h.type == .blockDevice {
            o.raw("devmajor", String(h.devMajor))
            o.raw("devminor", String(h.devMinor))
        }
        if !h.xattrs.isEmpty {
            var x = JSONObjectWriter()
            for attr in h.xattrs {
                if let text = String(validating: attr.value, as: UTF8.self) {
                    x.string(attr.name, text)
                } else {
                    var b = JSONObjectWriter()
                    b.string("base64", Base64.encode(attr.value))
                    x.raw(attr.name, b.finish())
                }
            }
            o.raw("xattrs", x.finish())
        }
        return o.finish()
    }

    /// A line like `tar -tv`: mode string, owner/group, size, mtime (UTC), name, and link target.
    public static func longLine(_ h: TarHeader) -> String {
        let kind: Character
        switch h.type {
        case .directory: kind = "d"
        case .symbolicLink: kind = "l"
        case .hardLink: kind = "h"
        case .characterDevice: kind = "c"
        case .blockDevice: kind = "b"
        case .fifo: kind = "p"
        default: kind = "-"
        }
        var perms = String(kind)
        let bits = Array("rwxrwxrwx")
        for i in 0..<9 { perms.append(h.mode & (1 << (8 - i)) != 0 ? bits[i] : "-") }
        let owner = "\(h.uname.isEmpty ? String(h.uid) : h.uname)/\(h.gname.isEmpty ? String(h.gid) : h.gname)"
        let size = (h.type == .characterDevice || h.type == .blockDevice) ? "\(h.devMajor),\(h.devMinor)" : String(h.size)
        var line = "\(perms) \(owner) \(size) \(UTCDate.format(h.mtime.seconds)) \(h.path)"
        if h.type == .symbolicLink { line += " -> \(h.linkName)" }
        if h.type == .hardLink { line += " link to \(h.linkName)" }
        return line
    }

    static func mtimeNumber(_ t: TarTime) -> String {
        if t.nanoseconds == 0 { return String(t.seconds) }
        // Parse the exact decimal so the double is correctly rounded (as Python's float() of the record).
        let exact = t.paxString
        return Double(exact).map { String($0) } ?? exact
    }
}

/// A minimal, ordered JSON object builder with RFC 8259 string escaping.
public struct JSONObjectWriter {
    private var text = "{"
    private var first = true

    public init() {}

    /// Adds a string member.
    public mutating func string(_ key: String, _ value: String) { raw(key, Self.quote(value)) }

    /// Adds a member whose value is already JSON (a number, object, array, true/false/null).
    public mutating func raw(_ key: String, _ json: String) {
        if !first { text += "," }
        first = false
        text += Self.quote(key)
        text += ":"
        text += json
    }

    /// The finished object.
    public func finish() -> String { text + "}" }

    /// A JSON string literal for `s`.
    public static func quote(_ s: String) -> String {
        var out = "\""
        out.reserveCapacity(s.utf8.count + 2)
        for scalar in s.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            default:
                if scalar.value < 0x20 {
                    let hex = String(scalar.value, radix: 16)
                    out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        return out + "\""
    }
}

/// Base64 (RFC 4648) for the rare binary values in listings.
enum Base64 {
    static func encode(_ bytes: [UInt8]) -> String {
        let table = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)
        var out: [UInt8] = []
        var i = 0
        while i < bytes.count {
            let n = min(3, bytes.count - i)
            var v = UInt32(bytes[i]) << 16
            if n > 1 { v |= UInt32(bytes[i + 1]) << 8 }
            if n > 2 { v |= UInt32(bytes[i + 2]) }
            out.append(table[Int(v >> 18 & 63)])
            out.append(table[Int(v >> 12 & 63)])
            out.append(n > 1 ? table[Int(v >> 6 & 63)] : 0x3D)
            out.append(n > 2 ? table[Int(v & 63)] : 0x3D)
            i += 3
        }
        return String(decoding: out, as: UTF8.self)
    }
}

/// UTC calendar formatting without Foundation (civil-from-days, H. Hinnant's algorithm).
enum UTCDate {
    static func format(_ seconds: Int64) -> String {
        let days = seconds >= 0 ? seconds / 86400 : (seconds - 86399) / 86400
        let secs = seconds - days * 86400
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let d = doy - (153 * mp + 2) / 5 + 1
        let m = mp < 10 ? mp + 3 : mp - 9
        let y = yoe + era * 400 + (m <= 2 ? 1 : 0)
        func two(_ v: Int64) -> String { v < 10 ? "0\(v)" : "\(v)" }
        return "\(y)-\(two(m))-\(two(d)) \(two(secs / 3600)):\(two(secs / 60 % 60))"
    }
}
