import ByteStreams
import Compression
import CSysShims
import TarFormat
#if canImport(Glibc)
import Glibc
#endif

/// Options of `V1Writer`.
public struct V1WriterOptions: Sendable {
    /// Reproducible output: every entry gets this mtime, uname and gname; entries of the outer stream also
    /// this uid and gid (through `TarWriterOptions.deterministic`), while entries of the nested rootfs, devshm
    /// and volume tars keep the unpacked directory's numeric ids, which are content (CKA-V2-052).
    public var deterministic: TarWriterOptions.Deterministic?
    /// When true (the default), a metadata or log file the target engine never writes (for example
    /// `metadata/status.dump` for Podman) is an error (CKA-CNV-008); when false it is written after the
    /// engine's own entries, and a v1 reader still maps it back.
    public var strictLayout = true
    /// Write `deleted.files` as the engines format it (`json.MarshalIndent`, two-space indent, no final line
    /// feed) instead of copying `rootfs/deleted.files` byte for byte (table 5.12: "bytes unchanged").
    public var reformatDeletedFiles = false
    /// containerd's gzip layer is compressed into memory up to this many bytes; a larger layer is compressed
    /// twice instead (once to learn its size, once into the archive), never into a temporary file.
    public var layerMemoryLimit = 64 << 20
    /// gzip level of containerd's layer.
    public var layerCompressionLevel = GzipEncodingSink.defaultLevel
    /// mtime of the entries the writer makes itself (`rootfs-diff.tar`, `devshm-checkpoint.tar`, volume tars)
    /// when not deterministic; nil for the current time.
    public var creationTime: TarTime?

    public init() {}
}

/// How containerd's compressed layer was sized before being written.
public enum V1LayerBuffering: Sendable, Equatable {
    /// Compressed into memory (`compressedSize` bytes), then copied into the archive.
    case memory(compressedSize: Int64)
    /// Compressed once into a byte counter, then again straight into the archive.
    case twoPass(compressedSize: Int64)
}

/// What `V1Writer` wrote.
public struct V1WriteSummary: Sendable {
    public var profile: CheckpointProfile
    /// The sections of the unpacked directory that were written, in the order of CKA-V2-015.
    public var sections: [Section]
    /// The names of the outer stream's entries, in order.
    public var entryNames: [String]
    /// Bytes of the uncompressed outer tar stream.
    public var tarSize: Int64
    /// For containerd, how the gzip layer was sized.
    public var layerBuffering: V1LayerBuffering?
}

/// Writes an unpacked checkpoint directory (part 9) as the v1 archive an engine writes (part 4.14), in one
/// streaming pass and without temporary files.
///
/// - Podman: `artifacts/`, `devshm-checkpoint.tar`, `config.dump`, `spec.dump`, `network.status`,
///   `stats-dump`, `ctr.log`, `checkpoint/` (or `pre-checkpoint/`), `rootfs-diff.tar`, `deleted.files`,
///   `volumes/<name>.tar` in the order of `config.dump` `namedVolumes` (no `volumes/` directory entry:
///   Podman's include list names only the files).
/// - CRI-O: `stats-dump`, `dump.log`, `checkpoint/`, `config.dump`, `spec.dump`, `bind.mounts`,
///   `rootfs-diff.tar`, `deleted.files`, `io.kubernetes.cri-o.LogPath`.
/// - containerd: everything in depth-first byte order (as `archive.Diff` walks `ctrd-checkpoint/`), with
///   `rootfs-diff.tar` a gzip OCI layer whose deletions are `.wh.` whiteouts (always written, empty when
///   the directory has no rootfs section).
/// - generic: metadata, logs, checkpoint, plain `rootfs-diff.tar`, `deleted.files`, devshm, volumes,
///   artifacts.
///
/// Unknown top-level names come back from `ext/v1/` after the engine's entries (in byte order for
/// containerd). Outer names have no `./` prefix; nested devshm and volume tars start with `./` and name
/// everything `./<path>`; the nested `rootfs-diff.tar` holds `rootfs/tree/` without its implied
/// directories, names without `./`. Modes are the unpacked directory's permission bits (modern Go's
/// `tar.FileInfoHeader` writes no file-type bits); mtimes are whole seconds, as the engines truncate them;
/// uname and gname are left empty. Each nested tar's size is computed in advance from the headers to be
/// written, and the nested tar then streams into the outer entry. The output goes to `sink`, which may be a
/// compressing sink; the writer ends the tar stream and flushes the sink but does not `finish()` a
/// compressor: the caller does.
public struct V1Writer {
    public var options: V1WriterOptions

    public init(options: V1WriterOptions = V1WriterOptions()) {
        self.options = options
    }

    /// Writes `directory` as a v1 archive of `profile` into `sink`.
    /// - Throws: `CheckpointError`: CKA-DIR-001/009 for a malformed directory, CKA-CNV-008 for content the
    ///   profile cannot express, CKA-POD-002/CKA-CRIO-003/CKA-V1-019 when `spec.dump` names another engine,
    ///   CKA-SEC-010 for bad deletion paths, `IO` for read failures or files that change while written.
    @discardableResult
    public func write(directory: String, profile: CheckpointProfile, to sink: ByteSink) throws -> V1WriteSummary {
        let plan = try V1WritePlan(root: directory, profile: profile, options: options)
        do {
            return try plan.write(to: sink)
        } catch let e as TarError {
            throw CheckpointError("IO", "writing the archive failed: \(e.description)", entry: e.entry, offset: e.offset)
        } catch let e as ByteStreamError {
            throw CheckpointError("IO", e.description)
        } catch let e as CompressionError {
            throw CheckpointError("IO", e.description)
        }
    }
}

/// The outer entries of one archive, computed from the directory before anything is written.
final class V1WritePlan {
    struct NestedEntry {
        var header: TarHeader
        var source: String?
    }

    enum Item {
        /// An entry read from disk; `source` for regular files.
        case file(TarHeader, source: String?)
        case bytes(TarHeader, [UInt8])
        /// A plain nested tar.
        case nested(TarHeader, [NestedEntry])
        /// containerd's gzip layer.
        case layer(TarHeader, [NestedEntry])

        var header: TarHeader {
            switch self {
            case let .file(h, _), let .bytes(h, _), let .nested(h, _), let .layer(h, _): return h
            }
        }
    }

    /// The entries of one top-level name.
    struct Group {
        var name: String
        var items: [Item]
    }

    let root: String
    let profile: CheckpointProfile
    let options: V1WriterOptions
    let creationTime: TarTime

    var metadata: [String] = []
    var logs: [String] = []
    var checkpointName = V1Names.checkpointDirectory
    var hasRootfs = false
    var deletedPaths: [String] = []
    var deletedBytes: [UInt8]?
    var impliedPaths: Set<String> = []
    /// `rootfs/tree/` entries named relative to it (`etc/`, `etc/app.conf`).
    var treeEntries: [FileSystemEntry] = []
    var hasDevShm = false
    var volumes: [String] = []
    var hasArtifacts = false
    var extNames: [String] = []
    var groups: [Group] = []
    var sections: [Section] = []

    init(root: String, profile: CheckpointProfile, options: V1WriterOptions) throws {
        self.root = root
        self.profile = profile
        self.options = options
        if let t = options.creationTime {
            creationTime = t
        } else {
            creationTime = TarTime(seconds: Int64(time(nil)))
        }
        try scan()
        try checkProfile()
        try buildGroups()
    }

    // MARK: - Reading the directory

    static func lstatKind(_ path: String) -> mode_t? {
        var st = stat()
        guard lstat(path, &st) == 0 else { return nil }
        return st.st_mode & S_IFMT
    }

    static func isDirectory(_ path: String) -> Bool { lstatKind(path) == S_IFDIR }
    static func isRegular(_ path: String) -> Bool { lstatKind(path) == S_IFREG }

    static func readSmall(_ path: String, entry: String) throws -> [UInt8] {
        do {
            let src = try FileSource(path: path)
            return try src.readAll(limit: 64 << 20)
        } catch {
            throw CheckpointError("IO", "cannot read: \(error)", entry: entry)
        }
    }

    func scan() throws {
        let allowed: Set<String> = ["cka-header.json", "cka-index.json", "metadata", "checkpoint", "pre-checkpoint",
                                    "rootfs", "devshm", "volumes", "logs", "artifacts", "ext"]
        for name in try DirectoryScanner.children(of: root) where !allowed.contains(name) {
            throw CheckpointError("CKA-DIR-009", "unexpected top-level name in the unpacked directory", entry: name)
        }
        // metadata/
        guard Self.isDirectory(root + "/metadata") else {
            throw CheckpointError("CKA-DIR-001", "the unpacked directory has no metadata/", entry: "metadata/")
        }
        for name in try DirectoryScanner.children(of: root + "/metadata") {
            guard Self.isRegular(root + "/metadata/" + name) else {
                throw CheckpointError("CKA-V2-023", "metadata/ may hold only regular files", entry: "metadata/" + name)
            }
            metadata.append(name)
        }
        for required in ["config.dump", "spec.dump"] where !metadata.contains(required) {
            throw CheckpointError("CKA-DIR-001", "the unpacked directory has no metadata/\(required)",
                                  entry: "metadata/" + required)
        }
        sections.append(Section(.metadata))
        // checkpoint/ or pre-checkpoint/
        let full = Self.isDirectory(root + "/checkpoint"), pre = Self.isDirectory(root + "/pre-checkpoint")
        guard full != pre else {
            throw CheckpointError("CKA-DIR-001", "the unpacked directory needs exactly one of checkpoint/ and pre-checkpoint/")
        }
        checkpointName = full ? V1Names.checkpointDirectory : V1Names.preCheckpointDirectory
        sections.append(Section(full ? .checkpoint : .preCheckpoint))
        // rootfs/
        if Self.isDirectory(root + "/rootfs") {
            try scanRootfs()
        }
        hasDevShm = Self.isDirectory(root + "/devshm")
        if hasDevShm { sections.append(Section(.devshm)) }
        if Self.isDirectory(root + "/volumes") {
            for name in try DirectoryScanner.children(of: root + "/volumes") {
                guard Section.isValidName(name), Self.isDirectory(root + "/volumes/" + name) else {
                    throw CheckpointError("CKA-V2-022", "invalid volume name or not a directory", entry: "volumes/" + name)
                }
                volumes.append(name)
                sections.append(Section(.volume, name: name))
            }
        }
        if Self.isDirectory(root + "/logs") {
            for name in try DirectoryScanner.children(of: root + "/logs") {
                guard Self.isRegular(root + "/logs/" + name) else {
                    throw CheckpointError("CKA-V2-037", "logs/ may hold only regular files", entry: "logs/" + name)
                }
                logs.append(name)
            }
            sections.append(Section(.logs))
        }
        hasArtifacts = Self.isDirectory(root + "/artifacts")
        if hasArtifacts { sections.append(Section(.artifacts)) }
        if Self.isDirectory(root + "/ext") {
            for name in try DirectoryScanner.children(of: root + "/ext") where name != "v1" {
                throw CheckpointError("CKA-CNV-008", "a v1 archive can carry only the extension section v1",
                                      entry: "ext/" + name)
            }
            if Self.isDirectory(root + "/ext/v1") {
                extNames = try DirectoryScanner.children(of: root + "/ext/v1")
                for name in extNames where V1Names.known.contains(name) {
                    throw CheckpointError("CKA-CNV-008", "ext/v1/\(name) would be read back as a known v1 name",
                                          entry: "ext/v1/" + name)
                }
                sections.append(Section(.ext, name: "v1", critical: false))
            }
        }
    }

    func scanRootfs() throws {
        let base = root + "/rootfs"
        for name in try DirectoryScanner.children(of: base) where !["deleted.files", "implied.dirs", "tree"].contains(name) {
            throw CheckpointError("CKA-V2-027", "rootfs/ may hold only deleted.files, implied.dirs and tree/",
                                  entry: "rootfs/" + name)
        }
        hasRootfs = true
        sections.append(Section(.rootfs))
        if Self.isRegular(base + "/deleted.files") {
            let bytes = try Self.readSmall(base + "/deleted.files", entry: "rootfs/deleted.files")
            deletedPaths = try V1ContainerPath.parseList(bytes, entry: "rootfs/deleted.files", requirement: "CKA-V2-028")
            deletedBytes = bytes
        }
        var implied: [String] = []
        if Self.isRegular(base + "/implied.dirs") {
            let bytes = try Self.readSmall(base + "/implied.dirs", entry: "rootfs/implied.dirs")
            implied = try V1ContainerPath.parseList(bytes, entry: "rootfs/implied.dirs", requirement: "CKA-V2-029")
        }
        impliedPaths = Set(implied)
        if Self.isDirectory(base + "/tree") {
            treeEntries = try DirectoryScanner(root: base + "/tree", prefix: "").entries(includeRoot: false)
        }
        let directories = Set(treeEntries.filter { $0.header.type == .directory }.map { "/" + String($0.header.path.dropLast()) })
        for p in implied where !directories.contains(p) {
            throw CheckpointError("CKA-V2-029", "implied directory \(p) is not a directory of rootfs/tree/",
                                  entry: "rootfs/implied.dirs")
        }
    }

    // MARK: - What each profile can express

    static let profileMetadata: [CheckpointProfile: [String]] = [
        .podman: ["config.dump", "spec.dump", "network.status", "stats-dump"],
        .crio: ["config.dump", "spec.dump", "stats-dump", "bind.mounts"],
        .containerd: ["config.dump", "spec.dump", "stats-dump", "status", "status.dump"],
        .generic: V1Names.metadataFiles,
    ]
    static let profileLogs: [CheckpointProfile: [String]] = [
        .podman: ["ctr.log"],
        .crio: ["dump.log", "io.kubernetes.cri-o.LogPath"],
        .containerd: ["dump.log", "container.log"],
        .generic: V1Names.logFiles,
    ]

    func checkProfile() throws {
        // Names a v1 reader would not map back to the same place.
        for name in metadata where !V1Names.metadataFiles.contains(name) {
            throw CheckpointError("CKA-CNV-008", "a v1 archive has no place for this metadata file", entry: "metadata/" + name)
        }
        for name in logs where !V1Names.logFiles.contains(name) {
            throw CheckpointError("CKA-CNV-008", "a v1 archive has no place for this log file", entry: "logs/" + name)
        }
        let engine = profile != .podman && profile != .generic
        if engine {
            let lacking: [(Bool, String)] = [(checkpointName == V1Names.preCheckpointDirectory, "pre-checkpoint/"),
                                             (hasDevShm, "devshm/"), (!volumes.isEmpty, "volumes/"),
                                             (hasArtifacts, "artifacts/")]
            for (present, what) in lacking where present {
                throw CheckpointError("CKA-CNV-008", "the \(profile.rawValue) profile cannot carry \(what)", entry: what)
            }
        }
        if options.strictLayout {
            let allowedMetadata = Self.profileMetadata[profile] ?? [], allowedLogs = Self.profileLogs[profile] ?? []
            for name in metadata where !allowedMetadata.contains(name) {
                throw CheckpointError("CKA-CNV-008", "\(profile.rawValue) never writes \(name) (strict layout)",
                                      entry: "metadata/" + name)
            }
            for name in logs where !allowedLogs.contains(name) {
                throw CheckpointError("CKA-CNV-008", "\(profile.rawValue) never writes \(name) (strict layout)",
                                      entry: "logs/" + name)
            }
        }
        // The written archive must be detected as the same profile (CKA-V1-019).
        let spec = try Self.readSmall(root + "/metadata/spec.dump", entry: "metadata/spec.dump")
        let manager = try V1ProfileDetector.containerManager(specDump: spec)
        switch profile {
        case .podman where manager != "libpod":
            throw CheckpointError("CKA-POD-002", "spec.dump must have io.container.manager libpod for the podman profile",
                                  entry: "metadata/spec.dump")
        case .crio where manager != "cri-o":
            throw CheckpointError("CKA-CRIO-003", "spec.dump must have io.container.manager cri-o for the cri-o profile",
                                  entry: "metadata/spec.dump")
        case .containerd, .generic:
            if manager == "libpod" || manager == "cri-o" {
                throw CheckpointError("CKA-V1-019", "spec.dump names the engine \(manager!): the archive would be read as "
                                      + "that profile, not \(profile.rawValue)", entry: "metadata/spec.dump")
            }
            if profile == .containerd, !metadata.contains("status.dump") {
                throw CheckpointError("CKA-CTRD-001", "a containerd archive needs status.dump", entry: "metadata/status.dump")
            }
            if profile == .generic, metadata.contains("status.dump") {
                throw CheckpointError("CKA-V1-019", "with status.dump the archive would be read as containerd, not generic",
                                      entry: "metadata/status.dump")
            }
        default:
            break
        }
        if profile == .crio, metadata.contains("bind.mounts") {
            let bytes = try Self.readSmall(root + "/metadata/bind.mounts", entry: "metadata/bind.mounts")
            try V1ReadSession.validateBindMounts(bytes, entry: "metadata/bind.mounts", offset: 0)
        }
        if profile == .containerd {
            for entry in try DirectoryScanner(root: root + "/checkpoint", prefix: "checkpoint/").entries(includeRoot: false)
            where entry.header.type != .regular || entry.header.path.dropFirst("checkpoint/".count).contains("/") {
                throw CheckpointError("CKA-CTRD-007", "containerd's checkpoint/ holds only regular files directly inside it",
                                      entry: entry.header.path)
            }
        }
        // Tree names that read back as whiteouts (CKA-V1-015; containerd cannot express them at all).
        for e in treeEntries {
            let base = e.header.path.split(separator: "/").last.map(String.init) ?? ""
            if base.hasPrefix(".wh.") {
                throw CheckpointError(profile == .containerd ? "CKA-CNV-008" : "CKA-V1-015",
                                      "a rootfs entry whose name starts with .wh. would be a whiteout",
                                      entry: "rootfs/tree/" + e.header.path)
            }
        }
        // v1 restore applies rootfs-diff.tar before deleted.files (CKA-CNV-008, CKA-POD-005).
        if profile != .containerd, !deletedPaths.isEmpty {
            let deleted = Set(deletedPaths)
            for e in treeEntries {
                var p = "/" + e.header.path
                if p.hasSuffix("/") { p.removeLast() }
                var probe = Substring(p)
                while !probe.isEmpty {
                    if deleted.contains(String(probe)) {
                        throw CheckpointError("CKA-CNV-008", "deleted path \(probe) is or contains the tree entry \(p); "
                                              + "\(profile.rawValue) restore would delete it after applying the diff",
                                              entry: "rootfs/deleted.files")
                    }
                    guard let slash = probe.lastIndex(of: "/") else { break }
                    probe = probe[..<slash]
                }
            }
        }
    }

    // MARK: - Building the entries

    /// Header of an outer entry read from disk: permission bits, whole-second mtime, no names, no xattrs
    /// (xattrs belong to the rootfs, devshm and volume sections only, CKA-V2-043).
    func outer(_ h: TarHeader) -> TarHeader {
        var h = nested(h)
        h.xattrs = []
        return h
    }

    /// Header of a nested-tar entry: ownership and xattrs kept.
    func nested(_ h: TarHeader) -> TarHeader {
        var h = h
        h.mode &= 0o7777
        h.mtime = TarTime(seconds: h.mtime.seconds)
        h.uname = ""
        h.gname = ""
        h.atime = nil
        h.ctime = nil
        h.paxRecords = []
        if let d = options.deterministic {
            h.mtime = d.mtime
            h.uname = d.uname
            h.gname = d.gname
        }
        return h
    }

    /// A header for an entry the writer makes itself.
    func synthesized(_ name: String, mode: Int64) -> TarHeader {
        TarHeader(path: name, type: .regular, size: 0, mode: mode, mtime: creationTime)
    }

    /// A single top-level file from the unpacked directory.
    func fileGroup(_ name: String, from path: String) throws -> Group {
        let h = try FileMetadata.header(path: path, archivePath: name)
        return Group(name: name, items: [.file(outer(h), source: path)])
    }

    /// A directory walked as the engines walk it (`checkpoint/`, `artifacts/`, `ext/v1/<name>`); hard links
    /// become regular files (only rootfs, devshm and volume sections may hold them).
    func treeGroup(_ name: String, from path: String) throws -> Group {
        guard Self.isDirectory(path) else { return try fileGroup(name, from: path) }
        var items: [Item] = []
        let entries = try DirectoryScanner(root: path, prefix: name + "/").entries()
        for e in entries {
            var h = e.header
            if h.type == .hardLink { h = try FileMetadata.header(path: e.sourcePath, archivePath: h.path) }
            items.append(.file(outer(h), source: h.type == .regular ? e.sourcePath : nil))
        }
        return Group(name: name, items: items)
    }

    /// A file system directory as a nested tar with a `./` root entry (devshm, volumes; CKA-POD-003).
    func fileSystemTar(_ name: String, from path: String) throws -> Group {
        let entries = try DirectoryScanner(root: path, prefix: "./").entries(includeRoot: true)
        let nestedEntries = entries.map { NestedEntry(header: nested($0.header), source: $0.header.type == .regular ? $0.sourcePath : nil) }
        return Group(name: name, items: [.nested(synthesized(name, mode: 0o644), nestedEntries)])
    }

    /// `rootfs/tree/` without its implied directories, names relative without `./` (CKA-POD-004).
    var treeForDiff: [NestedEntry] {
        treeEntries.compactMap { e in
            if e.header.type == .directory, impliedPaths.contains("/" + String(e.header.path.dropLast())) { return nil }
            return NestedEntry(header: nested(e.header), source: e.header.type == .regular ? e.sourcePath : nil)
        }
    }

    func rootfsGroups() throws -> [Group] {
        var out: [Group] = []
        let tree = treeForDiff
        if !tree.isEmpty {
            out.append(Group(name: V1Names.rootfsDiffTar,
                             items: [.nested(synthesized(V1Names.rootfsDiffTar, mode: 0o644), tree)]))
        }
        if !deletedPaths.isEmpty, let original = deletedBytes {
            var h = outer(try FileMetadata.header(path: root + "/rootfs/deleted.files", archivePath: V1Names.deletedFiles))
            let bytes = options.reformatDeletedFiles ? V1JSON.goIndentedStringArray(deletedPaths) : original
            h.size = Int64(bytes.count)
            out.append(Group(name: V1Names.deletedFiles, items: [.bytes(h, bytes)]))
        }
        return out
    }

    /// containerd's layer: the tree without implied directories plus whiteouts, in walk order (CKA-CNV-009).
    func layerGroup() -> Group {
        var kinds: [String: TarEntryType] = [:]
        for e in treeEntries {
            var p = e.header.path
            if p.hasSuffix("/") { p.removeLast() }
            kinds[p] = e.header.type
        }
        var entries: [([UInt8], NestedEntry)] = treeForDiff.map { e in
            var name = e.header.pathBytes
            if name.last == 0x2F { name.removeLast() }
            return (name, e)
        }
        for d in deletedPaths {
            let rel = String(d.dropFirst())
            let name: String
            if kinds[rel] == .directory, !impliedPaths.contains(d) {
                // A deleted directory that the tree recreates: emptied and recreated (CKA-CNV-009).
                name = rel + "/.wh..wh..opq"
            } else {
                let slash = rel.lastIndex(of: "/")
                let parent = slash.map { String(rel[...$0]) } ?? ""
                let base = slash.map { String(rel[rel.index(after: $0)...]) } ?? rel
                name = parent + ".wh." + base
            }
            var h = TarHeader(path: name, type: .regular, size: 0, mode: 0, mtime: TarTime(seconds: 0))
            if let d = options.deterministic { h.mtime = d.mtime }
            entries.append((Array(name.utf8), NestedEntry(header: h, source: nil)))
        }
        entries.sort { V1Path.walkOrderPrecedes($0.0, $1.0) }
        return Group(name: V1Names.rootfsDiffTar,
                     items: [.layer(synthesized(V1Names.rootfsDiffTar, mode: 0o644), entries.map(\.1))])
    }

    func buildGroups() throws {
        func meta(_ name: String) throws -> Group? {
            metadata.contains(name) ? try fileGroup(name, from: root + "/metadata/" + name) : nil
        }
        func log(_ name: String) throws -> Group? {
            logs.contains(name) ? try fileGroup(name, from: root + "/logs/" + name) : nil
        }
        let checkpoint = try treeGroup(checkpointName, from: root + "/" + checkpointName)
        var out: [Group?] = []
        var used: Set<String> = []
        switch profile {
        case .podman:
            if hasArtifacts { out.append(try treeGroup(V1Names.artifactsDirectory, from: root + "/artifacts")) }
            if hasDevShm { out.append(try fileSystemTar(V1Names.devShmTar, from: root + "/devshm")) }
            for name in ["config.dump", "spec.dump", "network.status", "stats-dump"] { out.append(try meta(name)) }
            out.append(try log("ctr.log"))
            out.append(checkpoint)
            out += try rootfsGroups()
            for v in try podmanVolumeOrder() {
                out.append(try fileSystemTar("volumes/\(v).tar", from: root + "/volumes/" + v))
            }
        case .crio:
            out.append(try meta("stats-dump"))
            out.append(try log("dump.log"))
            out.append(checkpoint)
            for name in ["config.dump", "spec.dump", "bind.mounts"] { out.append(try meta(name)) }
            out += try rootfsGroups()
            out.append(try log(V1Names.crioLogPath))
        case .containerd:
            out.append(checkpoint)
            for name in ["config.dump", "spec.dump", "stats-dump", "status", "status.dump"] { out.append(try meta(name)) }
            for name in ["dump.log", "container.log"] { out.append(try log(name)) }
            out.append(layerGroup())
        case .generic:
            for name in V1Names.metadataFiles { out.append(try meta(name)) }
            for name in V1Names.logFiles { out.append(try log(name)) }
            out.append(checkpoint)
            out += try rootfsGroups()
            if hasDevShm { out.append(try fileSystemTar(V1Names.devShmTar, from: root + "/devshm")) }
            for v in volumes { out.append(try fileSystemTar("volumes/\(v).tar", from: root + "/volumes/" + v)) }
            if hasArtifacts { out.append(try treeGroup(V1Names.artifactsDirectory, from: root + "/artifacts")) }
        }
        var groups = out.compactMap { $0 }
        for g in groups { used.insert(g.name) }
        // Files the engine never writes (strictLayout false), then unknown top-level names.
        for name in V1Names.metadataFiles where metadata.contains(name) && !used.contains(name) {
            groups.append(try fileGroup(name, from: root + "/metadata/" + name))
        }
        for name in V1Names.logFiles where logs.contains(name) && !used.contains(name) {
            groups.append(try fileGroup(name, from: root + "/logs/" + name))
        }
        for name in extNames { groups.append(try treeGroup(name, from: root + "/ext/v1/" + name)) }
        if profile == .containerd {
            // archive.Diff walks ctrd-checkpoint/ (filepath.Walk): siblings in byte order (CKA-CTRD-002).
            groups.sort { $0.name.utf8.lexicographicallyPrecedes($1.name.utf8) }
        }
        // A rootfs section with nothing to write (no tree entries but implied ones, no deletions) reads back as
        // no rootfs section (table 5.11).
        if treeForDiff.isEmpty, deletedPaths.isEmpty { sections.removeAll { $0.kind == .rootfs } }
        self.groups = groups
    }

    /// Podman writes `volumes/<name>.tar` in the order of `config.dump` `namedVolumes`; volumes it does not
    /// list follow in byte order.
    func podmanVolumeOrder() throws -> [String] {
        var order: [String] = []
        let config = try Self.readSmall(root + "/metadata/config.dump", entry: "metadata/config.dump")
        if let v = try? V1JSON.parse(config), case let .array(list)? = v["namedVolumes"] {
            for item in list {
                if let name = item["volumeName"]?.stringValue, volumes.contains(name), !order.contains(name) {
                    order.append(name)
                }
            }
        }
        return order + volumes.filter { !order.contains($0) }
    }

    // MARK: - Writing

    func write(to sink: ByteSink) throws -> V1WriteSummary {
        let tar = try TarWriter(sink: sink, options: TarWriterOptions(deterministic: options.deterministic))
        let start = tar.offset
        var names: [String] = []
        var buffering: V1LayerBuffering?
        for group in groups {
            for item in group.items {
                names.append(item.header.path)
                switch item {
                case let .file(h, source):
                    try tar.writeHeader(h)
                    if let source, h.type == .regular, h.size > 0 {
                        try Self.copy(source, size: h.size, entry: h.path, into: tar)
                    }
                case let .bytes(h, bytes):
                    try tar.writeEntry(h, data: bytes)
                case let .nested(h, entries):
                    try writeNested(h, entries, into: tar)
                case let .layer(h, entries):
                    buffering = try writeLayer(h, entries, into: tar)
                }
            }
        }
        try tar.finish()
        return V1WriteSummary(profile: profile, sections: sections.sorted { $0.precedes($1) }, entryNames: names,
                              tarSize: tar.offset - start, layerBuffering: buffering)
    }

    /// Copies `size` bytes of a file into the current entry of `tar`, failing if the file is shorter or longer
    /// than its header says. When the output is an uncompressed file (also through a nested tar) the kernel
    /// copies with `copy_file_range`; otherwise the file is read in fixed 256 KiB chunks, the same chunks every
    /// time, so that compressing containerd's layer twice gives the same bytes.
    static func copy(_ path: String, size: Int64, entry: String, into tar: TarWriter) throws {
        let fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)
        guard fd >= 0 else { throw CheckpointError.system("open", path: path) }
        defer { close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0, Int64(st.st_size) == size else {
            throw CheckpointError("IO", "the file changed size while it was archived", entry: entry)
        }
        if size > 0, try copyDirectly(fd, size: size, into: tar, path: path, entry: entry) { return }
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 18, alignment: 4096)
        defer { buffer.deallocate() }
        var left = size
        while left > 0 {
            let want = Int(min(Int64(buffer.count), left))
            var got = 0
            while got < want {
                let n = read(fd, buffer.baseAddress! + got, want - got)
                if n < 0 {
                    if errno == EINTR { continue }
                    throw CheckpointError.system("read", path: path)
                }
                if n == 0 { throw CheckpointError("IO", "the file shrank while it was archived", entry: entry) }
                got += n
            }
            try tar.write(UnsafeRawBufferPointer(rebasing: buffer[0..<got]))
            left -= Int64(got)
        }
        var probe: UInt8 = 0
        guard read(fd, &probe, 1) == 0 else {
            throw CheckpointError("IO", "the file grew while it was archived", entry: entry)
        }
    }

    /// `copy_file_range` into the output descriptor; false (nothing written) when the sink cannot be bypassed
    /// or the kernel cannot copy between these files.
    static func copyDirectly(_ fd: Int32, size: Int64, into tar: TarWriter, path: String, entry: String) throws -> Bool {
        var fallBack = false
        let wrote = try tar.writeDataDirectly { out in
            var done: Int64 = 0
            while done < size {
                let r = csys_copy_file_range(fd, done, out, -1, UInt64(size - done))
                if r < 0 {
                    if csys_errno() == EINTR { continue }
                    if done == 0, [EXDEV, EINVAL, ENOSYS, EOPNOTSUPP, EBADF].contains(csys_errno()) {
                        fallBack = true
                        return 0
                    }
                    throw CheckpointError.system("copy_file_range", path: path)
                }
                if r == 0 { throw CheckpointError("IO", "the file shrank while it was archived", entry: entry) }
                done += r
            }
            return done
        }
        return wrote && !fallBack
    }

    /// Writes the entries of a nested tar into `tar`.
    static func writeEntries(_ entries: [NestedEntry], into tar: TarWriter) throws {
        for e in entries {
            try tar.writeHeader(e.header)
            if let source = e.source, e.header.type == .regular, e.header.size > 0 {
                try copy(source, size: e.header.size, entry: e.header.path, into: tar)
            }
        }
        try tar.finish()
    }

    /// The exact size of the tar `entries` make: a pure function of their headers and data sizes, found by
    /// running the same writer over a byte counter.
    static func tarSize(_ entries: [NestedEntry]) throws -> Int64 {
        let counter = V1CountingSink()
        let tar = try TarWriter(sink: counter)
        for e in entries {
            try tar.writeHeader(e.header)
            let n = tar.remainingData
            if n > 0 {
                counter.advance(n)
                try tar.didWriteDataExternally(n)
            }
        }
        try tar.finish()
        return counter.position
    }

    func writeNested(_ header: TarHeader, _ entries: [NestedEntry], into tar: TarWriter) throws {
        var h = header
        h.size = try Self.tarSize(entries)
        try tar.writeHeader(h)
        let sink = V1NestedEntrySink(tar)
        try Self.writeEntries(entries, into: try TarWriter(sink: sink))
        guard sink.position == h.size else {
            throw CheckpointError("IO", "the nested tar came out \(sink.position) bytes long, not \(h.size)",
                                  entry: h.path)
        }
    }

    /// The gzip layer: compressed into memory when it fits `layerMemoryLimit`, else twice (count, then stream).
    func writeLayer(_ header: TarHeader, _ entries: [NestedEntry], into tar: TarWriter) throws -> V1LayerBuffering {
        var h = header
        let memory = V1BoundedMemorySink(limit: options.layerMemoryLimit)
        do {
            try compressLayer(entries, into: memory)
            h.size = memory.position
            try tar.writeEntry(h, data: memory.bytes)
            return .memory(compressedSize: h.size)
        } catch is V1BoundedMemorySink.Overflow {}
        let counter = V1CountingSink()
        try compressLayer(entries, into: counter)
        h.size = counter.position
        try tar.writeHeader(h)
        let sink = V1NestedEntrySink(tar)
        try compressLayer(entries, into: sink)
        guard sink.position == h.size else {
            throw CheckpointError("IO", "the layer compressed to \(sink.position) bytes the second time, not \(h.size) "
                                  + "(a file changed while it was archived)", entry: h.path)
        }
        return .twoPass(compressedSize: h.size)
    }

    func compressLayer(_ entries: [NestedEntry], into sink: ByteSink) throws {
        let gzip = try GzipEncodingSink(inner: sink, level: options.layerCompressionLevel)
        try Self.writeEntries(entries, into: try TarWriter(sink: V1NoFlushSink(gzip)))
        try gzip.finish()
    }
}

/// Passes writes through and ignores `flush()`, so that the tar writer's final flush does not add a gzip sync
/// point to containerd's layer.
final class V1NoFlushSink: ByteSink {
    let inner: ByteSink
    init(_ inner: ByteSink) { self.inner = inner }
    var position: Int64 { inner.position }
    func write(_ bytes: UnsafeRawBufferPointer) throws { try inner.write(bytes) }
    func flush() throws {}
}
