import ByteStreams
import CSysShims
import TarFormat
#if canImport(Glibc)
import Glibc
#endif

/// Applies a rootfs section to an existing container root file system (`ckpt extract --rootfs TARGET`),
/// as CKA-V2-032 describes: first every path of the deletion list is removed, then the tree entries are
/// applied in archive order.
///
/// - Deletions (CKA-SEC-010, CKA-SEC-011): each path is checked for syntax, all but its final component are
///   resolved beneath the root the way `securejoin` does (a symbolic link is followed, but `..` and absolute
///   targets are taken relative to the root, so resolution never leaves it), and the final component itself
///   is removed recursively, never the target of a symbolic link, never across a mount point.
/// - Tree entries (`rootfs/tree/<p>` -> `<root>/<p>`): parents are resolved strictly, without following any
///   symbolic link (CKA-SEC-002); an implied directory is created (0755) only if missing and an existing one
///   is left alone; any other entry replaces what is at its path (an existing directory stays and gets
///   the entry's metadata when the entry is a directory); nothing is ever written through a symbolic link.
///   The metadata of `rootfs/tree/` itself is never applied.
///
/// As an `UnpackedEntrySink` it takes `rootfs/deleted.files` and `rootfs/implied.dirs` from the section itself
/// and ignores (skips) the entries of every other section. After the first error every later call fails.
public final class RootfsApplier: UnpackedEntrySink {
    /// The container root file system.
    public let root: String
    public let options: SafeExtractor.Options
    /// Container paths (`/usr/lib`) of implied directories (CKA-V2-029); `rootfs/implied.dirs` adds to it.
    public var impliedDirectories: Set<String> = []
    /// Largest `rootfs/deleted.files` or `rootfs/implied.dirs` read into memory.
    public var maxPathListSize: Int64 = 64 << 20
    /// Most symbolic links followed while resolving one deletion path (as the kernel's 40).
    public static let maxSymlinkFollows = 40

    private let tree: ExtractionTree
    private var treeStarted = false
    private var named: Set<[UInt8]> = []
    private var regularFiles: Set<[UInt8]> = []
    private var failure: Error?

    /// Opens `root`, which must be an existing directory.
    public init(root: String, options: SafeExtractor.Options = SafeExtractor.Options()) throws {
        self.root = root
        self.options = options
        let fd = withCName(Array(root.utf8)) { open($0, O_RDONLY | O_DIRECTORY | O_CLOEXEC) }
        guard fd >= 0 else { throw CheckpointError.extractionIO("open root", csys_errno(), entry: root, offset: nil) }
        tree = ExtractionTree(root: OwnedDescriptor(fd), options: options)
    }

    public var statistics: SafeExtractor.Statistics { tree.statistics }
    public var warnings: [CheckpointError] { tree.warnings }

    private func guarded<R>(_ body: () throws -> R) throws -> R {
        if let failure { throw failure }
        do {
            return try body()
        } catch {
            failure = error
            throw error
        }
    }

    // MARK: - Deletions

    /// Removes every path of a deletion list, in order; each must satisfy CKA-SEC-010.
    /// - Parameter entry: the metadata file named in errors.
    public func applyDeletions(_ paths: [String], entry: String = "rootfs/deleted.files", offset: Int64? = nil) throws {
        try guarded {
            for p in paths { try ContainerPath.check(p, entry: entry, offset: offset) }
            for p in paths { try delete(p, entry: entry, offset: offset) }
        }
    }

    private func delete(_ path: String, entry: String, offset: Int64?) throws {
        let components = ContainerPath.components(path)
        guard let last = components.last else { return }
        guard let parent = try resolveInRoot(Array(components.dropLast()), path: path, entry: entry, offset: offset)
        else { return }
        var st = stat()
        guard fstat(parent.fd, &st) == 0 else {
            throw CheckpointError.extractionIO("fstat", csys_errno(), entry: entry, offset: offset)
        }
        try tree.remove(parent.fd, last, forceWritable: false, entry: entry, offset: offset, device: UInt64(st.st_dev))
    }

    /// Resolves directory components beneath the root like `securejoin`: a symbolic link is read and its target
    /// walked instead, with an absolute target restarting at the root and `..` never going above it.
    /// - Returns: the directory, or nil when the path does not exist (so there is nothing to delete).
    private func resolveInRoot(_ components: [[UInt8]], path: String, entry: String, offset: Int64?) throws
        -> OwnedDescriptor?
    {
        var stack: [OwnedDescriptor] = []
        var pending = Array(components.reversed())
        var follows = 0
        while let component = pending.popLast() {
            if component.isEmpty || component == [0x2E] { continue }
            if component == [0x2E, 0x2E] {
                if !stack.isEmpty { stack.removeLast() }
                continue
            }
            let current = stack.last?.fd ?? tree.root.fd
            let fd = withCName(component) { openat(current, $0, ExtractionTree.walkFlags) }
            if fd >= 0 {
                stack.append(OwnedDescriptor(fd))
                continue
            }
            let code = csys_errno()
            if code == ENOENT { return nil }
            guard code == ELOOP || code == ENOTDIR,
                  let st = try tree.lstatAt(current, component, entry: entry, offset: offset) else {
                throw CheckpointError.extractionIO("openat", code, entry: entry, offset: offset)
            }
            guard st.st_mode & S_IFMT == S_IFLNK else { return nil }
            follows += 1
            if follows > Self.maxSymlinkFollows {
                throw CheckpointError("CKA-SEC-011", "too many symbolic links resolving '\(path)'", entry: entry,
                                      offset: offset)
            }
            let target = try readLink(current, component, entry: entry, offset: offset)
            if target.first == 0x2F { stack.removeAll() }
            pending += target.split(separator: 0x2F).map { Array($0) }.reversed()
        }
        if let last = stack.last { return last }
        let fd = dup(tree.root.fd)
        guard fd >= 0 else { throw CheckpointError.extractionIO("dup", csys_errno(), entry: entry, offset: offset) }
        return OwnedDescriptor(fd)
    }

    private func readLink(_ dir: Int32, _ name: [UInt8], entry: String, offset: Int64?) throws -> [UInt8] {
        var buffer = [UInt8](repeating: 0, count: 8192)
        let n = withCName(name) { p in
            buffer.withUnsafeMutableBytes { readlinkat(dir, p, $0.baseAddress!.assumingMemoryBound(to: CChar.self), $0.count) }
        }
        guard n >= 0 else { throw CheckpointError.extractionIO("readlinkat", csys_errno(), entry: entry, offset: offset) }
        return Array(buffer[0..<n])
    }

    // MARK: - Entries

    public func add(_ header: TarHeader, section: Section, data: ByteSource, reflink: ReflinkSource?) throws {
        try guarded {
            let entry = header.path
            let offset: Int64? = header.headerOffset
            guard section.kind == .rootfs else {
                if header.type.isRegularFile { try ExtractionTree.skip(data, header.size, entry: entry, offset: offset) }
                return
            }
            let name = try ExtractionName.parse(header.pathBytes, entry: entry, offset: offset)
            let c = name.components
            guard c.first == Array("rootfs".utf8) else {
                throw CheckpointError("CKA-V2-013", "entry is not inside its section directory 'rootfs/'",
                                      entry: entry, offset: offset)
            }
            let isDirectory = header.type == .directory || (header.type == .regularLegacy && name.endsWithSlash)
            guard named.insert(name.key).inserted || isDirectory else {
                throw CheckpointError("CKA-TAR-037", "a second entry with the same name", entry: entry, offset: offset)
            }
            if c.count == 1 { return }  // the marker
            let second = String(decoding: c[1], as: UTF8.self)
            if c.count == 2, second == "deleted.files" || second == "implied.dirs" {
                guard !treeStarted, header.type.isRegularFile else {
                    throw CheckpointError("CKA-V2-027", "'\(entry)' must be a regular file before 'rootfs/tree/'",
                                          entry: entry, offset: offset)
                }
                let requirement = second == "deleted.files" ? "CKA-V2-028" : "CKA-V2-029"
                let bytes = try ExtractionTree.readSmall(data, size: header.size, limit: maxPathListSize,
                                                         requirement: requirement, entry: entry, offset: offset)
                let list = try ContainerPath.parseList(bytes, requirement: requirement, entry: entry, offset: offset)
                guard !list.isEmpty, Set(list).count == list.count else {
                    throw CheckpointError(requirement, list.isEmpty ? "empty list" : "duplicate paths",
                                          entry: entry, offset: offset)
                }
                for p in list { try ContainerPath.check(p, entry: entry, offset: offset) }
                if second == "deleted.files" {
                    for p in list { try delete(p, entry: entry, offset: offset) }
                } else {
                    impliedDirectories.formUnion(list)
                }
                return
            }
            guard second == "tree" else {
                throw CheckpointError("CKA-V2-027", "the rootfs section holds only deleted.files, implied.dirs and tree/",
                                      entry: entry, offset: offset)
            }
            treeStarted = true
            if c.count == 2 {
                // `rootfs/tree/` stands for the root itself, whose metadata is never applied.
                guard header.type == .directory || (header.type == .regularLegacy && name.endsWithSlash) else {
                    throw CheckpointError("CKA-V2-027", "'rootfs/tree/' must be a directory", entry: entry, offset: offset)
                }
                return
            }
            try applyTreeEntry(header, name: name, components: Array(c.dropFirst(2)), data: data, reflink: reflink)
        }
    }

    private func applyTreeEntry(_ header: TarHeader, name: ExtractionName, components c: [[UInt8]], data: ByteSource,
                                reflink: ReflinkSource?) throws {
        let entry = header.path
        let offset: Int64? = header.headerOffset
        var type = header.type
        if type == .regularLegacy, name.endsWithSlash { type = .directory }
        if type == .gnuSparse || header.sparse != nil {
            throw CheckpointError("CKA-TAR-010", "sparse files are not allowed", entry: entry, offset: offset)
        }
        if name.endsWithSlash, type != .directory {
            throw CheckpointError("CKA-TAR-036", "only a directory's name may end with '/'", entry: entry, offset: offset)
        }
        switch type {
        case .regular, .regularLegacy, .contiguous, .directory, .hardLink, .fifo:
            break
        case .symbolicLink:
            if header.linkBytes.isEmpty {
                throw CheckpointError("CKA-TAR-039", "empty symbolic link target", entry: entry, offset: offset)
            }
            if header.linkBytes.contains(0) {
                throw CheckpointError("CKA-TAR-029", "symbolic link target contains a NUL byte", entry: entry,
                                      offset: offset)
            }
        case .characterDevice, .blockDevice:
            guard options.allowDeviceNodes else {
                throw CheckpointError("CKA-SEC-009", "device nodes are not allowed by the options", entry: entry,
                                      offset: offset)
            }
        default:
            throw CheckpointError("CKA-TAR-008", "entry type '\(type.listingName)' cannot be extracted",
                                  entry: entry, offset: offset)
        }
        let attributes = try tree.attributes(header, policy: .fileSystem, entry: entry)
        if !type.isRegularFile { try ExtractionTree.drainHeaderOnly(data, header) }
        guard let dir = try tree.openDirectory(c.dropLast(), create: true, entry: entry, offset: offset) else { return }
        let last = c.last!
        let existing = try tree.lstatAt(dir.fd, last, entry: entry, offset: offset)
        var dirStat = stat()
        guard fstat(dir.fd, &dirStat) == 0 else {
            throw CheckpointError.extractionIO("fstat", csys_errno(), entry: entry, offset: offset)
        }
        let device = UInt64(dirStat.st_dev)

        if type == .directory {
            let containerPath = "/" + ExtractionName.join(c)
            let isDirectory = existing.map { $0.st_mode & S_IFMT == S_IFDIR } ?? false
            if impliedDirectories.contains(containerPath) {
                if isDirectory { return }
                if existing != nil {
                    throw CheckpointError("CKA-SEC-006", "implied directory '\(containerPath)' exists as a non-directory",
                                          entry: entry, offset: offset)
                }
                if withCName(last, { mkdirat(dir.fd, $0, 0o755) }) != 0 {
                    throw CheckpointError.extractionIO("mkdirat", csys_errno(), entry: entry, offset: offset)
                }
                _ = withCName(last) { fchmodat(dir.fd, $0, 0o755, 0) }
                tree.statistics.directories += 1
                return
            }
            if isDirectory {
                try tree.updateDirectory(dir.fd, last, components: c, attributes: attributes, entry: entry, offset: offset)
            } else {
                if existing != nil {
                    try tree.remove(dir.fd, last, forceWritable: false, entry: entry, offset: offset, device: device)
                }
                try tree.createDirectory(dir.fd, last, components: c, attributes: attributes, entry: entry, offset: offset)
            }
            return
        }

        // Resolve a hard link's target before anything is removed.
        var linkSource: (OwnedDescriptor, [UInt8])?
        if type == .hardLink {
            let target = try ExtractionName.parse(header.linkBytes, entry: entry, offset: offset,
                                                  requirement: "CKA-SEC-005")
            let t = target.components
            guard t.count > 2, t[0] == Array("rootfs".utf8), t[1] == Array("tree".utf8),
                  regularFiles.contains(target.key), !target.endsWithSlash else {
                throw CheckpointError("CKA-SEC-005", "hard link target '\(header.linkName)' is not a regular file applied earlier from this section",
                                      entry: entry, offset: offset)
            }
            guard let sourceDir = try tree.openDirectory(t.dropFirst(2).dropLast(), create: false, entry: entry,
                                                         offset: offset) else {
                throw CheckpointError("CKA-SEC-005", "hard link target '\(header.linkName)' no longer exists",
                                      entry: entry, offset: offset)
            }
            linkSource = (sourceDir, t.last!)
        }
        if existing != nil {
            try tree.remove(dir.fd, last, forceWritable: false, entry: entry, offset: offset, device: device)
        }
        switch type {
        case .symbolicLink:
            try tree.createSymlink(dir.fd, last, target: header.linkBytes, attributes: attributes, entry: entry,
                                   offset: offset)
        case .hardLink:
            let (sourceDir, sourceName) = linkSource!
            try tree.createHardLink(from: sourceDir.fd, sourceName, to: dir.fd, last, entry: entry, offset: offset)
            regularFiles.insert(name.key)
        case .characterDevice, .blockDevice, .fifo:
            try tree.createSpecial(dir.fd, last, type: type, major: header.devMajor, minor: header.devMinor,
                                   attributes: attributes, entry: entry, offset: offset)
        default:
            try tree.createRegularFile(dir.fd, last, size: header.size, attributes: attributes, data: data,
                                       reflink: reflink, entry: entry, offset: offset)
            regularFiles.insert(name.key)
        }
    }

    /// Applies the deferred modes and times of the directories the tree named, deepest first.
    public func finish() throws {
        try guarded { try tree.applyDeferred() }
    }
}
