import TarFormat

/// The index (5.6) against the stream, in one walk over `cka-index.json` without building a tree:
/// CKA-IDX-001 (canonical JSON, members of tables 5.5 to 5.8), 002 (header span), 003 (sections), 004 (section
/// digests and counts), 005 (files), 006 (indexOffset), 007 (presence of compressedStart), CKA-V2-054 and
/// CKA-GEN-014. Digests are compared only when they were computed; CKA-IDX-014 is what they are computed by.
struct V2IndexCheck {
    static let table = V2MemberTable(["format", "version", "header", "sections", "files", "indexOffset"])
    static let headerTable = V2MemberTable(["path", "start", "end", "sha256"])
    static let sectionTable = V2MemberTable(["kind", "name", "critical", "path", "start", "end", "compressedStart",
                                             "entries", "sha256"], optional: ["name", "compressedStart"])
    static let fileTable = V2MemberTable(["path", "size", "offset", "sha256"])

    let run: V2Run
    let entry: TarHeader
    /// The recorded `compressedStart` of each section (nil where absent), for the framing rules.
    private(set) var compressedStarts: [Int64?] = []
    private var sectionCount = 0
    private var fileCount = 0
    private var byPath: [String: Int]?
    private var matched = Set<Int>()
    private var switchedAt = 0
    private var lastMatch = -1

    init(run: V2Run, entry: TarHeader) {
        self.run = run
        self.entry = entry
    }

    private var report: V2Reporter { run.report }

    private func fail(_ id: String, _ message: String, path: String? = nil, offset: Int64? = nil) {
        report(id, message, path: path ?? entry.path, offset: offset ?? entry.headerOffset)
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

    mutating func walk(_ content: [UInt8]) {
        run.report.ran(["CKA-IDX-001", "CKA-IDX-002", "CKA-IDX-003", "CKA-IDX-004", "CKA-IDX-005", "CKA-IDX-006",
                        "CKA-IDX-007", "CKA-V2-054", "CKA-GEN-014"] + (run.verify ? ["CKA-IDX-014"] : []))
        var cursor = V2JSONCursor(content)
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
                default: _ = try c.value()
                }
            }
            guard isObject else {
                fail("CKA-IDX-001", "cka-index.json does not hold a JSON object")
                return
            }
        } catch {
            fail("CKA-IDX-001", "cka-index.json is not valid JSON: \(error)")
            return
        }
        if !cursor.rest.elementsEqual([0x0A]) {
            fail("CKA-IDX-001", "the JSON object must be followed by exactly one line feed")
        }
        layout(keys, Self.table, "the index")
        if !cursor.nonCanonical.isEmpty {
            fail("CKA-V2-054", "cka-index.json is not canonical JSON: " + cursor.nonCanonical.joined(separator: "; "))
        }
        if keys.contains("sections"), sectionCount != run.sections.count {
            fail("CKA-IDX-003", "the index lists \(sectionCount) sections, the stream has \(run.sections.count)")
        }
        if keys.contains("files"), fileCount != run.files.count {
            fail("CKA-IDX-005", "the index lists \(fileCount) files, the stream has \(run.files.count)")
        }
        unlisted()
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
            default: _ = try c.value()
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

    /// Table 5.7, CKA-IDX-003, 004 and 007.
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
            default: _ = try c.value()
            }
        }
        guard isObject else { return wrongType("sections[\(i)]") }
        let actual = i < run.sections.count ? run.sections[i] : nil
        var required: Set<String> = ["kind", "critical", "path", "start", "end", "entries", "sha256"]
        if actual?.name != nil || name != nil { required.insert("name") }
        layout(keys, Self.sectionTable, "sections[\(i)]", required: required)
        compressedStarts.append(compressedStart)
        if run.header?.framed == true, !keys.contains("compressedStart") {
            fail("CKA-IDX-007", "sections[\(i)] of a framed archive has no compressedStart")
        } else if run.header?.framed == false, keys.contains("compressedStart") {
            fail("CKA-IDX-007", "sections[\(i)] has a compressedStart but the archive is not framed")
        }
        if let sha, !Self.isDigest(sha) {
            fail("CKA-IDX-001", "cka-index.json: sections[\(i)].sha256 is not 64 lowercase hex digits")
        }
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

    /// Table 5.8 and CKA-IDX-005.
    private mutating func file(_ c: inout V2JSONCursor, _ i: Int) throws {
        fileCount += 1
        var keys: [String] = []
        var path: String?, size: Int64?, offset: Int64?, sha: String?
        let isObject = try c.object { c, key in
            keys.append(key)
            switch key {
            case "path": path = try c.stringValue()
            case "size": size = try c.integerValue()
            case "offset": offset = try c.integerValue()
            case "sha256": sha = try c.stringValue()
            default: _ = try c.value()
            }
        }
        guard isObject else { return wrongType("files[\(i)]") }
        layout(keys, Self.fileTable, "files[\(i)]")
        if let sha, !Self.isDigest(sha) {
            fail("CKA-IDX-001", "cka-index.json: files[\(i)].sha256 is not 64 lowercase hex digits")
        }
        guard let n = match(i, path) else {
            fail("CKA-IDX-005", "files[\(i)] names \(path ?? "no path"), which is not a regular file of the stream "
                 + (i < run.files.count ? "(the stream's file number \(i) is \(run.files[i].path))" : ""))
            return
        }
        let actual = run.files[n]
        if path != actual.path || size != actual.size || offset != actual.offset {
            fail("CKA-IDX-005", "files[\(i)] (size \(size.map(String.init) ?? "?"), offset \(offset.map(String.init) ?? "?")) "
                 + "does not match the entry \(actual.path) (size \(actual.size), offset \(actual.offset))",
                 path: actual.path, offset: actual.headerOffset)
        }
        if n < lastMatch {
            fail("CKA-IDX-005", "files[\(i)] is listed out of archive order", path: actual.path, offset: actual.headerOffset)
        }
        lastMatch = n
        if let sha, let digest = actual.digest, V2Digest(hex: sha) != digest {
            fail("CKA-IDX-005", "files[\(i)].sha256 differs from the content's digest \(digest.hex)", path: actual.path,
                 offset: actual.headerOffset)
        }
    }

    /// The stream's file a record describes: the one at the same position while the names agree; after the
    /// first disagreement (a record missing or added), the one with the same name, so one shift does not
    /// hide the digests of every later file.
    private mutating func match(_ i: Int, _ path: String?) -> Int? {
        if byPath == nil, i < run.files.count, run.files[i].path == path { return i }
        if byPath == nil {
            var map: [String: Int] = [:]
            for (n, f) in run.files.enumerated() where map[f.path] == nil { map[f.path] = n }
            byPath = map
            switchedAt = i
        }
        guard let path, let n = byPath?[path] else { return nil }
        matched.insert(n)
        return n
    }

    /// Regular files of the stream no record named, once records were matched by name.
    private func unlisted() {
        guard byPath != nil else { return }
        for (n, f) in run.files.enumerated() where n >= switchedAt && !matched.contains(n) {
            fail("CKA-IDX-005", "the regular file \(f.path) is not listed in files", path: f.path, offset: f.headerOffset)
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
