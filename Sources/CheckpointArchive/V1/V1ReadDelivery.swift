import ByteStreams
import TarFormat

/// How the v1 reader delivers entries to the sink: section markers first, the missing parents of each entry (the
/// implied directories of the rootfs tree, spooled), the files it makes itself (`rootfs/implied.dirs`,
/// `rootfs/deleted.files`).
extension V1ReadSession {
    /// Whether a directory the reader created in the tree is still implied: no entry named it since, and no
    /// opaque whiteout kept it.
    func stillImplied(_ path: [UInt8]) -> Bool { tree.kind(path) == .implied }

    /// Bytes of paths of created directories the summary lists by name (all are counted): a deep name implies
    /// depth times length bytes of parents.
    static let listedBytes = 1 << 20

    /// The first implied directories, `listedBytes` of them, and how many there are.
    var impliedSummary: (listed: [String], count: Int) {
        var listed: [String] = []
        var bytes = 0
        var count = 0
        implied.forEach(keep: stillImplied) { path in
            bytes += path.utf8.count
            if bytes <= Self.listedBytes { listed.append(path) }
            count += 1
        }
        return (listed, count)
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
        // A directory created earlier and now named by this entry takes the entry's kind in the tree: it is no
        // longer implied (`stillImplied`).
        let parents = try tree.register(path, kind: entryKind, root: root,
                                        parentKind: inTree ? .implied : .synthesized, entry: entry, offset: offset)
        for length in parents {
            let p = path[..<length]
            // Each missing parent is a path of its own: a deep name implies depth times length bytes of them. They
            // are bounded like the JSON file that lists them (table 2.9, CKA-TAR-043), and spooled.
            createdParentBytes += Int64(length) + 8
            if createdParentBytes > options.maxMetadataFileSize {
                impliedOverflow = true
                throw CheckpointError("CKA-TAR-043", "resource limit: the directories implied by the entries' names "
                                      + "exceed \(options.maxMetadataFileSize) bytes of paths", entry: entry,
                                      offset: offset)
            }
            try sink.add(Self.synthesizedDirectory(Array(p)), section: section, data: empty, reflink: nil)
            if inTree {
                implied.append(p)
            } else {
                synthesizedBytes += length
                if synthesizedBytes <= Self.listedBytes { synthesized.append(V1Path.string(Array(p)) + "/") }
                synthesizedCount += 1
            }
        }
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
        try deliverSynthesizedFile(name, size: Int64(bytes.count), MemorySource(bytes), entry: entry, offset: offset)
    }

    func deliverSynthesizedFile(_ name: String, size: Int64, _ data: ByteSource, entry: String, offset: Int64) throws {
        let path = Self.rootfsRoot + [0x2F] + Array(name.utf8)
        var h = TarHeader(path: "", type: .regular, size: size, mode: 0o600)
        h.pathBytes = path
        try deliver(h, path: path, link: nil, section: Section(.rootfs), root: Self.rootfsRoot,
                    data: data, reflink: nil, entry: entry, offset: offset)
    }
}
