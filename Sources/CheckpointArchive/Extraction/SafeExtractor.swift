import ByteStreams
import CSysShims
import TarFormat
#if canImport(Glibc)
import Glibc
#endif

/// Materialises an unpacked checkpoint directory (part 9) from the entries of any decoder, atomically and
/// without ever touching anything outside it (part 6).
///
/// Everything is written into a private staging directory next to the destination
/// (`.<name>.ckpt-XXXXXX`, mode 0700) through descriptors relative to it; `commit()` applies the
/// directories' modes and times and renames the staging directory to the destination, which must not have
/// existed (CKA-SEC-001). A failure, `abort()`, or releasing the extractor without committing removes the
/// staging directory, so nothing partial ever appears at the destination.
///
/// Entries are refused with a `CheckpointError` naming the requirement: a malformed or escaping name
/// (CKA-TAR-029, CKA-TAR-034), a name outside its section (CKA-V2-013), a parent that is a symbolic link
/// (CKA-SEC-002) or not a directory (CKA-SEC-006), a second entry for a non-directory name (CKA-TAR-037; a
/// directory named again only takes the new metadata), a symbolic link the section does
/// not allow (CKA-V2-040), a hard link the section does not allow (CKA-V2-041) or to anything but an earlier
/// regular file of the same section (CKA-SEC-005), a device or FIFO outside rootfs, devshm and volumes
/// (CKA-SEC-007) or a device node when `allowDeviceNodes` is off (CKA-SEC-009). The first refusal aborts the
/// extraction.
public final class SafeExtractor: UnpackedEntrySink {
    private enum State { case open, committed, aborted }

    /// Files at the top of the unpacked directory, outside every section (part 9).
    static let topLevelFiles: Set<[UInt8]> = [Array("cka-header.json".utf8), Array("cka-index.json".utf8)]

    /// The directory created by `commit()`.
    public let destination: String
    public let options: Options
    /// The path of the staging directory while the extraction is open.
    public let stagingPath: String

    private let parent: OwnedDescriptor
    private let stagingName: [UInt8]
    private let destinationName: [UInt8]
    private var tree: ExtractionTree?
    private var state = State.open
    private var finalStatistics = Statistics()
    private var finalWarnings: [CheckpointError] = []

    /// Normalised names (fingerprints, memory then disk): `named` when an entry gave it (a second
    /// non-directory entry with it is a duplicate), `regular` when it is a regular file or a hard link to one
    /// (a hard-link target, CKA-SEC-005). Hard links stay inside their section, so a regular file is in the
    /// section whose directory holds it.
    private let names: NameTable
    private static let named: UInt8 = 1
    private static let regular: UInt8 = 2
    /// Directories created because an entry needed them (their keys), in creation order; those named later
    /// are left out when listed.
    private let implicit: RecordSpool

    /// Creates the staging directory for `destination`, which must not exist.
    /// - Throws: CKA-SEC-001 when the destination exists (as anything, a dangling symbolic link included).
    public init(destination: String, options: Options = Options()) throws {
        self.destination = destination
        self.options = options
        names = options.memory.makeNameTable()
        implicit = options.memory.makeSpool()
        var path = Array(destination.utf8)
        while path.count > 1, path.last == 0x2F { path.removeLast() }
        let slash = path.lastIndex(of: 0x2F)
        let base = Array(slash.map { path[($0 + 1)...] } ?? path[...])
        let dir: [UInt8] = slash.map { $0 == 0 ? [0x2F] : Array(path[..<$0]) } ?? [0x2E]
        guard !base.isEmpty, base != [0x2E], base != [0x2E, 0x2E], !path.contains(0) else {
            throw CheckpointError("CKA-SEC-001", "the destination must name a new directory", entry: destination)
        }
        let pfd = withCName(dir) { open($0, O_RDONLY | O_DIRECTORY | O_CLOEXEC) }
        guard pfd >= 0 else {
            throw CheckpointError.extractionIO("open parent of destination", csys_errno(), entry: destination,
                                               offset: nil)
        }
        parent = OwnedDescriptor(pfd)
        destinationName = base
        var st = stat()
        if withCName(base, { fstatat(pfd, $0, &st, AT_SYMLINK_NOFOLLOW) }) == 0 {
            throw CheckpointError("CKA-SEC-001", "the destination already exists; extraction needs a new directory",
                                  entry: destination)
        } else if csys_errno() != ENOENT {
            throw CheckpointError.extractionIO("fstatat destination", csys_errno(), entry: destination, offset: nil)
        }
        let letters = Array("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789".utf8)
        var generator = SystemRandomNumberGenerator()
        var chosen: [UInt8]?
        for _ in 0..<100 {
            let suffix = (0..<6).map { _ in letters[Int(generator.next(upperBound: UInt(letters.count)))] }
            var name = [0x2E] + base + Array(".ckpt-".utf8) + suffix
            if name.count > 255 { name = Array(".ckpt-".utf8) + suffix }
            if withCName(name, { mkdirat(pfd, $0, 0o700) }) == 0 {
                chosen = name
                break
            }
            if csys_errno() != EEXIST {
                throw CheckpointError.extractionIO("mkdirat staging directory", csys_errno(), entry: destination,
                                                   offset: nil)
            }
        }
        guard let chosen else {
            throw CheckpointError.extractionIO("mkdirat staging directory", EEXIST, entry: destination, offset: nil)
        }
        stagingName = chosen
        stagingPath = String(decoding: (dir == [0x2F] ? dir : dir + [0x2F]) + chosen, as: UTF8.self)
        let rfd = withCName(chosen) { openat(pfd, $0, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC) }
        guard rfd >= 0 else {
            let code = csys_errno()
            _ = withCName(chosen) { unlinkat(pfd, $0, AT_REMOVEDIR) }
            throw CheckpointError.extractionIO("open staging directory", code, entry: destination, offset: nil)
        }
        let t = ExtractionTree(root: OwnedDescriptor(rfd), options: options)
        tree = t
        t.onImplicitDirectory = { [unowned self] components in
            implicit.append { $0.data(ExtractionName.key(components)) }
        }
    }

    deinit {
        if state == .open { abort() }
    }

    /// Counts of what was created and how file contents were placed.
    public var statistics: Statistics { tree?.statistics ?? finalStatistics }

    /// Things deliberately not restored (cleared setuid bits, skipped `trusted.*` xattrs, ...).
    public var warnings: [CheckpointError] { tree?.warnings ?? finalWarnings }

    /// Unpacked paths (ending in `/`) of directories created only because a deeper entry needed them
    /// (mode 0755), in creation order; a directory named by a later entry is no longer listed. A v1 decoder
    /// lists those below `rootfs/tree/` in `rootfs/implied.dirs` (CKA-DIR-004).
    public var implicitDirectories: [String] {
        var out: [String] = []
        let reader = implicit.makeReader()
        while var r = reader.next() {
            let key = r.data()
            if (names[NameTable.key(key)] ?? 0) & Self.named == 0 { out.append(String(decoding: key + [0x2F], as: UTF8.self)) }
        }
        return out
    }

    // MARK: - Entries

    public func add(_ header: TarHeader, section: Section, data: ByteSource, reflink: ReflinkSource?) throws {
        let tree = try openTree(entry: header.path, offset: header.headerOffset)
        do {
            try add(header, section: section, data: data, reflink: reflink, tree: tree)
            try checkBookkeeping(entry: header.path, offset: header.headerOffset)
        } catch {
            abort()
            throw error
        }
    }

    /// Writes a regular file that belongs to no section (`cka-header.json`, or a file a v1 decoder
    /// synthesises such as `rootfs/implied.dirs`), creating missing parent directories.
    public func addFile(_ path: String, contents: [UInt8], mode: UInt32 = 0o644,
                        mtime: TarTime = TarTime(seconds: 0)) throws {
        try addFile(path, size: Int64(contents.count), data: MemorySource(contents), mode: mode, mtime: mtime)
    }

    /// Writes a regular file that belongs to no section from `size` bytes of `data` (`cka-index.json`, which
    /// may be large), creating missing parent directories.
    public func addFile(_ path: String, size: Int64, data: ByteSource, mode: UInt32 = 0o644,
                        mtime: TarTime = TarTime(seconds: 0)) throws {
        let tree = try openTree(entry: path, offset: nil)
        do {
            let name = try ExtractionName.parse(Array(path.utf8), entry: path, offset: nil)
            let h = TarHeader(path: path, type: .regular, size: size, mode: Int64(mode), mtime: mtime)
            let attributes = try tree.attributes(h, policy: .plainFiles, entry: path)
            guard let dir = try tree.openDirectory(name.components.dropLast(), create: true, entry: path,
                                                   offset: nil) else { return }
            try claim(name, entry: path, offset: nil)
            try tree.createRegularFile(dir.fd, name.components.last!, size: size, attributes: attributes, data: data,
                                       reflink: nil, entry: path, offset: nil)
            try checkBookkeeping(entry: path, offset: nil)
        } catch {
            abort()
            throw error
        }
    }

    private func openTree(entry: String, offset: Int64?) throws -> ExtractionTree {
        guard state == .open, let tree else {
            throw CheckpointError("CKA-SEC-001", "the extraction is already \(state == .committed ? "committed" : "aborted")",
                                  entry: entry, offset: offset)
        }
        return tree
    }

    /// Records an entry's name; a second entry with the same name is a duplicate (CKA-TAR-037).
    private func claim(_ name: ExtractionName, entry: String, offset: Int64?) throws {
        let before = names.insert(NameTable.key(name.key), flags: Self.named)
        guard (before ?? 0) & Self.named == 0 else {
            throw CheckpointError("CKA-TAR-037", "a second entry with the same name", entry: entry, offset: offset)
        }
    }

    /// The bookkeeping's temporary files failed: what was recorded is lost, so nothing more can be checked.
    private func checkBookkeeping(entry: String, offset: Int64?) throws {
        if let io = names.ioError ?? implicit.ioError ?? tree?.deferredIOError {
            throw CheckpointError("IO", "the extractor's temporary records: \(io)", entry: entry, offset: offset)
        }
    }

    private func add(_ header: TarHeader, section: Section, data: ByteSource, reflink: ReflinkSource?,
                     tree: ExtractionTree) throws {
        let entry = header.path
        let offset: Int64? = header.headerOffset
        var policy = section.policy
        if section.kind.isNamed, !Section.isValidName(section.name ?? "") {
            throw CheckpointError("CKA-V2-022", "invalid \(section.kind.rawValue) name '\(section.name ?? "")'",
                                  entry: entry, offset: offset)
        }
        let name = try ExtractionName.parse(header.pathBytes, entry: entry, offset: offset)
        var type = header.type
        if type == .regularLegacy, name.endsWithSlash { type = .directory }
        if type == .gnuSparse || header.sparse != nil {
            throw CheckpointError("CKA-TAR-010", "sparse files are not allowed", entry: entry, offset: offset)
        }
        if name.endsWithSlash, type != .directory {
            throw CheckpointError("CKA-TAR-036", "only a directory's name may end with '/'", entry: entry,
                                  offset: offset)
        }
        // The top-level files of the unpacked directory (part 9) belong to no section; decoders deliver
        // `cka-header.json` with the metadata section. They are plain files.
        if name.components.count == 1, type.isRegularFile,
           Self.topLevelFiles.contains(name.components[0]) {
            policy = .plainFiles
        } else {
            let sectionDir = ExtractionName.sectionComponents(section)
            guard name.components.starts(with: sectionDir) else {
                throw CheckpointError("CKA-V2-013", "entry is not inside its section directory '\(section.directory)'",
                                      entry: entry, offset: offset)
            }
            let isMarker = name.components.count == sectionDir.count
            if isMarker, type != .directory {
                throw CheckpointError("CKA-V2-020", "the section directory must be a directory", entry: entry,
                                      offset: offset)
            }
            if !policy.directories, !isMarker, type == .directory || name.components.count != sectionDir.count + 1 {
                let requirement = section.kind == .logs ? "CKA-V2-037" : "CKA-V2-023"
                throw CheckpointError(requirement, "the \(section.kind.rawValue) section holds only files directly under '\(section.directory)'",
                                      entry: entry, offset: offset)
            }
        }

        // Check what the section allows before creating anything.
        switch type {
        case .regular, .regularLegacy, .contiguous, .directory:
            break
        case .symbolicLink:
            try checkSymlink(header, name: name, section: section, entry: entry, offset: offset)
        case .hardLink:
            guard policy.hardLinks else {
                throw CheckpointError("CKA-V2-041", "hard links are not allowed in the \(section.kind.rawValue) section",
                                      entry: entry, offset: offset)
            }
        case .characterDevice, .blockDevice, .fifo:
            guard policy.specialFiles else {
                throw CheckpointError("CKA-SEC-007", "\(type.listingName) entries are not allowed in the \(section.kind.rawValue) section",
                                      entry: entry, offset: offset)
            }
            if type != .fifo, !options.allowDeviceNodes {
                throw CheckpointError("CKA-SEC-009", "device nodes are restored only into a container root file system, /dev/shm or a volume",
                                      entry: entry, offset: offset)
            }
        default:
            throw CheckpointError("CKA-TAR-008", "entry type '\(type.listingName)' cannot be extracted",
                                  entry: entry, offset: offset)
        }

        let attributes = try tree.attributes(header, policy: policy, entry: entry)
        if !type.isRegularFile { try ExtractionTree.drainHeaderOnly(data, header) }
        guard let dir = try tree.openDirectory(name.components.dropLast(), create: true, entry: entry,
                                               offset: offset) else { return }
        let last = name.components.last!
        let key = name.key

        if type == .directory {
            if let existing = try tree.lstatAt(dir.fd, last, entry: entry, offset: offset) {
                guard existing.st_mode & S_IFMT == S_IFDIR else {
                    throw CheckpointError(existing.st_mode & S_IFMT == S_IFLNK ? "CKA-SEC-006" : "CKA-TAR-037",
                                          "the path exists as a \(existing.st_mode & S_IFMT == S_IFLNK ? "symbolic link" : "non-directory") and is not replaced",
                                          entry: entry, offset: offset)
                }
                // A directory named again (or first created as a parent) keeps its contents and takes the
                // latest entry's metadata; decoders report duplicate names themselves (CKA-TAR-037).
                names.insert(NameTable.key(key), flags: Self.named)
                try tree.updateDirectory(dir.fd, last, components: name.components, attributes: attributes,
                                         entry: entry, offset: offset)
            } else {
                try claim(name, entry: entry, offset: offset)
                try tree.createDirectory(dir.fd, last, components: name.components, attributes: attributes,
                                         entry: entry, offset: offset)
            }
            return
        }

        try claim(name, entry: entry, offset: offset)
        switch type {
        case .symbolicLink:
            try tree.createSymlink(dir.fd, last, target: header.linkBytes, attributes: attributes, entry: entry,
                                   offset: offset)
        case .hardLink:
            let target = try ExtractionName.parse(header.linkBytes, entry: entry, offset: offset,
                                                  requirement: "CKA-SEC-005")
            let isRegular = (names[NameTable.key(target.key)] ?? 0) & Self.regular != 0
            guard isRegular, target.components.starts(with: ExtractionName.sectionComponents(section)),
                  !target.endsWithSlash else {
                throw CheckpointError("CKA-SEC-005", "hard link target '\(header.linkName)' is not a regular file extracted earlier in the same section",
                                      entry: entry, offset: offset)
            }
            guard let sourceDir = try tree.openDirectory(target.components.dropLast(), create: false, entry: entry,
                                                         offset: offset) else {
                throw CheckpointError("CKA-SEC-005", "hard link target '\(header.linkName)' no longer exists",
                                      entry: entry, offset: offset)
            }
            try tree.createHardLink(from: sourceDir.fd, target.components.last!, to: dir.fd, last, entry: entry,
                                    offset: offset)
            names.insert(NameTable.key(key), flags: Self.regular)
        case .characterDevice, .blockDevice, .fifo:
            try tree.createSpecial(dir.fd, last, type: type, major: header.devMajor, minor: header.devMinor,
                                   attributes: attributes, entry: entry, offset: offset)
        default:
            try tree.createRegularFile(dir.fd, last, size: header.size, attributes: attributes, data: data,
                                       reflink: reflink, entry: entry, offset: offset)
            names.insert(NameTable.key(key), flags: Self.regular)
        }
    }

    // MARK: - Commit and abort

    /// Applies the directories' deferred modes and times (deepest first), sets the destination's mode and
    /// renames the staging directory to the destination without replacing anything (CKA-SEC-001).
    /// On failure the staging directory is removed.
    public func commit() throws {
        let tree = try openTree(entry: destination, offset: nil)
        do {
            try tree.applyDeferred()
            if fchmod(tree.root.fd, mode_t(options.rootMode & 0o7777)) != 0 {
                throw CheckpointError.extractionIO("fchmod", csys_errno(), entry: destination, offset: nil)
            }
            if options.fsync { _ = Glibc.fsync(tree.root.fd) }
            let r = withCName(stagingName) { s in
                withCName(destinationName) { csys_renameat2(parent.fd, s, parent.fd, $0, CSYS_RENAME_NOREPLACE) }
            }
            if r != 0 {
                var code = csys_errno()
                if code == ENOSYS || code == EINVAL {
                    // No RENAME_NOREPLACE here: check the name is still free, then rename.
                    var st = stat()
                    if withCName(destinationName, { fstatat(parent.fd, $0, &st, AT_SYMLINK_NOFOLLOW) }) == 0 {
                        code = EEXIST
                    } else if withCName(stagingName, { s in withCName(destinationName) { renameat(parent.fd, s, parent.fd, $0) } }) == 0 {
                        code = 0
                    } else {
                        code = csys_errno()
                    }
                }
                if code == EEXIST || code == ENOTEMPTY {
                    throw CheckpointError("CKA-SEC-001", "the destination appeared during extraction", entry: destination)
                }
                if code != 0 { throw CheckpointError.extractionIO("renameat2", code, entry: destination, offset: nil) }
            }
            if options.fsync { _ = Glibc.fsync(parent.fd) }
            finalStatistics = tree.statistics
            finalWarnings = tree.warnings
            self.tree = nil
            state = .committed
        } catch {
            abort()
            throw error
        }
    }

    /// Removes the staging directory and everything in it (never following a symbolic link); the
    /// destination is never created. Does nothing after `commit()`.
    public func abort() {
        guard state == .open else { return }
        state = .aborted
        if let tree {
            finalStatistics = tree.statistics
            finalWarnings = tree.warnings
            // Removal needs only the parent descriptor; the staging root is released first.
            self.tree = nil
            let remover = ExtractionTree(root: OwnedDescriptor(dup(parent.fd)), options: options)
            try? remover.remove(parent.fd, stagingName, forceWritable: true, entry: stagingPath, offset: nil)
        }
    }
}
