import ByteStreams
import Compression
import TarFormat

/// The small metadata files of a v1 archive (spec.dump, config.dump, bind.mounts, deleted.files), parsed
/// strictly and checked before they are delivered.
extension V1ReadSession {
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
                    warn(CheckpointError("CKA-V1-008", "spec.dump annotations must be an object of strings",
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
                warn(CheckpointError("CKA-V1-010", "config.dump lacks id or name as strings",
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
                warn(CheckpointError("CKA-V1-007", "\(name) is not a valid JSON text", entry: h.path, offset: at))
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
            warn(CheckpointError("CKA-V2-028", "deleted.files lists a path twice", entry: h.path, offset: at))
        }
        // An empty list equals no list (table 5.11); rootfs/deleted.files must be non-empty (CKA-V2-028).
        guard !list.isEmpty else { return }
        deleted = list
        deletionSource = .deletedFiles
        try deliver(h, path: Self.rootfsRoot + Array("/deleted.files".utf8), link: nil, section: Section(.rootfs),
                    root: Self.rootfsRoot, data: MemorySource(bytes), reflink: reflink(h), entry: h.path, offset: at)
    }
}
