import ByteStreams
import Compression
import Crypto
import FoundationEssentials
import TarFormat
#if canImport(Glibc)
import Glibc
#endif

/// Options of the v2 encoder (`ckpt create --format v2`).
public struct V2EncoderOptions: Sendable {
    public var compression: CompressionFormat = .none
    /// Compression level; nil for the format's default.
    public var level: Int?
    /// Start a gzip member / zstd frame at every section and write the locator (CKA-FRM-001..005).
    public var framed = false
    /// Data alignment: 0, or a power of two from 512 to 1 MiB (CKA-ALN-001).
    public var alignment = 0
    /// Deterministic mode (CKA-V2-047..053): mtime 0, empty names, ids 0 outside file-system sections.
    public var deterministic = false
    /// The profile to record; nil keeps the one of the directory's `cka-header.json` (or `generic`).
    public var profile: CheckpointProfile?
    /// The `creator` member outside deterministic mode.
    public var creator = "ckpt 0.1.0"
    /// Where the index's file records and digests are spooled once past `spoolMemoryBudget`; nil for
    /// `$TMPDIR` (else `/tmp`).
    public var spoolDirectory: String?
    /// Bytes of file records, and of digests, kept in memory before they are spooled to an anonymous
    /// temporary file (tests force a tiny budget to exercise the spooled path).
    var spoolMemoryBudget = 1 << 20

    public init() {}
}

/// What the encoder wrote. The file records are not kept (there may be millions); read the index back from
/// the archive (`V2Decoder`) for them.
public struct V2EncodeResult: Sendable {
    public var header: ArchiveHeader
    /// The header span (5.6) and the section records of the index.
    public var headerSpan: ArchiveIndex.Span
    public var sections: [ArchiveIndex.SectionRecord]
    /// The number of file records of the index.
    public var fileCount: Int
    /// Where the index entry's header starts in the tar stream, and the index content's length.
    public var indexOffset: Int64
    public var indexLength: Int64
    /// `sha256:<hex>` of the index content: pins the whole archive (5.6).
    public var indexDigest: String
    /// Bytes of tar stream and of output.
    public var tarBytes: Int64
    public var outputBytes: Int64
    /// Whether the file records or digests outgrew the memory budget and went to temporary files.
    var spooled = false
}

/// Writes a v2 archive from an unpacked checkpoint directory in one streaming pass over the data: header,
/// sections in the required order, the index of digests, and (framed) the locator. Memory does not grow with
/// the number of files: their index records and digests are spooled (`FileRecordSpool`, `SlotDigestStore`)
/// past a small budget and the index is streamed from them (`IndexStreamWriter`).
public final class V2Encoder {
    let layout: UnpackedLayout
    let options: V2EncoderOptions
    /// Digests of file data copied by the kernel, computed on every core while the encoder goes on (an
    /// uncompressed output only); nil outside `encode`.
    private var digestQueue: FileCopier.DigestQueue?
    /// The index's file records and their digests by slot; fresh in every `encode`.
    private var records = FileRecordSpool()
    private var digests = SlotDigestStore()

    public init(directory: String, options: V2EncoderOptions) throws {
        guard options.alignment == 0 || (options.alignment >= 512 && options.alignment <= 1 << 20
                                          && options.alignment & (options.alignment - 1) == 0) else {
            throw CheckpointError("CKA-ALN-001", "alignment must be 0 or a power of two from 512 to 1048576")
        }
        if options.alignment > 0 && options.compression != .none {
            throw CheckpointError("CKA-ALN-007", "alignment is only useful for uncompressed archives")
        }
        if options.framed && options.compression == .none {
            throw CheckpointError("CKA-FRM-009", "framed mode needs gzip or zstd compression")
        }
        guard options.compression == .none || options.compression.isSupported else {
            throw CheckpointError("CKA-CMP-001", "compression \(options.compression) cannot be written")
        }
        layout = try UnpackedLayout(root: directory, profile: options.profile)
        self.options = options
    }

    /// The header this encoder writes.
    public var header: ArchiveHeader {
        ArchiveHeader(profile: layout.profile, compression: options.compression, framed: options.framed,
                      alignment: options.alignment, creator: options.deterministic ? "ckpt" : options.creator,
                      sections: layout.sections.map(\.section))
    }

    /// Encodes into `output` (a file or pipe sink); `output` is flushed but not closed.
    public func encode(to output: ByteSink) throws -> V2EncodeResult {
        let compressor = try options.compression.makeEncoder(output, level: options.level)
        let digester = SpanDigester(compressor)
        var writerOptions = TarWriterOptions()
        if options.alignment > 0 { writerOptions.alignment = options.alignment }
        let tar = try TarWriter(sink: digester, options: writerOptions)
        let archiveHeader = header
        records = FileRecordSpool(memoryBudget: options.spoolMemoryBudget, directory: options.spoolDirectory)
        digests = SlotDigestStore(memoryBudget: options.spoolMemoryBudget, directory: options.spoolDirectory)
        digestQueue = options.compression == .none ? FileCopier.DigestQueue(digests: digests) : nil
        defer {
            digestQueue = nil
            records = FileRecordSpool()
            digests = SlotDigestStore()
        }

        // Entry 0: the version marker.
        var h0 = synthesized("cka-header.json", type: .regular, mode: 0o644)
        h0.paxRecords = [PaxRecord(key: "CKA.version", value: "2")]
        try writeFile(h0, content: archiveHeader.canonicalBytes, tar: tar, digester: digester)

        var sectionRecords: [ArchiveIndex.SectionRecord] = []
        var spanStart: Int64 = 0
        var headerSpan: ArchiveIndex.Span?
        for planned in layout.sections {
            try tar.flushPadding()
            let start = tar.offset
            let digest = digester.cut()
            if headerSpan == nil {
                headerSpan = ArchiveIndex.Span(start: 0, end: start, sha256: digest)
            } else {
                sectionRecords[sectionRecords.count - 1].span = ArchiveIndex.Span(start: spanStart, end: start,
                                                                                  sha256: digest)
            }
            var compressedStart: Int64?
            if options.framed {
                try compressor.endFrame()
                compressedStart = compressor.compressedPosition
            }
            spanStart = start
            let count = try writeSection(planned, tar: tar, digester: digester)
            sectionRecords.append(ArchiveIndex.SectionRecord(section: planned.section,
                                                             span: ArchiveIndex.Span(start: start, end: start, sha256: ""),
                                                             compressedStart: compressedStart, entries: count))
        }
        try tar.flushPadding()
        let indexOffset = tar.offset
        try digestQueue?.complete()
        sectionRecords[sectionRecords.count - 1].span = ArchiveIndex.Span(start: spanStart, end: indexOffset,
                                                                          sha256: digester.cut())
        var indexCompressedStart = Int64(0)
        if options.framed {
            try compressor.endFrame()
            indexCompressedStart = compressor.compressedPosition
        }
        var hi = synthesized("cka-index.json", type: .regular, mode: 0o644)
        hi.paxRecords = [PaxRecord(key: "CKA.index", value: "1")]
        let index = try IndexStreamWriter(header: headerSpan!, sections: sectionRecords, indexOffset: indexOffset,
                                          records: records, digests: digests).write(entry: hi, to: tar)
        try tar.finish()
        let tarBytes = tar.offset
        if options.framed {
            try compressor.endFrame()
            try output.write(FramedLocator.bytes(format: options.compression, indexCompressedOffset: indexCompressedStart,
                                                 indexOffset: indexOffset, tarLength: tarBytes))
        }
        try compressor.finish()
        try output.flush()
        return V2EncodeResult(header: archiveHeader, headerSpan: headerSpan!, sections: sectionRecords,
                              fileCount: records.count, indexOffset: indexOffset, indexLength: index.length,
                              indexDigest: index.digest, tarBytes: tarBytes, outputBytes: output.position,
                              spooled: records.spilled || digests.spilled)
    }

    // MARK: - Sections

    private func writeSection(_ planned: UnpackedLayout.PlannedSection, tar: TarWriter,
                              digester: SpanDigester) throws -> Int {
        let section = planned.section
        let dir = section.directory
        var marker: TarHeader
        switch section.kind {
        case .metadata, .rootfs, .logs:
            marker = synthesized(dir, type: .directory, mode: 0o755)
        default:
            marker = normalized(try FileMetadata.header(path: planned.source, archivePath: dir), section: section)
        }
        marker.paxRecords = [PaxRecord(key: "CKA.section", value: section.kind.rawValue),
                             PaxRecord(key: "CKA.section.critical", value: section.critical ? "1" : "0")]
        if let name = section.name { marker.paxRecords.append(PaxRecord(key: "CKA.section.name", value: name)) }
        try tar.writeHeader(marker)
        var count = 1
        switch section.kind {
        case .metadata, .logs:
            for name in try DirectoryScanner.children(of: planned.source) {
                let entry = try FileMetadata.header(path: planned.source + "/" + name, archivePath: dir + name)
                guard entry.type == .regular else {
                    throw CheckpointError(section.kind == .metadata ? "CKA-V2-023" : "CKA-V2-037",
                                          "only regular files may be placed directly under \(dir)", entry: dir + name)
                }
                try writeScanned(FileSystemEntry(header: entry, sourcePath: planned.source + "/" + name),
                                 section: section, tar: tar, digester: digester)
                count += 1
            }
        case .rootfs:
            count += try writeRootfs(planned, tar: tar, digester: digester)
        default:
            let scanner = DirectoryScanner(root: planned.source, prefix: dir)
            try scanner.forEachEntry(includeRoot: false) { entry in
                try checkPolicy(entry.header, section: section)
                try writeScanned(entry, section: section, tar: tar, digester: digester)
                count += 1
            }
        }
        return count
    }

    /// rootfs: marker, deleted.files, implied.dirs, `rootfs/tree/`, then the tree (CKA-V2-027).
    private func writeRootfs(_ planned: UnpackedLayout.PlannedSection, tar: TarWriter,
                             digester: SpanDigester) throws -> Int {
        let src = planned.source
        let names = try DirectoryScanner.children(of: src)
        for name in names where !["deleted.files", "implied.dirs", "tree"].contains(name) {
            throw CheckpointError("CKA-V2-027", "unexpected name in the rootfs section", entry: "rootfs/" + name)
        }
        var count = 0
        var implied = Set<String>()
        for name in ["deleted.files", "implied.dirs"] where names.contains(name) {
            let path = src + "/" + name
            let h = try FileMetadata.header(path: path, archivePath: "rootfs/" + name)
            guard h.type == .regular else {
                throw CheckpointError(name == "deleted.files" ? "CKA-V2-028" : "CKA-V2-029",
                                      "\(name) must be a regular file", entry: "rootfs/" + name)
            }
            let paths = try ContainerPathList.read(path: path, entry: "rootfs/" + name,
                                                   requirement: name == "deleted.files" ? "CKA-V2-028" : "CKA-V2-029")
            if name == "implied.dirs" { implied = Set(paths) }
            try writeScanned(FileSystemEntry(header: h, sourcePath: path), section: planned.section, tar: tar,
                             digester: digester)
            count += 1
        }
        try tar.writeHeader(synthesized("rootfs/tree/", type: .directory, mode: 0o755))
        count += 1
        guard names.contains("tree") else {
            if !implied.isEmpty {
                throw CheckpointError("CKA-V2-029", "implied.dirs names directories but there is no tree",
                                      entry: "rootfs/implied.dirs")
            }
            return count
        }
        let scanner = DirectoryScanner(root: src + "/tree", prefix: "rootfs/tree/")
        var seenImplied = Set<String>()
        try scanner.forEachEntry(includeRoot: false) { scanned in
            var entry = scanned
            let containerPath = "/" + String(entry.header.path.dropFirst("rootfs/tree/".count))
            let trimmed = containerPath.hasSuffix("/") ? String(containerPath.dropLast()) : containerPath
            if entry.header.type == .directory, implied.contains(trimmed) {
                // An implied directory carries no metadata (CKA-V2-030).
                entry.header = synthesized(entry.header.path, type: .directory, mode: 0o755)
                seenImplied.insert(trimmed)
            }
            try writeScanned(entry, section: planned.section, tar: tar, digester: digester)
            count += 1
        }
        if let missing = implied.subtracting(seenImplied).sorted().first {
            throw CheckpointError("CKA-V2-029", "implied.dirs names a path that is not a directory of the tree",
                                  entry: missing)
        }
        return count
    }

    /// Table 5.4 for entries read from disk.
    private func checkPolicy(_ h: TarHeader, section: Section) throws {
        let policy = section.policy
        switch h.type {
        case .directory where !policy.directories:
            throw CheckpointError("CKA-V2-039", "directories are not allowed in the \(section) section", entry: h.path)
        case .symbolicLink:
            switch policy.symlinks {
            case .anyTarget: break
            case .checkpointParent where h.path == "checkpoint/parent" && h.linkName == "../pre-checkpoint": break
            case .relativeInside where LinkTargets.staysInside(link: h.path, target: h.linkName, root: section.directory):
                break
            default:
                throw CheckpointError("CKA-V2-040", "symbolic link not allowed in the \(section) section", entry: h.path)
            }
        case .hardLink, .characterDevice, .blockDevice, .fifo:
            if !policy.specialFiles {
                throw CheckpointError("CKA-V2-041", "hard links, devices and FIFOs are only allowed in rootfs, devshm and volume sections",
                                      entry: h.path)
            }
        default: break
        }
    }

    // MARK: - Entries

    /// Normalises a scanned header for its section and writes it with its data.
    private func writeScanned(_ entry: FileSystemEntry, section: Section, tar: TarWriter,
                              digester: SpanDigester) throws {
        let h = normalized(entry.header, section: section)
        guard h.type == .regular else {
            try tar.writeHeader(h)
            return
        }
        try tar.flushPadding()
        let dataOffset = try tar.writeHeader(h)
        digester.excludingData = true
        defer { digester.excludingData = false }
        let slot = records.count
        if let digest = try FileCopier.copy(from: entry.sourcePath, size: h.size, into: tar, entry: h.path,
                                            digests: digestQueue, slot: slot) {
            digests.set(slot, hex: digest)
        }
        try records.append(path: h.path.utf8, size: h.size, offset: dataOffset)
    }

    private func writeFile(_ h: TarHeader, content: [UInt8], tar: TarWriter, digester: SpanDigester) throws {
        var h = h
        h.size = Int64(content.count)
        let dataOffset = try tar.writeHeader(h)
        digester.excludingData = true
        try tar.write(content)
        digester.excludingData = false
        digests.set(records.count, digest: SHA256.hash(data: content))
        try records.append(path: h.path.utf8, size: h.size, offset: dataOffset)
    }

    /// An entry the encoder makes up: uid/gid 0, mtime 0, no names (CKA-V2-053).
    private func synthesized(_ path: String, type: TarEntryType, mode: Int64) -> TarHeader {
        TarHeader(path: path, type: type, mode: mode, mtime: TarTime(seconds: 0))
    }

    /// Deterministic-mode metadata and the section rules on ownership, mode bits and xattrs.
    private func normalized(_ header: TarHeader, section: Section) -> TarHeader {
        var h = header
        let policy = section.policy
        if options.deterministic {
            h.mtime = TarTime(seconds: 0)
            h.uname = ""
            h.gname = ""
        }
        if !policy.ownership && options.deterministic {
            h.uid = 0
            h.gid = 0
        }
        if !policy.specialModeBits { h.mode &= 0o777 }
        if !policy.xattrs { h.xattrs = [] }
        return h
    }
}

extension TarWriter {
    /// Writes the zero padding that closes the current entry now, so `offset` is the next entry's start.
    func flushPadding() throws { try finishPendingEntry() }
}
