/// The index a v2 decoder computes from the stream (CKA-IDX-014) while it reads it, in bounded memory: the
/// header span, then one record per section and per regular file in stream order, each kind in a
/// `RecordSpool` (memory up to the budget, then an unlinked temporary file). The index entry, the archive's
/// last, lists the same records in the same order, so `IndexComparison` reads these back as a merge.
///
/// A file whose digest is computed later on a worker thread (`WrittenFileDigests`) is recorded without one;
/// its digest arrives by slot (its position among the files) in a spool of its own.
final class ComputedIndex {
    /// The span of the version marker's entry (known when the first section marker is read).
    var header: ArchiveIndex.Span?
    /// Closed sections, in stream order.
    let sections: RecordSpool
    /// Regular files, in stream order.
    let files: RecordSpool
    /// The section being read: its span ends where the next marker or the index entry begins.
    private(set) var open: ArchiveIndex.SectionRecord?
    /// Sections and files recorded (the open section included).
    private(set) var sectionCount = 0
    private(set) var fileCount = 0

    init(budget: MemoryBudget) {
        sections = budget.makeSpool()
        files = budget.makeSpool()
    }

    /// Why a spool's temporary file failed, if one did (records were lost: the decode is an I/O failure).
    var ioError: String? { sections.ioError ?? files.ioError }

    /// Records a regular file; `sha256` is empty when the digest arrives later by slot. Returns its slot.
    @discardableResult
    func addFile(path: String, size: Int64, offset: Int64, sha256: String) -> Int {
        files.append { w in
            w.string(path)
            w.int(size)
            w.int(offset)
            w.string(sha256)
        }
        fileCount += 1
        return fileCount - 1
    }

    /// Starts a section (after `close` ended the one before).
    func openSection(_ record: ArchiveIndex.SectionRecord) {
        open = record
        sectionCount += 1
    }

    /// Counts an entry of the open section.
    func countEntry() { open?.entries += 1 }

    /// Closes the open section at `end` with the digest of its span.
    func close(end: Int64, sha256: String) {
        guard var s = open else { return }
        s.span.end = end
        s.span.sha256 = sha256
        sections.append { w in
            w.string(s.section.kind.rawValue)
            w.optionalString(s.section.name)
            w.bool(s.section.critical)
            w.int(s.span.start)
            w.int(s.span.end)
            w.int(Int64(s.entries))
            w.string(s.span.sha256)
        }
        open = nil
    }

    /// A section record read back (`compressedStart` is never computed: a streaming decoder cannot see it).
    static func section(_ r: RecordReader) -> ArchiveIndex.SectionRecord {
        var r = r
        let kind = SectionKind(rawValue: r.string()) ?? .ext
        let name = r.optionalString()
        let critical = r.bool()
        let start = r.int(), end = r.int(), entries = Int(r.int())
        return ArchiveIndex.SectionRecord(section: Section(kind, name: name, critical: critical),
                                          span: ArchiveIndex.Span(start: start, end: end, sha256: r.string()),
                                          compressedStart: nil, entries: entries)
    }

    /// A file record read back: the path's bytes, size, data offset and digest (empty: it arrives by slot).
    struct File {
        var path: [UInt8]
        var size: Int64
        var offset: Int64
        var sha256: [UInt8]

        var pathString: String { String(decoding: path, as: UTF8.self) }
    }

    static func file(_ r: RecordReader) -> File {
        var r = r
        return File(path: r.data(), size: r.int(), offset: r.int(), sha256: r.data())
    }
}
