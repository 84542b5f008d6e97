import ByteStreams
import TarFormat
#if canImport(Glibc)
import Glibc
#endif

/// How v2 entries are encoded: the v2 column of the tar subset that needs the raw header blocks (CKA-TAR-007,
/// 025, 031, 032, 036, 044) and the v2 rules on pax extended headers (CKA-V2-005, 049, 050, 051).
enum V2EncodingRules {
    static let ids = ["CKA-TAR-007", "CKA-TAR-025", "CKA-TAR-031", "CKA-TAR-032", "CKA-TAR-036", "CKA-TAR-044",
                      "CKA-V2-005", "CKA-V2-049", "CKA-V2-050", "CKA-V2-051"]

    static func check(_ h: TarHeader, raw: V2RawEntry, records: [V2PaxRecord], report: V2Reporter) {
        magic(h, raw: raw, report: report)
        paxKeys(h, records: records, report: report)
        nameField(h, raw: raw, records: records, report: report)
        linkField(h, raw: raw, records: records, report: report)
        nameForm(h, report: report)
        limits(h, raw: raw, records: records, report: report)
        paxHeaderNames(h, raw: raw, report: report)
        recordOrder(h, raw: raw, report: report)
        paxNeeded(h, raw: raw, records: records, report: report)
    }

    private static let ustarMagic = Array("ustar\u{0}00".utf8)
    private static let ustarWord = ustarMagic.withUnsafeBytes { $0.loadUnaligned(as: UInt64.self) }

    /// CKA-TAR-007: every header block carries the magic `ustar\0` and version `00`.
    static func magic(_ h: TarHeader, raw: V2RawEntry, report: V2Reporter) {
        for b in raw.blocks where !b.bytes.withUnsafeBytes({ $0.loadUnaligned(fromByteOffset: 257, as: UInt64.self) == ustarWord }) {
            report("CKA-TAR-007", "a header block without the magic \"ustar\\0\" and version \"00\"", path: h.path,
                   offset: b.offset)
        }
    }

    static let ckaKeys: Set<String> = ["CKA.version", "CKA.section", "CKA.section.critical", "CKA.section.name",
                                       "CKA.index", "CKA.pad"]

    /// CKA-TAR-025: only the pax keys v2 allows; CKA-V2-005: only the `CKA.` keys part 5 defines.
    static func paxKeys(_ h: TarHeader, records: [V2PaxRecord], report: V2Reporter) {
        for r in records where !isPlainKey(r.key) {
            if r.key.hasPrefix("CKA.") {
                if !ckaKeys.contains(r.key) { report("CKA-V2-005", "the record \(r.key) is not defined by part 5", h) }
            } else if !(r.key.hasPrefix("SCHILY.xattr.") && r.key.utf8.count > 13) {
                report("CKA-TAR-025", "the pax record \(r.key) is not allowed in v2", h)
            }
        }
    }

    /// Whether `key` is one of the six standard pax keys v2 allows (compared directly: small strings compare as two
    /// words, cheaper than hashing into a set).
    @inline(__always)
    static func isPlainKey(_ key: String) -> Bool {
        key == "mtime" || key == "path" || key == "size" || key == "linkpath" || key == "uid" || key == "gid"
    }

    /// CKA-V2-005 (and CKA-V2-001 for `CKA.version`): the defined `CKA.` records only where part 5 puts them.
    /// `CKA.pad` is left to the alignment rules.
    static func ckaPlacement(_ h: TarHeader, records: [V2PaxRecord], first: Bool, report: V2Reporter) {
        guard records.contains(where: { $0.key.utf8.first == 0x43 && $0.key.hasPrefix("CKA.") }) else { return }
        let keys = Set(records.map(\.key))
        let marker = keys.contains("CKA.section")
        if !first, keys.contains("CKA.version") { report("CKA-V2-001", "only entry 0 may carry CKA.version", h) }
        if first, marker || keys.contains("CKA.index") {
            report("CKA-V2-005", "the version marker carries a section or index record", h)
        }
        for k in ["CKA.section.critical", "CKA.section.name"] where !marker && keys.contains(k) {
            report("CKA-V2-005", "\(k) on an entry that is not a section marker", h)
        }
        if marker, keys.contains("CKA.index") { report("CKA-V2-005", "a section marker carries CKA.index", h) }
    }

    /// Whether a name or link target cannot stand in its 100-byte ustar field alone.
    static func needsRecord(_ bytes: [UInt8]) -> Bool {
        bytes.count > 100 || !bytes.withUnsafeBufferPointer { $0.isEmpty || Bytes.isASCII($0.baseAddress!, $0.count) }
    }

    /// The longest prefix of at most `max` bytes that ends on a UTF-8 character boundary.
    static func cut(_ bytes: [UInt8], max: Int = 100) -> [UInt8] {
        guard bytes.count > max else { return bytes }
        var n = max
        while n > 0, bytes[n] & 0xC0 == 0x80 { n -= 1 }
        return Array(bytes[..<n])
    }

    static func field(_ block: [UInt8], _ range: Range<Int>) -> [UInt8] {
        Array(block[range].prefix(while: { $0 != 0 }))
    }

    /// The NUL-terminated field `range` of `block`, without copying.
    static func fieldSlice(_ block: [UInt8], _ range: Range<Int>) -> ArraySlice<UInt8> {
        let end = block.withUnsafeBytes { $0.firstOffset(of: 0, in: range) } ?? range.upperBound
        return block[range.lowerBound..<end]
    }

    /// CKA-TAR-031: a name in the `name` field alone when it is ASCII and fits, otherwise a `path` record and
    /// its longest fitting prefix in the field; the `prefix` field all NUL.
    static func nameField(_ h: TarHeader, raw: V2RawEntry, records: [V2PaxRecord], report: V2Reporter) {
        guard let block = raw.entryBlock else { return }
        if !block.withUnsafeBufferPointer({ Bytes.allZero($0.baseAddress! + 345, 155) }) {
            report("CKA-TAR-031", "the ustar prefix field is not empty", h)
        }
        fieldRule("CKA-TAR-031", what: "name", value: h.pathBytes, stored: fieldSlice(block, 0..<100), key: "path",
                  records: records, h, report: report)
    }

    /// CKA-TAR-032: the same for link targets, with `linkpath` and the `linkname` field.
    static func linkField(_ h: TarHeader, raw: V2RawEntry, records: [V2PaxRecord], report: V2Reporter) {
        guard let block = raw.entryBlock else { return }
        fieldRule("CKA-TAR-032", what: "link target", value: h.linkBytes, stored: fieldSlice(block, 157..<257),
                  key: "linkpath", records: records, h, report: report)
    }

    private static func fieldRule(_ id: String, what: String, value: [UInt8], stored: ArraySlice<UInt8>, key: String,
                                  records: [V2PaxRecord], _ h: TarHeader, report: V2Reporter) {
        let hasRecord = !records.isEmpty && records.contains { $0.key == key }
        if needsRecord(value) {
            if !hasRecord {
                report(id, "the \(what) is not ASCII or longer than 100 bytes but has no \(key) record", h)
            } else if !Bytes.same(stored, cut(value)) {
                report(id, "the ustar field must hold the longest prefix of the \(what) that fits 100 bytes", h)
            }
        } else if hasRecord {
            report(id, "a \(key) record for a \(what) that fits the ustar field", h)
        } else if !Bytes.same(stored, value) {
            report(id, "the \(what) must be in its ustar field alone", h)
        }
    }

    /// CKA-TAR-036: no `./` prefix; directory names end with `/`, no other name does.
    static func nameForm(_ h: TarHeader, report: V2Reporter) {
        let b = h.pathBytes
        if b.withUnsafeBytes({ $0.hasPrefix("./") }) { report("CKA-TAR-036", "a v2 name must not start with \"./\"", h) }
        if h.type == .directory, b.last != 0x2F {
            report("CKA-TAR-036", "a directory name must end with \"/\"", h)
        } else if h.type != .directory, b.last == 0x2F {
            report("CKA-TAR-036", "only directory names end with \"/\"", h)
        }
    }

    /// CKA-TAR-044: the limits of table 2.9 for v2 encoders.
    static func limits(_ h: TarHeader, raw: V2RawEntry, records: [V2PaxRecord], report: V2Reporter) {
        let name = h.pathBytes
        let length = name.last == 0x2F ? name.count - 1 : name.count
        var components = 0, longest = 0
        // A name of at most 255 bytes has no component longer than 255 bytes and at most 256 components: only a
        // longer one is walked.
        if length > 255 {
            name.withUnsafeBytes { name in
                UnsafeRawBufferPointer(rebasing: name[..<length]).forEachRun(separatedBy: 0x2F) { r in
                    components += 1
                    longest = max(longest, r.count)
                    return true
                }
            }
        }
        var problems: [String] = []
        if length > 4096 { problems.append("a name longer than 4096 bytes") }
        if longest > 255 { problems.append("a path component longer than 255 bytes") }
        if components > 256 { problems.append("more than 256 path components") }
        if h.type == .symbolicLink || h.type == .hardLink, h.linkBytes.count > 4096 {
            problems.append("a link target longer than 4096 bytes")
        }
        if raw.paxHeaders.contains(where: { $0.body.count > 1 << 20 }) {
            problems.append("pax extended header data larger than 1 MiB")
        }
        var xattrs = 0, largeXattr = false
        for r in records where r.key.utf8.first == 0x53 && r.key.hasPrefix("SCHILY.xattr.") {
            xattrs += 1
            if r.value.count > 65536 { largeXattr = true }
        }
        if xattrs > 128 { problems.append("more than 128 SCHILY.xattr records") }
        if largeXattr { problems.append("an xattr value larger than 65536 bytes") }
        for p in problems { report("CKA-TAR-044", "\(p) (table 2.9)", h) }
    }

    /// The name CKA-V2-049 gives the pax extended header of an entry named `path`.
    static func paxHeaderName(for path: [UInt8]) -> [UInt8] {
        var n = path
        if n.last == 0x2F { n.removeLast() }
        guard let slash = n.lastIndex(of: 0x2F) else { return cut(Array("./PaxHeaders/".utf8) + n) }
        return cut(Array(n[..<slash]) + Array("/PaxHeaders/".utf8) + Array(n[(slash + 1)...]))
    }

    /// An octal numeric field as CKA-TAR-012 reads it; nil when it does not parse.
    static func octal(_ block: [UInt8], _ range: Range<Int>) -> Int64? {
        var i = range.lowerBound
        while i < range.upperBound, block[i] == 0x20 { i += 1 }
        var v: Int64 = 0
        while i < range.upperBound, block[i] >= 0x30, block[i] <= 0x37 {
            v = v * 8 + Int64(block[i] - 0x30)
            i += 1
        }
        guard i == range.upperBound || block[i] == 0 || block[i] == 0x20 else { return nil }
        return v
    }

    /// CKA-V2-049: the name, mode, owner, time and user names of every pax extended header.
    static func paxHeaderNames(_ h: TarHeader, raw: V2RawEntry, report: V2Reporter) {
        for x in raw.paxHeaders {
            let b = x.block
            if isPaxHeaderBlock(b, for: h.pathBytes) { continue }
            var problems: [String] = []
            let expected = paxHeaderName(for: h.pathBytes)
            if field(b, 0..<100) != expected || b[345..<500].contains(where: { $0 != 0 }) {
                problems.append("name must be \"\(String(decoding: expected, as: UTF8.self))\"")
            }
            if octal(b, 100..<108) != 0o644 { problems.append("mode must be 0644") }
            if octal(b, 108..<116) != 0 || octal(b, 116..<124) != 0 { problems.append("uid and gid must be 0") }
            if octal(b, 136..<148) != 0 { problems.append("mtime must be 0") }
            if !field(b, 265..<297).isEmpty || !field(b, 297..<329).isEmpty {
                problems.append("uname and gname must be empty")
            }
            if !problems.isEmpty {
                report("CKA-V2-049", "pax extended header: " + problems.joined(separator: "; "), path: h.path,
                       offset: x.offset)
            }
        }
    }

    /// Whether a pax header block is exactly as CKA-V2-049 asks (name, mode 0644, zero ids and mtime, empty
    /// user names), decided without allocating; the details are worked out only when it is not.
    static func isPaxHeaderBlock(_ b: [UInt8], for path: [UInt8]) -> Bool {
        b.withUnsafeBufferPointer { block in
            path.withUnsafeBufferPointer { name in
                let p = block.baseAddress!
                guard block.count == 512, Bytes.equal(p + 100, "0000644\u{0}"), Bytes.equal(p + 108, "0000000\u{0}"),
                      Bytes.equal(p + 116, "0000000\u{0}"), Bytes.equal(p + 136, "00000000000\u{0}"), p[265] == 0,
                      p[297] == 0, Bytes.allZero(p + 345, 155) else { return false }
                // The name: D/PaxHeaders/B (CKA-V2-049), ASCII and short enough not to be cut.
                var n = name.count
                if n > 0, name[n - 1] == 0x2F { n -= 1 }
                var slash = n - 1
                while slash >= 0, name[slash] != 0x2F { slash -= 1 }
                let dLength = slash >= 0 ? slash : 1
                let full = dLength + 12 + (n - slash - 1)
                guard full <= 100, n == 0 || Bytes.isASCII(name.baseAddress!, n) else { return false }
                if slash >= 0 {
                    guard memcmp(p, name.baseAddress!, dLength) == 0 else { return false }
                } else {
                    guard p[0] == 0x2E else { return false }
                }
                guard Bytes.equal(p + dLength, "/PaxHeaders/"),
                      n - slash - 1 == 0 || memcmp(p + dLength + 12, name.baseAddress! + slash + 1, n - slash - 1) == 0
                else { return false }
                return full == 100 || p[full] == 0
            }
        }
    }

    /// CKA-V2-050: the records of each pax extended header sorted by the byte order of their keys.
    static func recordOrder(_ h: TarHeader, raw: V2RawEntry, report: V2Reporter) {
        // One header's records in stored order: the usual case, checked on the parsed records.
        if raw.paxHeaders.count == 1 {
            let r = raw.records
            if r.count < 2 || zip(r, r.dropFirst()).allSatisfy({ !$1.key.utf8.lexicographicallyPrecedes($0.key.utf8) }) {
                return
            }
        }
        for x in raw.paxHeaders {
            let keys = V2PaxRecord.parse(x.body).map { Array($0.key.utf8) }
            if let i = keys.indices.dropLast().first(where: { keys[$0 + 1].lexicographicallyPrecedes(keys[$0]) }) {
                report("CKA-V2-050", "pax record \(String(decoding: keys[i + 1], as: UTF8.self)) after "
                       + String(decoding: keys[i], as: UTF8.self) + " (records are sorted by key)",
                       path: h.path, offset: x.offset)
            }
        }
    }

    /// CKA-V2-051: a pax extended header only for an entry that needs at least one record.
    static func paxNeeded(_ h: TarHeader, raw: V2RawEntry, records: [V2PaxRecord], report: V2Reporter) {
        guard !raw.paxHeaders.isEmpty else { return }
        let octal11: Int64 = 0o77777777777
        let needed = records.contains { r in
            switch r.key {  // tried in order: mtime, the key most entries carry, first
            case "mtime": return h.mtime.nanoseconds != 0 || h.mtime.seconds < 0 || h.mtime.seconds > octal11
            case "path": return needsRecord(h.pathBytes)
            case "linkpath": return needsRecord(h.linkBytes)
            case "size": return h.size > octal11
            case "uid": return h.uid > 0o7777777
            case "gid": return h.gid > 0o7777777
            default: return r.key.hasPrefix("CKA.") || r.key.hasPrefix("SCHILY.xattr.")
            }
        }
        if !needed { report("CKA-V2-051", "a pax extended header although the entry needs no record", h) }
    }
}
