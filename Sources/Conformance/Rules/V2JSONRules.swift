import CheckpointArchive
import Compression
import TarFormat

/// A section as the header lists it (table 5.1 `sections`).
struct V2DeclaredSection {
    var kind: String?
    var name: String?
    var critical: Bool?
}

/// The members of `cka-header.json` that were present with the right JSON type.
struct V2HeaderDocument {
    var format: String?
    var version: Int64?
    var profile: String?
    var compression: String?
    var framed: Bool?
    var alignment: Int64?
    var creator: String?
    var sections: [V2DeclaredSection]?
}

/// The version marker and its JSON document (5.1): CKA-V2-001..004, 006..009, CKA-V2-054, CKA-GEN-014, and
/// the header members other parts constrain (CKA-FRM-009, CKA-ALN-001, CKA-ALN-007).
enum V2HeaderRules {
    static let table = V2MemberTable(["format", "version", "profile", "compression", "framed", "alignment", "creator",
                                      "sections"])
    static let sectionTable = V2MemberTable(["kind", "name", "critical"], optional: ["name"])
    static let profiles: Set<String> = ["podman", "cri-o", "containerd", "generic"]

    /// CKA-V2-001 and CKA-V2-002: entry 0 is the regular file `cka-header.json` with `CKA.version=2`.
    static func versionMarker(_ h: TarHeader, version: String?, report: V2Reporter) {
        if h.path != "cka-header.json" || !h.type.isRegularFile || version == nil {
            report("CKA-V2-001", "the first entry must be the regular file cka-header.json with the record CKA.version=2", h)
        }
        if let version, version != "2" {
            report("CKA-V2-002", "unsupported format version \"\(version)\"; the archive is not read further", h)
        }
    }

    /// Reads `cka-header.json`: one JSON object with the members of table 5.1 in order and one final line feed
    /// (CKA-V2-003), canonical (CKA-V2-054), no unknown members (CKA-GEN-014). Nil when it is not an object.
    static func parse(_ content: [UInt8], _ h: TarHeader, report: V2Reporter) -> V2HeaderDocument? {
        report.ran(["CKA-V2-003", "CKA-V2-054", "CKA-GEN-014"])
        var doc = V2HeaderDocument()
        var keys: [String] = []
        var wrongType: [String] = []
        var cursor = V2JSONCursor(content)
        do {
            let isObject = try cursor.object { c, key in
                keys.append(key)
                switch key {
                case "format": doc.format = try c.stringValue()
                case "version": doc.version = try c.integerValue()
                case "profile": doc.profile = try c.stringValue()
                case "compression": doc.compression = try c.stringValue()
                case "framed": doc.framed = try c.boolValue()
                case "alignment": doc.alignment = try c.integerValue()
                case "creator": doc.creator = try c.stringValue()
                case "sections": doc.sections = try sections(&c, h, report: report)
                default: try c.skipValue()
                }
                let present: [String: Bool] = ["format": doc.format != nil, "version": doc.version != nil,
                                               "profile": doc.profile != nil, "compression": doc.compression != nil,
                                               "framed": doc.framed != nil, "alignment": doc.alignment != nil,
                                               "creator": doc.creator != nil, "sections": doc.sections != nil]
                if present[key] == false { wrongType.append(key) }
            }
            guard isObject else {
                report("CKA-V2-003", "cka-header.json does not hold a JSON object", h)
                return nil
            }
        } catch {
            report("CKA-V2-003", "cka-header.json is not valid JSON: \(error)", h)
            return nil
        }
        if !((try? cursor.restIsOneLineFeed()) ?? false) {
            report("CKA-V2-003", "the JSON object must be followed by exactly one line feed", h)
        }
        let (unknown, layout) = table.problems(keys)
        for u in unknown { report("CKA-GEN-014", "cka-header.json has the unknown member \"\(u)\"", h) }
        if let layout { report("CKA-V2-003", "cka-header.json: \(layout)", h) }
        if !wrongType.isEmpty {
            report("CKA-V2-003", "cka-header.json: wrong JSON type for \(wrongType.joined(separator: ", "))", h)
        }
        if !cursor.nonCanonical.isEmpty {
            report("CKA-V2-054", "cka-header.json is not canonical JSON: " + cursor.nonCanonical.joined(separator: "; "), h)
        }
        return doc
    }

    /// The `sections` array: objects `{kind, name?, critical}` (table 5.1); nil when it is not an array.
    private static func sections(_ c: inout V2JSONCursor, _ h: TarHeader, report: V2Reporter) throws -> [V2DeclaredSection]? {
        var list: [V2DeclaredSection] = []
        let isArray = try c.array { c, i in
            var s = V2DeclaredSection()
            var keys: [String] = []
            var wrong: [String] = []
            let isObject = try c.object { c, key in
                keys.append(key)
                switch key {
                case "kind": s.kind = try c.stringValue(); if s.kind == nil { wrong.append(key) }
                case "name": s.name = try c.stringValue(); if s.name == nil { wrong.append(key) }
                case "critical": s.critical = try c.boolValue(); if s.critical == nil { wrong.append(key) }
                default: try c.skipValue()
                }
            }
            guard isObject else {
                report("CKA-V2-003", "cka-header.json: sections[\(i)] is not an object", h)
                return
            }
            let kind = s.kind.flatMap(SectionKind.init(rawValue:))
            let named = kind.map { $0.isNamed } ?? (s.name != nil)
            let (unknown, layout) = sectionTable.problems(keys, required: named ? ["kind", "name", "critical"]
                                                          : ["kind", "critical"])
            for u in unknown { report("CKA-GEN-014", "cka-header.json: sections[\(i)] has the unknown member \"\(u)\"", h) }
            if let layout { report("CKA-V2-003", "cka-header.json: sections[\(i)]: \(layout)", h) }
            if !wrong.isEmpty { report("CKA-V2-003", "cka-header.json: sections[\(i)]: wrong JSON type for \(wrong.joined(separator: ", "))", h) }
            if kind != nil, !named, s.name != nil {
                report("CKA-V2-003", "cka-header.json: sections[\(i)] of kind \(s.kind ?? "") has a name", h)
            }
            list.append(s)
        }
        return isArray ? list : nil
    }

    /// The member values: CKA-V2-004, 006, 008 (compression), 009, CKA-FRM-009, CKA-ALN-001, CKA-ALN-007.
    /// Returns the alignment when it is valid.
    static func check(_ doc: V2HeaderDocument, compression: CompressionFormat, _ h: TarHeader,
                      report: V2Reporter) -> Int64? {
        report.ran(["CKA-V2-004", "CKA-V2-006", "CKA-V2-008", "CKA-V2-009", "CKA-FRM-009", "CKA-ALN-001",
                    "CKA-ALN-007"])
        if let f = doc.format, f != "checkpoint-archive" {
            report("CKA-V2-004", "format is \"\(f)\", not \"checkpoint-archive\"", h)
        }
        if let v = doc.version, v != 2 { report("CKA-V2-004", "version is \(v), not 2", h) }
        if let p = doc.profile, !profiles.contains(p) {
            report("CKA-V2-006", "profile \"\(p)\" is not podman, cri-o, containerd or generic", h)
        }
        if let c = doc.compression, c != compression.rawValue {
            report("CKA-V2-008", "the header says compression \"\(c)\" but the archive is \(compression.rawValue)", h)
        }
        if doc.framed == true, compression == .none {
            report("CKA-FRM-009", "an uncompressed archive must have framed false", h)
        }
        for s in doc.sections ?? [] where s.critical == true && s.kind.flatMap(SectionKind.init(rawValue:)) == nil {
            report("CKA-V2-009", "the header lists the unknown critical section kind \"\(s.kind ?? "")\"", h)
        }
        guard let a = doc.alignment else { return nil }
        guard a == 0 || (a >= 512 && a <= 1 << 20 && a & (a - 1) == 0) else {
            report("CKA-ALN-001", "alignment \(a) is not 0 or a power of two from 512 to 1048576", h)
            return nil
        }
        if a > 0, compression != .none {
            report("CKA-ALN-007", "alignment \(a) is declared for a \(compression.rawValue)-compressed archive", h)
        }
        return a
    }

    /// CKA-V2-007: whether the header's entry for a section has the marker's kind, name and critical flag.
    static func declaredMatches(_ d: V2DeclaredSection, _ s: V2Section) -> Bool {
        d.kind == s.kindName && d.name == s.name && d.critical == s.critical
    }

    /// CKA-V2-007: the first section that differs from the header's list.
    static func declaredMismatch(_ d: V2DeclaredSection, _ i: Int, _ s: V2Section, report: V2Reporter) {
        func describe(_ kind: String?, _ name: String?, _ critical: Bool?) -> String {
            "\(kind ?? "?")\(name.map { " '\($0)'" } ?? "") critical \(critical.map { String($0) } ?? "?")"
        }
        report("CKA-V2-007", "sections[\(i)] of the header is \(describe(d.kind, d.name, d.critical)), the marker is "
               + describe(s.kindName, s.name, s.critical), path: s.path, offset: s.start)
    }

    /// CKA-V2-007: the header lists as many sections as follow.
    static func declaredCount(_ declared: Int, _ actual: Int, report: V2Reporter) {
        report.ran(["CKA-V2-007"])
        if declared != actual {
            report("CKA-V2-007", "the header lists \(declared) sections, the archive has \(actual)",
                   path: "cka-header.json", offset: 0)
        }
    }

    /// The header as the library models it, when every member has a value the model knows.
    static func model(_ doc: V2HeaderDocument) -> ArchiveHeader? {
        guard let profile = doc.profile.flatMap(CheckpointProfile.init(rawValue:)),
              let compression = doc.compression.flatMap(CompressionFormat.init(rawValue:)),
              let framed = doc.framed, let alignment = doc.alignment, let creator = doc.creator,
              let sections = doc.sections else { return nil }
        let known = sections.compactMap { s -> Section? in
            guard let kind = s.kind.flatMap(SectionKind.init(rawValue:)) else { return nil }
            return Section(kind, name: s.name, critical: s.critical)
        }
        return ArchiveHeader(profile: profile, compression: compression, framed: framed, alignment: Int(alignment),
                             creator: creator, sections: known)
    }
}
