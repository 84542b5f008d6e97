import CheckpointArchive
import TarFormat

/// The index (5.6) against the stream, in one walk over `cka-index.json` as it streams, without building a
/// tree: CKA-IDX-001 (canonical JSON, members of tables 5.5 to 5.8), 002 (header span), 003 (sections), 004
/// (section digests and counts), 005 (files), 006 (indexOffset), 007 (compressedStart), CKA-V2-054 and
/// CKA-GEN-014. The stream's sections and files come back from the run's spools in archive order, which is
/// the order the index lists them in, so the comparison is a merge. Digests are compared only when they were
/// computed; CKA-IDX-014 is what they are computed by.
struct V2IndexCheck {
    static let table = V2MemberTable(["format", "version", "header", "sections", "files", "indexOffset"])
    static let headerTable = V2MemberTable(["path", "start", "end", "sha256"])
    static let sectionTable = V2MemberTable(["kind", "name", "critical", "path", "start", "end", "compressedStart",
                                             "entries", "sha256"], optional: ["name", "compressedStart"])
    static let fileTable = V2MemberTable(["path", "size", "offset", "sha256"])

    let run: V2Run
    let entry: TarHeader
    private var sectionCount = 0
    private let streamSections: RecordSpool.Reader
    private var files: V2FileMerge
    /// The largest `compressedStart` so far (for the checks without member starts).
    private(set) var lastCompressedStart: Int64 = 0

    init(run: V2Run, entry: TarHeader) {
        self.run = run
        self.entry = entry
        streamSections = run.sectionSpool.makeReader()
        files = V2FileMerge(run.fileSpool.makeReader())
    }

    private var report: V2Reporter { run.report }

    private func fail(_ id: String, _ message: String, path: String? = nil, offset: Int64? = nil,
                      compressedOffset: Int64? = nil) {
        report(id, message, path: path ?? entry.path, offset: offset ?? entry.headerOffset,
               compressedOffset: compressedOffset)
    }

    /// The layout of one object: unknown members (CKA-GEN-014) and missing, repeated or misordered ones.
    private func layout(_ keys: [String], _ table: V2MemberTable, _ what: String, required: Set<String>? = nil) {
        let (unknown, problem) = table.problems(keys, required: required)
        for u in unknown { fail("CKA-GEN-014", "cka-index.json: \(what) has the unknown member \"\(u)\"") }
        if let problem { fail("CKA-IDX-001", "cka-index.json: \(what): \(problem)") }
    }

    private func wrongType(_ what: String) { fail("CKA-IDX-001", "cka-index.json: \(what) has the wrong JSON type") }

    private static func isDigest(_ s: String) -> Bool {
        s.utf8.count == 64 && s.utf8.allSatisfy { (0x30...0x39).contains($0) || (0x61...0x66).contains($0) }
    }

    /// Walks the index content as `input` delivers it.
    mutating func walk(_ input: V2JSONInput) throws {
        run.report.ran(["CKA-IDX-001", "CKA-IDX-002", "CKA-IDX-003", "CKA-IDX-004", "CKA-IDX-005", "CKA-IDX-006",
                        "CKA-IDX-007", "CKA-V2-054", "CKA-GEN-014"])
        var cursor = V2JSONCursor(input)
        var keys: [String] = []
        do {
            let isObject = try cursor.object { c, key in
                keys.append(key)
                switch key {
                case "format":
                    if try c.stringValue() != "checkpoint-archive-index" {
                        fail("CKA-IDX-001", "cka-index.json: format must be \"checkpoint-archive-index\"")
                    }
                case "version":
                    if try c.integerValue() != 2 { fail("CKA-IDX-001", "cka-index.json: version must be 2") }
                case "header": try header(&c)
                case "sections":
                    if try !c.array({ c, i in try section(&c, i) }) { wrongType("sections") }
                case "files":
                    if try !c.array({ c, i in try file(&c, i) }) { wrongType("files") }
                case "indexOffset": indexOffset(try c.stringValue())
                default: try c.skipValue()
                }
            }
            guard isObject else {
                fail("CKA-IDX-001", "cka-index.json does not hold a JSON object")
                return
            }
            if try !cursor.restIsOneLineFeed() {
                fail("CKA-IDX-001", "the JSON object must be followed by exactly one line feed")
            }
        } catch let error as V2JSONFailure {
            fail("CKA-IDX-001", "cka-index.json is not valid JSON: \(error)")
            return
        }
        layout(keys, Self.table, "the index")
        if !cursor.nonCanonical.isEmpty {
            fail("CKA-V2-054", "cka-index.json is not canonical JSON: " + cursor.nonCanonical.joined(separator: "; "))
        }
        if keys.contains("sections"), sectionCount != run.sectionSpool.count {
            fail("CKA-IDX-003", "the index lists \(sectionCount) sections, the stream has \(run.sectionSpool.count)")
        }
        if keys.contains("files"), files.listed != run.fileSpool.count {
            fail("CKA-IDX-005", "the index lists \(files.listed) files, the stream has \(run.fileSpool.count)")
        }
        if keys.contains("files") { files.finish(unlisted) }
    }

    /// Table 5.6 and CKA-IDX-002.
    private mutating func header(_ c: inout V2JSONCursor) throws {
        var keys: [String] = []
        var path: String?, start: Int64?, end: Int64?, sha: String?
        let isObject = try c.object { c, key in
            keys.append(key)
            switch key {
            case "path": path = try c.stringValue()
            case "start": start = try c.integerValue()
            case "end": end = try c.integerValue()
            case "sha256": sha = try c.stringValue()
            default: try c.skipValue()
            }
        }
        guard isObject else { return wrongType("header") }
        layout(keys, Self.headerTable, "header")
        let span = run.headerSpan
        if path != nil, path != "cka-header.json" { fail("CKA-IDX-002", "header.path must be \"cka-header.json\"") }
        if let start, start != 0 { fail("CKA-IDX-002", "header.start must be 0") }
        if let end, let actual = span?.end, end != actual {
            fail("CKA-IDX-002", "header.end is \(end), the first section starts at \(actual)")
        }
        if let sha {
            if !Self.isDigest(sha) { fail("CKA-IDX-001", "cka-index.json: header.sha256 is not 64 lowercase hex digits") }
            if let actual = span?.sha256, sha != actual {
                fail("CKA-IDX-002", "header.sha256 differs from the span digest \(actual) of the stream",
                     path: "cka-header.json", offset: 0)
            }
        }
    }

    /// Table 5.7, CKA-IDX-003, 004 and 007, against the stream's section at the same position.
    private mutating func section(_ c: inout V2JSONCursor, _ i: Int) throws {
        sectionCount += 1
        var keys: [String] = []
        var kind: String?, name: String?, critical: Bool?, path: String?, sha: String?
        var start: Int64?, end: Int64?, compressedStart: Int64?, entries: Int64?
        let isObject = try c.object { c, key in
            keys.append(key)
            switch key {
            case "kind": kind = try c.stringValue()
            case "name": name = try c.stringValue()
            case "critical": critical = try c.boolValue()
            case "path": path = try c.stringValue()
            case "start": start = try c.integerValue()
            case "end": end = try c.integerValue()
            case "compressedStart": compressedStart = try c.integerValue()
            case "entries": entries = try c.integerValue()
            case "sha256": sha = try c.stringValue()
            default: try c.skipValue()
            }
        }
        let actual = streamSections.next().map(V2SectionRecord.init)
        guard isObject else { return wrongType("sections[\(i)]") }
        var required: Set<String> = ["kind", "critical", "path", "start", "end", "entries", "sha256"]
        if actual?.name != nil || name != nil { required.insert("name") }
        layout(keys, Self.sectionTable, "sections[\(i)]", required: required)
        if run.header?.framed == true, !keys.contains("compressedStart") {
            fail("CKA-IDX-007", "sections[\(i)] of a framed archive has no compressedStart")
        } else if run.header?.framed == false, keys.contains("compressedStart") {
            fail("CKA-IDX-007", "sections[\(i)] has a compressedStart but the archive is not framed")
        }
        if let sha, !Self.isDigest(sha) {
            fail("CKA-IDX-001", "cka-index.json: sections[\(i)].sha256 is not 64 lowercase hex digits")
        }
        if let compressedStart { checkCompressedStart(compressedStart, i, actual) }
        guard let actual else { return }
        let at = (path: actual.path, offset: actual.start)
        if kind != actual.kindName || name != actual.name || critical != actual.critical || path != actual.path {
            fail("CKA-IDX-003", "sections[\(i)] does not have the marker's kind, name, critical flag and path",
                 path: at.path, offset: at.offset)
        }
        if start != actual.start || end != actual.end {
            fail("CKA-IDX-003", "sections[\(i)] spans \(start.map(String.init) ?? "?")..\(end.map(String.init) ?? "?"), "
                 + "the section spans \(actual.start)..\(actual.end)", path: at.path, offset: at.offset)
        }
        if let entries, entries != Int64(actual.entries) {
            fail("CKA-IDX-004", "sections[\(i)] counts \(entries) entries, the section has \(actual.entries)",
                 path: at.path, offset: at.offset)
        }
        if let sha, let digest = actual.sha256, sha != digest {
            fail("CKA-IDX-004", "sections[\(i)].sha256 differs from the span digest \(digest) of the section",
                 path: at.path, offset: at.offset)
        }
    }

    /// CKA-IDX-007: `compressedStart` is where a member beginning at the section's start begins. With the
    /// decoder's member starts this is exact; without them the values must increase, follow the header's
    /// member and precede the locator's index member.
    private mutating func checkCompressedStart(_ value: Int64, _ i: Int, _ section: V2SectionRecord?) {
        defer { lastCompressedStart = max(lastCompressedStart, value) }
        guard run.header?.framed == true else { return }
        let at = (path: section?.path, offset: section?.start)
        if run.checker.frames != nil, let section {
            guard section.framesKnown else { return }
            if let f = section.frames, value >= f.first, value <= f.last { return }
            fail("CKA-IDX-007", "sections[\(i)].compressedStart \(value) is not where a member beginning at the "
                 + "section's start begins" + (section.frames.map { " (\($0.last))" } ?? " (none does)"),
                 path: at.path, offset: at.offset)
        } else if value <= lastCompressedStart {
            fail("CKA-IDX-007", "sections[\(i)].compressedStart \(value) does not follow the previous member at "
                 + "\(lastCompressedStart)", path: at.path, offset: at.offset)
        } else if let locator = run.locator, value >= locator.indexCompressedOffset {
            fail("CKA-IDX-007", "sections[\(i)].compressedStart \(value) is not before the index member at "
                 + "\(locator.indexCompressedOffset)", path: at.path, offset: at.offset)
        }
    }

    /// Table 5.8 and CKA-IDX-005, against the stream's files (`V2FileMerge`). A record in the canonical form that
    /// matches the next stream file exactly is settled without allocating; anything else takes the general walk.
    private mutating func file(_ c: inout V2JSONCursor, _ i: Int) throws {
        var other: (path: String, size: Int64, offset: Int64, sha: String)?
        let canonical = try c.canonicalFileObject { path, size, offset, sha in
            // The digest is decoded only when the stream's was computed (the canonical form has 64 hex digits).
            if files.matchesNext(path: path, size: size, offset: offset, digest: V2Digest(hexBytes: sha)) {
                files.listed += 1
            } else {
                other = (String(decoding: path, as: UTF8.self), size, offset, String(decoding: sha, as: UTF8.self))
            }
        }
        if canonical {
            // A canonical record that is not simply the next stream file is compared as the general walk does.
            if let r = other { try compare(i, path: r.path, size: r.size, offset: r.offset, sha: r.sha) }
            return
        }
        var keys: [String] = []
        var path: String?, size: Int64?, offset: Int64?, sha: String?
        let isObject = try c.object { c, key in
            keys.append(key)
            switch key {
            case "path": path = try c.stringValue()
            case "size": size = try c.integerValue()
            case "offset": offset = try c.integerValue()
            case "sha256": sha = try c.stringValue()
            default: try c.skipValue()
            }
        }
        guard isObject else {
            files.listed += 1
            return wrongType("files[\(i)]")
        }
        layout(keys, Self.fileTable, "files[\(i)]")
        try compare(i, path: path, size: size, offset: offset, sha: sha)
    }

    /// A file object's values against the stream file the merge finds for them.
    private mutating func compare(_ i: Int, path: String?, size: Int64?, offset: Int64?, sha: String?) throws {
        files.listed += 1
        if let sha, !Self.isDigest(sha) {
            fail("CKA-IDX-001", "cka-index.json: files[\(i)].sha256 is not 64 lowercase hex digits")
        }
        let unlisted = self.unlisted
        guard let (actual, outOfOrder) = files.match(path: path.map { Array($0.utf8) }, offset: offset,
                                                      unlisted: unlisted) else {
            fail("CKA-IDX-005", "files[\(i)] names \(path ?? "no path"), which is not a regular file of the stream")
            return
        }
        let where_ = (path: actual.pathString, offset: actual.headerOffset, compressed: actual.compressedOffset)
        if path.map({ Array($0.utf8) }) != actual.path || size != actual.size || offset != actual.offset {
            fail("CKA-IDX-005", "files[\(i)] (\(path ?? "no path"), size \(size.map(String.init) ?? "?"), offset "
                 + "\(offset.map(String.init) ?? "?")) does not match the entry \(actual.pathString) (size \(actual.size), "
                 + "offset \(actual.offset))", path: where_.path, offset: where_.offset, compressedOffset: where_.compressed)
        }
        if outOfOrder {
            fail("CKA-IDX-005", "files[\(i)] is listed out of archive order", path: where_.path, offset: where_.offset,
                 compressedOffset: where_.compressed)
        }
        if let sha, let digest = actual.digest, V2Digest(hex: sha) != digest {
            fail("CKA-IDX-005", "files[\(i)].sha256 differs from the content's digest \(digest.hex)", path: where_.path,
                 offset: where_.offset, compressedOffset: where_.compressed)
        }
    }

    /// Reports a regular file of the stream the index does not list.
    private var unlisted: (V2FileRecord) -> Void {
        let report = self.report
        return { f in
            report("CKA-IDX-005", "the regular file \(f.pathString) is not listed in files", path: f.pathString,
                   offset: f.headerOffset, compressedOffset: f.compressedOffset)
        }
    }

    /// CKA-IDX-006: 16 lowercase hex digits, the offset of the index entry.
    private func indexOffset(_ text: String?) {
        guard let text else { return wrongType("indexOffset") }
        let digits = text.utf8.allSatisfy { (0x30...0x39).contains($0) || (0x61...0x66).contains($0) }
        guard text.utf8.count == 16, digits, let value = UInt64(text, radix: 16) else {
            return fail("CKA-IDX-006", "indexOffset \"\(text)\" is not 16 lowercase hex digits")
        }
        if Int64(bitPattern: value) != entry.headerOffset {
            fail("CKA-IDX-006", "indexOffset is \(value), the index entry starts at \(entry.headerOffset)")
        }
    }
}

/// Matches the index's `files` with the stream's regular files, both in archive order, in fixed memory: each
/// record is looked for in a window of the next `window` stream files not yet matched (by name, else by data
/// offset). A stream file left more than half a window behind the files being matched, or left at the end, is
/// not listed; a record found behind an earlier match is out of order.
struct V2FileMerge {
    let window = 64
    private let reader: RecordSpool.Reader
    /// Unmatched stream files in archive order, with their ordinal among all the stream's files, from `head` on
    /// (the consumed front is dropped now and then rather than at every match).
    private var pending: [(ordinal: Int, file: V2FileRecord)] = []
    private var head = 0
    private var count: Int { pending.count - head }
    private var nextOrdinal = 0
    private var exhausted = false
    private var lastMatch = -1
    /// Records of the index walked so far.
    var listed = 0

    init(_ reader: RecordSpool.Reader) { self.reader = reader }

    private mutating func fill() {
        if head >= window {
            pending.removeFirst(head)
            head = 0
        }
        while count < window, !exhausted {
            guard let r = reader.next() else {
                exhausted = true
                break
            }
            pending.append((nextOrdinal, V2FileRecord(r)))
            nextOrdinal += 1
        }
    }

    /// Whether the next stream file (in archive order, with nothing skipped before it) is exactly this one: then it
    /// is matched and nothing is left to report. The digest is compared only when the stream's was computed.
    mutating func matchesNext(path: UnsafeRawBufferPointer, size: Int64, offset: Int64,
                              digest: @autoclosure () -> V2Digest?) -> Bool {
        if count == 0, !exhausted {
            // Nothing waits in the window: the next spooled record is compared where it lies.
            switch reader.nextIf({ V2FileRecord.matches($0, path: path, size: size, offset: offset, digest: digest) }) {
            case true?:
                lastMatch = nextOrdinal
                nextOrdinal += 1
                return true
            case false?: break
            case nil: exhausted = true
            }
        }
        fill()
        guard count > 0 else { return false }
        let first = pending[head]
        guard first.ordinal > lastMatch, first.file.path.elementsEqual(path), first.file.size == size,
              first.file.offset == offset,
              first.file.digest == nil || first.file.digest == digest() else { return false }
        head += 1
        lastMatch = first.ordinal
        return true
    }

    /// The stream file an index record describes, and whether it is listed out of order; nil when none in the
    /// window is. Stream files passed over for good are handed to `unlisted`.
    mutating func match(path: [UInt8]?, offset: Int64?,
                        unlisted: (V2FileRecord) -> Void) -> (file: V2FileRecord, outOfOrder: Bool)? {
        fill()
        var j = pending[head...].firstIndex { $0.file.path == path }
        if j == nil, let offset { j = pending[head...].firstIndex { $0.file.offset == offset } }
        guard let j else { return nil }
        let (ordinal, file) = pending.remove(at: j)
        let outOfOrder = ordinal < lastMatch
        lastMatch = max(lastMatch, ordinal)
        while count > 0, pending[head].ordinal < lastMatch - window / 2 {
            unlisted(pending[head].file)
            head += 1
        }
        return (file, outOfOrder)
    }

    /// Hands every stream file never matched to `unlisted`.
    mutating func finish(_ unlisted: (V2FileRecord) -> Void) {
        while true {
            fill()
            guard count > 0 else { return }
            for p in pending[head...] { unlisted(p.file) }
            pending.removeAll()
            head = 0
        }
    }
}
