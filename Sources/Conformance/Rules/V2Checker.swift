import ByteStreams
import CheckpointArchive
import Compression
import TarFormat

/// The rule engine for v2 archives: reads the decompressed tar stream once and reports every finding of the
/// v2 rules (areas V2, IDX, FRM, ALN, CNV-001, GEN-014 and the v2 encoding rules of the tar subset) through
/// the collector, carrying on after each broken rule wherever the stream allows.
///
/// With `verifyDigests` the span digests (CKA-IDX-014) and file digests are computed in the same pass, each
/// byte hashed once, the content of files over 256 KiB on a second thread; without it only the index content
/// is hashed (for its digest) and file data is skipped (seeked over on a seekable file), but the structure and
/// the index are still checked.
///
/// Memory does not grow with the archive: what the index is compared with (a record per section and per
/// regular file) waits in spools that move to a temporary file beyond 1 MiB, JSON documents (the index, the
/// metadata files, the rootfs lists) are walked as they stream, and names go to a `NameTable`.
public final class V2Checker {
    /// Whether a header block's name field (NUL-padded) is `cka-index.json`: the read-ahead reads that file
    /// whole, since the index check walks all of it.
    static func isIndexNameField(_ field: UnsafeRawBufferPointer) -> Bool {
        let name = indexName
        guard field.count > name.count, field[name.count] == 0 else { return false }
        return name.withUnsafeBytes { field.starts(with: $0) }
    }

    private static let indexName = Array("cka-index.json".utf8)

    let collector: DiagnosticCollector
    let options: ValidatorOptions
    let compression: CompressionFormat
    let tail: [UInt8]?
    let entryHook: ((TarHeader) -> Void)?
    /// The reader's observer (the reader holds it too).
    let observer: V2StreamObserver
    /// Where the gzip members or zstd frames begin, fed by the decoder; nil when not known (then CKA-FRM-001 is
    /// not checked and `compressedStart` only for consistency: increasing, before the locator's index member).
    public let frames: FrameTracker?
    /// The names of the stream (shared with the tar-layer rules when they run).
    let names: NameTable
    /// The read-ahead plan's screen of header blocks, for the reader (`HeaderScreen`); nil when not read ahead.
    public var screen: HeaderScreen?

    /// - Parameters:
    ///   - compression: the compression detected from the archive bytes (CKA-CMP-002).
    ///   - tail: the last 64 bytes of the archive file when it is seekable, for the framed locator; nil for pipes.
    ///   - tarObserver: the tar-layer observer; it receives every callback of the reader.
    ///   - entryHook: called with every entry header right after the reader returns it.
    ///   - frames: the member starts of a compressed archive, as its decoder reports them.
    ///   - names: the name table to use (the tar-layer rules' one); nil makes one.
    public init(collector: DiagnosticCollector, options: ValidatorOptions, compression: CompressionFormat,
                tail: [UInt8]?, tarObserver: TarReaderObserver?, entryHook: ((TarHeader) -> Void)?,
                frames: FrameTracker? = nil, names: NameTable? = nil) {
        self.collector = collector
        self.options = options
        self.compression = compression
        self.tail = tail
        self.entryHook = entryHook
        self.frames = frames
        self.names = names ?? NameTable(memoryLimit: options.nameTableMemory)
        observer = V2StreamObserver(forwardingTo: tarObserver)
    }

    /// Reads the whole decompressed tar stream once. Never throws: an error of the stream (a `TarError` or a
    /// decompression error) goes to `malformed` and ends the check (CKA-GEN-012).
    public func check(stream: ByteSource, malformed: (Error) -> Void) -> V2CheckResult {
        let run = V2Run(checker: self, stream: stream)
        do {
            try run.execute()
        } catch is V2Run.Stop {
        } catch {
            malformed(error)
        }
        run.result.temporaryFileError = run.sectionSpool.ioError ?? run.fileSpool.ioError ?? names.ioError
        return run.result
    }
}

/// One pass over one archive: the stream, the state the rules need, and the order in which they run.
final class V2Run {
    struct Stop: Error {}

    let checker: V2Checker
    let report: V2Reporter
    let hashing: SpanHashingSource?
    let reader: TarReader
    var result = V2CheckResult()

    var entryNumber = 0
    var header: V2HeaderDocument?
    /// The header's `alignment` when it is valid (CKA-ALN-001); nil otherwise.
    var alignment: Int64?
    var headerSpan: (end: Int64, sha256: String?)?
    /// The section being read; closed ones are in `sectionSpool`.
    var section: V2Section?
    let sectionSpool: RecordSpool
    let fileSpool: RecordSpool
    var indexOffset: Int64?
    /// The member starts at the index offset (framed archives).
    var indexFrames: FrameTracker.Lookup?
    /// The locator of a framed archive, read from the file's tail before the stream.
    let locator: V2FramingRules.Locator?
    /// The largest `compressedStart` of the index.
    var lastCompressedStart: Int64 = 0
    var order = V2SectionOrder()
    /// CKA-V2-007: the first section that differs from the header's list was reported.
    private var declaredMismatch = false
    private var afterIndex = false
    private var reportedAfterIndex = false
    private var currentIsRegular = false

    var verify: Bool { hashing != nil }
    var options: ValidatorOptions { checker.options }
    var sectionCount: Int { sectionSpool.count + (section.map { $0.closed ? 0 : 1 } ?? 0) }

    init(checker: V2Checker, stream: ByteSource) {
        self.checker = checker
        report = V2Reporter(collector: checker.collector)
        hashing = checker.options.verifyDigests ? SpanHashingSource(stream) : nil
        reader = TarReader(source: hashing ?? stream, limits: checker.options.tarLimits)
        reader.observer = checker.observer
        reader.screen = checker.screen
        sectionSpool = RecordSpool(memoryLimit: checker.options.spoolMemory)
        fileSpool = RecordSpool(memoryLimit: checker.options.spoolMemory)
        if let tail = checker.tail, checker.compression == .gzip || checker.compression == .zstd,
           case let .found(l) = V2FramingRules.read(tail: tail, format: checker.compression) {
            locator = l
        } else {
            locator = nil
        }
    }

    func execute() throws {
        while true {
            if let hashing {
                if currentIsRegular, reader.remainingData > 0 {
                    hashing.excludingData = true
                    defer { hashing.excludingData = false }
                    while try !reader.read(upTo: 1 << 20).isEmpty {}
                }
                try reader.skipRemainingData()
                hashing.markEntryBoundary()
            }
            checker.observer.beginEntry()
            guard let h = try reader.next() else { break }
            hashing?.entryHeadersRead()
            checker.entryHook?(h)
            entryNumber += 1
            currentIsRegular = h.type.isRegularFile
            try step(h, checker.observer.finishEntry())
        }
        try finish()
    }

    private func step(_ h: consuming TarHeader, _ raw: V2RawEntry) throws {
        let records = raw.records
        if entryNumber == 1 {
            try versionMarker(h, raw, records)
            return
        }
        V2EncodingRules.check(h, raw: raw, records: records, report: report)
        if afterIndex {
            if !reportedAfterIndex {
                reportedAfterIndex = true
                report("CKA-V2-045", "an entry follows the index", h)
            }
            return
        }
        V2EncodingRules.ckaPlacement(h, records: records, first: false, report: report)
        V2AlignmentRules.check(h, raw: raw, records: records, alignment: alignment, report: report)
        let cka = records.contains { $0.key.utf8.first == 0x43 && $0.key.hasPrefix("CKA.") }
        if cka, records.contains(where: { $0.key == "CKA.section" }) {
            closeSpan(at: h.headerOffset)
            let s = V2SectionRules.openSection(h, records: records, order: &order, names: checker.names,
                                               spoolMemory: options.spoolMemory, report: report)
            s.frames = V2FramingRules.memberStarts(at: s.start, path: s.path, run: self)
            if let header { declared(header, s) }
            section = s
        } else if cka, records.contains(where: { $0.key == "CKA.index" }) {
            try index(h, records: records)
        } else {
            try sectionEntry(h, records: records)
        }
    }

    /// CKA-V2-007 as each section opens: the header lists it, with its marker's values.
    private func declared(_ header: V2HeaderDocument, _ s: V2Section) {
        guard let list = header.sections, !declaredMismatch else { return }
        let i = sectionSpool.count + (section.map { $0.closed ? 0 : 1 } ?? 0)
        guard i < list.count else { return }
        if !V2HeaderRules.declaredMatches(list[i], s) {
            declaredMismatch = true
            V2HeaderRules.declaredMismatch(list[i], i, s, report: report)
        }
    }

    /// Entry 0: the version marker and the header document.
    private func versionMarker(_ h: TarHeader, _ raw: V2RawEntry, _ records: [V2PaxRecord]) throws {
        report.ran(V2EncodingRules.ids + V2SectionRules.entryIDs + ["CKA-V2-001", "CKA-V2-002", "CKA-V2-053"])
        let version = records.last(where: { $0.key == "CKA.version" })?.stringValue
        V2HeaderRules.versionMarker(h, version: version, report: report)
        if let version, version != "2" { throw Stop() }
        V2EncodingRules.check(h, raw: raw, records: records, report: report)
        V2EncodingRules.ckaPlacement(h, records: records, first: true, report: report)
        V2SectionRules.synthesized(h, mode: 0o644, report: report)
        V2SectionRules.modeBitsAndXattrs(h, records: records, fileSystem: false, report: report)
        guard h.type.isRegularFile else { return }
        var content: [UInt8]?
        let consumed = try consumeFile(h) { input in
            // At most 1 MiB is read into memory; the rest is hashed and skipped.
            var bytes: [UInt8] = []
            var i = 0
            while bytes.count <= 1 << 20, let b = try input.byte(i) {
                bytes.append(b)
                i += 1
                input.release(before: i)
            }
            if bytes.count <= 1 << 20 { content = bytes }
        }
        spoolFile(h, sha256: consumed.sha256)
        guard let content else {
            report("CKA-V2-003", "cka-header.json is larger than 1 MiB and was not read", h)
            return
        }
        let document = V2HeaderRules.parse(content, h, report: report)
        header = document
        result.profile = document?.profile
        if let document {
            alignment = V2HeaderRules.check(document, compression: checker.compression, h, report: report)
            result.header = V2HeaderRules.model(document)
        }
        _ = V2FramingRules.memberStarts(at: 0, path: h.path, run: self)
        V2AlignmentRules.check(h, raw: raw, records: records, alignment: alignment, report: report)
    }

    /// An entry that is neither a marker nor the index: it belongs to the current section.
    private func sectionEntry(_ h: TarHeader, records: [V2PaxRecord]) throws {
        V2SectionRules.legacyNames(h, report: report)
        var content = V2ContentRules.Content.none
        var image = false
        if let section {
            section.entries += 1
            if V2SectionRules.belongs(h, to: section, report: report), section.kind != nil {
                content = V2SectionRules.entry(h, records: records, in: section, report: report)
                image = section.kind == .checkpoint || section.kind == .preCheckpoint
            }
        } else {
            report("CKA-V2-014", "an entry between the version marker and the first section marker", h)
        }
        guard h.type.isRegularFile else { return }
        let section = self.section
        let consumed = try consumeFile(h, head: image ? CRIUImages.prefixLength : 0,
                                       parse: content == .json && section != nil ? { input in
                                           try V2ContentRules.content(input, of: h, in: section!, report: self.report)
                                       } : nil)
        spoolFile(h, sha256: consumed.sha256)
        if image, let why = CRIUImages.problem(name: h.path, prefix: consumed.head, size: h.size) {
            report(CRIUImages.v2RequirementID, why, h)
        }
    }

    private func spoolFile(_ h: TarHeader, sha256: String?) {
        let record = V2FileRecord(h, sha256: sha256, compressedOffset: checker.frames?.member(containing: h.headerOffset))
        fileSpool.append { record.encode(into: &$0) }
    }

    /// The index entry: closes the last section and compares the index with the stream as it streams.
    private func index(_ h: TarHeader, records: [V2PaxRecord]) throws {
        report.ran(["CKA-V2-045"] + (options.expectedIndexDigest != nil ? ["CKA-IDX-010"] : []))
        closeSpan(at: h.headerOffset)
        afterIndex = true
        indexOffset = h.headerOffset
        indexFrames = V2FramingRules.memberStarts(at: h.headerOffset, path: h.path, run: self)
        V2SectionRules.indexEntry(h, records: records, report: report)
        V2SectionRules.synthesized(h, mode: 0o644, report: report)
        V2SectionRules.modeBitsAndXattrs(h, records: records, fileSystem: false, report: report)
        guard h.type.isRegularFile else { return }
        var check = V2IndexCheck(run: self, entry: h)
        // The index digest is computed when digests are verified or one is expected; `--no-digests` computes none.
        let wanted = verify || options.expectedIndexDigest != nil
        let consumed = try consumeFile(h, hash: wanted) { input in try check.walk(input) }
        lastCompressedStart = check.lastCompressedStart
        guard let streamed = consumed.sha256 else { return }
        let digest = "sha256:" + streamed
        result.indexDigest = digest
        if let expected = options.expectedIndexDigest, expected.lowercased() != digest {
            report("CKA-IDX-010", "the index digest \(digest) differs from the expected \(expected)", h)
        }
    }

    private func finish() throws {
        report.ran(["CKA-V2-045", "CKA-V2-016"])
        if !afterIndex {
            closeSpan(at: reader.source.position)
            report("CKA-V2-045", "the archive ends without the index entry cka-index.json", path: nil,
                   offset: reader.source.position)
        }
        // How the stream ended (CKA-TAR-001, 002) is for the tar-layer rules: `result.tarEnd`.
        let end = try reader.finish()
        result.tarEnd = end
        order.finish(report: report, at: end.offset)
        if let list = header?.sections {
            V2HeaderRules.declaredCount(list.count, sectionCount, report: report)
        }
        V2FramingRules.check(run: self, tarLength: reader.source.position)
    }

    /// Ends the current span (header or section) at `offset`, where the next one (or the index) begins.
    func closeSpan(at offset: Int64) {
        let digest = hashing?.startSpan()
        guard let last = section else {
            if headerSpan == nil { headerSpan = (offset, digest) }
            return
        }
        guard !last.closed else { return }
        last.end = offset
        last.sha256 = digest
        last.closed = true
        V2ContentRules.sectionEnd(last, report: report)
        sectionSpool.append(last.record.encoded)
    }

    /// What `consumeFile` read of a regular file.
    struct ConsumedFile {
        /// The first bytes of the content, as many as asked for (fewer when the file is shorter).
        var head: [UInt8] = []
        /// The SHA-256 of the content, when it was hashed.
        var sha256: String?
    }

    /// Files up to this size are hashed on the reading thread.
    static let hashInline: Int64 = 256 << 10

    /// Reads the current regular file: hashes it when digests are verified or `hash` is set (its bytes stay
    /// out of the span), keeps its first `head` bytes, and lets `parse` walk it as JSON while it streams (what
    /// `parse` leaves unread is read after it). Without hashing, data nobody reads is skipped by the next entry.
    func consumeFile(_ h: TarHeader, head: Int = 0, hash: Bool = false,
                     parse: ((V2JSONInput) throws -> Void)? = nil) throws -> ConsumedFile {
        let hashed = hashing != nil || hash
        // Nothing to look at: the next entry skips (or the span hasher reads past) the data.
        if !hashed, parse == nil, head == 0 || h.size == 0 { return ConsumedFile() }
        let source: ByteSource
        var background: HashingEntrySource?
        var inline: SpanHashingSource?
        if !hashed {
            source = TarEntrySource(reader)
        } else if h.size > Self.hashInline {
            background = HashingEntrySource(TarEntrySource(reader))
            source = background!
        } else {
            // A small file is hashed on this thread: handing it to the hashing thread costs more than hashing
            // it. A span hasher over the entry alone is a plain SHA-256 of its content.
            inline = SpanHashingSource(TarEntrySource(reader))
            source = inline!
        }
        hashing?.excludingData = true
        defer { hashing?.excludingData = false }
        var first: [UInt8] = []
        if let parse {
            let input = V2JSONInput(next: {
                let chunk = try source.read(upTo: 64 << 10)
                if first.count < head { first += chunk.prefix(head - first.count) }
                return chunk
            })
            try parse(input)
        }
        // Only the head wanted: read no more than that (the rest is skipped unless it is hashed).
        while first.count < head {
            let chunk = try source.read(upTo: head - first.count)
            if chunk.isEmpty { break }
            first += chunk
        }
        guard hashed else { return ConsumedFile(head: first) }
        while try !source.read(upTo: 1 << 20).isEmpty {}
        if let inline {
            inline.markEntryBoundary()
            return ConsumedFile(head: first, sha256: inline.startSpan())
        }
        return ConsumedFile(head: first, sha256: try background!.finish())
    }
}
