import ByteStreams
import Compression
import CSysShims
import TarFormat
#if canImport(Glibc)
import Glibc
#endif

/// Building the outer and nested entries of each profile from the unpacked directory.
extension V1WritePlan {
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
}
