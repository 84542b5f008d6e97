/// The canonical JSON of an index (CKA-IDX-001), piece by piece: `ArchiveIndex.canonicalBytes` (and the
/// encoder's `IndexStreamWriter`) assemble the whole index from them; the decoder hashes these pieces while the
/// recorded index streams (to decide whether it is in canonical form without holding it) and writes them out
/// as the unpacked `cka-index.json`.
///
/// The document is `{` + `"format":...` + `,"version":2` + `,"header":{...}` + `,"sections":[` + the section
/// objects separated by `,` + `]` + `,"files":[` + the file objects + `]` + `,"indexOffset":"<16 hex>"` +
/// `}` and a line feed.
enum CanonicalIndexPieces {
    /// The top-level members in canonical order.
    static let topKeys = ["format", "version", "header", "sections", "files", "indexOffset"]

    /// The bytes that open member `k` of `topKeys` (with the `{` before the first, the `[` of the arrays) and,
    /// for the scalar members, its value.
    static func opening(_ k: Int, header: ArchiveIndex.Span? = nil, indexOffset: Int64 = 0) -> [UInt8] {
        switch k {
        case 0: return Array(#"{"format":"checkpoint-archive-index""#.utf8)
        case 1: return Array(#","version":2"#.utf8)
        case 2:
            let h = header ?? ArchiveIndex.Span(start: 0, end: 0, sha256: "")
            var json = CanonicalJSON()
            json.object { o in
                o.string("path", "cka-header.json")
                o.int("start", h.start)
                o.int("end", h.end)
                o.string("sha256", h.sha256)
            }
            return Array(#","header":"#.utf8) + json.bytes
        case 3: return Array(#","sections":["#.utf8)
        case 4: return Array(#","files":["#.utf8)
        default: return Array(#","indexOffset":""#.utf8) + Array(ArchiveIndex.hex16(indexOffset).utf8) + [0x22]
        }
    }

    /// What closes an array member (`]`).
    static let arrayEnd: [UInt8] = [0x5D]
    /// What ends the document.
    static let documentEnd: [UInt8] = [0x7D, 0x0A]

    /// One section object (table 5.7), appended to `out`.
    static func section(_ s: ArchiveIndex.SectionRecord, into out: inout [UInt8]) {
        var json = CanonicalJSON()
        json.object { o in
            o.string("kind", s.section.kind.rawValue)
            if let name = s.section.name { o.string("name", name) }
            o.bool("critical", s.section.critical)
            o.string("path", s.section.directory)
            o.int("start", s.span.start)
            o.int("end", s.span.end)
            if let c = s.compressedStart { o.int("compressedStart", c) }
            o.int("entries", Int64(s.entries))
            o.string("sha256", s.span.sha256)
        }
        out += json.bytes
    }

    /// One file object (table 5.8), appended to `out` (`ArchiveIndex.FileRecord.appendCanonical`).
    static func file(path: String, size: Int64, offset: Int64, sha256: String, into out: inout [UInt8]) {
        ArchiveIndex.FileRecord.appendCanonical(path: path.utf8, size: size, offset: offset, sha256: sha256.utf8,
                                                to: &out)
    }
}
