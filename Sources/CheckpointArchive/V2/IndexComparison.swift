import Crypto
import TarFormat

/// Compares the index an archive records, as `cka-index.json` streams from the tar reader, with the one
/// computed from the stream (`ComputedIndex`), and names the first difference by its requirement
/// (CKA-IDX-001..006), in fixed memory: the JSON is walked value by value (`V2JSONCursor` over a window of
/// the entry's data) and each recorded section and file is compared with the computed one at the same
/// position, read back from its spool.
///
/// The verdict is the one of parsing the whole index into an `ArchiveIndex` and comparing the two indexes
/// (as decoders did before): the expected-digest pin (CKA-IDX-010) first, which needs the digest of the whole
/// content, so nothing is thrown before the entry has been read to its end; then the index's structure
/// (CKA-IDX-001: a JSON object with format, version, header, well-formed section and file records and a
/// 16-digit indexOffset; a `sections` or `files` member that is not an array of objects counts as empty, and a
/// repeated member as its last occurrence); then the header span (002), the section count and the first section
/// that differs (003, 004), the file count and the first file (005, a content digest reported at the file's
/// data), indexOffset (006), and last the canonical form (001): the content must be the canonical JSON of what
/// it parses to (decided by hashing that JSON as it is rebuilt), unless it lists a section of unknown kind or
/// differs from it only by vendor members (CKA-GEN-014).
final class IndexComparison {
    let entry: TarHeader
    let computed: ComputedIndex
    let budget: MemoryBudget
    /// The digests computed after their files were recorded (`WrittenFileDigests.record`), nil when none.
    let late: RecordSpool?

    // The recorded index as parsed (last occurrence of each member).
    var format: Scalar?
    var version: Scalar?
    var header: ArchiveIndex.Span?
    var headerSeen = false
    var headerOK = true
    var indexOffsetText: Scalar?
    /// Top-level members seen (bits by `CanonicalIndexPieces.topKeys`).
    var topKeys = 0
    var sections: RecordState
    var files: RecordState
    /// Recorded `compressedStart` per section of the last `sections` member.
    var compressedStarts: RecordSpool

    // Canonical form: the canonical JSON of what was parsed, hashed while the members come in canonical order.
    var canonical = SHA256()
    var canonicalChunk: [UInt8] = []
    var canonicalOrder = 0
    var canonicalBroken = false
    // Vendor members: present, and the content otherwise equal to the canonical JSON as a JSON value.
    var hasVendor = false
    var otherMembers = false

    /// The comparison of one `sections` or `files` member with the stream's records.
    struct RecordState {
        var listed = 0
        var allObjects = true
        var isArray = true
        /// The first record that does not parse (CKA-IDX-001, unless the member turns out not to be an array of
        /// objects and so counts as empty).
        var malformed: String?
        var firstDifference: CheckpointError?
        /// Every record has exactly the canonical members with values of the canonical JSON types.
        var valuesExact = true
        var unknownKind = false
        var reader: RecordSpool.Reader
        var lateReader: RecordSpool.Reader?

        init(_ spool: RecordSpool, late: RecordSpool?) {
            reader = spool.makeReader()
            lateReader = late?.makeReader()
        }

        /// The number of records the recorded index lists as parsed.
        var count: Int { isArray && allObjects ? listed : 0 }
    }

    init(entry: TarHeader, computed: ComputedIndex, late: RecordSpool?, budget: MemoryBudget) {
        self.entry = entry
        self.computed = computed
        self.late = late
        self.budget = budget
        sections = RecordState(computed.sections, late: nil)
        files = RecordState(computed.files, late: late)
        compressedStarts = budget.makeSpool()
    }

    /// Reads the index content from `read` (the entry's data, empty at its end), compares, and returns the
    /// verified index with the content's digest.
    /// - Parameters:
    ///   - expectedDigest: `sha256:<hex>` pinned from outside (CKA-IDX-010).
    ///   - lateFailure: why the late digests could not be computed (thrown after the structural checks).
    static func run(entry: TarHeader, computed: ComputedIndex, late: RecordSpool?, lateFailure: Error?,
                    expectedDigest: String?, budget: MemoryBudget,
                    read: @escaping () throws -> UnsafeRawBufferPointer) throws -> (VerifiedIndex, String) {
        let walk = IndexComparison(entry: entry, computed: computed, late: late, budget: budget)
        var content = SHA256()
        let next: () throws -> UnsafeRawBufferPointer = {
            let chunk = try read()
            content.update(bufferPointer: chunk)
            return chunk
        }
        let parseFailure = try walk.walk(V2JSONInput(next: next))
        while try !next().isEmpty {}
        let contentDigest = Hex.string(content.finalize())
        let digest = "sha256:" + contentDigest
        if let expectedDigest, expectedDigest != digest {
            throw CheckpointError("CKA-IDX-010", "index digest \(digest) differs from the expected \(expectedDigest)",
                                  entry: entry.path, offset: entry.headerOffset)
        }
        if let why = parseFailure ?? walk.structureProblem {
            throw CheckpointError("CKA-IDX-001", "cka-index.json: \(why)", entry: "cka-index.json",
                                  offset: entry.headerOffset)
        }
        if let lateFailure { throw lateFailure }
        if let io = computed.ioError ?? walk.compressedStarts.ioError ?? late?.ioError {
            throw CheckpointError("IO", "the decoder's temporary records: \(io)", entry: entry.path,
                                  offset: entry.headerOffset)
        }
        try walk.verdict(contentDigest: contentDigest)
        let index = VerifiedIndex(header: walk.header!, computed: computed, compressedStarts: walk.compressedStarts,
                                  late: late, indexOffset: entry.headerOffset)
        return (index, digest)
    }

    /// Walks the document; returns why it is not JSON holding an object (nil when it is). Other errors (of the
    /// tar stream) are thrown.
    func walk(_ input: V2JSONInput) throws -> String? {
        // Nesting as deep as `JSONSerialization` takes (vendor members may nest).
        var cursor = V2JSONCursor(input, maxDepth: 512)
        do {
            let isObject = try cursor.object { c, key in try self.member(&c, key) }
            if try !isObject || cursor.hasMore() { return "not a JSON object" }
        } catch let e as V2JSONFailure {
            return "not a JSON object (\(e))"
        }
        return nil
    }

    /// One top-level member.
    private func member(_ c: inout V2JSONCursor, _ key: String) throws {
        let k = CanonicalIndexPieces.topKeys.firstIndex(of: key)
        if let k {
            if topKeys & (1 << k) != 0 { canonicalBroken = true }
            topKeys |= 1 << k
        }
        let inOrder = !canonicalBroken && k == canonicalOrder
        if inOrder { canonicalOrder += 1 } else { canonicalBroken = true }
        switch key {
        case "format": format = try Scalar.read(&c)
        case "version": version = try Scalar.read(&c)
        case "header": try readHeader(&c)
        case "sections":
            sections = RecordState(computed.sections, late: nil)
            compressedStarts = budget.makeSpool()
            try records(&c, isFiles: false, hashed: inOrder)
        case "files":
            files = RecordState(computed.files, late: late)
            try records(&c, isFiles: true, hashed: inOrder)
        case "indexOffset": indexOffsetText = try Scalar.read(&c)
        default:
            if key.hasPrefix("x-") { hasVendor = true } else { otherMembers = true }
            try c.skipValue()
            return
        }
        if inOrder, k != 3, k != 4 {
            hashCanonical(CanonicalIndexPieces.opening(k!, header: header, indexOffset: recordedIndexOffset ?? 0))
        }
    }

    /// The header object (table 5.6).
    private func readHeader(_ c: inout V2JSONCursor) throws {
        headerSeen = true
        header = nil
        guard try c.peek() == .object else {
            try c.skipValue()
            headerOK = false
            return
        }
        let (m, others) = try scalarMembers(&c, Self.headerMembers)
        let path = m["path"], start = m["start"], end = m["end"], sha = m["sha256"]
        if let s = start?.int, let e = end?.int, let h = sha?.string {
            header = ArchiveIndex.Span(start: s, end: e, sha256: h)
        }
        headerOK = !others && path?.string == "cka-header.json" && start?.isNumber == true && end?.isNumber == true
            && sha?.string != nil
    }

    /// The recorded indexOffset when it parses (16 characters, hexadecimal).
    var recordedIndexOffset: Int64? {
        guard let text = indexOffsetText?.string, text.utf8.count == 16, let v = UInt64(text, radix: 16) else {
            return nil
        }
        return Int64(bitPattern: v)
    }

    /// Why the index does not parse into an `ArchiveIndex`, past the JSON grammar (CKA-IDX-001).
    var structureProblem: String? {
        if format?.string != "checkpoint-archive-index" || version?.int != 2 { return "format or version is wrong" }
        if header == nil { return "header is malformed" }
        if sections.isArray, sections.allObjects, let m = sections.malformed { return m }
        if files.isArray, files.allObjects, let m = files.malformed { return m }
        if recordedIndexOffset == nil { return "indexOffset is not 16 hex digits" }
        return nil
    }

    /// The comparison's first difference, in the order of `ArchiveIndex` comparison.
    private func verdict(contentDigest: String) throws {
        func fail(_ id: String, _ why: String, _ entry: String = "cka-index.json", at: Int64? = nil) -> CheckpointError {
            CheckpointError(id, why, entry: entry, offset: at ?? self.entry.headerOffset)
        }
        let computedHeader = computed.header!
        if header != computedHeader {
            let why = header?.sha256 != computedHeader.sha256 ? "header span digest mismatch" : "header span offsets differ"
            throw fail("CKA-IDX-002", why, "cka-header.json")
        }
        guard sections.count == computed.sectionCount else {
            throw fail("CKA-IDX-003", "the index lists \(sections.count) sections, the stream has \(computed.sectionCount)")
        }
        if let d = sections.firstDifference { throw d }
        guard files.count == computed.fileCount else {
            throw fail("CKA-IDX-005", "the index lists \(files.count) files, the stream has \(computed.fileCount)")
        }
        if let d = files.firstDifference { throw d }
        if recordedIndexOffset != entry.headerOffset {
            throw fail("CKA-IDX-006", "indexOffset \(recordedIndexOffset ?? 0) differs from the index entry's offset \(entry.headerOffset)")
        }
        let listsUnknownKind = sections.isArray && sections.allObjects && sections.unknownKind
        if !isCanonical(contentDigest), !listsUnknownKind, !(hasVendor && equalsIgnoringVendorMembers) {
            throw fail("CKA-IDX-001", "cka-index.json is not in canonical form")
        }
    }

    /// Whether the content is byte for byte the canonical JSON of what it parses to.
    private func isCanonical(_ contentDigest: String) -> Bool {
        guard !canonicalBroken, canonicalOrder == CanonicalIndexPieces.topKeys.count else { return false }
        hashCanonical(CanonicalIndexPieces.documentEnd)
        flushCanonical()
        return Hex.string(canonical.finalize()) == contentDigest
    }

    /// Whether the content, its vendor members removed, equals the canonical JSON as a JSON value: the same
    /// members everywhere, with values of the same JSON types (numbers compare by value, `2.0` equals `2`, but
    /// `1` is not `true`).
    private var equalsIgnoringVendorMembers: Bool {
        topKeys == (1 << CanonicalIndexPieces.topKeys.count) - 1 && !otherMembers
            && format?.string == "checkpoint-archive-index" && version?.isNumber == true && headerOK
            && indexOffsetText?.string == ArchiveIndex.hex16(recordedIndexOffset ?? -1)
            && sections.isArray && sections.allObjects && sections.valuesExact
            && files.isArray && files.allObjects && files.valuesExact
    }
}
