import ByteStreams
import CheckpointArchive
import TarFormat

/// The tar-layer rules on an entry's own header fields (CKA-TAR-006, 008, 010, 011, 015, 017, 018, 029, 030), from
/// the header the reader returned and the entry's header block as stored.
extension TarLayerRules {
    /// CKA-TAR-006: v1 accepts ustar, pax and GNU headers, not V7.
    func checkHeaderFormat(_ h: TarHeader) {
        if h.format.contains(.v7) {
            report("CKA-TAR-006", "a V7 header (no ustar magic)", name: Self.name(h), at: h.headerOffset)
        }
    }

    /// The typeflags allowed, as masks of bits numbered by the typeflag byte (all are below 64: NUL and '0' to '6').
    static let v1OuterTypes = typeMask([0x30, 0x00, 0x31, 0x32, 0x35])
    static let v1NestedTypes = v1OuterTypes | typeMask([0x33, 0x34, 0x36])
    /// Typeflags some v2 section allows (which one is CKA-V2-040/041).
    static let v2Types = typeMask([0x30, 0x31, 0x32, 0x33, 0x34, 0x35, 0x36])

    static func typeMask(_ types: [UInt8]) -> UInt64 { types.reduce(0) { $0 | 1 << $1 } }

    /// CKA-TAR-008: the typeflag of the entry header block (GNU sparse 'S' is CKA-TAR-010 as well).
    func checkTypeflag(_ h: TarHeader) {
        let t = hasEntryBlock ? entryBlockBytes[156] : h.type.rawValue
        let allowed: UInt64
        switch format {
        case .v1: allowed = nestedIn == nil ? Self.v1OuterTypes : Self.v1NestedTypes
        case .v2: allowed = Self.v2Types
        }
        guard t >= 64 || allowed & 1 << t == 0 else { return }
        let place: String
        switch format {
        case .v1: place = nestedIn == nil ? "the outer stream of a v1 archive" : "a nested tar"
        case .v2: place = "a v2 archive"
        }
        report("CKA-TAR-008", "typeflag '\(Self.flag(t))' is not allowed in \(place)", name: Self.name(h), at: h.headerOffset)
    }

    /// CKA-TAR-010: no sparse files (GNU 'S', pax `GNU.sparse.*`).
    func checkSparse(_ h: TarHeader) {
        if h.sparse != nil || h.type == .gnuSparse
            || h.paxRecords.contains(where: { $0.key.utf8.first == 0x47 && $0.key.hasPrefix("GNU.sparse.") }) {
            report("CKA-TAR-010", "a sparse file", name: Self.name(h), at: h.headerOffset)
        }
    }

    /// CKA-TAR-011: entries of types 1-6 have size 0.
    func checkHeaderOnlySize(_ h: TarHeader) {
        if h.type.isHeaderOnly, h.size != 0 {
            report("CKA-TAR-011", "a \(h.type) entry with size \(h.size) (must be 0)", name: Self.name(h), at: h.headerOffset)
        }
    }

    /// CKA-TAR-015: a value carried by pax because it does not fit its ustar field leaves that field 0.
    func checkPaxCarriedValues(_ h: TarHeader) {
        guard !h.paxRecords.isEmpty, hasEntryBlock else { return }
        // The last record of each key counts (as `paxValue`): found in one pass, keys told apart by length first.
        var last: (size: Int?, uid: Int?, gid: Int?, mtime: Int?) = (nil, nil, nil, nil)
        for (i, r) in h.paxRecords.enumerated() {
            switch r.key.utf8.count {
            case 3: if r.key == "uid" { last.uid = i } else if r.key == "gid" { last.gid = i }
            case 4: if r.key == "size" { last.size = i }
            case 5: if r.key == "mtime" { last.mtime = i }
            default: break
            }
        }
        for n in Self.paxCarried.indices {
            let index: Int?
            switch n {  // the order of `paxCarried`
            case 0: index = last.size
            case 1: index = last.uid
            case 2: index = last.gid
            default: index = last.mtime
            }
            guard let index else { continue }
            let field = Self.paxCarried[n]
            let record = h.paxRecords[index]
            // The reader parsed the last mtime record into `h.mtime` (or refused the entry).
            let number: Int64? = n == 3 ? h.mtime.seconds : record.value.withUnsafeBytes { bytes -> Int64? in
                Self.isDecimalInteger(bytes) ? Int64(String(decoding: bytes, as: UTF8.self)) : nil
            }
            guard let number, number < 0 || number > field.largestOctal else { continue }
            let value = String(decoding: record.value, as: UTF8.self)
            guard let block = entryBlock else { return }
            if block.isBase256(field) || TarRawBlock.octalValue(block.field(field)) != 0 {
                report("CKA-TAR-015", "\(field.name) \(value) is carried by pax, so the ustar \(field.name) field must hold 0",
                       name: Self.name(h), at: h.headerOffset)
            }
        }
    }

    /// The ustar fields CKA-TAR-015 is about, in the order `checkPaxCarriedValues` relies on; each field's name is its
    /// pax key. (A plain array: a table with a `ClosedRange<Int64>` in it made the runtime instantiate generic
    /// metadata on first use, a search of every protocol conformance in the binary.)
    static let paxCarried = [TarRawBlock.size, TarRawBlock.uid, TarRawBlock.gid, TarRawBlock.mtime]

    /// CKA-TAR-017: v2 mode bits only within 07777.
    func checkModeBits(_ h: TarHeader) {
        if h.mode & ~0o7777 != 0 {
            report("CKA-TAR-017", "mode 0\(String(h.mode, radix: 8)) has bits outside 07777", name: Self.name(h), at: h.headerOffset)
        }
    }

    /// CKA-TAR-018: v2 devmajor and devminor are zero except for devices.
    func checkDeviceFields(_ h: TarHeader) {
        guard h.type != .characterDevice, h.type != .blockDevice, hasEntryBlock else { return }
        // The usual case: both fields hold only '0' digits, spaces and NULs.
        if entryBlockBytes[329..<345].allSatisfy({ $0 == 0x30 || $0 == 0 || $0 == 0x20 }) { return }
        guard let block = entryBlock else { return }
        for f in Self.deviceFields {
            if block.isBase256(f) || (TarRawBlock.octalValue(block.field(f)) ?? 0) != 0 {
                report("CKA-TAR-018", "the \(f.name) field of a \(h.type) entry is not zero", name: Self.name(h), at: h.headerOffset)
            }
        }
    }

    static let deviceFields = [TarRawBlock.devmajor, TarRawBlock.devminor]

    /// CKA-TAR-029 (v2: UTF-8, no NUL) and CKA-TAR-030 (v1: UTF-8, a warning) for the name and link target.
    func checkEncoding(_ h: TarHeader) {
        checkEncoding(h, "name", h.pathBytes)
        if !h.linkBytes.isEmpty { checkEncoding(h, "link target", h.linkBytes) }
    }

    func checkEncoding(_ h: TarHeader, _ what: String, _ bytes: [UInt8]) {
        do {
            let valid = bytes.withUnsafeBytes { TarPaxBody.isUTF8($0) }
            if v1 {
                if !valid { report("CKA-TAR-030", "the \(what) is not valid UTF-8", name: Self.name(h), at: h.headerOffset) }
            } else if !valid || bytes.withUnsafeBytes({ $0.firstOffset(of: 0, in: 0..<$0.count) != nil }) {
                report("CKA-TAR-029", "the \(what) is not valid UTF-8 or contains NUL", name: Self.name(h), at: h.headerOffset)
            }
        }
    }

    static func flag(_ t: UInt8) -> String {
        (0x20..<0x7F).contains(t) ? String(UnicodeScalar(t)) : "\\x" + String(t, radix: 16)
    }
}
