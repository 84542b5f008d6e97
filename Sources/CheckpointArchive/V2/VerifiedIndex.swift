import ByteStreams

/// The index of a decoded v2 archive, verified against the stream, kept where the decoder spooled it (memory
/// up to a budget, then unlinked temporary files) rather than as one value: it lists a record per regular
/// file, and an archive may hold millions.
///
/// Its canonical JSON (`canonicalSource()`) is what the recorded index parses to (CKA-IDX-001): the stream's
/// records, which the recorded ones equal, with the sections' `compressedStart` as recorded (a streaming
/// decoder cannot see compressed offsets); vendor members (CKA-GEN-014) are left out.
public final class VerifiedIndex {
    /// The index entry's offset in the tar stream (`indexOffset`).
    public let indexOffset: Int64
    /// Sections listed.
    public let sectionCount: Int
    /// Regular files listed.
    public let fileCount: Int

    private let header: ArchiveIndex.Span
    private let computed: ComputedIndex
    /// One `optionalInt` per section: its recorded `compressedStart`.
    private let compressedStarts: RecordSpool
    /// The digests computed after their files were recorded, by slot (`WrittenFileDigests.record`).
    private let late: RecordSpool?

    init(header: ArchiveIndex.Span, computed: ComputedIndex, compressedStarts: RecordSpool, late: RecordSpool?,
         indexOffset: Int64) {
        self.header = header
        self.computed = computed
        self.compressedStarts = compressedStarts
        self.late = late
        self.indexOffset = indexOffset
        sectionCount = computed.sectionCount
        fileCount = computed.fileCount
    }

    /// The canonical JSON, read in chunks (each call reads the spools again from their start).
    public func canonicalSource() -> ByteSource {
        var pieces = Pieces(self)
        return ChunkedSource { pieces.next() }
    }

    /// The length of `canonicalSource()`'s bytes (one pass over the spools).
    public func canonicalLength() throws -> Int64 {
        var pieces = Pieces(self)
        var n: Int64 = 0
        while let chunk = pieces.next() { n += Int64(chunk.count) }
        return n
    }

    /// The whole canonical JSON in memory (for small indexes: tests, tools).
    public var canonicalBytes: [UInt8] {
        var pieces = Pieces(self)
        var out: [UInt8] = []
        while let chunk = pieces.next() { out += chunk }
        return out
    }

    /// The canonical JSON in chunks of about 64 KiB.
    struct Pieces {
        private let index: VerifiedIndex
        private var phase = 0
        private var sections: RecordSpool.Reader
        private var starts: RecordSpool.Reader
        private var files: RecordSpool.Reader
        private var late: RecordSpool.Reader?
        private var pendingLate: (slot: Int, sha256: [UInt8])?
        private var slot = 0
        private var count = 0

        init(_ index: VerifiedIndex) {
            self.index = index
            sections = index.computed.sections.makeReader()
            starts = index.compressedStarts.makeReader()
            files = index.computed.files.makeReader()
            late = index.late?.makeReader()
        }

        /// The next chunk, nil at the end.
        mutating func next() -> [UInt8]? {
            var out: [UInt8] = []
            while out.count < 64 << 10 {
                switch phase {
                case 0:
                    for k in 0...3 { out += CanonicalIndexPieces.opening(k, header: index.header) }
                    phase = 1
                case 1:
                    guard let r = sections.next() else {
                        out += CanonicalIndexPieces.arrayEnd + CanonicalIndexPieces.opening(4)
                        phase = 2
                        count = 0
                        continue
                    }
                    var s = ComputedIndex.section(r)
                    if var c = starts.next() { s.compressedStart = c.optionalInt() }
                    if count > 0 { out.append(0x2C) }
                    CanonicalIndexPieces.section(s, into: &out)
                    count += 1
                case 2:
                    guard let r = files.next() else {
                        out += CanonicalIndexPieces.arrayEnd
                            + CanonicalIndexPieces.opening(5, indexOffset: index.indexOffset)
                            + CanonicalIndexPieces.documentEnd
                        phase = 3
                        continue
                    }
                    let f = ComputedIndex.file(r)
                    var sha = f.sha256
                    if sha.isEmpty { sha = lateDigest(slot) }
                    if slot > 0 { out.append(0x2C) }
                    CanonicalIndexPieces.file(path: f.pathString, size: f.size, offset: f.offset,
                                              sha256: String(decoding: sha, as: UTF8.self), into: &out)
                    slot += 1
                default:
                    return out.isEmpty ? nil : out
                }
            }
            return out
        }

        private mutating func lateDigest(_ slot: Int) -> [UInt8] {
            while let r = late?.next() {
                let d = WrittenFileDigests.record(r)
                if d.slot == slot { return d.sha256 }
            }
            return []
        }
    }
}
