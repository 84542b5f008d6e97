import ByteStreams
import Compression
import TarFormat

/// Options of `V1Reader`.
public struct V1ReaderOptions: Sendable {
    /// Limits of the outer and of every nested tar reader.
    public var limits: TarLimits = .default
    /// Largest JSON metadata file (`config.dump`, `spec.dump`, `deleted.files`, ...) held in memory; table 2.9
    /// requires at least 64 MiB to be accepted. A larger one is refused as a resource limit (CKA-TAR-043).
    public var maxMetadataFileSize: Int64 = 64 << 20
    /// Limits of the outer decompressor, used by `read(archive:into:)`.
    public var decompressionLimits: DecompressionLimits = .default
    /// Decompression budget of containerd's gzip `rootfs-diff.tar`, as a ratio of its compressed size
    /// (CKA-SEC-019's default is 1024).
    public var nestedExpansionRatio: Int64 = 1024
    /// A descriptor of the archive file, when the decompressed source reads that (uncompressed) file from
    /// offset 0: regular files of the outer stream and of plain nested tars are then delivered with a
    /// `ReflinkSource` for cloning.
    public var reflinkDescriptor: Int32?

    public init() {}
}

/// Where the deletion list of an archive came from.
public enum V1DeletionSource: String, Sendable, Equatable {
    /// The archive has no deletions.
    case none
    /// Podman's and CRI-O's `deleted.files`, delivered byte for byte as `rootfs/deleted.files`.
    case deletedFiles = "deleted.files"
    /// containerd's whiteouts in the gzip layer (CKA-CNV-009), delivered as `json.MarshalIndent` JSON.
    case whiteouts
}

/// What `V1Reader` found in an archive.
public struct V1ReadSummary: Sendable {
    /// The profile of CKA-V1-019.
    public var profile: CheckpointProfile
    /// The detection with its evidence and CKA-V1-020 contradictions.
    public var detection: V1ProfileDetection
    /// The signals detection used.
    public var signals: V1ProfileSignals
    /// The compression of the outer stream (as given by the caller or detected by `read(archive:into:)`).
    public var compression: CompressionFormat
    /// The sections delivered to the sink, in the order of CKA-V2-015 (what `cka-header.json` lists).
    public var sections: [Section]
    /// The implied directories of the rootfs tree as container paths (`/etc`), in the order they were
    /// created; the content of `rootfs/implied.dirs`.
    public var impliedDirectories: [String]
    /// Unpacked paths of directories the reader created outside the rootfs tree because the archive named
    /// entries inside them without naming them (mode 0755, uid 0, gid 0, mtime 0; not recorded anywhere).
    public var synthesizedDirectories: [String]
    /// The deletion list as container paths.
    public var deletedFiles: [String]
    /// Where the deletion list came from.
    public var deletionSource: V1DeletionSource
    /// Problems that do not stop decoding: CKA-V1-005 unknown names, CKA-V1-020 contradictions, missing
    /// `inventory.img`, and so on.
    public var warnings: [CheckpointError]
    /// Number of entries of the outer stream (the `./` root entry not counted).
    public var entryCount: Int
    /// How the outer tar stream ended.
    public var end: TarEnd
}

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
    let tree = V1Tree()
    var startedSections: Set<Section> = []
    var sectionOrder: [Section] = []
    var impliedOrder: [[UInt8]] = []
    var impliedSet: Set<[UInt8]> = []
    var synthesized: [String] = []
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

    init(options: V1ReaderOptions, sink: UnpackedEntrySink, compression: CompressionFormat) {
        self.options = options
        self.sink = sink
        self.compression = compression
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
            while let h = try reader.next() { try outerEntry(h, reader) }
            end = try reader.finish()
        } catch { throw V1ErrorMapping.outer(error) }
        observer?.v1Reader(endedTar: nil, end: end)
        try Self.checkEnd(end, label: nil, offset: end.offset)
        return try finish(end)
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
                warnings.append(CheckpointError("CKA-V1-005", "unknown top-level name, carried as ext/v1/\(top)",
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
            link = try Self.hardLinkTarget(h, files: outerFiles, entry: h.path, offset: h.headerOffset)
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

    // MARK: - Metadata and deleted.files

    func readSmall(_ h: TarHeader, _ reader: TarReader) throws -> [UInt8] {
        guard h.size <= options.maxMetadataFileSize else {
            throw CheckpointError("CKA-TAR-043", "\(h.size) bytes is more than the \(options.maxMetadataFileSize)-byte "
                                  + "limit for a JSON metadata file (resource limit)", entry: h.path, offset: h.headerOffset)
        }
        do { return try reader.readData(limit: options.maxMetadataFileSize) } catch { throw V1ErrorMapping.outer(error) }
    }

    func metadataFile(_ name: String, _ h: TarHeader, _ reader: TarReader) throws {
        let path = Self.metadataRoot + [0x2F] + Array(name.utf8)
        guard V1Names.jsonMetadataFiles.contains(name) else {
            // stats-dump: a binary CRIU image, streamed.
            try deliverOuter(h, name: Array(name.utf8), path: path, section: Section(.metadata),
                             root: Self.metadataRoot, reader: reader)
            return
        }
        let at = h.headerOffset
        let bytes = try readSmall(h, reader)
        switch name {
        case "spec.dump":
            guard V1ProfileDetector.readSpecDump(bytes, into: &signals) else {
                throw CheckpointError("CKA-V1-001", "spec.dump is not a JSON object", entry: h.path, offset: at)
            }
            if let v = try? V1JSON.parse(bytes), let a = v["annotations"] {
                var ok = false
                if case let .object(members) = a { ok = members.allSatisfy { $0.value.stringValue != nil } }
                if !ok {
                    warnings.append(CheckpointError("CKA-V1-008", "spec.dump annotations must be an object of strings",
                                                    entry: h.path, offset: at))
                }
            }
            sawSpec = true
        case "config.dump":
            guard let shape = V1ProfileDetector.configDumpShape(bytes), let v = try? V1JSON.parse(bytes) else {
                throw CheckpointError("CKA-V1-001", "config.dump is not a JSON object", entry: h.path, offset: at)
            }
            signals.configDumpShape = shape
            if v["id"]?.stringValue == nil || v["name"]?.stringValue == nil {
                warnings.append(CheckpointError("CKA-V1-010", "config.dump lacks id or name as strings",
                                                entry: h.path, offset: at))
            }
            if case let .array(volumes)? = v["namedVolumes"] {
                namedVolumes = volumes.compactMap { $0["volumeName"]?.stringValue }
            }
            sawConfig = true
        case "bind.mounts":
            try Self.validateBindMounts(bytes, entry: h.path, offset: at)
        default:
            if (try? V1JSON.parse(bytes)) == nil {
                warnings.append(CheckpointError("CKA-V1-007", "\(name) is not a valid JSON text", entry: h.path, offset: at))
            }
        }
        try deliver(h, path: path, link: nil, section: Section(.metadata), root: Self.metadataRoot,
                    data: MemorySource(bytes), reflink: reflink(h), entry: h.path, offset: at)
        outerFiles[Array(name.utf8)] = path
    }

    /// CKA-V1-018.
    static func validateBindMounts(_ bytes: [UInt8], entry: String, offset: Int64) throws {
        let value: V1JSON.Value
        do { value = try V1JSON.parse(bytes) } catch {
            throw CheckpointError("CKA-V1-018", "bind.mounts is not valid JSON: \(error)", entry: entry, offset: offset)
        }
        guard case let .array(items) = value else {
            throw CheckpointError("CKA-V1-018", "bind.mounts must be a JSON array", entry: entry, offset: offset)
        }
        for item in items {
            guard case .object = item, let destination = item["destination"]?.stringValue,
                  let source = item["source"]?.stringValue, let type = item["file_type"]?.stringValue,
                  case let .number(permissions)? = item["permissions"] else {
                throw CheckpointError("CKA-V1-018", "a bind.mounts element lacks source, destination, file_type or permissions",
                                      entry: entry, offset: offset)
            }
            if let why = V1ContainerPath.problem(destination) {
                throw CheckpointError("CKA-SEC-010", "bind.mounts destination \(V1ContainerPath.quoted(destination)) \(why)",
                                      entry: entry, offset: offset)
            }
            let parts = source.split(separator: "/", omittingEmptySubsequences: false).dropFirst()
            guard source.hasPrefix("/"), !source.contains("\u{0}"),
                  source == "/" || parts.allSatisfy({ !$0.isEmpty && $0 != "." && $0 != ".." }) else {
                throw CheckpointError("CKA-V1-018", "bind.mounts source \(V1ContainerPath.quoted(source)) is not a clean absolute path",
                                      entry: entry, offset: offset)
            }
            guard type == "directory" || type == "file" else {
                throw CheckpointError("CKA-V1-018", "bind.mounts file_type must be directory or file", entry: entry,
                                      offset: offset)
            }
            guard let p = Int(permissions), (0...4095).contains(p) else {
                throw CheckpointError("CKA-V1-018", "bind.mounts permissions must be an integer from 0 to 4095",
                                      entry: entry, offset: offset)
            }
        }
    }

    func deletedFilesEntry(_ h: TarHeader, _ reader: TarReader) throws {
        let at = h.headerOffset
        let bytes = try readSmall(h, reader)
        let list = try V1ContainerPath.parseList(bytes, entry: h.path, offset: at)
        if deletionSource == .whiteouts {
            throw CheckpointError("CKA-CTRD-003", "the archive has both whiteouts in a gzip rootfs-diff.tar and deleted.files",
                                  entry: h.path, offset: at)
        }
        if Set(list).count != list.count {
            warnings.append(CheckpointError("CKA-V2-028", "deleted.files lists a path twice", entry: h.path, offset: at))
        }
        // An empty list equals no list (table 5.11); rootfs/deleted.files must be non-empty (CKA-V2-028).
        guard !list.isEmpty else { return }
        deleted = list
        deletionSource = .deletedFiles
        try deliver(h, path: Self.rootfsRoot + Array("/deleted.files".utf8), link: nil, section: Section(.rootfs),
                    root: Self.rootfsRoot, data: MemorySource(bytes), reflink: reflink(h), entry: h.path, offset: at)
    }

    // MARK: - Nested tars

    enum NestedTarget {
        case rootfs
        case fileSystem(Section)
    }

    /// Where a nested tar's errors are reported: the outer entry and how to turn nested offsets into outer ones.
    struct NestedContext {
        let label: String
        /// Offset of the outer entry's data.
        let base: Int64
        /// The gzip decoder of containerd's layer, nil for a plain nested tar.
        let decoder: DecompressingSource?

        /// The outer-stream offset for a nested offset: exact for a plain tar; for the gzip layer, the outer
        /// offset of the compressed byte the decoder had reached.
        func outer(_ nested: Int64) -> Int64 {
            if let decoder { return base + decoder.compressedPosition }
            return base + nested
        }

        func entry(_ name: String?) -> String { name.map { "\(label): \($0)" } ?? label }

        func translate(_ error: Error) -> Error {
            switch error {
            case let e as TarError:
                let layer = decoder == nil ? "" : " of the decompressed layer"
                return CheckpointError(V1ErrorMapping.requirement(e.kind),
                                       "\(label): nested tar offset \(e.offset)\(layer): \(e.description)",
                                       entry: entry(e.entry), offset: outer(e.offset))
            case let e as CompressionError:
                return CheckpointError(decoder == nil ? "CKA-CMP-013" : "CKA-CTRD-004", "\(label): \(e.description)",
                                       entry: label, offset: base + (e.compressedOffset ?? 0))
            case let e as ByteStreamError:
                return CheckpointError("IO", "\(label): \(e.description)", entry: label)
            default:
                return error
            }
        }
    }

    func nestedTar(_ outerHeader: TarHeader, _ reader: TarReader, label: String, target: NestedTarget) throws {
        let base = outerHeader.dataOffset
        let raw = V1OuterEntrySource(reader)
        var limits = options.decompressionLimits
        limits.maxOutputBytes = DecompressionLimits.budget(compressedSize: max(outerHeader.size, 1),
                                                           ratio: options.nestedExpansionRatio).maxOutputBytes
        let plainContext = NestedContext(label: label, base: base, decoder: nil)
        let decoded: DecodedStream
        do { decoded = try openDecompressed(raw, limits: limits) } catch { throw plainContext.translate(error) }
        var layer = false
        switch (decoded.format, target) {
        case (.none, _): break
        case (.gzip, .rootfs): layer = true
        default:
            throw CheckpointError("CKA-CMP-013", "a nested tar must be uncompressed (only containerd's rootfs-diff.tar "
                                  + "is a gzip layer), found \(decoded.format)", entry: label, offset: outerHeader.headerOffset)
        }
        if case .rootfs = target { signals.rootfsDiffCompression = decoded.format }
        let context = NestedContext(label: label, base: base, decoder: layer ? decoded.decoder : nil)
        let nested = TarReader(source: decoded.source, limits: options.limits)
        let tarObserver = observer?.v1Reader(startsTar: label, dataOffset: base, compression: layer ? decoded.format : .none)
        nested.observer = tarObserver
        var files: [[UInt8]: [UInt8]] = [:]
        var whiteouts: [String] = []
        var whiteoutSet: Set<String> = []
        do {
            while let e = try nested.next() {
                try nestedEntry(e, nested, target: target, context: context, layer: layer, files: &files,
                                whiteouts: &whiteouts, whiteoutSet: &whiteoutSet)
            }
            let end = try nested.finish()
            observer?.v1Reader(endedTar: label, end: end)
            try Self.checkEnd(end, label: label, offset: context.outer(end.offset))
        } catch { throw context.translate(error) }

        switch target {
        case let .fileSystem(section):
            // An empty nested tar still stands for the directory (CKA-CNV-006).
            if !startedSections.contains(section) { try startSection(section, marker: nil, entry: label, offset: base) }
        case .rootfs:
            if !whiteouts.isEmpty {
                if deletionSource == .deletedFiles {
                    throw CheckpointError("CKA-CTRD-003", "the archive has both deleted.files and whiteouts in rootfs-diff.tar",
                                          entry: label, offset: outerHeader.headerOffset)
                }
                deleted = whiteouts
                deletionSource = .whiteouts
                try deliverSynthesizedFile("deleted.files", V1JSON.goIndentedStringArray(whiteouts), entry: label,
                                           offset: outerHeader.headerOffset)
            }
            let implied = impliedDirectories
            if !implied.isEmpty {
                try deliverSynthesizedFile("implied.dirs", V1JSON.goIndentedStringArray(implied), entry: label,
                                           offset: outerHeader.headerOffset)
            }
        }
    }

    func nestedEntry(_ e: TarHeader, _ nested: TarReader, target: NestedTarget, context: NestedContext, layer: Bool,
                     files: inout [[UInt8]: [UInt8]], whiteouts: inout [String], whiteoutSet: inout Set<String>) throws {
        observer?.v1Reader(readEntry: e, nestedIn: context.label)
        let at = context.outer(e.headerOffset)
        let entry = context.entry(e.path)
        try Self.checkEntry(e, nested: true, entry: entry, offset: at)
        let section: Section
        let root: [UInt8]
        switch target {
        case .rootfs:
            section = Section(.rootfs)
            root = Self.treeRoot
        case let .fileSystem(s):
            section = s
            root = Array(s.directory.utf8.dropLast())
        }
        guard case let .name(name) = V1Path.normalise(e.pathBytes) else {
            guard e.type == .directory else {
                throw CheckpointError("CKA-TAR-035", "the root entry './' must be a directory", entry: entry, offset: at)
            }
            // The root of devshm and volume tars carries the directory's attributes (CKA-DIR-006); the
            // metadata of rootfs/tree/ is never applied (CKA-V2-032), so a root entry there is ignored.
            if case .fileSystem = target { try startSection(section, marker: e, entry: entry, offset: at) }
            return
        }
        if let why = V1Path.problem(name) {
            throw CheckpointError("CKA-TAR-034", "entry name: \(why)", entry: entry, offset: at)
        }
        let components = V1Path.components(name)
        let last = components[components.count - 1]
        let isWhiteout = last.starts(with: Array(".wh.".utf8))
        if isWhiteout, case .rootfs = target {
            if layer {
                try whiteout(e, components: components, entry: entry, offset: at, whiteouts: &whiteouts,
                             whiteoutSet: &whiteoutSet)
                return
            }
            warnings.append(CheckpointError("CKA-V1-015", "an OCI whiteout name in a plain rootfs-diff.tar is restored "
                                            + "as an ordinary file", entry: entry, offset: at))
        }
        var link: [UInt8]?
        if e.type == .hardLink {
            link = try Self.hardLinkTarget(e, files: files, entry: entry, offset: at)
        }
        let isFile = e.type == .regular || e.type == .regularLegacy
        var reflink: ReflinkSource?
        if isFile, !layer, let fd = options.reflinkDescriptor, compression == .none {
            reflink = ReflinkSource(descriptor: fd, offset: context.base + e.dataOffset)
        }
        let path = root + [0x2F] + name
        try deliver(e, path: path, link: link, section: section, root: root,
                    data: isFile ? TarEntrySource(nested) : nil, reflink: reflink, entry: entry, offset: at)
        if isFile { files[name] = path }
    }

    /// containerd whiteouts (CKA-CTRD-005, CKA-CNV-009).
    func whiteout(_ e: TarHeader, components: [ArraySlice<UInt8>], entry: String, offset at: Int64,
                  whiteouts: inout [String], whiteoutSet: inout Set<String>) throws {
        guard e.type == .regular || e.type == .regularLegacy, e.size == 0 else {
            throw CheckpointError("CKA-CTRD-005", "a whiteout must be an empty regular file", entry: entry, offset: at)
        }
        let last = components[components.count - 1]
        let directory = components.dropLast()
        var deletedBytes: [UInt8] = []
        for c in directory { deletedBytes += [0x2F] + c }
        if last.elementsEqual(Array(".wh..wh..opq".utf8)) {
            guard !directory.isEmpty else {
                throw CheckpointError("CKA-V2-033", "an opaque whiteout at the layer root would delete '/'",
                                      entry: entry, offset: at)
            }
            // The directory stays as an explicit (not implied) directory of the tree.
            let dir = Self.treeRoot + deletedBytes
            switch tree.kind(dir) {
            case .directory?, .synthesized?:
                break
            case .implied?:
                tree.set(dir, .synthesized)
                impliedSet.remove(dir)
            case nil:
                var h = TarHeader(path: "", type: .directory, mode: 0o755)
                h.pathBytes = dir
                try deliver(h, path: dir, link: nil, section: Section(.rootfs), root: Self.treeRoot, data: nil,
                            reflink: nil, entry: entry, offset: at, kind: .synthesized)
            default:
                throw CheckpointError("CKA-TAR-038", "an opaque whiteout inside a non-directory", entry: entry, offset: at)
            }
        } else if last.starts(with: Array(".wh..wh.".utf8)) {
            throw CheckpointError("CKA-CTRD-005", "unknown whiteout name starting with .wh..wh.", entry: entry, offset: at)
        } else {
            let target = last.dropFirst(4)
            guard !target.isEmpty else {
                throw CheckpointError("CKA-CTRD-005", "a whiteout must name an entry", entry: entry, offset: at)
            }
            deletedBytes += [0x2F] + target
        }
        guard let path = String(validating: deletedBytes, as: UTF8.self) else {
            throw CheckpointError("CKA-SEC-010", "the whiteout's path is not valid UTF-8", entry: entry, offset: at)
        }
        if let why = V1ContainerPath.problem(path) {
            throw CheckpointError("CKA-SEC-010", "whiteout path \(V1ContainerPath.quoted(path)) \(why)", entry: entry,
                                  offset: at)
        }
        if whiteoutSet.insert(path).inserted { whiteouts.append(path) }
    }

    // MARK: - Delivery

    var impliedDirectories: [String] {
        impliedOrder.filter { impliedSet.contains($0) }.map { V1Path.string(Array($0.dropFirst(Self.treeRoot.count))) }
    }

    static func synthesizedDirectory(_ path: [UInt8]) -> TarHeader {
        var h = TarHeader(path: "", type: .directory, mode: 0o755)
        h.pathBytes = path + [0x2F]
        return h
    }

    /// Starts a section: delivers its marker (from `marker`'s attributes, or synthesised), and for rootfs
    /// also `rootfs/tree/`. A marker met after the section started synthesised is delivered again.
    func startSection(_ section: Section, marker: TarHeader?, entry: String, offset: Int64) throws {
        let dir = Array(section.directory.utf8.dropLast())
        var header = Self.synthesizedDirectory(dir)
        if let m = marker {
            header.mode = m.mode & 0o7777
            header.uid = m.uid
            header.gid = m.gid
            header.uname = m.uname
            header.gname = m.gname
            header.mtime = m.mtime
            header.xattrs = m.xattrs
            header.headerOffset = offset
        }
        if startedSections.contains(section) {
            guard marker != nil, tree.kind(dir) == .synthesized else {
                throw CheckpointError("CKA-TAR-037", "duplicate entry for the directory \(section.directory)", entry: entry,
                                      offset: offset)
            }
            tree.set(dir, .directory)
            try sink.add(header, section: section, data: empty, reflink: nil)
            return
        }
        startedSections.insert(section)
        sectionOrder.append(section)
        tree.set(dir, marker == nil ? .synthesized : .directory)
        try sink.add(header, section: section, data: empty, reflink: nil)
        if section.kind == .rootfs {
            tree.set(Self.treeRoot, .directory)
            try sink.add(Self.synthesizedDirectory(Self.treeRoot), section: section, data: empty, reflink: nil)
        }
    }

    /// Delivers one mapped entry, creating its section marker and missing parents first.
    func deliver(_ h: TarHeader, path: [UInt8], link: [UInt8]?, section: Section, root: [UInt8], data: ByteSource?,
                 reflink: ReflinkSource?, entry: String, offset: Int64, kind: V1Tree.Kind? = nil) throws {
        if !startedSections.contains(section) { try startSection(section, marker: nil, entry: entry, offset: offset) }
        let entryKind: V1Tree.Kind
        switch h.type {
        case .directory: entryKind = kind ?? .directory
        case .regular, .regularLegacy: entryKind = .regular
        default: entryKind = .other
        }
        let inTree = section.kind == .rootfs && path.starts(with: Self.treeRoot + [0x2F])
        let (parents, promoted) = try tree.register(path, kind: entryKind, root: root,
                                                     parentKind: inTree ? .implied : .synthesized, entry: entry,
                                                     offset: offset)
        for p in parents {
            try sink.add(Self.synthesizedDirectory(p), section: section, data: empty, reflink: nil)
            if inTree {
                impliedOrder.append(p)
                impliedSet.insert(p)
            } else {
                synthesized.append(V1Path.string(p) + "/")
            }
        }
        if promoted, inTree { impliedSet.remove(path) }
        var m = h
        m.pathBytes = h.type == .directory ? path + [0x2F] : path
        if let link { m.linkBytes = link }
        if h.type != .symbolicLink, h.type != .hardLink { m.linkBytes = [] }
        m.mode = h.mode & 0o7777
        m.paxRecords = []
        if m.type == .regularLegacy { m.type = .regular }
        m.headerOffset = offset
        try sink.add(m, section: section, data: data ?? empty, reflink: reflink)
    }

    /// Delivers `rootfs/<name>` made by the reader (mode 0600, uid 0, gid 0, mtime 0, as the engines'
    /// `metadata.WriteJSONFile` writes `deleted.files`).
    func deliverSynthesizedFile(_ name: String, _ bytes: [UInt8], entry: String, offset: Int64) throws {
        let path = Self.rootfsRoot + [0x2F] + Array(name.utf8)
        var h = TarHeader(path: "", type: .regular, size: Int64(bytes.count), mode: 0o600)
        h.pathBytes = path
        try deliver(h, path: path, link: nil, section: Section(.rootfs), root: Self.rootfsRoot,
                    data: MemorySource(bytes), reflink: nil, entry: entry, offset: offset)
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
    static func hardLinkTarget(_ h: TarHeader, files: [[UInt8]: [UInt8]], entry: String, offset: Int64) throws -> [UInt8] {
        guard case let .name(target) = V1Path.normalise(h.linkBytes), V1Path.problem(target) == nil,
              let mapped = files[target] else {
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
        guard sawConfig, sawSpec else {
            throw CheckpointError("CKA-V1-001", "the archive has no top-level \(sawConfig ? "spec.dump" : "config.dump")")
        }
        let full = startedSections.contains(Section(.checkpoint))
        let pre = startedSections.contains(Section(.preCheckpoint))
        guard full != pre else {
            throw CheckpointError("CKA-V1-002", full ? "the archive has both checkpoint/ and pre-checkpoint/"
                : "the archive has neither checkpoint/ nor pre-checkpoint/")
        }
        if full, tree.kind(Array("checkpoint/inventory.img".utf8)) != .regular {
            warnings.append(CheckpointError("CKA-V1-003", "checkpoint/ has no inventory.img", entry: "checkpoint/"))
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
        return V1ReadSummary(profile: detection.profile, detection: detection, signals: signals,
                             compression: compression, sections: sections, impliedDirectories: impliedDirectories,
                             synthesizedDirectories: synthesized, deletedFiles: deleted, deletionSource: deletionSource,
                             warnings: warnings, entryCount: entryCount, end: end)
    }
}
