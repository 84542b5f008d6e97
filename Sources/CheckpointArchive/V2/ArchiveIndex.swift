/// The content of `cka-index.json` (tables 5.5 to 5.8): digests and offsets of everything before it.
public struct ArchiveIndex: Equatable, Sendable {
    /// A byte range of the tar stream with its SHA-256.
    public struct Span: Equatable, Sendable {
        public var start: Int64
        public var end: Int64
        public var sha256: String
    }

    /// One section (table 5.7).
    public struct SectionRecord: Equatable, Sendable {
        public var section: Section
        public var span: Span
        public var compressedStart: Int64?
        public var entries: Int
    }

    /// One regular file (table 5.8).
    public struct FileRecord: Equatable, Sendable {
        public var path: String
        public var size: Int64
        public var offset: Int64
        public var sha256: String

        /// Appends this record's canonical JSON object (the element of the `files` array).
        func appendCanonical(to out: inout [UInt8]) {
            Self.appendCanonical(path: path.utf8, size: size, offset: offset, sha256: sha256.utf8, to: &out)
        }

        /// The canonical JSON object of a file record from its parts: the one serialization of a record,
        /// shared by `canonicalBytes` and the streaming index writer. `sha256` is the lowercase hex digest.
        static func appendCanonical<P: Sequence, D: Sequence>(path: P, size: Int64, offset: Int64, sha256: D,
                                                              to out: inout [UInt8])
        where P.Element == UInt8, D.Element == UInt8 {
            out.append(contentsOf: #"{"path":"#.utf8)
            CanonicalJSON.appendString(utf8: path, to: &out)
            out.append(contentsOf: #","size":"#.utf8)
            out.append(contentsOf: String(size).utf8)
            out.append(contentsOf: #","offset":"#.utf8)
            out.append(contentsOf: String(offset).utf8)
            out.append(contentsOf: #","sha256":"#.utf8)
            CanonicalJSON.appendString(utf8: sha256, to: &out)
            out.append(0x7D)
        }
    }

    public var header: Span
    public var sections: [SectionRecord]
    public var files: [FileRecord]
    public var indexOffset: Int64

    /// The canonical JSON (CKA-IDX-001) with its final line feed: `canonicalPrefix`, the file records
    /// separated by commas (`appendCanonical`), then `canonicalSuffix`. The encoder streams the same pieces
    /// (`IndexStreamWriter`) so that an index of any size is written in bounded memory.
    public var canonicalBytes: [UInt8] {
        var out = Self.canonicalPrefix(header: header, sections: sections)
        for (i, f) in files.enumerated() {
            if i > 0 { out.append(0x2C) }
            f.appendCanonical(to: &out)
        }
        out += Self.canonicalSuffix(indexOffset: indexOffset)
        return out
    }

    /// The canonical index up to the opening bracket of the `files` array (`CanonicalIndexPieces`).
    static func canonicalPrefix(header: Span, sections: [SectionRecord]) -> [UInt8] {
        var out: [UInt8] = []
        for k in 0...3 { out += CanonicalIndexPieces.opening(k, header: header) }
        for (i, s) in sections.enumerated() {
            if i > 0 { out.append(0x2C) }
            CanonicalIndexPieces.section(s, into: &out)
        }
        return out + CanonicalIndexPieces.arrayEnd + CanonicalIndexPieces.opening(4)
    }

    /// The canonical index after the last file record: the end of `files`, `indexOffset`, the line feed.
    static func canonicalSuffix(indexOffset: Int64) -> [UInt8] {
        CanonicalIndexPieces.arrayEnd + CanonicalIndexPieces.opening(5, indexOffset: indexOffset)
            + CanonicalIndexPieces.documentEnd
    }

    static func hex16(_ v: Int64) -> String {
        let s = String(UInt64(bitPattern: v), radix: 16)
        return String(repeating: "0", count: max(0, 16 - s.count)) + s
    }

    /// Parses an index. Its canonical form is checked by comparing `canonicalBytes` with the input.
    public static func parse(_ bytes: [UInt8]) throws -> ArchiveIndex {
        func fail(_ why: String) -> CheckpointError {
            CheckpointError("CKA-IDX-001", "cka-index.json: \(why)", entry: "cka-index.json")
        }
        guard let o = try? V1JSON.parse(bytes), o.isObject else {
            throw fail("not a JSON object")
        }
        guard o["format"]?.stringValue == "checkpoint-archive-index", o["version"]?.integralValue == 2 else {
            throw fail("format or version is wrong")
        }
        func span(_ d: V1JSON.Value?) -> Span? {
            guard let d, d.isObject, let s = d["start"]?.integralValue, let e = d["end"]?.integralValue,
                  let h = d["sha256"]?.stringValue else {
                return nil
            }
            return Span(start: s, end: e, sha256: h)
        }
        guard let header = span(o["header"]) else { throw fail("header is malformed") }
        var sections: [SectionRecord] = []
        // An array holding anything but objects counts as empty, as when the index was read with
        // `JSONSerialization` (a cast to `[[String: Any]]` failed): the count comparisons then name the mismatch,
        // and the streamed decoder gives the same verdicts (StreamedIndexTests).
        func objects(_ v: V1JSON.Value?) -> [V1JSON.Value] {
            guard let a = v?.arrayValue, a.allSatisfy(\.isObject) else { return [] }
            return a
        }
        for s in objects(o["sections"]) {
            guard let kindName = s["kind"]?.stringValue, let critical = s["critical"]?.boolValue,
                  let sp = span(s), let entries = s["entries"]?.integralValue.flatMap(Int.init(exactly:)) else {
                throw fail("a section is malformed")
            }
            let kind = SectionKind(rawValue: kindName) ?? .ext
            sections.append(SectionRecord(section: Section(kind, name: s["name"]?.stringValue, critical: critical),
                                          span: sp, compressedStart: s["compressedStart"]?.integralValue,
                                          entries: entries))
        }
        var files: [FileRecord] = []
        for f in objects(o["files"]) {
            guard let p = f["path"]?.stringValue, let size = f["size"]?.integralValue, let off = f["offset"]?.integralValue,
                  let h = f["sha256"]?.stringValue else { throw fail("a file record is malformed") }
            files.append(FileRecord(path: p, size: size, offset: off, sha256: h))
        }
        guard let hex = o["indexOffset"]?.stringValue, hex.utf8.count == 16, let offset = UInt64(hex, radix: 16) else {
            throw fail("indexOffset is not 16 hex digits")
        }
        // An offset past Int64.max cannot be in any stream (fuzz finding 5: the conversion trapped).
        guard let indexOffset = Int64(exactly: offset) else { throw fail("indexOffset is out of range") }
        return ArchiveIndex(header: header, sections: sections, files: files, indexOffset: indexOffset)
    }
}
