import TarFormat

/// Data alignment (5.8): CKA-ALN-002..005 for every entry, given the header's valid `alignment`
/// (CKA-ALN-001 and 007 are header rules).
enum V2AlignmentRules {
    static let padKey = "CKA.pad"
    static let maxPaxSize: Int64 = 1 << 20

    /// - Parameter alignment: the header's alignment (0 for none), or nil when it is unknown or invalid.
    static func check(_ h: TarHeader, raw: V2RawEntry, records: [V2PaxRecord], alignment: Int64?, report: V2Reporter) {
        let pads = records.filter { $0.key == padKey }
        guard let a = alignment else { return }
        let eligible = a > 0 && h.type.isRegularFile && h.size >= a
        guard eligible else {
            if !pads.isEmpty {
                report("CKA-ALN-003", "CKA.pad on an entry that is not aligned"
                       + (a == 0 ? " (the header declares no alignment)" : ""), h)
            }
            return
        }
        let other = records.filter { $0.key != padKey }.reduce(0) { $0 + Int64($1.length) }
        let size = paxSize(headerAt: h.headerOffset, otherRecords: other, alignment: a)
        if size > maxPaxSize {
            exception(h, pads: pads, report: report)
            return
        }
        offset(h, alignment: a, report: report)
        padRecord(h, pads: pads, report: report)
        if pads.count == 1 { padSize(h, raw: raw, expected: size, report: report) }
    }

    /// The pax data size S of CKA-ALN-004: the smallest s0 + k*A >= L + 13, s0 = (A - (O + 1024) mod A) mod A.
    static func paxSize(headerAt o: Int64, otherRecords l: Int64, alignment a: Int64) -> Int64 {
        var s = (a - (o + 1024) % a) % a
        let needed = l + 13
        if s < needed { s += (needed - s + a - 1) / a * a }
        return s
    }

    /// CKA-ALN-002: the data of an aligned entry starts at a multiple of the alignment.
    static func offset(_ h: TarHeader, alignment a: Int64, report: V2Reporter) {
        if h.dataOffset % a != 0 {
            report("CKA-ALN-002", "data offset \(h.dataOffset) of a file of \(h.size) bytes is not a multiple of \(a)", h)
        }
    }

    /// CKA-ALN-003: exactly one `CKA.pad` record, its value one or more `x`.
    static func padRecord(_ h: TarHeader, pads: [V2PaxRecord], report: V2Reporter) {
        if pads.count != 1 {
            report("CKA-ALN-003", "an aligned entry needs exactly one CKA.pad record, it has \(pads.count)", h)
        } else if pads[0].value.isEmpty || pads[0].value.contains(where: { $0 != 0x78 }) {
            report("CKA-ALN-003", "the value of CKA.pad must be one or more 'x'", h)
        }
    }

    /// CKA-ALN-004: one pax extended header of exactly S bytes, so the data starts at O + 1024 + S.
    static func padSize(_ h: TarHeader, raw: V2RawEntry, expected s: Int64, report: V2Reporter) {
        let actual = raw.paxHeaders.count == 1 ? Int64(raw.paxHeaders[0].body.count) : -1
        if actual != s || h.dataOffset != h.headerOffset + 1024 + s {
            report("CKA-ALN-004", "the pax extended header must hold \(s) bytes of records so the data starts at "
                   + "\(h.headerOffset + 1024 + s)", h)
        }
    }

    /// CKA-ALN-005: when S would exceed 1 MiB the entry is written without CKA.pad, unaligned.
    static func exception(_ h: TarHeader, pads: [V2PaxRecord], report: V2Reporter) {
        if !pads.isEmpty {
            report("CKA-ALN-005", "the padding would exceed 1 MiB: the entry must be written without CKA.pad", h)
        }
    }
}
