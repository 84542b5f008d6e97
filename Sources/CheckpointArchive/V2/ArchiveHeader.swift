import Compression

/// The content of `cka-header.json` (table 5.1): what a reader learns from the first entry.
public struct ArchiveHeader: Equatable, Sendable {
    public var profile: CheckpointProfile
    public var compression: CompressionFormat
    public var framed: Bool
    public var alignment: Int
    public var creator: String
    public var sections: [Section]

    public init(profile: CheckpointProfile, compression: CompressionFormat, framed: Bool, alignment: Int,
                creator: String, sections: [Section]) {
        self.profile = profile
        self.compression = compression
        self.framed = framed
        self.alignment = alignment
        self.creator = creator
        self.sections = sections
    }

    /// Whether `alignment` is 0 or a power of two from 512 to 1048576 (CKA-ALN-001).
    public static func isValidAlignment(_ alignment: Int) -> Bool {
        alignment == 0 || (512...(1 << 20)).contains(alignment) && alignment & (alignment - 1) == 0
    }

    /// The canonical JSON (CKA-V2-003, CKA-V2-054) with its final line feed.
    public var canonicalBytes: [UInt8] {
        var json = CanonicalJSON()
        json.object { m in
            m.string("format", "checkpoint-archive")
            m.int("version", 2)
            m.string("profile", profile.rawValue)
            m.string("compression", compression.rawValue)
            m.bool("framed", framed)
            m.int("alignment", Int64(alignment))
            m.string("creator", creator)
            m.array("sections", sections) { s, o in
                o.string("kind", s.kind.rawValue)
                if let name = s.name { o.string("name", name) }
                o.bool("critical", s.critical)
            }
        }
        return json.bytes + [0x0A]
    }

    /// Parses a header; unknown section kinds are kept as `ext`-like unknowns by the caller's checks.
    /// - Throws: `CheckpointError` naming CKA-V2-003/004 when the JSON is not a valid header.
    public static func parse(_ bytes: [UInt8]) throws -> (header: ArchiveHeader, unknownKinds: [(String, Bool)]) {
        guard let object = try? V1JSON.parse(bytes), object.isObject else {
            throw CheckpointError("CKA-V2-003", "cka-header.json is not a JSON object", entry: "cka-header.json")
        }
        guard object["format"]?.stringValue == "checkpoint-archive", object["version"]?.integralValue == 2 else {
            throw CheckpointError("CKA-V2-004", "cka-header.json does not name format checkpoint-archive version 2",
                                  entry: "cka-header.json")
        }
        guard let profileName = object["profile"]?.stringValue, let profile = CheckpointProfile(rawValue: profileName),
              let compressionName = object["compression"]?.stringValue,
              let compression = CompressionFormat(rawValue: compressionName),
              let framed = object["framed"]?.boolValue,
              let alignment = object["alignment"]?.integralValue.flatMap(Int.init(exactly:)),
              let creator = object["creator"]?.stringValue, let list = object["sections"]?.arrayValue,
              list.allSatisfy(\.isObject)
        else {
            throw CheckpointError("CKA-V2-003", "cka-header.json lacks a member of table 5.1 or has a wrong type",
                                  entry: "cka-header.json")
        }
        var sections: [Section] = []
        var unknown: [(String, Bool)] = []
        for item in list {
            guard let kindName = item["kind"]?.stringValue, let critical = item["critical"]?.boolValue else {
                throw CheckpointError("CKA-V2-003", "a section of cka-header.json lacks kind or critical",
                                      entry: "cka-header.json")
            }
            if let kind = SectionKind(rawValue: kindName) {
                sections.append(Section(kind, name: item["name"]?.stringValue, critical: critical))
            } else {
                unknown.append((kindName, critical))
            }
        }
        let header = ArchiveHeader(profile: profile, compression: compression, framed: framed, alignment: alignment,
                                   creator: creator, sections: sections)
        return (header, unknown)
    }
}
