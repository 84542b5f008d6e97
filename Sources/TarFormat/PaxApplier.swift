/// Applies the standard pax keys to a header; unknown keys are left to `TarHeader.paxRecords`.
enum PaxApplier {
    static func apply(_ r: PaxRecord, to h: inout TarHeader, sparseName: inout [UInt8]?) throws(TarError.Kind) {
        // The cases are tried in order: the keys most entries carry come first.
        switch r.key {
        case "mtime": h.mtime = try time(r)
        case "path": if !r.value.isEmpty { h.pathBytes = r.value }
        case "size": h.size = try decimal(r, allowNegative: false)
        case "linkpath": if !r.value.isEmpty { h.linkBytes = r.value }
        case "uname": h.uname = r.stringValue
        case "gname": h.gname = r.stringValue
        case "uid": h.uid = try decimal(r, allowNegative: false)
        case "gid": h.gid = try decimal(r, allowNegative: false)
        case "atime": h.atime = try time(r)
        case "ctime": h.ctime = try time(r)
        case "GNU.sparse.name": sparseName = r.value
        default:
            if r.key.hasPrefix("SCHILY.xattr.") {
                let name = String(r.key.dropFirst("SCHILY.xattr.".count))
                h.xattrs.removeAll { $0.name == name }
                h.xattrs.append(TarXattr(name: name, value: r.value))
            }
        }
    }

    /// A decimal value (`size`, `uid`, `gid`): digits only, a sign where allowed.
    static func decimal(_ r: PaxRecord, allowNegative: Bool) throws(TarError.Kind) -> Int64 {
        let s = r.stringValue
        guard !s.isEmpty, let v = Int64(s), allowNegative || v >= 0,
              s.utf8.allSatisfy({ ($0 >= 0x30 && $0 <= 0x39) || $0 == 0x2D }) else {
            throw .invalidPaxValue(key: r.key)
        }
        return v
    }

    private static func time(_ r: PaxRecord) throws(TarError.Kind) -> TarTime {
        // Parsed from the bytes: a time is ASCII, and bytes that are not fail the parse either way.
        guard let t = r.value.withUnsafeBytes({ TarTime.parse($0) }) else { throw .invalidPaxValue(key: r.key) }
        return t
    }
}
