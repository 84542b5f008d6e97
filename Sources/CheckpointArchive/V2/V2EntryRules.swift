import TarFormat

/// The decoder rules every v2 entry's headers must meet before the decoder interprets the entry: the `CKA.`
/// records only where part 5 puts them (CKA-V2-001, CKA-V2-005), no size on entries that carry no data
/// (CKA-TAR-011), and a ustar field left 0 when pax carries a value that does not fit it (CKA-TAR-015).
///
/// `CKA.pad` is not placed here: a decoder ignores its value (CKA-ALN-006), and where it may appear is an
/// encoder rule (CKA-ALN-003).
enum V2EntryRules {
    /// The `CKA.` keys part 5 defines.
    static let definedKeys: Set<String> = ["CKA.version", "CKA.section", "CKA.section.critical", "CKA.section.name",
                                           "CKA.index", "CKA.pad"]

    /// Checks one entry.
    /// - Parameters:
    ///   - first: whether the entry is entry 0 (the version marker).
    ///   - block: the entry's own ustar header block, when the reader's observer kept it.
    /// - Throws: `CheckpointError` naming the requirement, the entry and its header offset.
    static func check(_ h: TarHeader, first: Bool, block: [UInt8]?, signedChecksumAt: Int64? = nil) throws {
        if let at = signedChecksumAt {
            // The reader takes a checksum computed over signed bytes (old Sun tar); the specification does not.
            throw CheckpointError("CKA-TAR-004", "malformed: the header checksum is the sum of the bytes taken as "
                                  + "signed values, not unsigned", entry: h.path, offset: at)
        }
        for (what, bytes) in [("name", h.pathBytes), ("link target", h.linkBytes)]
        where bytes.contains(0) || String(validating: bytes, as: UTF8.self) == nil {
            throw CheckpointError("CKA-TAR-029", "the \(what) is not valid UTF-8 without NUL", entry: h.path,
                                  offset: h.headerOffset)
        }
        try ckaRecords(h, first: first)
        if h.type.isHeaderOnly, h.size != 0 {
            throw CheckpointError("CKA-TAR-011", "a \(h.type.listingName) entry must have size 0, not \(h.size)",
                                  entry: h.path, offset: h.headerOffset)
        }
        if let block { try paxCarriedValues(h, block: block) }
    }

    /// CKA-V2-005 (CKA-V2-001 for `CKA.version`): only the defined keys, each on the entries that may carry it.
    static func ckaRecords(_ h: TarHeader, first: Bool) throws {
        let keys = Set(h.paxRecords.map(\.key).filter { $0.hasPrefix("CKA.") })
        guard !keys.isEmpty else { return }
        func refuse(_ id: String, _ why: String) -> CheckpointError {
            CheckpointError(id, why, entry: h.path, offset: h.headerOffset)
        }
        if let unknown = keys.subtracting(definedKeys).sorted().first {
            throw refuse("CKA-V2-005", "the pax record \(unknown) is not defined by the specification")
        }
        if !first, keys.contains("CKA.version") { throw refuse("CKA-V2-001", "only entry 0 may carry CKA.version") }
        let marker = keys.contains("CKA.section")
        if first, marker || keys.contains("CKA.index") {
            throw refuse("CKA-V2-005", "the version marker carries a section or index record")
        }
        for k in ["CKA.section.critical", "CKA.section.name"] where !marker && keys.contains(k) {
            throw refuse("CKA-V2-005", "\(k) on an entry that is not a section marker")
        }
        if marker, keys.contains("CKA.index") { throw refuse("CKA-V2-005", "a section marker carries CKA.index") }
    }

    /// The ustar numeric fields pax may stand in for: key, offset and width in the header block (CKA-TAR-015). A
    /// field holds 0 to the largest number its octal digits (all bytes but the terminator) can write.
    static let paxCarried: [(key: String, offset: Int, width: Int)] = [
        ("uid", 108, 8),
        ("gid", 116, 8),
        ("size", 124, 12),
        ("mtime", 136, 12),
    ]

    /// CKA-TAR-015: a value that does not fit its ustar field travels in pax, and the field then holds 0 (a reader
    /// that ignores pax must not see a different, plausible value).
    static func paxCarriedValues(_ h: TarHeader, block: [UInt8]) throws {
        guard block.count == 512 else { return }
        for field in paxCarried {
            guard let text = h.paxValue(field.key) else { continue }
            let value = field.key == "mtime" ? TarTime(paxString: text)?.seconds : Int64(text)
            guard let value, value < 0 || value > (1 << (3 * Int64(field.width - 1))) - 1 else { continue }
            let bytes = block[field.offset..<(field.offset + field.width)]
            if !bytes.allSatisfy({ $0 == 0x30 || $0 == 0x20 || $0 == 0 }) {
                throw CheckpointError("CKA-TAR-015", "\(field.key) \(text) is carried by pax, so the ustar \(field.key) "
                                      + "field must hold 0", entry: h.path, offset: h.headerOffset)
            }
        }
    }
}

/// Keeps the last header block a `TarReader` verified: after `next()` returns an entry, that is the entry's own
/// ustar block (extended headers come before it). It also notes the first header block of the entry whose
/// checksum holds only as a signed sum (CKA-TAR-004). The decoder keeps it too.
final class LastHeaderBlock: TarReaderObserver {
    private(set) var bytes: [UInt8]?
    /// Offset of a block of the current entry's headers with a signed-only checksum; reset by `startEntry()`.
    private(set) var signedChecksumAt: Int64?

    /// Forgets what was noted for the previous entry.
    func startEntry() { signedChecksumAt = nil }

    func tarReader(_ reader: TarReader, readHeaderBlock block: UnsafeRawBufferPointer, at offset: Int64) {
        bytes = Array(block)
        guard signedChecksumAt == nil else { return }
        let sum = TarHeaderChecksum.unsigned(block)
        let field = block[TarHeaderChecksum.field].prefix { $0 != 0 && $0 != 0x20 }
        if let recorded = Int64(String(decoding: field.drop { $0 == 0x20 }, as: UTF8.self), radix: 8), recorded != sum {
            signedChecksumAt = offset
        }
    }

    func tarReader(_ reader: TarReader, readExtendedHeaderBody body: [UInt8], at offset: Int64) {}

    func tarReader(_ reader: TarReader, sawNonZeroPaddingAt offset: Int64) {}
}
