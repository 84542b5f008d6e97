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
            func number(_ v: Int64, _ range: Range<Int>, key: String?) {
                let field = UnsafeMutableRawBufferPointer(rebasing: b[range])
                if !NumericFields.formatOctal(v, into: field) {
                    NumericFields.formatBase256(v, into: field)
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
            if h.type == .characterDevice || h.type == .blockDevice {
                number(h.devMajor, HeaderBlock.devmajor, key: "SCHILY.devmajor")
                number(h.devMinor, HeaderBlock.devminor, key: "SCHILY.devminor")
            }
            for x in h.xattrs {
                let key = "SCHILY.xattr." + x.name
                records[key] = PaxRecord(key: key, value: x.value)
            }
            // Caller-supplied records (section markers and the like) are kept unless the encoder set the key.
            for r in h.paxRecords where records[r.key] == nil { records[r.key] = r }
            // Checksum: sum of the block with the checksum field as spaces, as six octal digits, NUL, space.
            for i in HeaderBlock.checksum { b[i] = 0x20 }
            let sum = HeaderBlock.checksums(UnsafeRawBufferPointer(b)).unsigned
            var v = sum
            for i in stride(from: 153, through: 148, by: -1) { b[i] = 0x30 + UInt8(v & 7); v >>= 3 }
            b[154] = 0
            b[155] = 0x20
        }
        return records.values.sorted { $0.key.utf8.lexicographicallyPrecedes($1.key.utf8) }
    }
}

/// The alignment padding record: sized so that the entry's data starts at a multiple of the alignment.
enum PaddingRecord {
    /// Returns `records` plus a padding record such that, with the pax header at `headerAt`, the data
    /// (after the `x` block, the padded record body and the entry's own block) lands on `alignment`.
    static func pad(_ records: [PaxRecord], key: String, headerAt: Int64, alignment: Int64) -> [PaxRecord] {
        let base = records.reduce(0) { $0 + $1.encoded.count }
        let minimalPad = PaxRecord(key: key, value: []).encoded.count
        // The body occupies k blocks; the data then starts at headerAt + 512 + 512k + 512.
        var k = Int64((base + minimalPad + 511) / 512)
        while true {
            while (headerAt + 1024 + 512 * k) % alignment != 0 { k += 1 }
            let target = Int(512 * k) - base
            // A value length whose record is exactly `target` bytes; a few targets have none (the length
            // prefix gains a digit), and then the next aligned block count is tried.
            var v = target - minimalPad
            while v >= 0 {
                let n = PaxRecord(key: key, value: [UInt8](repeating: 0x30, count: v)).encoded.count
                if n == target {
                    var out = records
                    out.append(PaxRecord(key: key, value: [UInt8](repeating: 0x30, count: v)))
                    return out.sorted { $0.key.utf8.lexicographicallyPrecedes($1.key.utf8) }
                }
                if n < target { break }
                v -= 1
            }
            k += 1
        }
    }
}
