import ByteStreams
import Compression
import TarFormat

/// Reads a v1 checkpoint archive of any profile in one pass and drives an `UnpackedEntrySink` with the
/// entries of the unpacked directory (part 9, table 9.1).
///
/// The mapping does not depend on the profile, so the archive is mapped while it streams and the profile
/// is decided at the end (`V1ReadSummary.profile`); the only profile-specific content, containerd's gzip
/// `rootfs-diff.tar`, is recognised by its magic bytes. What the sink receives:
///
/// - Each section's marker directory (`metadata/`, `checkpoint/`, `rootfs/`, `volumes/<name>/`, `logs/`,
///   `ext/v1/`, ...) exactly once, before any other entry of that section; `rootfs/tree/` right after
///   `rootfs/`. Markers are synthesised (mode 0755, uid 0, gid 0, mtime 0) except `checkpoint/`,
///   `pre-checkpoint/` and `artifacts/` (from their directory entries) and `devshm/`, `volumes/<name>/`
///   (from the nested tar's `./` entry, CKA-DIR-006).
/// - Entries of different sections interleave in the engines' order (CRI-O writes `stats-dump` first and
///   `config.dump` after `checkpoint/`), so a sink must not expect sections to be contiguous.
/// - Nested `rootfs-diff.tar` entries as `rootfs/tree/<p>`, each missing parent first created as an implied
///   directory (mode 0755, uid 0, gid 0, mtime 0, CKA-DIR-004); `rootfs/implied.dirs` after the nested tar;
///   `rootfs/deleted.files` when `deleted.files` is read, or after containerd's layer (from its whiteouts).
/// - A directory the reader created (an implied parent, a synthesised marker) is delivered a second time,
///   with its real attributes, when the archive names it later; the sink applies them to the existing
///   directory. Engines never do this (they write parents first), hand-made archives may.
/// - Modes reduced to the permission bits 07777 (CKA-TAR-016); the type `NUL` as `0`; pax records dropped
///   (their effect is in the header fields; `xattrs` are kept).
///
/// Nested tars are read one level deep (CKA-SEC-014) by a second `TarReader` over the outer entry's data, with
/// no temporary file. Every failure is a `CheckpointError` naming a requirement, an entry and an offset in the
/// outer (decompressed) stream; errors thrown by the sink pass through unchanged.
public struct V1Reader {
    public var options: V1ReaderOptions
    /// Sees every tar stream and entry header the reader reads (validators); nil changes nothing.
    public var observer: V1ReadObserver?

    public init(options: V1ReaderOptions = V1ReaderOptions()) {
        self.options = options
    }

    /// Reads an archive that may be compressed (gzip or zstd, recognised by magic bytes, CKA-CMP-002).
    public func read(archive: ByteSource, into sink: UnpackedEntrySink) throws -> V1ReadSummary {
        let decoded: DecodedStream
        do { decoded = try openDecompressed(archive, limits: options.decompressionLimits) } catch {
            throw V1ErrorMapping.outer(error)
        }
        return try read(decompressed: decoded.source, compression: decoded.format, into: sink)
    }

    /// Reads the decompressed tar stream of an archive.
    /// - Parameter compression: the compression the stream had, for the summary and the profile signals.
    public func read(decompressed source: ByteSource, compression: CompressionFormat = .none,
                     into sink: UnpackedEntrySink) throws -> V1ReadSummary {
        let session = V1ReadSession(options: options, sink: sink, compression: compression)
        session.observer = observer
        return try session.run(source)
    }
}

/// One pass over one archive.
final class V1ReadSession {
    let options: V1ReaderOptions
    let sink: UnpackedEntrySink
    let compression: CompressionFormat
    let empty = V1EmptySource()
    /// See `V1Reader.observer`.
    var observer: V1ReadObserver?

    var signals = V1ProfileSignals()
    var warnings: [CheckpointError] = []
    let tree: V1Tree
    var startedSections: Set<Section> = []
    var sectionOrder: [Section] = []
    /// The implied directories of the rootfs tree, in bounded memory (`rootfs/implied.dirs`).
    let implied = V1ImpliedDirectories()
    /// The first directories created outside the rootfs tree, `listedBytes` of them (for the summary).
    var synthesized: [String] = []
    var synthesizedCount = 0
    var synthesizedBytes = 0
    var deleted: [String] = []
    var deletionSource = V1DeletionSource.none
    /// Normalised outer names that map to no unpacked path (`rootfs-diff.tar`, `volumes/x.tar`, ...).
    var specialNames: Set<[UInt8]> = []
    /// Outer regular files: normalised name -> unpacked path (hard-link targets).
    var outerFiles: [[UInt8]: [UInt8]] = [:]
    var sawConfig = false
    var sawSpec = false
    var namedVolumes: [String] = []
    var volumeTars: Set<String> = []
    var unknownReported: Set<String> = []
    var entryCount = 0
    /// Bytes of the directories the reader created for missing parents (`rootfs/implied.dirs` and the rest).
    var createdParentBytes: Int64 = 0
    /// Those directories passed the limit (CKA-TAR-043): the reader goes on for a validator, but no
    /// `rootfs/implied.dirs` is made (it would be larger than a metadata file may be, and take several copies).
    var impliedOverflow = false

    init(options: V1ReaderOptions, sink: UnpackedEntrySink, compression: CompressionFormat) {
        self.options = options
        self.sink = sink
        self.compression = compression
        tree = V1Tree(memoryLimit: options.nameTableMemory)
        signals.outerCompression = compression
    }

    static let metadataRoot = Array("metadata".utf8)
    static let logsRoot = Array("logs".utf8)
    static let rootfsRoot = Array("rootfs".utf8)
    static let treeRoot = Array("rootfs/tree".utf8)

    func run(_ source: ByteSource) throws -> V1ReadSummary {
        let reader = TarReader(source: source, limits: options.limits)
        let tarObserver = observer?.v1Reader(startsTar: nil, dataOffset: 0, compression: compression)
        reader.observer = tarObserver
        let end: TarEnd
        do {
            while let h = try reader.next() {
                try Self.checkHeader(h, reader)
                try continuing { try outerEntry(h, reader) }
            }
            end = try reader.finish()
        } catch { throw V1ErrorMapping.outer(error) }
        observer?.v1Reader(endedTar: nil, end: end)
        do { try Self.checkEnd(end, label: nil, offset: end.offset) } catch let e as CheckpointError
            where e.requirement == "CKA-TAR-003" {
            // Bytes after the end marker do not stop the profile checks; a missing marker (malformed) does.
            try continuing { throw e }
        }
        return try finish(end)
    }

    /// The tar-layer decoder rules every v1 entry (outer or nested) must meet before it is interpreted.
    static func checkHeader(_ h: TarHeader, _ reader: TarReader) throws {
        if !reader.globalRecords.isEmpty {
            // Readers disagree on what a global header means; applying it would be interpreting it (CKA-TAR-009).
            throw CheckpointError("CKA-TAR-009", "a pax global header ('g') precedes this entry; readers disagree on "
                                  + "its meaning, so a v1 decoder refuses it", entry: h.path, offset: h.headerOffset)
        }
        if h.uid < 0 || h.gid < 0 {
            throw CheckpointError("CKA-TAR-013", "negative \(h.uid < 0 ? "uid" : "gid") (a base-256 field starting "
                                  + "with 0xFF)", entry: h.path, offset: h.headerOffset)
        }
    }

    /// Records a problem that does not stop decoding, and tells the observer at once (so that it is known even
    /// when the stream turns out malformed later).
    func warn(_ warning: CheckpointError) {
        warnings.append(warning)
        observer?.v1Reader(warns: warning)
    }

    /// Runs `body`; a `CheckpointError` it throws is handed to the observer, which may let the read go on
    /// (`V1ReadObserver.v1Reader(continuesAfter:)`). Other errors (of the stream, of the sink) end the read.
    func continuing(_ body: () throws -> Void) throws {
        do { try body() } catch let e as CheckpointError {
            guard observer?.v1Reader(continuesAfter: e) == true else { throw e }
        }
    }

    // MARK: - Outer entries

    func outerEntry(_ h: TarHeader, _ reader: TarReader) throws {
        observer?.v1Reader(readEntry: h, nestedIn: nil)
        let at = h.headerOffset
        try Self.checkEntry(h, nested: false, entry: h.path, offset: at)
        guard case let .name(name) = V1Path.normalise(h.pathBytes) else {
            guard h.type == .directory else {
                throw CheckpointError("CKA-TAR-035", "the root entry './' must be a directory", entry: h.path, offset: at)
            }
            signals.hasRootEntry = true
            return
        }
        if let why = V1Path.problem(name) {
            throw CheckpointError("CKA-TAR-034", "entry name: \(why)", entry: h.path, offset: at)
        }
        entryCount += 1
        let components = V1Path.components(name)
        let top = String(decoding: components[0], as: UTF8.self)
        let rest = Array(name.dropFirst(components[0].count + 1))
        if !signals.topLevelNames.contains(top) { signals.topLevelNames.append(top) }
        let isFile = h.type == .regular || h.type == .regularLegacy
        let isDir = h.type == .directory

        func requireFile(_ requirement: String) throws {
            guard rest.isEmpty, isFile else {
                throw CheckpointError(requirement, "\(top) must be a regular file at the top level", entry: h.path,
                                      offset: at)
            }
        }
        func special() throws {
            guard !specialNames.contains(name) else {
                throw CheckpointError("CKA-TAR-037", "duplicate entry name", entry: h.path, offset: at)
            }
            specialNames.insert(name)
        }

        if V1Names.metadataFiles.contains(top) {
            try requireFile(top == "config.dump" || top == "spec.dump" ? "CKA-V1-001" : "CKA-V1-007")
            try metadataFile(top, h, reader)
            return
        }
        if V1Names.logFiles.contains(top) {
            try requireFile("CKA-V2-037")
            try deliverOuter(h, name: name, path: Self.logsRoot + [0x2F] + name, section: Section(.logs),
                             root: Self.logsRoot, reader: reader)
            return
        }
        switch top {
        case V1Names.checkpointDirectory, V1Names.preCheckpointDirectory, V1Names.artifactsDirectory:
            let section = Section(top == V1Names.checkpointDirectory ? .checkpoint
                : top == V1Names.artifactsDirectory ? .artifacts : .preCheckpoint)
            if rest.isEmpty {
                guard isDir else {
                    throw CheckpointError(section.kind == .artifacts ? "CKA-V1-005" : "CKA-V1-002",
                                          "\(top) must be a directory", entry: h.path, offset: at)
                }
                try startSection(section, marker: h, entry: h.path, offset: at)
            } else {
                try deliverOuter(h, name: name, path: name, section: section, root: Array(top.utf8), reader: reader)
            }
        case V1Names.rootfsDiffTar:
            try requireFile("CKA-V1-006")
            try special()
            try nestedTar(h, reader, label: V1Path.string(name), target: .rootfs)
        case V1Names.deletedFiles:
            try requireFile("CKA-V1-014")
            try special()
            try deletedFilesEntry(h, reader)
        case V1Names.devShmTar:
            try requireFile("CKA-V1-006")
            try special()
            try nestedTar(h, reader, label: V1Path.string(name), target: .fileSystem(Section(.devshm)))
        case V1Names.volumesDirectory:
            if rest.isEmpty {
                // The directory itself is not part of the unpacked model (mode normalised, table 5.11).
                guard isDir else {
                    throw CheckpointError("CKA-V1-017", "volumes must be a directory", entry: h.path, offset: at)
                }
                try special()
                return
            }
            let file = String(decoding: rest, as: UTF8.self)
            let volume = String(file.dropLast(4))
            guard isFile, !rest.contains(0x2F), file.hasSuffix(".tar"), V1Names.isValidVolumeName(volume) else {
                throw CheckpointError("CKA-V1-017", "a file under volumes/ must be named <name>.tar with a valid volume name",
                                      entry: h.path, offset: at)
            }
            try special()
            volumeTars.insert(volume)
            try nestedTar(h, reader, label: V1Path.string(name), target: .fileSystem(Section(.volume, name: volume)))
        default:
            if !unknownReported.contains(top) {
                unknownReported.insert(top)
                warn(CheckpointError("CKA-V1-005", "unknown top-level name, carried as ext/v1/\(top)",
                                                entry: top, offset: at))
            }
            let root = Array("ext/v1".utf8)
            try deliverOuter(h, name: name, path: root + [0x2F] + name, section: Section(.ext, name: "v1", critical: false),
                             root: root, reader: reader)
        }
    }

    /// Delivers an outer entry mapped to `path`; regular data streams from the outer reader.
    func deliverOuter(_ h: TarHeader, name: [UInt8], path: [UInt8], section: Section, root: [UInt8],
                      reader: TarReader) throws {
        var link: [UInt8]?
        if h.type == .hardLink {
            link = try Self.hardLinkTarget(h, entry: h.path, offset: h.headerOffset) { outerFiles[$0] }
        }
        let isFile = h.type == .regular || h.type == .regularLegacy
        try deliver(h, path: path, link: link, section: section, root: root,
                    data: isFile ? V1OuterEntrySource(reader) : nil, reflink: isFile ? reflink(h) : nil, entry: h.path,
                    offset: h.headerOffset)
        if isFile { outerFiles[name] = path }
    }

    /// Where an outer regular file's data lies in the archive file, when the caller gave its descriptor and the
    /// stream is not compressed.
    func reflink(_ h: TarHeader) -> ReflinkSource? {
        guard let fd = options.reflinkDescriptor, compression == .none else { return nil }
        return ReflinkSource(descriptor: fd, offset: h.dataOffset)
    }

    // MARK: - Checks

    static let outerTypes: Set<TarEntryType> = [.regular, .regularLegacy, .hardLink, .symbolicLink, .directory]
    static let nestedTypes: Set<TarEntryType> = outerTypes.union([.characterDevice, .blockDevice, .fifo])

    /// Typeflag (CKA-TAR-008), header format (CKA-TAR-006), sparse files (CKA-TAR-010), sizes of header-only
    /// entries (CKA-TAR-011).
    static func checkEntry(_ h: TarHeader, nested: Bool, entry: String, offset: Int64) throws {
        guard (nested ? nestedTypes : outerTypes).contains(h.type) else {
            let place = nested ? "a nested tar" : "the outer stream of a v1 archive"
            throw CheckpointError("CKA-TAR-008", "typeflag '\(h.type)' is not allowed in \(place)", entry: entry,
                                  offset: offset)
        }
        if h.format.contains(.v7) {
            throw CheckpointError("CKA-TAR-006", "a V7 header (no ustar magic)", entry: entry, offset: offset)
        }
        if h.sparse != nil {
            throw CheckpointError("CKA-TAR-010", "sparse files are not allowed", entry: entry, offset: offset)
        }
        if h.type.isHeaderOnly, h.size != 0 {
            throw CheckpointError("CKA-TAR-011", "a \(h.type) entry must have size 0, not \(h.size)", entry: entry,
                                  offset: offset)
        }
    }

    /// The unpacked path of a hard link's target, which must be an earlier regular file of the same tar
    /// (CKA-TAR-040).
    /// - Parameter resolve: the unpacked path of an earlier regular file of the tar by its normalised name, or nil.
    static func hardLinkTarget(_ h: TarHeader, entry: String, offset: Int64,
                               resolve: ([UInt8]) -> [UInt8]?) throws -> [UInt8] {
        guard case let .name(target) = V1Path.normalise(h.linkBytes), V1Path.problem(target) == nil,
              let mapped = resolve(target) else {
            throw CheckpointError("CKA-TAR-040",
                                  "hard link target '\(h.linkName)' is not an earlier regular file of the same tar",
                                  entry: entry, offset: offset)
        }
        return mapped
    }

    static func checkEnd(_ end: TarEnd, label: String?, offset: Int64) throws {
        let what = label.map { "the nested tar \($0)" } ?? "the archive"
        guard end.marker == .twoZeroBlocks else {
            throw CheckpointError("CKA-TAR-001", "\(what) does not end with two zero blocks (\(end.marker.rawValue))",
                                  entry: label, offset: offset)
        }
        if end.firstTrailingGarbageOffset != nil {
            throw CheckpointError("CKA-TAR-003", "\(what) has non-zero bytes after its end-of-archive marker",
                                  entry: label, offset: offset)
        }
    }

    // MARK: - End of the archive

    func finish(_ end: TarEnd) throws -> V1ReadSummary {
        for (seen, name) in [(sawConfig, "config.dump"), (sawSpec, "spec.dump")] where !seen {
            try continuing { throw CheckpointError("CKA-V1-001", "the archive has no top-level \(name)") }
        }
        let full = startedSections.contains(Section(.checkpoint))
        let pre = startedSections.contains(Section(.preCheckpoint))
        if full == pre {
            try continuing {
                throw CheckpointError("CKA-V1-002", full ? "the archive has both checkpoint/ and pre-checkpoint/"
                    : "the archive has neither checkpoint/ nor pre-checkpoint/")
            }
        }
        var refusals: [CheckpointError] = []
        if full, tree.kind(Array("checkpoint/inventory.img".utf8)) != .regular {
            refusals.append(CheckpointError("CKA-V1-003", "checkpoint/ has no inventory.img", entry: "checkpoint/"))
        }
        // v1 restore applies rootfs-diff.tar before deleted.files (CKA-POD-005); the unpacked model deletes first.
        if deletionSource == .deletedFiles {
            for path in deleted where tree.kind(Self.treeRoot + Array(path.utf8)) != nil {
                warnings.append(CheckpointError("CKA-POD-005", "deleted.files removes \(path), which rootfs-diff.tar "
                                                + "adds; v1 restore deletes it after applying the diff", entry: "deleted.files"))
            }
        }
        let detection = V1ProfileDetector.detect(signals)
        warnings += detection.warnings
        if detection.profile == .podman {
            for v in namedVolumes where !volumeTars.contains(v) {
                warnings.append(CheckpointError("CKA-V1-016", "config.dump names the volume \(v) but the archive has no "
                                                + "volumes/\(v).tar", entry: "config.dump"))
            }
        }
        if detection.profile == .containerd, deletionSource == .deletedFiles {
            warnings.append(CheckpointError("CKA-CTRD-003", "a containerd archive must not contain deleted.files",
                                            entry: "deleted.files"))
        }
        let sections = sectionOrder.sorted { $0.precedes($1) }
        let impliedList = impliedSummary
        return V1ReadSummary(profile: detection.profile, detection: detection, signals: signals,
                             compression: compression, sections: sections, impliedDirectories: impliedList.listed,
                             impliedDirectoryCount: impliedList.count, synthesizedDirectories: synthesized,
                             synthesizedDirectoryCount: synthesizedCount, deletedFiles: deleted, deletionSource: deletionSource,
                             warnings: warnings, refusals: refusals, entryCount: entryCount, end: end,
                             temporaryFileError: tree.ioError ?? implied.ioError)
    }
}
