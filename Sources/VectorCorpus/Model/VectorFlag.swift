/// The flags of Spec/09-vectors.md table 7.2: what kind of mistake a case targets. The manifest's `notes`
/// defines exactly the flags the cases use (CKA-VEC-002).
public enum VectorFlag: String, CaseIterable, Sendable, Comparable {
    case pathTraversal = "PathTraversal"
    case metadataPath = "MetadataPath"
    case linkEscape = "LinkEscape"
    case duplicate = "Duplicate"
    case headerLimit = "HeaderLimit"
    case bomb = "Bomb"
    case truncated = "Truncated"
    case checksum = "Checksum"
    case parserDifferential = "ParserDifferential"
    case globalHeader = "GlobalHeader"
    case legacyProfile = "LegacyProfile"
    case framing = "Framing"
    case alignment = "Alignment"
    case index = "Index"
    case sectionOrder = "SectionOrder"
    case conversion = "Conversion"

    public static func < (a: VectorFlag, b: VectorFlag) -> Bool { a.rawValue < b.rawValue }

    /// The note (table 7.2) defining the flag.
    public var note: ManifestNote {
        switch self {
        case .pathTraversal:
            return ManifestNote(bugType: "SECURITY",
                                description: "`..`, absolute names, or paths through symlinks (CVE-2007-4559)",
                                cves: ["CVE-2007-4559"])
        case .metadataPath:
            return ManifestNote(bugType: "SECURITY", description: "unsafe paths inside `deleted.files` or `bind.mounts`",
                                links: ["containers/podman#27977"])
        case .linkEscape:
            return ManifestNote(bugType: "SECURITY", description: "hard or symbolic links leaving their scope")
        case .duplicate:
            return ManifestNote(bugType: "SECURITY", description: "duplicate entry names")
        case .headerLimit:
            return ManifestNote(bugType: "SECURITY", description: "oversized pax or GNU long headers (CVE-2022-2879)",
                                cves: ["CVE-2022-2879"])
        case .bomb:
            return ManifestNote(bugType: "SECURITY", description: "decompression budget exceeded")
        case .truncated:
            return ManifestNote(bugType: "MALFORMED", description: "stream cut inside a header, data or compression frame")
        case .checksum:
            return ManifestNote(bugType: "MALFORMED", description: "tar header checksum or gzip/zstd checksum wrong")
        case .parserDifferential:
            return ManifestNote(bugType: "EDGE_CASE",
                                description: "inputs real readers disagree on (GNU vs BSD vs Go vs Python)")
        case .globalHeader:
            return ManifestNote(bugType: "COMPATIBILITY", description: "pax 'g' headers")
        case .legacyProfile:
            return ManifestNote(bugType: "LEGACY", description: "a v1 engine profile")
        case .framing:
            return ManifestNote(bugType: "FUNCTIONALITY", description: "v2 framed compression and locators")
        case .alignment:
            return ManifestNote(bugType: "FUNCTIONALITY", description: "v2 data alignment and `CKA.pad`")
        case .index:
            return ManifestNote(bugType: "FUNCTIONALITY", description: "v2 index content and digests")
        case .sectionOrder:
            return ManifestNote(bugType: "FUNCTIONALITY", description: "v2 section markers, order and criticality")
        case .conversion:
            return ManifestNote(bugType: "FUNCTIONALITY", description: "v1 <-> v2 pairs with equal trees")
        }
    }
}
