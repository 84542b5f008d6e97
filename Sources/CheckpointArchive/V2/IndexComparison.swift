/// Compares the index an archive records with the one computed from its stream, naming the first
/// difference by its requirement (CKA-IDX-001..006).
enum IndexComparison {
    static func check(recorded: ArchiveIndex, computed: ArchiveIndex, content: [UInt8], at offset: Int64) throws {
        func fail(_ id: String, _ why: String, _ entry: String = "cka-index.json", at: Int64? = nil) -> CheckpointError {
            CheckpointError(id, why, entry: entry, offset: at ?? offset)
        }
        if recorded.header != computed.header {
            let why = recorded.header.sha256 != computed.header.sha256 ? "header span digest mismatch"
                : "header span offsets differ"
            throw fail("CKA-IDX-002", why, "cka-header.json")
        }
        guard recorded.sections.count == computed.sections.count else {
            throw fail("CKA-IDX-003", "the index lists \(recorded.sections.count) sections, the stream has \(computed.sections.count)")
        }
        for (r, c) in zip(recorded.sections, computed.sections) {
            if r.section != c.section {
                throw fail("CKA-IDX-003", "section \(r.section) in the index, \(c.section) in the stream", c.section.directory)
            }
            if r.span.start != c.span.start || r.span.end != c.span.end {
                throw fail("CKA-IDX-003", "offsets of section \(c.section) differ", c.section.directory)
            }
            if r.span.sha256 != c.span.sha256 {
                throw fail("CKA-IDX-004", "digest mismatch for section \(c.section)", c.section.directory)
            }
            if r.entries != c.entries {
                throw fail("CKA-IDX-004", "section \(c.section): \(r.entries) entries in the index, \(c.entries) in the stream",
                           c.section.directory)
            }
        }
        guard recorded.files.count == computed.files.count else {
            throw fail("CKA-IDX-005", "the index lists \(recorded.files.count) files, the stream has \(computed.files.count)")
        }
        for (r, c) in zip(recorded.files, computed.files) {
            if r.path != c.path || r.size != c.size || r.offset != c.offset {
                throw fail("CKA-IDX-005", "file record does not match the entry", c.path)
            }
            if r.sha256 != c.sha256 {
                // The offset of the file's data in the stream, where the damage is.
                throw fail("CKA-IDX-005", "content digest mismatch: sha256 \(c.sha256) of the data, \(r.sha256) in the index",
                           c.path, at: c.offset)
            }
        }
        if recorded.indexOffset != computed.indexOffset {
            throw fail("CKA-IDX-006", "indexOffset \(recorded.indexOffset) differs from the index entry's offset \(computed.indexOffset)")
        }
        // An index listing a section of unknown kind (parsed as ext) or vendor members (ignored, CKA-GEN-014) cannot
        // be rebuilt byte for byte from what was parsed.
        if recorded.canonicalBytes != content, !CanonicalJSON.listsUnknownSectionKind(content),
           !CanonicalJSON.equalIgnoringVendorMembers(content, recorded.canonicalBytes) {
            throw fail("CKA-IDX-001", "cka-index.json is not in canonical form")
        }
    }
}
