import TarFormat

/// An entry name checked and split for extraction: relative, no empty, `.` or `..` component, no NUL
/// (CKA-TAR-029, CKA-TAR-034). Names are kept as raw bytes so a v1 name that is not UTF-8 is created
/// byte for byte.
struct ExtractionName: Equatable {
    /// The components between `/` separators, after removing one trailing `/`.
    var components: [[UInt8]]
    /// Whether the name ended in `/` (a directory by name).
    var endsWithSlash: Bool

    /// The normalised name as text (for messages and bookkeeping keys).
    var text: String { Self.join(components) }

    /// The normalised name as bytes, used as a bookkeeping key.
    var key: [UInt8] { Self.key(components) }

    static func key<C: Collection>(_ components: C) -> [UInt8] where C.Element == [UInt8] {
        var out: [UInt8] = []
        for (i, c) in components.enumerated() {
            if i > 0 { out.append(0x2F) }
            out += c
        }
        return out
    }

    static func join<C: Collection>(_ components: C) -> String where C.Element == [UInt8] {
        String(decoding: key(components), as: UTF8.self)
    }

    /// Checks `bytes` as an entry name.
    /// - Parameters:
    ///   - entry: the name to report in errors.
    ///   - offset: the header offset to report in errors.
    ///   - requirement: the requirement to report for a malformed name (CKA-TAR-034 for entry names;
    ///     hard-link targets report CKA-SEC-005).
    static func parse(_ bytes: [UInt8], entry: String, offset: Int64?,
                      requirement: String = "CKA-TAR-034") throws -> ExtractionName {
        if bytes.contains(0) {
            throw CheckpointError(requirement == "CKA-TAR-034" ? "CKA-TAR-029" : requirement,
                                  "name contains a NUL byte", entry: entry, offset: offset)
        }
        guard !bytes.isEmpty else {
            throw CheckpointError(requirement, "empty name", entry: entry, offset: offset)
        }
        guard bytes[0] != 0x2F else {
            throw CheckpointError(requirement, "absolute name (leading '/')", entry: entry, offset: offset)
        }
        var body = bytes[...]
        let slash = body.last == 0x2F
        if slash { body = body.dropLast() }
        guard !body.isEmpty else {
            throw CheckpointError(requirement, "empty name", entry: entry, offset: offset)
        }
        var components: [[UInt8]] = []
        for part in body.split(separator: 0x2F, omittingEmptySubsequences: false) {
            if part.isEmpty {
                throw CheckpointError(requirement, "empty path component ('//')", entry: entry, offset: offset)
            }
            if part.elementsEqual([0x2E]) || part.elementsEqual([0x2E, 0x2E]) {
                throw CheckpointError(requirement, "'\(String(decoding: part, as: UTF8.self))' path component",
                                      entry: entry, offset: offset)
            }
            components.append(Array(part))
        }
        return ExtractionName(components: components, endsWithSlash: slash)
    }

    /// The components of a section's marker directory, e.g. `["volumes", "data"]`.
    static func sectionComponents(_ section: Section) -> [[UInt8]] {
        section.directory.utf8.split(separator: 0x2F).map { Array($0) }
    }
}
