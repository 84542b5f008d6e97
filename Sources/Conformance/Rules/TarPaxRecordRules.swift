/// The tar-layer rules on the records of pax extended headers (CKA-TAR-021, 023, 024, 041), read through the
/// spans of the body without copying.
extension TarLayerRules {
    /// CKA-TAR-021: no key twice in one extended header.
    func checkDuplicateKeys(_ r: TarPaxBody.Records, at offset: Int64) {
        guard r.count > 1 else { return }
        var reported: [Int] = []
        for i in 1..<r.count where !reported.contains(where: { r.key($0).elementsEqual(r.key(i)) }) {
            if (0..<i).contains(where: { r.key($0).elementsEqual(r.key(i)) }) {
                reported.append(i)
                report("CKA-TAR-021", "pax key '\(r.keyString(i))' appears more than once in one extended header",
                       name: nil, at: offset)
            }
        }
    }

    /// CKA-TAR-023: keys and values are UTF-8 (`SCHILY.xattr.*` values excepted); in v1 non-UTF-8 `path` and
    /// `linkpath` values are names, reported as CKA-TAR-030 warnings with the entry.
    func checkRecordEncoding(_ r: TarPaxBody.Records, at offset: Int64) {
        for i in 0..<r.count {
            let key = r.key(i)
            guard TarPaxBody.isUTF8(key) else {
                report("CKA-TAR-023", "a pax key is not valid UTF-8", name: nil, at: offset)
                continue
            }
            if key.starts(with: "SCHILY.xattr.".utf8) { continue }
            let value = r.value(i)
            if key.elementsEqual("path".utf8) || key.elementsEqual("linkpath".utf8) {
                if value.contains(0) { continue }  // the reader refuses it (malformed)
                if v1 { continue }
            }
            if !TarPaxBody.isUTF8(value) {
                report("CKA-TAR-023", "the value of pax record '\(r.keyString(i))' is not valid UTF-8", name: nil, at: offset)
            }
        }
    }

    /// CKA-TAR-024: `size`, `uid`, `gid` decimal non-negative below 2^63 without sign; `mtime` decimal seconds.
    func checkRecordValues(_ r: TarPaxBody.Records, at offset: Int64) {
        for i in 0..<r.count {
            let key = r.key(i)
            let ok: Bool
            if key.elementsEqual("size".utf8) || key.elementsEqual("uid".utf8) || key.elementsEqual("gid".utf8) {
                ok = Self.isDecimalInteger(r.value(i))
            } else if key.elementsEqual("mtime".utf8) {
                ok = Self.isDecimalTime(r.value(i))
            } else {
                continue
            }
            if !ok {
                report("CKA-TAR-024", "malformed: pax record '\(r.keyString(i))' has the invalid value "
                       + "'\(TarNames.display(Array(r.value(i))))'", name: nil, at: offset)
            }
        }
    }

    static func isDecimalInteger(_ v: UnsafeRawBufferPointer) -> Bool {
        guard !v.isEmpty, v.allSatisfy({ $0 &- 0x30 < 10 }) else { return false }
        let significant = v.drop(while: { $0 == 0x30 })
        guard significant.count <= 19 else { return false }
        var value: UInt64 = 0
        for c in significant { value = value * 10 + UInt64(c - 0x30) }
        return value <= UInt64(Int64.max)
    }

    static func isDecimalTime(_ v: UnsafeRawBufferPointer) -> Bool {
        var s = v[...]
        if s.first == 0x2D { s = s.dropFirst() }
        let dot = s.firstIndex(of: 0x2E) ?? s.endIndex
        let whole = UnsafeRawBufferPointer(rebasing: s[s.startIndex..<dot])
        guard isDecimalInteger(whole) else { return false }
        guard dot < s.endIndex else { return true }
        let fraction = s[(dot + 1)...]
        return !fraction.isEmpty && fraction.allSatisfy { $0 &- 0x30 < 10 }
    }

    /// CKA-TAR-041: v2 xattrs only in `user.`, `security.`, `system.posix_acl_access`, `system.posix_acl_default`.
    func checkXattrNamespaces(_ r: TarPaxBody.Records, at offset: Int64) {
        for i in 0..<r.count where r.key(i).starts(with: "SCHILY.xattr.".utf8) {
            let name = String(r.keyString(i).dropFirst("SCHILY.xattr.".count))
            if name.hasPrefix("user.") || name.hasPrefix("security.") || name == "system.posix_acl_access"
                || name == "system.posix_acl_default" { continue }
            report("CKA-TAR-041", "extended attribute '\(name)' is outside the allowed namespaces", name: nil, at: offset)
        }
    }
}
