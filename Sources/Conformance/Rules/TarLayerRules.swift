import CheckpointArchive
import TarFormat

/// The tar-layer rules (part 2) for one tar stream: the outer stream of an archive, or a v1 nested tar
/// (`nestedIn` names it and `baseOffset` is where its data starts in the outer stream, so that offsets are outer
/// offsets).
///
/// Feed it as a `TarReaderObserver` of the stream's `TarReader` (raw header blocks, extended header bodies,
/// padding), then `entry(_:)` with every header `next()` returns and `end(_:)` with what `finish()` returns.
/// Errors the reader throws (bad checksum, truncation, malformed pax records, ...) go to `MalformedInput`.
///
/// Rules that need v2 section context (CKA-TAR-007, 025, 031, 032, 036, 044) are the v2 checker's; of CKA-TAR-008
/// this checks in v2 only the typeflags no section allows (the places of `1`, `2`, `3`, `4`, `6` are CKA-V2-040 and
/// CKA-V2-041), and of CKA-TAR-040 the tar-stream part (the section part is CKA-V2-041).
public final class TarLayerRules: TarReaderObserver {
    let collector: DiagnosticCollector
    let format: CheckpointFormat
    let nestedIn: String?
    let baseOffset: Int64
    /// The stream is containerd's gzip layer: its offsets are offsets of the decompressed layer, so findings are
    /// reported at `baseOffset` (the layer's start in the outer stream) with the layer offset in the message.
    public var offsetsAreInDecompressedLayer = false

    private var v1: Bool { format == .v1 }
    /// The header block of the current entry (the last block that is not an extended header).
    private var entryBlock: TarRawBlock?
    /// Typeflag and offset of the last extended header block (`x`, `g`, `L`, `K`), until its body is read.
    private var extendedBlock: (type: UInt8, offset: Int64)?
    /// A pax `x` header was read and its entry header not yet.
    private var pendingPax: Int64?
    /// Normalised names and their prefixes, numbered component by component: a deep name costs its length, not its
    /// depth times its length.
    private var table = PathTable()
    /// Normalised names seen, with whether each is a directory (CKA-TAR-037, CKA-TAR-038).
    private var names: [Int: Bool] = [:]
    /// Every proper prefix of a name seen (a later non-directory of that name is CKA-TAR-038).
    private var parents: Set<Int> = []
    /// Normalised names of regular files seen (hard-link targets, CKA-TAR-040).
    private var regularFiles: Set<Int> = []

    public init(collector: DiagnosticCollector, format: CheckpointFormat, nestedIn: String? = nil, baseOffset: Int64 = 0) {
        self.collector = collector
        self.format = format
        self.nestedIn = nestedIn
        self.baseOffset = baseOffset
        for id in Self.rules(format) { collector.ran(id) }
    }

    /// The requirements this object evaluates on a stream of `format`.
    static func rules(_ format: CheckpointFormat) -> [String] {
        let common = ["CKA-TAR-001", "CKA-TAR-004", "CKA-TAR-005", "CKA-TAR-008", "CKA-TAR-010", "CKA-TAR-011",
                      "CKA-TAR-012", "CKA-TAR-020", "CKA-TAR-021", "CKA-TAR-022", "CKA-TAR-023", "CKA-TAR-024",
                      "CKA-TAR-027", "CKA-TAR-034", "CKA-TAR-037", "CKA-TAR-038", "CKA-TAR-039", "CKA-TAR-040",
                      "CKA-SEC-015", "CKA-SEC-024"]
        switch format {
        case .v1: return common + ["CKA-TAR-003", "CKA-TAR-006", "CKA-TAR-009", "CKA-TAR-013", "CKA-TAR-028",
                                   "CKA-TAR-030", "CKA-TAR-035"]
        case .v2: return common + ["CKA-TAR-002", "CKA-TAR-014", "CKA-TAR-015", "CKA-TAR-017", "CKA-TAR-018",
                                   "CKA-TAR-029", "CKA-TAR-041", "CKA-TAR-042"]
        }
    }

    // MARK: - Reporting

    private func outer(_ offset: Int64) -> Int64 { offsetsAreInDecompressedLayer ? baseOffset : baseOffset + offset }

    private func path(_ name: String?) -> String? {
        guard let nestedIn else { return name }
        return name.map { "\(nestedIn): \($0)" } ?? nestedIn
    }

    private func report(_ id: String, _ message: String, name: String?, at offset: Int64) {
        var text = message
        if offsetsAreInDecompressedLayer { text += " (offset \(offset) of the decompressed layer)" }
        collector.report(id, text, path: path(name), offset: outer(offset))
    }

    // MARK: - TarReaderObserver

    public func tarReader(_ reader: TarReader, readHeaderBlock block: UnsafeRawBufferPointer, at offset: Int64) {
        let raw = TarRawBlock(block, offset: offset)
        let type = raw.typeflag
        let isExtended = [UInt8(ascii: "x"), UInt8(ascii: "g"), UInt8(ascii: "L"), UInt8(ascii: "K")].contains(type)
        checkPaxFollowedByEntry(raw)
        checkNumericFields(raw)
        if format == .v2 { checkUnusedBytes(raw) }
        if isExtended {
            extendedBlock = (type, offset)
            checkExtendedHeaderBlock(raw)
            if type == UInt8(ascii: "x") { pendingPax = offset }
        } else {
            entryBlock = raw
            pendingPax = nil
        }
    }

    public func tarReader(_ reader: TarReader, readExtendedHeaderBody body: [UInt8], at offset: Int64) {
        defer { extendedBlock = nil }
        guard let (type, _) = extendedBlock, type == UInt8(ascii: "x") || type == UInt8(ascii: "g") else { return }
        // A body that breaks the record grammar makes the reader throw (CKA-TAR-020, via MalformedInput).
        guard let records = TarPaxBody.records(body) else { return }
        checkDuplicateKeys(records, at: offset)
        checkRecordEncoding(records, at: offset)
        checkRecordValues(records, at: offset)
        if format == .v2 { checkXattrNamespaces(records, at: offset) }
    }

    public func tarReader(_ reader: TarReader, sawNonZeroPaddingAt offset: Int64) {
        // CKA-TAR-042 binds v2 encoders only; v1 writers may leave anything in padding.
        guard format == .v2 else { return }
        report("CKA-TAR-042", "non-zero byte in the padding after data or an extended header", name: nil, at: offset)
    }

    // MARK: - Entries

    /// Every entry header as `TarReader.next()` returned it.
    public func entry(_ h: TarHeader) {
        let name = TarNames.display(h.pathBytes)
        let at = h.headerOffset
        if v1 { checkHeaderFormat(h, name: name) }
        checkTypeflag(h, name: name)
        checkSparse(h, name: name)
        checkHeaderOnlySize(h, name: name)
        if format == .v2 {
            checkPaxCarriedValues(h, name: name)
            checkModeBits(h, name: name)
            checkDeviceFields(h, name: name)
        }
        checkEncoding(h, name: name)
        let normalised = TarNames.normalise(h.pathBytes, v1: v1)
        guard case let .name(n) = normalised else {
            // The root of a v1 tar (`./`, `.`): a directory standing for the tar itself (CKA-TAR-035).
            if h.type != .directory {
                report("CKA-TAR-035", "the root entry '\(name)' must be a directory, not \(h.type)", name: name, at: at)
            }
            return
        }
        if let why = TarNames.problem(n) {
            report("CKA-TAR-034", why, name: name, at: at)
            return
        }
        let node = checkNamePlacement(h, n, name: name)
        checkLinkTarget(h, name: name)
        if h.type == .regular || h.type == .regularLegacy, let node { regularFiles.insert(node) }
    }

    /// How the stream ended, as `TarReader.finish()` returned it.
    public func end(_ end: TarEnd) {
        if end.marker != .twoZeroBlocks {
            let what = end.marker == .oneZeroBlock ? "a single zero block" : "no zero block"
            report("CKA-TAR-001", "the tar stream ends with \(what) instead of the two-block end-of-archive marker",
                   name: nil, at: end.offset)
            return
        }
        switch format {
        case .v1:
            if let garbage = end.firstTrailingGarbageOffset {
                report("CKA-TAR-003", "non-zero byte after the end-of-archive marker", name: nil, at: garbage)
            }
        case .v2:
            if end.trailingBytes > 0 {
                report("CKA-TAR-002", "\(end.trailingBytes) bytes follow the end-of-archive marker", name: nil,
                       at: end.offset + 1024)
            }
        }
    }

    // MARK: - Header blocks

    /// CKA-TAR-022: an `x` header is followed directly by an ordinary entry header.
    private func checkPaxFollowedByEntry(_ raw: TarRawBlock) {
        guard let pax = pendingPax else { return }
        let t = raw.typeflag
        if t == UInt8(ascii: "x") || t == UInt8(ascii: "g") || t == UInt8(ascii: "L") || t == UInt8(ascii: "K") {
            report("CKA-TAR-022", "the pax extended header at offset \(outer(pax)) is followed by a '\(Self.flag(t))' "
                   + "header instead of its entry", name: nil, at: raw.offset)
        }
    }

    /// CKA-TAR-012 (octal grammar), CKA-TAR-013 (v1 base-256), CKA-TAR-014 (v2 encoding).
    private func checkNumericFields(_ raw: TarRawBlock) {
        for f in TarRawBlock.numericFields {
            if raw.isBase256(f) {
                switch format {
                case .v1:
                    // 0xFF is a negative base-256 number: malformed for size (the reader throws), invalid elsewhere.
                    if raw.field(f).first == 0xFF, f.name != "size" {
                        report("CKA-TAR-013", "negative base-256 number in the \(f.name) field", name: nil, at: raw.offset)
                    }
                case .v2:
                    report("CKA-TAR-014", "the \(f.name) field uses base-256 encoding", name: nil, at: raw.offset)
                }
                continue
            }
            if let why = TarRawBlock.octalProblem(raw.field(f)) {
                report("CKA-TAR-012", "the \(f.name) field is not octal: \(why)", name: nil, at: raw.offset)
                continue
            }
            if format == .v2, let why = raw.v2EncodingProblem(f) {
                report("CKA-TAR-014", "the \(f.name) field: \(why)", name: nil, at: raw.offset)
            }
        }
        if format == .v2, let why = raw.v2EncodingProblem(TarRawBlock.checksum) {
            report("CKA-TAR-014", "the checksum field: \(why)", name: nil, at: raw.offset)
        }
    }

    /// CKA-TAR-042: unused bytes of a v2 header block are zero.
    private func checkUnusedBytes(_ raw: TarRawBlock) {
        for (field, range) in TarRawBlock.stringFields {
            let bytes = raw.bytes[range]
            if let nul = bytes.firstIndex(of: 0), bytes[nul...].contains(where: { $0 != 0 }) {
                report("CKA-TAR-042", "non-zero bytes after the end of the \(field) field", name: nil, at: raw.offset)
                return
            }
        }
        if raw.bytes[TarRawBlock.padding].contains(where: { $0 != 0 }) {
            report("CKA-TAR-042", "non-zero bytes in the unused end of the header block", name: nil, at: raw.offset)
        }
    }

    /// Typeflags and sizes of extended headers: CKA-TAR-008/009 (`g`, `L`, `K`), CKA-TAR-022 (empty `x`),
    /// CKA-TAR-027/028 and CKA-SEC-015 (sizes).
    private func checkExtendedHeaderBlock(_ raw: TarRawBlock) {
        let t = raw.typeflag
        let size = raw.isBase256(TarRawBlock.size) ? nil : TarRawBlock.octalValue(raw.field(TarRawBlock.size))
        if v1, !raw.hasUstarOrGNUMagic {
            report("CKA-TAR-006", "a V7 header (no ustar magic) for an extended header", name: nil, at: raw.offset)
        }
        switch t {
        case UInt8(ascii: "x"), UInt8(ascii: "g"):
            if t == UInt8(ascii: "g") {
                if v1 {
                    report("CKA-TAR-009", "a pax global header ('g'): readers disagree on its meaning", name: nil,
                           at: raw.offset)
                } else {
                    report("CKA-TAR-008", "typeflag 'g' (pax global header) is not allowed in v2", name: nil, at: raw.offset)
                }
            }
            if let size, size > 1 << 20 {
                report("CKA-TAR-027", "pax extended header of \(size) bytes (more than 1 MiB)", name: nil, at: raw.offset)
                report("CKA-SEC-015", "pax extended header of \(size) bytes must be refused before it is read", name: nil,
                       at: raw.offset)
            }
            if t == UInt8(ascii: "x"), size == 0 {
                report("CKA-TAR-022", "pax extended header of size zero", name: nil, at: raw.offset)
            }
        default:  // 'L', 'K'
            if !v1 {
                report("CKA-TAR-008", "typeflag '\(Self.flag(t))' (GNU long name) is not allowed in v2", name: nil,
                       at: raw.offset)
            }
            if let size, size > 65536 {
                if v1 {
                    report("CKA-TAR-028", "GNU '\(Self.flag(t))' header of \(size) bytes (more than 65536)", name: nil,
                           at: raw.offset)
                }
                report("CKA-SEC-015", "GNU long name of \(size) bytes must be refused before it is read", name: nil,
                       at: raw.offset)
            }
        }
    }

    // MARK: - pax records

    /// CKA-TAR-021: no key twice in one extended header.
    private func checkDuplicateKeys(_ records: [TarPaxBody.Record], at offset: Int64) {
        var seen = Set<[UInt8]>()
        var reported = Set<[UInt8]>()
        for r in records where !seen.insert(r.key).inserted && reported.insert(r.key).inserted {
            report("CKA-TAR-021", "pax key '\(r.keyString)' appears more than once in one extended header", name: nil,
                   at: offset)
        }
    }

    /// CKA-TAR-023: keys and values are UTF-8 (`SCHILY.xattr.*` values excepted); in v1 non-UTF-8 `path` and
    /// `linkpath` values are names, reported as CKA-TAR-030 warnings with the entry.
    private func checkRecordEncoding(_ records: [TarPaxBody.Record], at offset: Int64) {
        for r in records {
            guard String(validating: r.key, as: UTF8.self) != nil else {
                report("CKA-TAR-023", "a pax key is not valid UTF-8", name: nil, at: offset)
                continue
            }
            let key = r.keyString
            if key.hasPrefix("SCHILY.xattr.") { continue }
            if key == "path" || key == "linkpath" {
                if r.value.contains(0) { continue }  // the reader refuses it (malformed)
                if v1 { continue }
            }
            if String(validating: r.value, as: UTF8.self) == nil {
                report("CKA-TAR-023", "the value of pax record '\(key)' is not valid UTF-8", name: nil, at: offset)
            }
        }
    }

    /// CKA-TAR-024: `size`, `uid`, `gid` decimal non-negative below 2^63 without sign; `mtime` decimal seconds.
    private func checkRecordValues(_ records: [TarPaxBody.Record], at offset: Int64) {
        for r in records {
            let key = r.keyString
            let ok: Bool
            switch key {
            case "size", "uid", "gid": ok = Self.isDecimalInteger(r.value)
            case "mtime": ok = Self.isDecimalTime(r.value)
            default: continue
            }
            if !ok {
                report("CKA-TAR-024", "pax record '\(key)' has the invalid value '\(TarNames.display(r.value))'", name: nil,
                       at: offset)
            }
        }
    }

    static func isDecimalInteger(_ v: [UInt8]) -> Bool {
        guard !v.isEmpty, v.allSatisfy({ (0x30...0x39).contains($0) }) else { return false }
        return Int64(TarNames.display(v)) != nil
    }

    static func isDecimalTime(_ v: [UInt8]) -> Bool {
        var s = v[...]
        if s.first == 0x2D { s = s.dropFirst() }
        let parts = s.split(separator: 0x2E, maxSplits: 1, omittingEmptySubsequences: false)
        guard let whole = parts.first, !whole.isEmpty, whole.allSatisfy({ (0x30...0x39).contains($0) }),
              Int64(TarNames.display(Array(whole))) != nil else { return false }
        if parts.count == 2 {
            return !parts[1].isEmpty && parts[1].allSatisfy { (0x30...0x39).contains($0) }
        }
        return true
    }

    /// CKA-TAR-041: v2 xattrs only in `user.`, `security.`, `system.posix_acl_access`, `system.posix_acl_default`.
    private func checkXattrNamespaces(_ records: [TarPaxBody.Record], at offset: Int64) {
        for r in records {
            let key = r.keyString
            guard key.hasPrefix("SCHILY.xattr.") else { continue }
            let name = String(key.dropFirst("SCHILY.xattr.".count))
            if name.hasPrefix("user.") || name.hasPrefix("security.") || name == "system.posix_acl_access"
                || name == "system.posix_acl_default" { continue }
            report("CKA-TAR-041", "extended attribute '\(name)' is outside the allowed namespaces", name: nil, at: offset)
        }
    }

    // MARK: - Entry checks

    /// CKA-TAR-006: v1 accepts ustar, pax and GNU headers, not V7.
    private func checkHeaderFormat(_ h: TarHeader, name: String) {
        if h.format.contains(.v7) {
            report("CKA-TAR-006", "a V7 header (no ustar magic)", name: name, at: h.headerOffset)
        }
    }

    static let v1OuterTypes: Set<UInt8> = [0x30, 0x00, 0x31, 0x32, 0x35]
    static let v1NestedTypes: Set<UInt8> = v1OuterTypes.union([0x33, 0x34, 0x36])
    /// Typeflags some v2 section allows (which one is CKA-V2-040/041).
    static let v2Types: Set<UInt8> = [0x30, 0x31, 0x32, 0x33, 0x34, 0x35, 0x36]

    /// CKA-TAR-008: the typeflag of the entry header block (GNU sparse 'S' is CKA-TAR-010 as well).
    private func checkTypeflag(_ h: TarHeader, name: String) {
        let t = entryBlock?.typeflag ?? h.type.rawValue
        let allowed: Set<UInt8>
        let place: String
        switch format {
        case .v1:
            allowed = nestedIn == nil ? Self.v1OuterTypes : Self.v1NestedTypes
            place = nestedIn == nil ? "the outer stream of a v1 archive" : "a nested tar"
        case .v2:
            allowed = Self.v2Types
            place = "a v2 archive"
        }
        if !allowed.contains(t) {
            report("CKA-TAR-008", "typeflag '\(Self.flag(t))' is not allowed in \(place)", name: name, at: h.headerOffset)
        }
    }

    /// CKA-TAR-010: no sparse files (GNU 'S', pax `GNU.sparse.*`).
    private func checkSparse(_ h: TarHeader, name: String) {
        if h.sparse != nil || h.type == .gnuSparse || h.paxRecords.contains(where: { $0.key.hasPrefix("GNU.sparse.") }) {
            report("CKA-TAR-010", "a sparse file", name: name, at: h.headerOffset)
        }
    }

    /// CKA-TAR-011: entries of types 1-6 have size 0.
    private func checkHeaderOnlySize(_ h: TarHeader, name: String) {
        if h.type.isHeaderOnly, h.size != 0 {
            report("CKA-TAR-011", "a \(h.type) entry with size \(h.size) (must be 0)", name: name, at: h.headerOffset)
        }
    }

    /// CKA-TAR-015: a value carried by pax because it does not fit its ustar field leaves that field 0.
    private func checkPaxCarriedValues(_ h: TarHeader, name: String) {
        guard let block = entryBlock else { return }
        let checks: [(String, TarRawBlock.NumericField, (Int64) -> Bool)] = [
            ("size", TarRawBlock.size, { $0 >= 8 << 30 }),
            ("uid", TarRawBlock.uid, { $0 > 2_097_151 }),
            ("gid", TarRawBlock.gid, { $0 > 2_097_151 }),
            ("mtime", TarRawBlock.mtime, { $0 < 0 || $0 > 8_589_934_591 }),
        ]
        for (key, field, doesNotFit) in checks {
            guard let value = h.paxValue(key) else { continue }
            let number = key == "mtime" ? TarTime(paxString: value)?.seconds : Int64(value)
            guard let number, doesNotFit(number) else { continue }
            if block.isBase256(field) || TarRawBlock.octalValue(block.field(field)) != 0 {
                report("CKA-TAR-015", "\(key) \(value) is carried by pax, so the ustar \(key) field must hold 0", name: name,
                       at: h.headerOffset)
            }
        }
    }

    /// CKA-TAR-017: v2 mode bits only within 07777.
    private func checkModeBits(_ h: TarHeader, name: String) {
        if h.mode & ~0o7777 != 0 {
            report("CKA-TAR-017", "mode 0\(String(h.mode, radix: 8)) has bits outside 07777", name: name, at: h.headerOffset)
        }
    }

    /// CKA-TAR-018: v2 devmajor and devminor are zero except for devices.
    private func checkDeviceFields(_ h: TarHeader, name: String) {
        guard h.type != .characterDevice, h.type != .blockDevice, let block = entryBlock else { return }
        for f in [TarRawBlock.devmajor, TarRawBlock.devminor] {
            if block.isBase256(f) || (TarRawBlock.octalValue(block.field(f)) ?? 0) != 0 {
                report("CKA-TAR-018", "the \(f.name) field of a \(h.type) entry is not zero", name: name, at: h.headerOffset)
            }
        }
    }

    /// CKA-TAR-029 (v2: UTF-8, no NUL) and CKA-TAR-030 (v1: UTF-8, a warning) for the name and link target.
    private func checkEncoding(_ h: TarHeader, name: String) {
        for (what, bytes) in [("name", h.pathBytes), ("link target", h.linkBytes)] where !bytes.isEmpty {
            let valid = String(validating: bytes, as: UTF8.self) != nil
            if v1 {
                if !valid { report("CKA-TAR-030", "the \(what) is not valid UTF-8", name: name, at: h.headerOffset) }
            } else if !valid || bytes.contains(0) {
                report("CKA-TAR-029", "the \(what) is not valid UTF-8 or contains NUL", name: name, at: h.headerOffset)
            }
        }
    }

    /// CKA-TAR-037 (duplicates, CKA-SEC-024: by bytes) and CKA-TAR-038 (below an earlier non-directory).
    /// - Returns: the name's node in `table`.
    @discardableResult
    private func checkNamePlacement(_ h: TarHeader, _ n: [UInt8], name: String) -> Int? {
        let isDirectory = h.type == .directory
        let all = table.intern(n)
        guard let node = all.last?.node else { return nil }
        let prefixes = all.dropLast()
        if names[node] != nil {
            report("CKA-TAR-037", "duplicate entry name", name: name, at: h.headerOffset)
        }
        if let p = prefixes.first(where: { names[$0.node] == false }) {
            report("CKA-TAR-038", "the earlier entry '\(TarNames.display(Array(n[..<p.end])))' is not a directory",
                   name: name, at: h.headerOffset)
        } else if !isDirectory, parents.contains(node), names[node] == nil {
            report("CKA-TAR-038", "a non-directory named after a directory that earlier entries are inside", name: name,
                   at: h.headerOffset)
        }
        if names[node] == nil || isDirectory { names[node] = isDirectory }
        for p in prefixes { parents.insert(p.node) }
        return node
    }

    /// CKA-TAR-039 (symlink targets) and CKA-TAR-040 (hard-link targets).
    private func checkLinkTarget(_ h: TarHeader, name: String) {
        if h.type == .symbolicLink {
            if h.linkBytes.isEmpty {
                report("CKA-TAR-039", "a symbolic link with an empty target", name: name, at: h.headerOffset)
            } else if format == .v2, h.linkBytes.count > 4096 {
                report("CKA-TAR-039", "a symbolic link target of \(h.linkBytes.count) bytes (more than 4096)", name: name,
                       at: h.headerOffset)
            }
        }
        if h.type == .hardLink {
            let target = TarNames.normalise(h.linkBytes, v1: v1)
            guard case let .name(t) = target, TarNames.problem(t) == nil, let node = table.find(t),
                  regularFiles.contains(node) else {
                report("CKA-TAR-040", "hard link target '\(TarNames.display(h.linkBytes))' is not an earlier regular file "
                       + "of the same tar stream", name: name, at: h.headerOffset)
                return
            }
        }
    }

    static func flag(_ t: UInt8) -> String {
        (0x20..<0x7F).contains(t) ? String(UnicodeScalar(t)) : "\\x" + String(t, radix: 16)
    }
}
