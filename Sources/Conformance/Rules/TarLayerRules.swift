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
    public var offsetsAreInDecompressedLayer: Bool {
        get { layerOffsets }
        set { layerOffsets = newValue }
    }
    /// Behind `offsetsAreInDecompressedLayer`, read by every check that may report: no run-time exclusivity check
    /// (see the README, "Unchecked exclusivity"); it changes only before the stream is read.
    @exclusivity(unchecked) private var layerOffsets = false

    var v1: Bool { format == .v1 }
    // `@exclusivity(unchecked)` below: see the README, "Unchecked exclusivity" (not public, changed only in
    // straight-line code that nothing re-enters).
    /// The header block of the current entry (the last block that is not an extended header).
    var entryBlock: TarRawBlock? {
        hasEntryBlock ? TarRawBlock(bytes: entryBlockBytes, offset: entryBlockOffset) : nil
    }
    @exclusivity(unchecked) private(set) var entryBlockBytes = [UInt8](repeating: 0, count: 512)
    private var entryBlockOffset: Int64 = 0
    private(set) var hasEntryBlock = false
    /// Typeflag and offset of the last extended header block (`x`, `g`, `L`, `K`), until its body is read.
    private var extendedBlock: (type: UInt8, offset: Int64)?
    /// A pax `x` header was read and its entry header not yet.
    private var pendingPax: Int64?
    /// Normalised names seen (CKA-TAR-037, 038, 040), with the flags below, in bounded memory.
    public let names: NameTable
    /// The previous entry's normalised name, and the length of its first proper prefix that is an earlier
    /// non-directory (CKA-TAR-038), if any: its proper prefixes need not be looked up again.
    @exclusivity(unchecked) var previousName: [UInt8] = []
    var previousBadPrefix: Int?
    /// The records of the extended header being checked (storage reused).
    @exclusivity(unchecked) private var records: [TarPaxBody.Span] = []

    /// Flags of `names`: the name is an entry, a directory entry, a proper prefix of an entry's name, a regular
    /// file (a hard-link target). The v2 checker adds its own flags (`V2RootfsRules`) to the same table.
    static let seen: UInt8 = 1, directory: UInt8 = 2, parent: UInt8 = 4, regular: UInt8 = 8

    /// - Parameter names: the table to record names in; nil makes one of `nameTableMemory` bytes.
    public init(collector: DiagnosticCollector, format: CheckpointFormat, nestedIn: String? = nil, baseOffset: Int64 = 0,
                names: NameTable? = nil, nameTableMemory: Int = ValidatorOptions().nameTableMemory) {
        self.collector = collector
        self.format = format
        self.nestedIn = nestedIn
        self.baseOffset = baseOffset
        self.names = names ?? NameTable(memoryLimit: nameTableMemory)
        for id in Self.rules(format) { collector.ran(id) }
    }

    /// The requirements this object evaluates on a stream of `format`.
    static func rules(_ format: CheckpointFormat) -> [String] {
        let common = ["CKA-TAR-001", "CKA-TAR-004", "CKA-TAR-005", "CKA-TAR-008", "CKA-TAR-010", "CKA-TAR-011",
                      "CKA-TAR-012", "CKA-TAR-020", "CKA-TAR-021", "CKA-TAR-022", "CKA-TAR-023", "CKA-TAR-024",
                      "CKA-TAR-027", "CKA-TAR-034", "CKA-TAR-037", "CKA-TAR-038", "CKA-TAR-039", "CKA-TAR-040",
                      "CKA-SEC-015"]
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

    func report(_ id: String, _ message: String, name: String?, at offset: Int64) {
        var text = message
        if offsetsAreInDecompressedLayer { text += " (offset \(offset) of the decompressed layer)" }
        collector.report(id, text, path: path(name), offset: outer(offset))
    }

    // MARK: - TarReaderObserver

    public func tarReader(_ reader: TarReader, readHeaderBlock block: UnsafeRawBufferPointer, at offset: Int64) {
        let type = block[156]
        let isExtended = Self.isExtended(type)
        checkPaxFollowedByEntry(type, at: offset)
        // A block the read-ahead thread screened (`blockScreen`) passed these checks there, with these bytes.
        if !reader.blockWasScreened {
            checkUnsignedChecksum(block, at: offset)
            if !TarRawBlock.isClean(block, v2: format == .v2) {
                let raw = TarRawBlock(block, offset: offset)
                checkNumericFields(raw)
                if format == .v2 { checkUnusedBytes(raw) }
            }
        }
        if isExtended {
            extendedBlock = (type, offset)
            checkExtendedHeaderBlock(block, at: offset)
            if type == UInt8(ascii: "x") { pendingPax = offset }
        } else {
            // Kept for the entry's checks; copied into the same storage each time.
            entryBlockBytes.withUnsafeMutableBytes { $0.copyMemory(from: block) }
            entryBlockOffset = offset
            hasEntryBlock = true
            pendingPax = nil
        }
    }

    static func isExtended(_ t: UInt8) -> Bool {
        t == UInt8(ascii: "x") || t == UInt8(ascii: "g") || t == UInt8(ascii: "L") || t == UInt8(ascii: "K")
    }

    public func tarReader(_ reader: TarReader, readExtendedHeaderBody body: [UInt8], at offset: Int64) {
        defer { extendedBlock = nil }
        guard let (type, _) = extendedBlock, type == UInt8(ascii: "x") || type == UInt8(ascii: "g") else { return }
        // A body the read-ahead thread screened (`bodyScreen`) passed these checks there, with these bytes.
        if reader.bodyWasScreened { return }
        body.withUnsafeBytes { b in
            // A body that breaks the record grammar makes the reader throw (CKA-TAR-020, via MalformedInput).
            guard TarPaxBody.spans(b, into: &records) else { return }
            Self.checkBody(TarPaxBody.Records(body: b, spans: records), format: format) { id, message in
                report(id, message, name: nil, at: offset)
            }
        }
    }

    public func tarReader(_ reader: TarReader, sawNonZeroPaddingAt offset: Int64) {
        // CKA-TAR-042 binds v2 encoders only; v1 writers may leave anything in padding.
        guard format == .v2 else { return }
        report("CKA-TAR-042", "non-zero byte in the padding after data or an extended header", name: nil, at: offset)
    }

    // MARK: - Entries

    /// Every entry header as `TarReader.next()` returned it.
    public func entry(_ h: TarHeader) {
        let at = h.headerOffset
        if v1 { checkHeaderFormat(h) }
        checkTypeflag(h)
        checkSparse(h)
        checkHeaderOnlySize(h)
        if format == .v2 {
            checkPaxCarriedValues(h)
            checkModeBits(h)
            checkDeviceFields(h)
        }
        checkEncoding(h)
        let normalised = TarNames.normalise(h.pathBytes, v1: v1)
        guard case let .name(n) = normalised else {
            // The root of a v1 tar (`./`, `.`): a directory standing for the tar itself (CKA-TAR-035).
            if h.type != .directory {
                report("CKA-TAR-035", "the root entry '\(Self.name(h))' must be a directory, not \(h.type)",
                       name: Self.name(h), at: at)
            }
            return
        }
        if let why = TarNames.problem(n) {
            report("CKA-TAR-034", why, name: Self.name(h), at: at)
            return
        }
        checkNamePlacement(h, n)
        checkLinkTarget(h)
    }

    /// The entry's name for a message (only built when something is reported).
    static func name(_ h: TarHeader) -> String { TarNames.display(h.pathBytes) }

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
    private func checkPaxFollowedByEntry(_ t: UInt8, at offset: Int64) {
        guard let pax = pendingPax else { return }
        if Self.isExtended(t) {
            report("CKA-TAR-022", "the pax extended header at offset \(outer(pax)) is followed by a '\(Self.flag(t))' "
                   + "header instead of its entry", name: nil, at: offset)
        }
    }

    /// CKA-TAR-004: the checksum is the sum of the bytes taken as unsigned values. The reader also accepts the sum of
    /// signed values (old Sun tar wrote it; GNU tar and Go read it), which the specification does not.
    private func checkUnsignedChecksum(_ block: UnsafeRawBufferPointer, at offset: Int64) {
        if let message = Self.signedChecksumFinding(block) { report("CKA-TAR-004", message, name: nil, at: offset) }
    }

    /// CKA-TAR-004 on a block's bytes alone: the message when its checksum is the signed sum, else nil.
    static func signedChecksumFinding(_ block: UnsafeRawBufferPointer) -> String? {
        // Usually no byte has its top bit set: one pass over the words says so.
        var top: UInt64 = 0
        for i in stride(from: 0, to: 512, by: 8) { top |= block.loadUnaligned(fromByteOffset: i, as: UInt64.self) }
        guard top & 0x8080_8080_8080_8080 != 0 else { return nil }
        let sums = TarHeaderChecksum.sums(block)
        // Without a byte >= 0x80 outside the field the two sums agree, and the reader checked the sum.
        guard sums.signed != sums.unsigned,
              let recorded = TarRawBlock.octalValue(TarRawBlock(block, offset: 0).field(TarRawBlock.checksum)),
              recorded != sums.unsigned else { return nil }
        return "malformed: the checksum \(recorded) is the sum of the header bytes taken as signed values; the "
            + "unsigned sum is \(sums.unsigned)"
    }

    /// The checks of `tarReader(_:readHeaderBlock:at:)` that depend on the block's bytes alone, as a screen for
    /// the read-ahead thread (`HeaderScreen`): true when CKA-TAR-004 and the field encodings (CKA-TAR-012 to 014,
    /// and 042 in v2) would find nothing. A block that passes it there is not checked again here.
    public static func blockScreen(format: CheckpointFormat) -> HeaderScreen.Test {
        let v2 = format == .v2
        return { block in signedChecksumFinding(block) == nil && TarRawBlock.isClean(block, v2: v2) }
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
                report("CKA-TAR-012", "malformed: the \(f.name) field is not octal: \(why)", name: nil, at: raw.offset)
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
    private func checkExtendedHeaderBlock(_ block: UnsafeRawBufferPointer, at offset: Int64) {
        let t = block[156]
        let sizeField = UnsafeRawBufferPointer(rebasing: block[TarRawBlock.size.range])
        let size = sizeField[0] & 0x80 != 0 ? nil : TarRawBlock.octalValue(sizeField)
        if v1, !TarRawBlock.hasUstarOrGNUMagic(block) {
            report("CKA-TAR-006", "a V7 header (no ustar magic) for an extended header", name: nil, at: offset)
        }
        let raw = (offset: offset, typeflag: t)
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
}
