import ByteStreams
import Compression
import TarFormat

/// The nested tars of a v1 archive (rootfs-diff.tar, devshm-checkpoint.tar, volumes/<name>.tar), read one
/// level deep with a second reader straight from the outer stream.
extension V1ReadSession {
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
        var whiteouts: [String] = []
        var whiteoutSet: Set<String> = []
        do {
            while let e = try nested.next() {
                try V1ReadSession.checkHeader(e, nested)
                try continuing {
                    try nestedEntry(e, nested, target: target, context: context, layer: layer, whiteouts: &whiteouts,
                                    whiteoutSet: &whiteoutSet)
                }
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
            if !impliedOverflow, let file = implied.jsonFile(keep: stillImplied) {
                try deliverSynthesizedFile("implied.dirs", size: file.size, file.source, entry: label,
                                           offset: outerHeader.headerOffset)
            }
        }
    }

    func nestedEntry(_ e: TarHeader, _ nested: TarReader, target: NestedTarget, context: NestedContext, layer: Bool,
                     whiteouts: inout [String], whiteoutSet: inout Set<String>) throws {
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
            warn(CheckpointError("CKA-V1-015", "an OCI whiteout name in a plain rootfs-diff.tar is restored "
                                            + "as an ordinary file", entry: entry, offset: at))
        }
        var link: [UInt8]?
        if e.type == .hardLink {
            // An earlier regular file of this tar is a regular file of the tree below its root (each nested tar has a
            // root of its own); the tree already numbers every name, so no second map of them is kept.
            link = try Self.hardLinkTarget(e, entry: entry, offset: at) { name in
                let path = root + [0x2F] + name
                return tree.kind(path) == .regular ? path : nil
            }
        }
        let isFile = e.type == .regular || e.type == .regularLegacy
        var reflink: ReflinkSource?
        if isFile, !layer, let fd = options.reflinkDescriptor, compression == .none {
            reflink = ReflinkSource(descriptor: fd, offset: context.base + e.dataOffset)
        }
        let path = root + [0x2F] + name
        try deliver(e, path: path, link: link, section: section, root: root,
                    data: isFile ? TarEntrySource(nested) : nil, reflink: reflink, entry: entry, offset: at)
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
}
