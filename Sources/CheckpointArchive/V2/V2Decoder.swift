import ByteStreams
import Crypto
import TarFormat

/// What a v2 decode found: the header, the index it verified, and the index digest.
public struct V2DecodeResult {
    public var header: ArchiveHeader
    /// The verified index, kept where the decoder spooled it (it has a record per regular file).
    public var index: VerifiedIndex
    /// `sha256:<hex>` of the index content.
    public var indexDigest: String
    /// Marker directories of the sections of unknown kind that were skipped (ancillary ones), the first
    /// `V2Decoder.skippedSectionsListed` of them.
    public var skippedSections: [String]
    /// How many sections of unknown kind were skipped.
    public var skippedSectionCount: Int
    /// The length of the tar stream read (through the end-of-archive blocks).
    public var streamLength: Int64
    /// The index entry's offset in the tar stream.
    public var indexOffset: Int64 { index.indexOffset }
}

/// Reads a v2 tar stream in one pass, checks its structure (version marker, section markers and order,
/// entry types per section, the records and fields of every entry (`V2EntryRules`), the required content of
/// each section (`V2SectionContent`)) and hands every entry to an `UnpackedEntrySink`; computes the span and
/// file digests while streaming and checks them against the index at the end (CKA-IDX-009). A sink that
/// stages its output (the safe extractor) commits only after `decode` returns. Every D rule of part 5 that
/// the archive bytes decide is enforced here, except the framed locator, which only the archive file holds
/// (`FramedLocatorCheck`).
///
/// Memory does not grow with the number of entries: the computed section and file records go to spools
/// (`ComputedIndex`, memory up to `budget` then unlinked temporary files), the index is walked as it streams
/// and compared record by record (`IndexComparison`), and digests computed on worker threads arrive by slot
/// through a spool (`WrittenFileDigests`).
public final class V2Decoder {
    /// How many skipped section names `V2DecodeResult.skippedSections` lists.
    public static let skippedSectionsListed = 256
    private let hashing: SpanHashingSource
    private let reader: TarReader
    private let expectedIndexDigest: String?
    /// Implied directories named by `rootfs/implied.dirs` whose directory entry has not been seen yet.
    private var implied: ImpliedDirectories!
    /// Where regular-file content can be shared from (an uncompressed archive file), for the sink. When set,
    /// file digests are computed on worker threads from the written files (`WrittenFileDigests`).
    public var reflinkDescriptor: Int32?
    private var writtenDigests: WrittenFileDigests?
    /// The entry's own header block, for the ustar fields pax stands in for (CKA-TAR-015).
    private let lastBlock = LastHeaderBlock()
    private var content = V2SectionContent()
    /// Memory for the per-entry records before they go to temporary files.
    public var budget = MemoryBudget()
    private var computed: ComputedIndex!

    /// - Parameters:
    ///   - stream: the decompressed tar stream, positioned at its start.
    ///   - expectedIndexDigest: `sha256:<hex>` pinned from outside (CKA-IDX-010), if any.
    public init(stream: ByteSource, limits: TarLimits = .default, expectedIndexDigest: String? = nil) {
        hashing = SpanHashingSource(stream)
        reader = TarReader(source: hashing, limits: limits)
        reader.observer = lastBlock
        self.expectedIndexDigest = expectedIndexDigest
    }

    /// Decodes the whole stream into `sink`.
    /// - Throws: `CheckpointError` naming the requirement; errors of the tar reader and the decompressor are
    ///   translated as the v1 reader translates them (CKA-TAR-001 for truncation, CKA-CMP-010, CKA-SEC-020, ...).
    public func decode(into sink: UnpackedEntrySink) throws -> V2DecodeResult {
        writtenDigests = reflinkDescriptor.map { WrittenFileDigests(archive: $0, budget: budget) }
        defer { writtenDigests = nil }
        do { return try decodeStream(into: sink) } catch { throw V1ErrorMapping.outer(error) }
    }

    private func decodeStream(into sink: UnpackedEntrySink) throws -> V2DecodeResult {
        let computed = ComputedIndex(budget: budget)
        self.computed = computed
        implied = ImpliedDirectories(budget: budget)
        // Entry 0: the version marker.
        hashing.markEntryBoundary()
        guard let first = try reader.next() else {
            throw CheckpointError("CKA-V2-001", "the archive is empty", offset: 0)
        }
        hashing.entryHeadersRead()
        guard first.path == "cka-header.json", first.type.isRegularFile, let version = first.paxValue("CKA.version") else {
            throw CheckpointError("CKA-V2-001", "the first entry is not cka-header.json with CKA.version",
                                  entry: first.path, offset: first.headerOffset)
        }
        guard version == "2" else {
            throw CheckpointError("CKA-V2-002", "unsupported format version \(version)", entry: first.path,
                                  offset: first.headerOffset)
        }
        try V2EntryRules.check(first, first: true, block: lastBlock.bytes, signedChecksumAt: lastBlock.signedChecksumAt)
        let headerBytes = try readSmall(first, limit: 1 << 20)
        let (header, unknownKinds) = try located(first.headerOffset) { try ArchiveHeader.parse(headerBytes.content) }
        if headerBytes.content != header.canonicalBytes, unknownKinds.isEmpty,
           !CanonicalJSON.equalIgnoringVendorMembers(headerBytes.content, header.canonicalBytes) {
            throw CheckpointError("CKA-V2-003", "cka-header.json is not in canonical form", entry: first.path,
                                  offset: first.headerOffset)
        }
        if let critical = unknownKinds.first(where: { $0.1 }) {
            throw CheckpointError("CKA-V2-009", "the header lists an unknown critical section '\(critical.0)'",
                                  entry: first.path, offset: first.headerOffset)
        }
        if !ArchiveHeader.isValidAlignment(header.alignment) {
            throw CheckpointError("CKA-ALN-001", "alignment \(header.alignment) is not 0 or a power of two from 512 "
                                  + "to 1048576", entry: first.path, offset: first.headerOffset)
        }
        computed.addFile(path: first.path, size: first.size, offset: first.dataOffset, sha256: headerBytes.digest)
        try sink.add(first, section: Section(.metadata), data: MemorySource(headerBytes.content), reflink: nil)

        var current: Section?
        var currentKnown = true
        // The marker directory of the unknown ancillary section being skipped.
        var unknownDirectory = ""
        var skipped: [String] = []
        var skippedCount = 0
        // Known sections seen (fingerprints of kind, name and critical flag), and whether a metadata and a
        // checkpoint or pre-checkpoint section were among them.
        let seen = budget.makeNameTable()
        var seenMetadata = false, seenCheckpoint = false
        while true {
            try drainData()
            try reader.skipRemainingData()
            hashing.markEntryBoundary()
            lastBlock.startEntry()
            guard let h = try reader.next() else {
                throw CheckpointError("CKA-V2-046", "the archive ends without an index", offset: reader.source.position)
            }
            hashing.entryHeadersRead()
            try V2EntryRules.check(h, first: false, block: lastBlock.bytes, signedChecksumAt: lastBlock.signedChecksumAt)
            let endsSection = h.paxValue("CKA.section") != nil || h.paxValue("CKA.index") != nil
            if endsSection { try content.end() }
            if endsSection, let missing = implied.firstMissing() {
                throw CheckpointError("CKA-V2-029", "implied directory \(missing) has no directory entry in the tree",
                                      entry: "rootfs/implied.dirs", offset: h.headerOffset)
            }
            if endsSection, let io = implied.ioError {
                throw CheckpointError("IO", "the decoder's temporary records: \(io)", entry: h.path, offset: h.headerOffset)
            }
            if let kindName = h.paxValue("CKA.section") {
                let section = try markerSection(h, kindName: kindName)
                let digest = hashing.startSpan()
                if computed.header == nil {
                    computed.header = ArchiveIndex.Span(start: 0, end: h.headerOffset, sha256: digest)
                } else {
                    computed.close(end: h.headerOffset, sha256: digest)
                }
                if let section {
                    let key = Self.key(section)
                    if let previous = current, section.precedes(previous) || section == previous
                        || (section.kind.orderRank == previous.kind.orderRank && !section.kind.isNamed) {
                        throw CheckpointError(seen[key] != nil || section.kind.orderRank == previous.kind.orderRank
                                              ? "CKA-V2-016" : "CKA-V2-015",
                                              "section \(section) after section \(previous)", entry: h.path,
                                              offset: h.headerOffset)
                    }
                    seen.insert(key, flags: 1)
                    seenMetadata = seenMetadata || section.kind == .metadata
                    seenCheckpoint = seenCheckpoint || section.kind == .checkpoint || section.kind == .preCheckpoint
                    current = section
                    currentKnown = true
                    content.begin(section, marker: h)
                    try sink.add(h, section: section, data: MemorySource([]), reflink: nil)
                } else {
                    currentKnown = false
                    content.begin(nil, marker: h)
                    unknownDirectory = h.path
                    if skipped.count < Self.skippedSectionsListed { skipped.append(h.path) }
                    skippedCount += 1
                }
                computed.openSection(ArchiveIndex.SectionRecord(
                    section: section ?? Section(.ext, name: h.paxValue("CKA.section.name"), critical: false),
                    span: ArchiveIndex.Span(start: h.headerOffset, end: h.headerOffset, sha256: ""),
                    compressedStart: nil, entries: 1))
                if let io = seen.ioError { throw CheckpointError("IO", "the decoder's section table: \(io)") }
                continue
            }
            if h.paxValue("CKA.index") != nil {
                guard seen.ioError == nil else { throw CheckpointError("IO", "the decoder's section table failed") }
                let result = try finishWithIndex(h, header: header,
                                                 hasMetadataAndCheckpoint: seenMetadata && seenCheckpoint)
                return V2DecodeResult(header: result.header, index: result.index, indexDigest: result.indexDigest,
                                      skippedSections: skipped, skippedSectionCount: skippedCount,
                                      streamLength: result.streamLength)
            }
            guard let section = current, computed.sectionCount > 0 else {
                throw CheckpointError("CKA-V2-014", "entry before the first section marker", entry: h.path,
                                      offset: h.headerOffset)
            }
            computed.countEntry()
            let dir = currentKnown ? section.directory : unknownDirectory
            guard h.path.hasPrefix(dir), h.path != dir else {
                throw CheckpointError("CKA-V2-013", "entry outside its section \(dir)", entry: h.path,
                                      offset: h.headerOffset)
            }
            if h.type == .hardLink, !h.linkName.hasPrefix(dir) {
                throw CheckpointError("CKA-V2-041", "hard link to another section", entry: h.path, offset: h.headerOffset)
            }
            try content.entry(h)
            guard currentKnown else {
                // An unknown ancillary section is skipped, but its files still count for the index (CKA-V2-018).
                if h.type.isRegularFile {
                    let entryData = HashingEntrySource(TarEntrySource(reader), size: h.size)
                    hashing.excludingData = true
                    defer { hashing.excludingData = false }
                    computed.addFile(path: h.path, size: h.size, offset: h.dataOffset, sha256: try entryData.finish())
                }
                continue
            }
            if section.kind == .rootfs, h.type.isRegularFile,
               h.path == "rootfs/deleted.files" || h.path == "rootfs/implied.dirs" {
                // Paths in metadata are checked like entry names before anything uses them (CKA-SEC-010).
                try checkSize(h, limit: 64 << 20)
                let isDeleted = h.path == "rootfs/deleted.files"
                hashing.excludingData = true
                defer { hashing.excludingData = false }
                let reader = self.reader, implied = self.implied!
                let list = try V2MetadataFile.pathList(h, requirement: isDeleted ? "CKA-V2-028" : "CKA-V2-029",
                                                       budget: budget, read: { try reader.read(upTo: 256 << 10) },
                                                       path: { if !isDeleted { implied.add($0) } })
                try sink.add(h, section: section, data: list.content.source(), reflink: nil)
                computed.addFile(path: h.path, size: h.size, offset: h.dataOffset, sha256: list.digest)
                continue
            }
            if section.kind == .metadata, h.type.isRegularFile, h.path == "metadata/bind.mounts" {
                // Destinations are container paths a runtime mounts onto (CKA-SEC-010).
                try checkSize(h, limit: 64 << 20)
                hashing.excludingData = true
                defer { hashing.excludingData = false }
                let reader = self.reader
                let file = try V2MetadataFile.bindMounts(h, budget: budget, read: { try reader.read(upTo: 256 << 10) })
                try sink.add(h, section: section, data: file.content.source(), reflink: nil)
                computed.addFile(path: h.path, size: h.size, offset: h.dataOffset, sha256: file.digest)
                continue
            }
            if section.kind == .rootfs, h.type == .directory, h.path.hasPrefix("rootfs/tree/"), h.path != "rootfs/tree/" {
                implied.seen("/" + String(h.path.dropFirst("rootfs/tree/".count).dropLast()))
            }
            if h.type.isRegularFile, let fd = reflinkDescriptor, let written = writtenDigests {
                // The sink copies or shares the content in the kernel; its digest is computed from the file.
                hashing.excludingData = true
                defer { hashing.excludingData = false }
                written.expect(slot: computed.fileCount, entry: h.path, dataOffset: h.dataOffset, size: h.size)
                try sink.add(h, section: section, data: TarEntrySource(reader),
                             reflink: ReflinkSource(descriptor: fd, offset: h.dataOffset, observer: written))
                written.settle()
                _ = try reader.skip(reader.remainingData)  // the data only: the padding belongs to the span
                computed.addFile(path: h.path, size: h.size, offset: h.dataOffset, sha256: "")
            } else if h.type.isRegularFile {
                let entryData = HashingEntrySource(TarEntrySource(reader), size: h.size)
                hashing.excludingData = true
                defer { hashing.excludingData = false }
                try sink.add(h, section: section, data: entryData, reflink: nil)
                computed.addFile(path: h.path, size: h.size, offset: h.dataOffset, sha256: try entryData.finish())
            } else {
                try sink.add(h, section: section, data: MemorySource([]), reflink: nil)
            }
        }
    }

    /// Runs `body`, giving a `CheckpointError` it throws without an offset the entry's header offset.
    private func located<T>(_ offset: Int64, _ body: () throws -> T) throws -> T {
        do { return try body() } catch var e as CheckpointError {
            if e.offset == nil { e.offset = offset }
            throw e
        }
    }

    /// Reads the rest of the current entry's data without hashing it into the span (it is file content).
    private func drainData() throws {
        guard reader.remainingData > 0 else { return }
        hashing.excludingData = true
        defer { hashing.excludingData = false }
        while try !reader.read(upTo: 1 << 20).isEmpty {}
    }

    /// Refuses an entry whose data the decoder reads (and so bounds) larger than `limit`.
    private func checkSize(_ h: TarHeader, limit: Int64) throws {
        guard h.size <= limit else {
            throw CheckpointError("CKA-SEC-014", "\(h.path) is larger than \(limit) bytes", entry: h.path,
                                  offset: h.headerOffset)
        }
    }

    private func readSmall(_ h: TarHeader, limit: Int64) throws -> (content: [UInt8], digest: String) {
        hashing.excludingData = true
        defer { hashing.excludingData = false }
        try checkSize(h, limit: limit)
        let bytes = try reader.readData(limit: limit)
        return (bytes, Hex.string(SHA256.hash(data: bytes)))
    }

    /// The section a marker opens, or nil for an unknown ancillary kind (refused when critical).
    private func markerSection(_ h: TarHeader, kindName: String) throws -> Section? {
        guard h.type == .directory else {
            throw CheckpointError("CKA-V2-010", "a section marker must be a directory", entry: h.path,
                                  offset: h.headerOffset)
        }
        guard let critical = h.paxValue("CKA.section.critical"), critical == "0" || critical == "1" else {
            throw CheckpointError("CKA-V2-010", "section marker without CKA.section.critical 0 or 1", entry: h.path,
                                  offset: h.headerOffset)
        }
        guard let kind = SectionKind(rawValue: kindName) else {
            if critical == "1" {
                throw CheckpointError("CKA-V2-017", "unknown critical section kind '\(kindName)'", entry: h.path,
                                      offset: h.headerOffset)
            }
            return nil
        }
        let name = h.paxValue("CKA.section.name")
        if kind.isNamed {
            guard let name, Section.isValidName(name) else {
                throw CheckpointError("CKA-V2-022", "invalid or missing section name", entry: h.path,
                                      offset: h.headerOffset)
            }
        } else if name != nil {
            throw CheckpointError("CKA-V2-010", "CKA.section.name on a \(kind.rawValue) marker", entry: h.path,
                                  offset: h.headerOffset)
        }
        let section = Section(kind, name: name, critical: critical == "1")
        guard h.path == section.directory else {
            throw CheckpointError("CKA-V2-011", "marker of \(section) must be named \(section.directory)",
                                  entry: h.path, offset: h.headerOffset)
        }
        if kind != .ext, section.critical != kind.defaultCritical {
            throw CheckpointError("CKA-V2-012", "wrong critical flag for \(kind.rawValue)", entry: h.path,
                                  offset: h.headerOffset)
        }
        return section
    }

    /// The fingerprint of a section (kind, name, critical flag) for the table of sections seen.
    private static func key(_ section: Section) -> NameTable.Key {
        var bytes = Array(section.kind.rawValue.utf8) + [0, section.critical ? 1 : 0]
        if let name = section.name { bytes += [1] + Array(name.utf8) }
        return NameTable.key(bytes)
    }

    private func finishWithIndex(_ h: TarHeader, header: ArchiveHeader,
                                 hasMetadataAndCheckpoint: Bool) throws -> V2DecodeResult {
        guard computed.header != nil, computed.sectionCount > 0 else {
            throw CheckpointError("CKA-V2-016", "the archive has no sections", entry: h.path, offset: h.headerOffset)
        }
        computed.close(end: h.headerOffset, sha256: hashing.startSpan())
        if !hasMetadataAndCheckpoint {
            throw CheckpointError("CKA-V2-016", "the archive lacks a metadata or checkpoint section", entry: h.path,
                                  offset: h.headerOffset)
        }
        guard h.path == "cka-index.json", h.type.isRegularFile, h.paxValue("CKA.index") == "1" else {
            throw CheckpointError("CKA-V2-045", "the index entry must be the regular file cka-index.json with CKA.index=1",
                                  entry: h.path, offset: h.headerOffset)
        }
        try checkSize(h, limit: 1 << 30)
        // The digests still being computed on worker threads, by slot; a failure is reported where the
        // comparison needs them.
        var late: RecordSpool?
        var lateFailure: Error?
        if let written = writtenDigests {
            do { late = try written.finish() } catch { lateFailure = error }
        }
        hashing.excludingData = true
        let reader = self.reader
        let (index, indexDigest) = try IndexComparison.run(
            entry: h, computed: computed, late: late, lateFailure: lateFailure, expectedDigest: expectedIndexDigest,
            budget: budget, read: { try reader.read(upTo: 256 << 10) })
        hashing.excludingData = false
        if try reader.next() != nil {
            throw CheckpointError("CKA-V2-045", "an entry follows the index", offset: reader.source.position)
        }
        let end = try reader.finish()
        guard end.marker == .twoZeroBlocks, end.trailingBytes == 0 else {
            throw CheckpointError("CKA-V2-045", "the index must be followed by exactly the end-of-archive blocks",
                                  offset: end.offset)
        }
        return V2DecodeResult(header: header, index: index, indexDigest: indexDigest, skippedSections: [],
                              skippedSectionCount: 0, streamLength: reader.source.position)
    }
}
