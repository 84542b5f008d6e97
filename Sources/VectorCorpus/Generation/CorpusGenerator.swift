import ByteStreams
import CheckpointArchive
import Compression
import Foundation
import TarFormat

/// One case made: its archive and its manifest entry.
public struct GeneratedVector {
    public var vectorCase: VectorCase
    public var entry: ManifestCase
    public var bytes: [UInt8]
    /// The expected tree (valid and acceptable cases), also when it goes to a `treeFile`.
    public var tree: [TreeEntry]?
}

/// The whole corpus in memory: every file under `Vectors/` the generator owns, and the manifest.
public struct GeneratedCorpus {
    public var vectors: [GeneratedVector]
    public var manifest: VectorManifest
    /// Relative path under `Vectors/` -> bytes: archives, tree files and `manifest.json`.
    public var files: [String: [UInt8]]

    /// The directories under `Vectors/` whose content the generator owns entirely (stale files there are removed).
    public static let ownedDirectories = ["v1", "v2", "trees"]
}

/// Makes the corpus from the registry, deterministically: same cases, same bytes.
public enum CorpusGenerator {
    /// The generator named in the manifest.
    public static let generator = VectorManifest.Generator(name: "ckpt-vectors", version: "0.1.0")
    /// Trees with more entries than this go to `trees/<id>.json`.
    public static let inlineTreeLimit = 40

    /// Makes every case of `groups`.
    public static func generate(_ groups: [VectorGroup] = VectorRegistry.groups) throws -> GeneratedCorpus {
        let cases = groups.flatMap(\.cases)
        try check(cases)
        // A valid case lists, besides its own requirements, those broken by the cases derived from it.
        var derived: [String: Set<String>] = [:]
        for c in cases where c.result != .valid {
            if let base = c.base { derived[base, default: []].formUnion(c.requirements) }
        }
        var order: [String] = []
        var byGroup: [String: [GeneratedVector]] = [:]
        var files: [String: [UInt8]] = [:]
        for c in cases {
            let made: VectorArchive
            do { made = try c.make() } catch { throw VectorError("case \(c.id): the archive cannot be made: \(error)") }
            var requirements = c.requirements
            if c.result == .valid { requirements = Array(Set(requirements).union(derived[c.id] ?? [])) }
            let compression = detectCompression(made.bytes)
            let stream = try? decompressed(made.bytes)
            let file = "\(c.format.rawValue)/\(c.result.rawValue)/\(c.id).tar" + suffix(compression)
            var entry = ManifestCase(
                tcId: 0, id: c.id, file: file, description: c.description, result: c.result.rawValue,
                requirements: sortedIDs(requirements), flags: c.flags.sorted().map(\.rawValue),
                compression: compression, framed: c.framed, malformed: c.malformed,
                sha256: V2TestArchive.sha256(made.bytes), streamSha256: stream.map(V2TestArchive.sha256))
            if c.format == .v2, let stream { entry.indexDigest = indexDigest(stream) }
            switch c.indexPin {
            case .own?: entry.expectIndexDigest = entry.indexDigest
            case let .value(v)?: entry.expectIndexDigest = v
            case nil: break
            }
            if c.result != .invalid {
                guard let tree = made.tree else { throw VectorError("case \(c.id): a \(c.result) case needs a tree") }
                if tree.count > inlineTreeLimit {
                    entry.treeFile = "trees/\(c.id).json"
                    files["trees/\(c.id).json"] = ManifestJSON.render(tree: tree)
                } else {
                    entry.tree = tree
                }
            }
            files[file] = made.bytes
            let key = "\(c.format.rawValue) \(c.profile.rawValue)"
            if byGroup[key] == nil { order.append(key) }
            byGroup[key, default: []].append(GeneratedVector(vectorCase: c, entry: entry, bytes: made.bytes,
                                                            tree: c.result == .invalid ? nil : made.tree))
        }
        var tcId = 0
        var vectors: [GeneratedVector] = []
        var groupsOut: [ManifestGroup] = []
        for key in order {
            var tests: [ManifestCase] = []
            for var v in byGroup[key]! {
                tcId += 1
                v.entry.tcId = tcId
                tests.append(v.entry)
                vectors.append(v)
            }
            let parts = key.split(separator: " ").map(String.init)
            groupsOut.append(ManifestGroup(format: parts[0], profile: parts[1], tests: tests))
        }
        let used = Set(cases.flatMap(\.flags))
        let notes = Dictionary(uniqueKeysWithValues: used.map { ($0.rawValue, $0.note) })
        let manifest = VectorManifest(generator: generator, numberOfTests: tcId, header: header, notes: notes,
                                      testGroups: groupsOut)
        files["manifest.json"] = ManifestJSON.render(manifest)
        return GeneratedCorpus(vectors: vectors, manifest: manifest, files: files)
    }

    static let header = [
        "Golden test vectors of the Checkpoint Archive specification (Spec/09-vectors.md).",
        "Generated by `ckpt-vectors generate --out Vectors` from Sources/VectorCorpus/Cases; do not edit by hand.",
        "`ckpt-vectors verify` regenerates them and checks every verdict, finding and unpacked tree.",
    ]

    /// Writes the corpus under `directory`, removing files of the owned directories that are not part of it.
    public static func write(_ corpus: GeneratedCorpus, to directory: String) throws {
        let fm = FileManager.default
        let root = URL(fileURLWithPath: directory)
        for owned in GeneratedCorpus.ownedDirectories {
            let dir = root.appendingPathComponent(owned)
            guard let walker = fm.enumerator(atPath: dir.path) else { continue }
            for case let rel as String in walker {
                let full = dir.appendingPathComponent(rel)
                var isDir: ObjCBool = false
                if fm.fileExists(atPath: full.path, isDirectory: &isDir), !isDir.boolValue,
                   corpus.files["\(owned)/\(rel)"] == nil {
                    try fm.removeItem(at: full)
                }
            }
        }
        for (path, bytes) in corpus.files.sorted(by: { $0.key < $1.key }) {
            let url = root.appendingPathComponent(path)
            try fm.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            if let existing = fm.contents(atPath: url.path), [UInt8](existing) == bytes { continue }
            try Data(bytes).write(to: url)
        }
    }

    // MARK: - Derived fields

    /// The compression as the bytes are (table 7.4).
    public static func detectCompression(_ bytes: [UInt8]) -> String {
        switch CompressionFormat.detect(prefix: bytes) {
        case .none: return "none"
        case .gzip: return "gzip"
        case .zstd: return "zstd"
        case .bzip2: return "bzip2"
        case .xz: return "xz"
        case .lz4: return "unknown"
        }
    }

    static func suffix(_ compression: String) -> String {
        switch compression {
        case "gzip": return ".gz"
        case "zstd": return ".zst"
        case "bzip2": return ".bz2"
        case "xz": return ".xz"
        default: return ""
        }
    }

    /// The most decompressed bytes a vector's stream may have: far more than any vector needs, far less than a
    /// decompression bomb expands to (or any budget of CKA-SEC-019 allows one), so a bomb's stream fails here
    /// without being held in memory, and its `streamSha256` is null.
    public static let streamLimit = 64 << 20

    /// The decompressed tar stream (throws when decompression fails or passes `streamLimit`).
    public static func decompressed(_ bytes: [UInt8]) throws -> [UInt8] {
        let limits = DecompressionLimits(maxOutputBytes: Int64(streamLimit))
        return try openDecompressed(MemorySource(bytes), limits: limits).source.readAll(limit: streamLimit)
    }

    /// `sha256:<hex>` of the content of the last entry carrying `CKA.index`, read with the tar reader alone;
    /// nil when the stream cannot be read that far.
    public static func indexDigest(_ tar: [UInt8]) -> String? {
        let reader = TarReader(source: MemorySource(tar))
        var digest: String?
        do {
            while let h = try reader.next() {
                if h.paxValue("CKA.index") != nil, h.type == .regular {
                    digest = "sha256:" + V2TestArchive.sha256(try reader.readData())
                }
            }
        } catch {
            return digest
        }
        return digest
    }

    /// Requirement IDs in specification order (area, then number).
    public static func sortedIDs(_ ids: [String]) -> [String] {
        Array(Set(ids)).sorted { a, b in
            let (ra, rb) = (RequirementOrder.rank(a), RequirementOrder.rank(b))
            return ra != rb ? ra < rb : a < b
        }
    }

    /// Ids unique and well-formed, bases existing and valid.
    static func check(_ cases: [VectorCase]) throws {
        var seen = Set<String>()
        let valid = Set(cases.filter { $0.result == .valid }.map(\.id))
        for c in cases {
            guard c.id.range(of: "^[a-z0-9][a-z0-9._-]*$", options: .regularExpression) != nil else {
                throw VectorError("case id '\(c.id)' does not match [a-z0-9][a-z0-9._-]*")
            }
            guard seen.insert(c.id).inserted else { throw VectorError("duplicate case id '\(c.id)'") }
            if let base = c.base, !valid.contains(base) {
                throw VectorError("case \(c.id): base '\(base)' is not a valid case")
            }
            if c.result == .invalid, c.requirements.isEmpty {
                throw VectorError("case \(c.id): an invalid case lists the requirements it breaks")
            }
        }
    }
}

/// A problem with the case definitions or the corpus on disk.
public struct VectorError: Error, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}
