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
/// the index are still checked. Memory grows only with the number of regular files (one compact record each,
/// compared with the index at its end) and the size of the index.
public final class V2Checker {
    let collector: DiagnosticCollector
    let options: ValidatorOptions
    let compression: CompressionFormat
    let tail: [UInt8]?
    let entryHook: ((TarHeader) -> Void)?
    /// The reader holds its observer weakly: this keeps it alive.
    let observer: V2StreamObserver

    /// Where the archive's members or frames begin, for framed archives; called once after the stream was
    /// read. Without it CKA-FRM-001 is not checked and `compressedStart` is checked only for consistency
    /// (increasing, before the locator's index member).
    public var frameBoundaries: (() -> [V2FrameBoundary])?

    /// - Parameters:
    ///   - compression: the compression detected from the archive bytes (CKA-CMP-002).
    ///   - tail: the last 64 bytes of the archive file when it is seekable, for the framed locator; nil for pipes.
    ///   - tarObserver: the tar-layer observer; it receives every callback of the reader.
    ///   - entryHook: called with every entry header right after the reader returns it.
    public init(collector: DiagnosticCollector, options: ValidatorOptions, compression: CompressionFormat,
                tail: [UInt8]?, tarObserver: TarReaderObserver?, entryHook: ((TarHeader) -> Void)?) {
        self.collector = collector
        self.options = options
        self.compression = compression
        self.tail = tail
        self.entryHook = entryHook
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
    var sections: [V2Section] = []
    var files: [V2FileRecord] = []
    var indexOffset: Int64?
    var compressedStarts: [Int64?]?
    var order = V2SectionOrder()
    private var afterIndex = false
    private var reportedAfterIndex = false
    private var currentIsRegular = false

    var verify: Bool { hashing != nil }
    var options: ValidatorOptions { checker.options }

    init(checker: V2Checker, stream: ByteSource) {
        self.checker = checker
        report = V2Reporter(collector: checker.collector)
        hashing = checker.options.verifyDigests ? SpanHashingSource(stream) : nil
        reader = TarReader(source: hashing ?? stream, limits: checker.options.tarLimits)
        reader.observer = checker.observer
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

    private func step(_ h: TarHeader, _ raw: V2RawEntry) throws {
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
        if records.contains(where: { $0.key == "CKA.section" }) {
            closeSpan(at: h.headerOffset)
            sections.append(V2SectionRules.openSection(h, records: records, order: &order, report: report))
        } else if records.contains(where: { $0.key == "CKA.index" }) {
            try index(h, records: records)
        } else {
            try sectionEntry(h, records: records)
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
        let consumed = try consumeFile(h, keep: 1 << 20)
        files.append(V2FileRecord(h, sha256: consumed.sha256))
        guard let content = consumed.content else {
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
        V2AlignmentRules.check(h, raw: raw, records: records, alignment: alignment, report: report)
    }

    /// An entry that is neither a marker nor the index: it belongs to the current section.
    private func sectionEntry(_ h: TarHeader, records: [V2PaxRecord]) throws {
        V2SectionRules.legacyNames(h, report: report)
        var keep = 0
        var image = false
        if let section = sections.last {
            section.entries += 1
            if V2SectionRules.belongs(h, to: section, report: report), section.kind != nil {
                keep = V2SectionRules.entry(h, records: records, in: section, report: report)
                image = section.kind == .checkpoint || section.kind == .preCheckpoint
            }
        } else {
            report("CKA-V2-014", "an entry between the version marker and the first section marker", h)
        }
        guard h.type.isRegularFile else { return }
        let consumed = try consumeFile(h, keep: keep, head: image ? CRIUImages.prefixLength : 0)
        files.append(V2FileRecord(h, sha256: consumed.sha256))
        if image, let why = CRIUImages.problem(name: h.path, prefix: consumed.head, size: h.size) {
            report(CRIUImages.v2RequirementID, why, h)
        }
        if let content = consumed.content, let section = sections.last {
            V2ContentRules.content(content, of: h, in: section, report: report)
        }
    }

    /// The index entry: closes the last section and compares the index with the stream.
    private func index(_ h: TarHeader, records: [V2PaxRecord]) throws {
        report.ran(["CKA-V2-045"] + (options.expectedIndexDigest != nil ? ["CKA-IDX-010"] : []))
        closeSpan(at: h.headerOffset)
        afterIndex = true
        indexOffset = h.headerOffset
        V2SectionRules.indexEntry(h, records: records, report: report)
        V2SectionRules.synthesized(h, mode: 0o644, report: report)
        V2SectionRules.modeBitsAndXattrs(h, records: records, fileSystem: false, report: report)
        guard h.type.isRegularFile else { return }
        let consumed = try consumeFile(h, keep: 1 << 30, hash: true)
        guard let content = consumed.content, let streamed = consumed.sha256 else {
            report("CKA-IDX-001", "cka-index.json is larger than 1 GiB and was not read", h)
            return
        }
        let digest = "sha256:" + streamed
        result.indexDigest = digest
        if let expected = options.expectedIndexDigest, expected.lowercased() != digest {
            report("CKA-IDX-010", "the index digest \(digest) differs from the expected \(expected)", h)
        }
        var check = V2IndexCheck(run: self, entry: h)
        check.walk(content)
        compressedStarts = check.compressedStarts
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
        if let header { V2HeaderRules.declaredSections(header, sections: sections, report: report) }
        V2FramingRules.check(run: self, tarLength: reader.source.position, boundaries: checker.frameBoundaries?())
    }

    /// Ends the current span (header or section) at `offset`, where the next one (or the index) begins.
    func closeSpan(at offset: Int64) {
        let digest = hashing?.startSpan()
        guard let last = sections.last else {
            if headerSpan == nil { headerSpan = (offset, digest) }
            return
        }
        guard !last.closed else { return }
        last.end = offset
        last.sha256 = digest
        last.closed = true
        V2ContentRules.sectionEnd(last, report: report)
    }

    /// Files up to this size are hashed on the reading thread.
    static let hashInline: Int64 = 256 << 10

    /// What `consumeFile` read of a regular file.
    struct ConsumedFile {
        /// The whole content, when it was at most the size asked for.
        var content: [UInt8]?
        /// The first bytes of the content, as many as asked for (fewer when the file is shorter).
        var head: [UInt8] = []
        /// The SHA-256 of the content, when it was hashed.
        var sha256: String?
    }

    /// Reads the current regular file: hashes it when digests are verified or `hash` is set (its bytes stay
    /// out of the span), keeps its content when it is at most `keep` bytes and its first `head` bytes.
    /// Nothing is allocated by the declared size: the content grows as it is read.
    func consumeFile(_ h: TarHeader, keep: Int, head: Int = 0, hash: Bool = false) throws -> ConsumedFile {
        var kept: [UInt8]? = keep > 0 && h.size <= Int64(keep) ? [] : nil
        var first: [UInt8] = []
        // Grows with what was read, doubling but never beyond the declared size.
        func append(_ chunk: UnsafeRawBufferPointer) {
            if first.count < head { first += chunk.prefix(head - first.count) }
            guard kept != nil else { return }
            if kept!.count + chunk.count > kept!.capacity {
                kept!.reserveCapacity(Int(min(h.size, Int64(max(2 * kept!.capacity, kept!.count + chunk.count)))))
            }
            kept!.append(contentsOf: chunk)
        }
        guard hashing != nil || hash else {
            if kept == nil, head > 0 {
                // Only the head: the rest is skipped (seeked over on a seekable file) by the next entry.
                while first.count < head {
                    let chunk = try reader.read(upTo: head - first.count)
                    if chunk.isEmpty { break }
                    append(chunk)
                }
            }
            guard kept != nil else { return ConsumedFile(content: nil, head: first) }
            while true {
                let chunk = try reader.read(upTo: 1 << 20)
                if chunk.isEmpty { return ConsumedFile(content: kept, head: first) }
                append(chunk)
            }
        }
        hashing?.excludingData = true
        defer { hashing?.excludingData = false }
        guard h.size > Self.hashInline else {
            // A small file is hashed on this thread: handing it to the hashing thread costs more than hashing
            // it. A span hasher over the entry alone is a plain SHA-256 of its content.
            let source = SpanHashingSource(TarEntrySource(reader))
            while true {
                let chunk = try source.read(upTo: 1 << 20)
                if chunk.isEmpty { break }
                append(chunk)
            }
            source.markEntryBoundary()
            return ConsumedFile(content: kept, head: first, sha256: source.startSpan())
        }
        let source = HashingEntrySource(TarEntrySource(reader))
        while true {
            let chunk = try source.read(upTo: 1 << 20)
            if chunk.isEmpty { break }
            append(chunk)
        }
        return ConsumedFile(content: kept, head: first, sha256: try source.finish())
    }
}
