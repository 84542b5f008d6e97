/// The archive bytes of one case and, for `valid` and `acceptable` cases, the unpacked directory a decoder
/// must produce from them.
public struct VectorArchive {
    /// The archive file exactly as committed.
    public var bytes: [UInt8]
    /// The expected unpacked directory (table 7.5), derived from the case's source description (the entries it
    /// was built from), never from a decoder's output; nil for `invalid` cases.
    public var tree: [TreeEntry]?

    public init(bytes: [UInt8], tree: [TreeEntry]? = nil) {
        self.bytes = bytes
        self.tree = tree
    }
}

/// One golden test vector: how to make the archive, and what every conforming validator and decoder must say
/// about it (Spec/09-vectors.md, table 7.4).
///
/// Cases are declared in `Cases/<Area>.swift`, one `VectorGroup` per file; `VectorRegistry` lists the groups.
/// The manifest fields that depend on the bytes (`sha256`, `streamSha256`, `indexDigest`, `compression`,
/// `file`) are computed by the generator, not declared.
public struct VectorCase {
    /// The expected verdict (part 1).
    public enum Result: String, Codable, Sendable, CaseIterable {
        case valid, invalid, acceptable
    }

    /// The format version of the archive.
    public enum Format: String, Codable, Sendable, CaseIterable {
        case v1, v2
    }

    /// The profile of table 7.3.
    public enum Profile: String, Codable, Sendable, CaseIterable {
        case podman
        case crio = "cri-o"
        case containerd
        case generic
    }

    /// Pinning the index digest (`--expect-index-digest`, CKA-IDX-010).
    public enum IndexPin {
        /// Pin the archive's own index digest (the case is valid with the pin).
        case own
        /// Pin this `sha256:<hex>` value.
        case value(String)
    }

    /// Unique stable name, `[a-z0-9][a-z0-9._-]*`; the file is `<format>/<result>/<id>.tar[.gz|.zst]`.
    public var id: String
    /// What the case exercises (Wycheproof's `comment`).
    public var description: String
    public var result: Result
    /// For `invalid` cases exactly the IDs of the validator's findings (checked by `ckpt-vectors verify`); for
    /// `acceptable` ones the SHOULD rules broken; for `valid` ones the rules the case shows being met (the
    /// generator adds the IDs broken by every case whose `base` is this one).
    public var requirements: [String]
    public var flags: [VectorFlag]
    public var format: Format
    public var profile: Profile
    /// The id of the valid case this one is a minimal change of, when it is one.
    public var base: String?
    /// Whether the archive is framed (table 7.4 `framed`).
    public var framed: Bool
    /// Whether the expected first error is of the kind malformed (CKA-GEN-011).
    public var malformed: Bool
    /// Validate (and extract) with `--expect-index-digest`.
    public var indexPin: IndexPin?
    /// Makes the archive; called by the generator and again by the verifier, so it must be deterministic.
    public var make: () throws -> VectorArchive

    public init(id: String, description: String, result: Result, requirements: [String], flags: [VectorFlag] = [],
                format: Format = .v2, profile: Profile = .podman, base: String? = nil, framed: Bool = false,
                malformed: Bool = false, indexPin: IndexPin? = nil, make: @escaping () throws -> VectorArchive) {
        self.id = id
        self.description = description
        self.result = result
        self.requirements = requirements
        self.flags = flags
        self.format = format
        self.profile = profile
        self.base = base
        self.framed = framed
        self.malformed = malformed
        self.indexPin = indexPin
        self.make = make
    }
}

/// The cases of one area, declared in one file of `Cases/` (so that areas can be added in parallel).
public struct VectorGroup {
    /// A short name of the area, e.g. `v2-index` (for reports).
    public var name: String
    /// The cases, in the order they appear in the manifest.
    public var cases: [VectorCase]

    public init(name: String, cases: [VectorCase]) {
        self.name = name
        self.cases = cases
    }
}
