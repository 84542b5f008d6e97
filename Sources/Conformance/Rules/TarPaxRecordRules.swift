import ByteStreams

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
            if key.hasPrefix("SCHILY.xattr.") { continue }
            let value = r.value(i)
            if key.equals("path") || key.equals("linkpath") {
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
            switch key.count {  // the length first: most keys are none of these
            case 3 where key.equals("uid") || key.equals("gid"), 4 where key.equals("size"):
                ok = Self.isDecimalInteger(r.value(i))
            case 5 where key.equals("mtime"):
                ok = Self.isDecimalTime(r.value(i))
            default:
                continue
            }
            if !ok {
                report("CKA-TAR-024", "malformed: pax record '\(r.keyString(i))' has the invalid value "
                       + "'\(TarNames.display(Array(r.value(i))))'", name: nil, at: offset)
            }
        }
    }

    /// Decimal digits only, at most 19 significant ones, at most `Int64.max`.
    static func isDecimalInteger(_ v: UnsafeRawBufferPointer) -> Bool {
        guard let p = v.baseAddress?.assumingMemoryBound(to: UInt8.self), !v.isEmpty else { return false }
        let n = v.count
        var i = 0
        while i < n, p[i] == 0x30 { i += 1 }  // leading zeros are not significant
        // More than 19 significant digits exceed Int64.max; up to 19 cannot overflow a UInt64.
        guard n - i <= 19 else { return false }
        var value: UInt64 = 0
        while i < n {
            let d = p[i] &- 0x30
            guard d < 10 else { return false }
            value = value &* 10 &+ UInt64(d)
            i += 1
        }
        return value <= UInt64(Int64.max)
    }

    /// An optional `-`, a decimal integer, and optionally `.` and one or more digits.
    static func isDecimalTime(_ v: UnsafeRawBufferPointer) -> Bool {
        let start = v.first == 0x2D ? 1 : 0
        var dot = start
        while dot < v.count, v[dot] != 0x2E { dot += 1 }
        guard isDecimalInteger(UnsafeRawBufferPointer(rebasing: v[start..<dot])) else { return false }
        guard dot < v.count else { return true }
        guard dot + 1 < v.count else { return false }
        for i in (dot + 1)..<v.count where v[i] &- 0x30 >= 10 { return false }
        return true
    }

    /// CKA-TAR-041: v2 xattrs only in `user.`, `security.`, `system.posix_acl_access`, `system.posix_acl_default`.
    func checkXattrNamespaces(_ r: TarPaxBody.Records, at offset: Int64) {
        for i in 0..<r.count where r.key(i).hasPrefix("SCHILY.xattr.") {
            let name = String(r.keyString(i).dropFirst("SCHILY.xattr.".count))
            if name.hasPrefix("user.") || name.hasPrefix("security.") || name == "system.posix_acl_access"
                || name == "system.posix_acl_default" { continue }
            report("CKA-TAR-041", "extended attribute '\(name)' is outside the allowed namespaces", name: nil, at: offset)
        }
    }
}
