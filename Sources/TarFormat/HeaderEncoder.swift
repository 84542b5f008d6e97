/// Encodes a `TarHeader` into a ustar block plus the pax records for whatever the block cannot hold.
enum HeaderEncoder {
    /// Fills `block` and returns the pax records the entry needs, sorted by key.
    static func encode(_ h: TarHeader, into block: inout [UInt8]) throws -> [PaxRecord] {
        var records: [String: PaxRecord] = [:]
        func needsPax(_ bytes: [UInt8], width: Int) -> Bool {
            bytes.count > width || bytes.contains(where: { $0 >= 0x80 })
        }
        block.withUnsafeMutableBytes { b in
            func put(_ bytes: [UInt8], _ range: Range<Int>) {
                let n = min(bytes.count, range.count)
                for i in 0..<n { b[range.lowerBound + i] = bytes[i] }
            }
            // A value that does not fit its field goes into the pax record of the same name and the field
            // holds 0 (never base-256, which strict ustar readers reject).
            func number(_ v: Int64, _ range: Range<Int>, key: String?) {
                let field = UnsafeMutableRawBufferPointer(rebasing: b[range])
                if !NumericFields.formatOctal(v, into: field) {
                    _ = NumericFields.formatOctal(0, into: field)
                    if let key { records[key] = PaxRecord(key: key, value: String(v)) }
                }
            }
            if needsPax(h.pathBytes, width: 100) { records["path"] = PaxRecord(key: "path", value: h.pathBytes) }
            put(UTF8Cut.prefix(h.pathBytes, maxBytes: 100), HeaderBlock.name)
            if needsPax(h.linkBytes, width: 100) {
                records["linkpath"] = PaxRecord(key: "linkpath", value: h.linkBytes)
            }
            put(UTF8Cut.prefix(h.linkBytes, maxBytes: 100), HeaderBlock.linkname)
            number(h.mode & 0o7777777, HeaderBlock.mode, key: nil)
            number(h.uid, HeaderBlock.uid, key: "uid")
            number(h.gid, HeaderBlock.gid, key: "gid")
            number(h.size, HeaderBlock.size_, key: "size")
            number(h.mtime.seconds, HeaderBlock.mtime, key: "mtime")
            if h.mtime.nanoseconds != 0 { records["mtime"] = PaxRecord(key: "mtime", value: h.mtime.paxString) }
            b[HeaderBlock.typeflag] = h.type.rawValue
            put(Array("ustar\u{0}00".utf8), 257..<265)
            let uname = Array(h.uname.utf8), gname = Array(h.gname.utf8)
            if needsPax(uname, width: 31) { records["uname"] = PaxRecord(key: "uname", value: uname) }
            if needsPax(gname, width: 31) { records["gname"] = PaxRecord(key: "gname", value: gname) }
            put(UTF8Cut.prefix(uname, maxBytes: 31), HeaderBlock.uname)
            put(UTF8Cut.prefix(gname, maxBytes: 31), HeaderBlock.gname)
            let isDevice = h.type == .characterDevice || h.type == .blockDevice
            number(isDevice ? h.devMajor : 0, HeaderBlock.devmajor, key: "SCHILY.devmajor")
            number(isDevice ? h.devMinor : 0, HeaderBlock.devminor, key: "SCHILY.devminor")
            for x in h.xattrs {
                let key = "SCHILY.xattr." + x.name
                records[key] = PaxRecord(key: key, value: x.value)
            }
            // Caller-supplied records (section markers and the like) are kept unless the encoder set the key.
            for r in h.paxRecords where records[r.key] == nil { records[r.key] = r }
            // Checksum: sum of the block with the checksum field as spaces, as six octal digits, NUL, space.
            for i in HeaderBlock.checksum { b[i] = 0x20 }
            let sum = TarHeaderChecksum.unsigned(UnsafeRawBufferPointer(b))
            var v = sum
            for i in stride(from: 153, through: 148, by: -1) { b[i] = 0x30 + UInt8(v & 7); v >>= 3 }
            b[154] = 0
            b[155] = 0x20
        }
        return records.values.sorted { $0.key.utf8.lexicographicallyPrecedes($1.key.utf8) }
    }
}

/// The alignment padding record of CKA-ALN-004: sized so that the entry's data starts at a multiple of the
/// alignment in the uncompressed stream.
enum PaddingRecord {
    /// The smallest padding record (`13 CKA.pad=x\n` for the default key).
    static func minimumLength(key: String) -> Int { 2 + 1 + key.utf8.count + 1 + 1 + 1 }

    /// The pax data size S and the padding record for an entry whose headers start at `headerAt`, whose other
    /// records take `otherLength` bytes: S is the smallest s0 + k*A with S >= L + minimum, where
    /// s0 = (A - (O + 1024) mod A) mod A. Returns nil when S would exceed `maxSize` (CKA-ALN-005).
    static func make(key: String, otherLength: Int, headerAt: Int64, alignment: Int64,
                     maxSize: Int64 = 1 << 20) -> PaxRecord.Encoded? {
        let s0 = (alignment - (headerAt + 1024) % alignment) % alignment
        var size = s0
        let needed = Int64(otherLength + minimumLength(key: key))
        if size < needed { size += ((needed - size + alignment - 1) / alignment) * alignment }
        guard size <= maxSize else { return nil }
        return PaxRecord.Encoded(key: key, filler: 0x78, totalLength: Int(size) - otherLength)
    }
}
