/// `Vectors/manifest.json` (Spec/09-vectors.md tables 7.1 to 7.4, `Spec/vectors-manifest.schema.json`).
///
/// Decoded with `JSONDecoder`; written by `ManifestJSON` (members in the order of the tables, a fixed layout) so
/// that the generator writes the same bytes on every run and toolchain.
public struct VectorManifest: Codable, Equatable, Sendable {
    /// The program that wrote the vectors (table 7.1 `generator`).
    public struct Generator: Codable, Equatable, Sendable {
        public var name: String
        public var version: String

        public init(name: String, version: String) {
            self.name = name
            self.version = version
        }
    }

    public var schema = "vectors-manifest.schema.json"
    public var format = "checkpoint-archive-vectors"
    public var specVersion = 2
    public var generator: Generator
    public var numberOfTests: Int
    public var header: [String]
    /// Flag -> note (table 7.2).
    public var notes: [String: ManifestNote]
    public var testGroups: [ManifestGroup]

    public init(generator: Generator, numberOfTests: Int, header: [String], notes: [String: ManifestNote],
                testGroups: [ManifestGroup]) {
        self.generator = generator
        self.numberOfTests = numberOfTests
        self.header = header
        self.notes = notes
        self.testGroups = testGroups
    }

    /// Every case, in `tcId` order.
    public var cases: [ManifestCase] { testGroups.flatMap(\.tests) }
}

/// A note defining one flag (table 7.2, Wycheproof's `NoteEntry`).
public struct ManifestNote: Codable, Equatable, Sendable {
    public var bugType: String
    public var description: String
    public var effect: String?
    public var links: [String]?
    public var cves: [String]?

    public init(bugType: String, description: String, effect: String? = nil, links: [String]? = nil,
                cves: [String]? = nil) {
        self.bugType = bugType
        self.description = description
        self.effect = effect
        self.links = links
        self.cves = cves
    }
}

/// A test group (table 7.3): the cases of one format and profile.
public struct ManifestGroup: Codable, Equatable, Sendable {
    public var type = "ArchiveValidation"
    public var format: String
    public var profile: String
    public var tests: [ManifestCase]

    public init(format: String, profile: String, tests: [ManifestCase]) {
        self.format = format
        self.profile = profile
        self.tests = tests
    }
}

/// A test case (table 7.4).
public struct ManifestCase: Codable, Equatable, Sendable {
    public var tcId: Int
    public var id: String
    /// The archive, relative to `Vectors/`.
    public var file: String
    public var description: String
    public var result: String
    public var requirements: [String]
    public var flags: [String]
    public var compression: String
    public var framed: Bool
    public var malformed: Bool
    public var sha256: String
    /// SHA-256 of the decompressed tar stream; nil when decompression fails.
    public var streamSha256: String?
    public var indexDigest: String?
    public var expectIndexDigest: String?
    public var tree: [TreeEntry]?
    /// A JSON file (relative to `Vectors/`) holding the tree, for large trees.
    public var treeFile: String?

    public init(tcId: Int, id: String, file: String, description: String, result: String, requirements: [String],
                flags: [String], compression: String, framed: Bool, malformed: Bool, sha256: String,
                streamSha256: String?, indexDigest: String? = nil, expectIndexDigest: String? = nil,
                tree: [TreeEntry]? = nil, treeFile: String? = nil) {
        self.tcId = tcId
        self.id = id
        self.file = file
        self.description = description
        self.result = result
        self.requirements = requirements
        self.flags = flags
        self.compression = compression
        self.framed = framed
        self.malformed = malformed
        self.sha256 = sha256
        self.streamSha256 = streamSha256
        self.indexDigest = indexDigest
        self.expectIndexDigest = expectIndexDigest
        self.tree = tree
        self.treeFile = treeFile
    }
}

/// One path of an unpacked directory (table 7.5).
public struct TreeEntry: Codable, Equatable, Sendable, CustomStringConvertible {
    /// Relative path, no trailing `/`.
    public var path: String
    /// `file`, `dir`, `symlink`, `hardlink`, `char`, `block`, `fifo`.
    public var type: String
    /// Four octal digits of `07777`.
    public var mode: String
    public var uid: Int
    public var gid: Int
    public var size: Int?
    public var sha256: String?
    /// Symlink target, or for a hard link the path (in the unpacked directory) it is linked to.
    public var linkTarget: String?
    public var devMajor: Int?
    public var devMinor: Int?
    /// xattr name -> base64 value.
    public var xattrs: [String: String]?

    public init(path: String, type: String, mode: Int, uid: Int = 0, gid: Int = 0, size: Int? = nil,
                sha256: String? = nil, linkTarget: String? = nil, devMajor: Int? = nil, devMinor: Int? = nil,
                xattrs: [String: String]? = nil) {
        self.path = path
        self.type = type
        self.mode = TreeEntry.octal(mode)
        self.uid = uid
        self.gid = gid
        self.size = size
        self.sha256 = sha256
        self.linkTarget = linkTarget
        self.devMajor = devMajor
        self.devMinor = devMinor
        self.xattrs = xattrs
    }

    /// Four octal digits.
    public static func octal(_ mode: Int) -> String {
        let s = String(mode & 0o7777, radix: 8)
        return String(repeating: "0", count: 4 - s.count) + s
    }

    public var description: String {
        var s = "\(type) \(mode) \(uid):\(gid)"
        if let size { s += " \(size) bytes" }
        if let sha256 { s += " sha256 \(sha256.prefix(12))" }
        if let linkTarget { s += " -> \(linkTarget)" }
        if let devMajor, let devMinor { s += " dev \(devMajor),\(devMinor)" }
        if let xattrs, !xattrs.isEmpty { s += " xattrs \(xattrs.keys.sorted())" }
        return s
    }
}
