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
