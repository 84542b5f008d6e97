import ByteStreams
import CSysShims
import TarFormat
#if canImport(Glibc)
import Glibc
#endif

/// A file descriptor closed when the object is released.
final class OwnedDescriptor {
    let fd: Int32
    init(_ fd: Int32) { self.fd = fd }
    deinit { _ = Glibc.close(fd) }
}

/// Runs `body` with `name` as a NUL-terminated C string.
@inline(__always)
func withCName<R>(_ name: [UInt8], _ body: (UnsafePointer<CChar>) throws -> R) rethrows -> R {
    var z = name
    z.append(0)
    return try z.withUnsafeBufferPointer { buf in
        try buf.baseAddress!.withMemoryRebound(to: CChar.self, capacity: buf.count) { try body($0) }
    }
}

extension CheckpointError {
    /// A failed system call during extraction (an I/O problem, not a broken requirement).
    static func extractionIO(_ call: String, _ code: Int32, entry: String?, offset: Int64?) -> CheckpointError {
        CheckpointError("IO", "\(call) failed: \(String(cString: strerror(code)))", entry: entry, offset: offset)
    }
}

/// The attributes to give a created object, already filtered by the section's policy and the options.
struct ObjectAttributes {
    /// Permission bits (07777 or 0777 when special bits were cleared).
    var mode: UInt32
    /// Ownership to set, or nil to keep the extracting user's.
    var owner: (uid: UInt32, gid: UInt32)?
    /// Extended attributes to set.
    var xattrs: [TarXattr]
    var mtime: TarTime
    var atime: TarTime?
}

/// The descriptor-relative file operations shared by `SafeExtractor` and `RootfsApplier`.
///
/// Every path is resolved beneath `root` one component at a time with `O_NOFOLLOW | O_DIRECTORY`
/// (CKA-SEC-002); objects are created with `O_CREAT | O_EXCL | O_NOFOLLOW`, `mkdirat`, `symlinkat`,
/// `mknodat` and `linkat` relative to the descriptor of their parent, and their metadata is applied on their
/// own descriptor or with `AT_SYMLINK_NOFOLLOW` (CKA-SEC-003).
final class ExtractionTree {
    let root: OwnedDescriptor
    let options: SafeExtractor.Options
    var statistics = SafeExtractor.Statistics()
    var warnings: [CheckpointError] = []
    /// Called with the components of each directory created because a deeper entry needed it.
    var onImplicitDirectory: (([[UInt8]]) -> Void)?

    /// Directories whose mode and times are applied once their children are written.
    private struct Deferred {
        var components: [[UInt8]]
        var mode: UInt32
        var mtime: TarTime
        var atime: TarTime?
        var entry: String
        var offset: Int64?
    }
    private var deferred: [Deferred] = []
    private var deferredIndex: [[UInt8]: Int] = [:]

    static let chunkSize = 1 << 20
    /// `UTIME_OMIT` (a macro Swift does not import): leave that time unchanged.
    static let utimeOmit = (1 << 30) - 2
    static let walkFlags: Int32 = O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC

    init(root: OwnedDescriptor, options: SafeExtractor.Options) {
        self.root = root
        self.options = options
    }

    // MARK: - Resolution

    /// Opens the directory named by `components` beneath the root without following any symbolic link.
    /// - Parameter create: create missing directories (mode 0755) and report them to `onImplicitDirectory`.
    /// - Returns: the directory, or nil when a component does not exist and `create` is false.
    /// - Throws: CKA-SEC-002 when a component is a symbolic link, CKA-SEC-006 when it is not a directory.
    func openDirectory<C: Collection>(_ components: C, create: Bool, entry: String, offset: Int64?) throws
        -> OwnedDescriptor? where C.Element == [UInt8]
    {
        var current = OwnedDescriptor(dup(root.fd))
        guard current.fd >= 0 else { throw CheckpointError.extractionIO("dup", csys_errno(), entry: entry, offset: offset) }
        var walked: [[UInt8]] = []
        for component in components {
            walked.append(component)
            var fd = withCName(component) { openat(current.fd, $0, Self.walkFlags) }
            if fd < 0 {
                let code = csys_errno()
                if code == ENOENT {
                    guard create else { return nil }
                    let made = withCName(component) { mkdirat(current.fd, $0, 0o755) }
                    let madeErr = csys_errno()
                    if made != 0, madeErr != EEXIST {
                        throw CheckpointError.extractionIO("mkdirat", madeErr, entry: entry, offset: offset)
                    }
                    fd = withCName(component) { openat(current.fd, $0, Self.walkFlags) }
                    if fd < 0 {
                        try classifyNonDirectory(current.fd, component, walked, code: csys_errno(), entry: entry,
                                                 offset: offset)
                    }
                    if made == 0 {
                        _ = fchmod(fd, 0o755)
                        statistics.directories += 1
                        onImplicitDirectory?(walked)
                    }
                } else {
                    try classifyNonDirectory(current.fd, component, walked, code: code, entry: entry, offset: offset)
                }
            }
            current = OwnedDescriptor(fd)
        }
        return current
    }

    /// Throws the error for a component that could not be opened as a directory.
    private func classifyNonDirectory(_ dir: Int32, _ name: [UInt8], _ walked: [[UInt8]], code: Int32,
                                      entry: String, offset: Int64?) throws -> Never {
        let where_ = ExtractionName.join(walked)
        if code == ELOOP || code == ENOTDIR {
            if let st = try lstatAt(dir, name, entry: entry, offset: offset) {
                if st.st_mode & S_IFMT == S_IFLNK {
                    throw CheckpointError("CKA-SEC-002",
                                          "parent '\(where_)' is a symbolic link; it is never followed",
                                          entry: entry, offset: offset)
                }
                if st.st_mode & S_IFMT != S_IFDIR {
                    throw CheckpointError("CKA-SEC-006", "parent '\(where_)' exists and is not a directory",
                                          entry: entry, offset: offset)
                }
            }
        }
        throw CheckpointError.extractionIO("openat '\(where_)'", code, entry: entry, offset: offset)
    }

    /// `fstatat(AT_SYMLINK_NOFOLLOW)`; nil when the name does not exist.
    func lstatAt(_ dir: Int32, _ name: [UInt8], entry: String, offset: Int64?) throws -> stat? {
        var st = stat()
        let r = withCName(name) { fstatat(dir, $0, &st, AT_SYMLINK_NOFOLLOW) }
        if r == 0 { return st }
        let code = csys_errno()
        if code == ENOENT { return nil }
        throw CheckpointError.extractionIO("fstatat", code, entry: entry, offset: offset)
    }

    // MARK: - Removal

    /// Removes `name` in `dir` and, for a directory, everything below it, never following a symbolic link
    /// and never crossing into another file system (a mount point stops the removal with an error).
    /// - Parameter forceWritable: make directories 0700 before emptying them (for trees this process made).
    func remove(_ dir: Int32, _ name: [UInt8], forceWritable: Bool, entry: String, offset: Int64?,
                device: UInt64? = nil) throws {
        guard let st = try lstatAt(dir, name, entry: entry, offset: offset) else { return }
        if st.st_mode & S_IFMT == S_IFDIR {
            if let device, UInt64(st.st_dev) != device {
                throw CheckpointError("CKA-SEC-011", "refusing to remove across a mount point ('\(String(decoding: name, as: UTF8.self))')",
                                      entry: entry, offset: offset)
            }
            if forceWritable { _ = withCName(name) { fchmodat(dir, $0, 0o700, 0) } }
            let fd = withCName(name) { openat(dir, $0, Self.walkFlags) }
            guard fd >= 0 else { throw CheckpointError.extractionIO("openat", csys_errno(), entry: entry, offset: offset) }
            let sub = OwnedDescriptor(fd)
            for child in try Self.names(in: sub.fd, entry: entry, offset: offset) {
                try remove(sub.fd, child, forceWritable: forceWritable, entry: entry, offset: offset,
                           device: UInt64(st.st_dev))
            }
            if withCName(name, { unlinkat(dir, $0, AT_REMOVEDIR) }) != 0 {
                throw CheckpointError.extractionIO("unlinkat (directory)", csys_errno(), entry: entry, offset: offset)
            }
        } else if withCName(name, { unlinkat(dir, $0, 0) }) != 0 {
            let code = csys_errno()
            if code != ENOENT { throw CheckpointError.extractionIO("unlinkat", code, entry: entry, offset: offset) }
        }
    }

    /// The names in a directory, without `.` and `..`.
    static func names(in dir: Int32, entry: String, offset: Int64?) throws -> [[UInt8]] {
        let copy = dup(dir)
        guard copy >= 0 else { throw CheckpointError.extractionIO("dup", csys_errno(), entry: entry, offset: offset) }
        guard let stream = fdopendir(copy) else {
            let code = csys_errno()
            _ = Glibc.close(copy)
            throw CheckpointError.extractionIO("fdopendir", code, entry: entry, offset: offset)
        }
        defer { closedir(stream) }
        rewinddir(stream)
        var out: [[UInt8]] = []
        while let ent = readdir(stream) {
            let name = withUnsafeBytes(of: ent.pointee.d_name) { raw -> [UInt8] in
                let bytes = raw.bindMemory(to: UInt8.self)
                return Array(bytes[0..<(bytes.firstIndex(of: 0) ?? bytes.count)])
            }
            if name == [0x2E] || name == [0x2E, 0x2E] { continue }
            out.append(name)
        }
        return out
    }

    // MARK: - Creation

    /// `mkdirat` with mode 0700 (so the directory can be filled whatever its final mode), then ownership
    /// and xattrs; the mode and times wait for `applyDeferred`.
    func createDirectory(_ dir: Int32, _ name: [UInt8], components: [[UInt8]], attributes: ObjectAttributes,
                         entry: String, offset: Int64?) throws {
        if withCName(name, { mkdirat(dir, $0, 0o700) }) != 0 {
            let code = csys_errno()
            if code == EEXIST {
                throw CheckpointError("CKA-TAR-037", "the path already exists", entry: entry, offset: offset)
            }
            throw CheckpointError.extractionIO("mkdirat", code, entry: entry, offset: offset)
        }
        statistics.directories += 1
        try updateDirectory(dir, name, components: components, attributes: attributes, entry: entry, offset: offset)
    }

    /// Applies ownership and xattrs to an existing directory now, and defers its mode and times.
    func updateDirectory(_ dir: Int32, _ name: [UInt8], components: [[UInt8]], attributes: ObjectAttributes,
                         entry: String, offset: Int64?) throws {
        let fd = withCName(name) { openat(dir, $0, Self.walkFlags) }
        guard fd >= 0 else { throw CheckpointError.extractionIO("openat", csys_errno(), entry: entry, offset: offset) }
        let d = OwnedDescriptor(fd)
        if let o = attributes.owner, fchown(d.fd, o.uid, o.gid) != 0 {
            throw CheckpointError.extractionIO("fchown", csys_errno(), entry: entry, offset: offset)
        }
        // A directory whose owner was just changed away from this (unprivileged) user could not take
        // xattrs; the caller only asks for ownership when privileged.
        try applyOnDescriptor(d.fd, ObjectAttributes(mode: attributes.mode, owner: nil, xattrs: attributes.xattrs,
                                                     mtime: attributes.mtime, atime: attributes.atime),
                              modeAndTimes: false, entry: entry, offset: offset)
        let item = Deferred(components: components, mode: attributes.mode, mtime: attributes.mtime,
                            atime: attributes.atime, entry: entry, offset: offset)
        let key = ExtractionName.key(components)
        if let i = deferredIndex[key] {
            deferred[i] = item
        } else {
            deferredIndex[key] = deferred.count
            deferred.append(item)
        }
    }

    func createSymlink(_ dir: Int32, _ name: [UInt8], target: [UInt8], attributes: ObjectAttributes, entry: String,
                       offset: Int64?) throws {
        let r = withCName(target) { t in withCName(name) { symlinkat(t, dir, $0) } }
        if r != 0 {
            let code = csys_errno()
            if code == EEXIST {
                throw CheckpointError("CKA-TAR-037", "the path already exists", entry: entry, offset: offset)
            }
            throw CheckpointError.extractionIO("symlinkat", code, entry: entry, offset: offset)
        }
        try applyAt(dir, name, attributes, isSymlink: true, entry: entry, offset: offset)
        statistics.symlinks += 1
    }

    /// A character or block device or a FIFO with `mknodat`.
    func createSpecial(_ dir: Int32, _ name: [UInt8], type: TarEntryType, major: Int64, minor: Int64,
                       attributes: ObjectAttributes, entry: String, offset: Int64?) throws {
        let kind: UInt32
        switch type {
        case .characterDevice: kind = UInt32(S_IFCHR)
        case .blockDevice: kind = UInt32(S_IFBLK)
        default: kind = UInt32(S_IFIFO)
        }
        guard (0...Int64(UInt32.max)).contains(major), (0...Int64(UInt32.max)).contains(minor) else {
            throw CheckpointError("CKA-TAR-015", "device number \(major):\(minor) out of range",
                                  entry: entry, offset: offset)
        }
        let r = withCName(name) { csys_mknodat(dir, $0, kind | 0o600, UInt32(major), UInt32(minor)) }
        if r != 0 {
            let code = csys_errno()
            if code == EEXIST {
                throw CheckpointError("CKA-TAR-037", "the path already exists", entry: entry, offset: offset)
            }
            throw CheckpointError.extractionIO("mknodat", code, entry: entry, offset: offset)
        }
        try applyAt(dir, name, attributes, isSymlink: false, entry: entry, offset: offset)
        statistics.specialFiles += 1
    }

    /// `linkat` between two descriptor-relative names, never following a symbolic link.
    func createHardLink(from sourceDir: Int32, _ sourceName: [UInt8], to dir: Int32, _ name: [UInt8], entry: String,
                        offset: Int64?) throws {
        let r = withCName(sourceName) { s in withCName(name) { linkat(sourceDir, s, dir, $0, 0) } }
        if r != 0 {
            let code = csys_errno()
            if code == EEXIST {
                throw CheckpointError("CKA-TAR-037", "the path already exists", entry: entry, offset: offset)
            }
            throw CheckpointError.extractionIO("linkat", code, entry: entry, offset: offset)
        }
        statistics.hardLinks += 1
    }

    /// Applies the deferred modes and times of directories, deepest first, so that writing children never
    /// changes a directory's mtime afterwards and a read-only directory could still be filled.
    func applyDeferred() throws {
        let order = deferred.indices.sorted {
            deferred[$0].components.count != deferred[$1].components.count
                ? deferred[$0].components.count > deferred[$1].components.count : $0 < $1
        }
        for i in order {
            let d = deferred[i]
            guard let dir = try openDirectory(d.components, create: false, entry: d.entry, offset: d.offset) else {
                throw CheckpointError.extractionIO("openat", ENOENT, entry: d.entry, offset: d.offset)
            }
            try applyOnDescriptor(dir.fd, ObjectAttributes(mode: d.mode, owner: nil, xattrs: [], mtime: d.mtime,
                                                           atime: d.atime),
                                  modeAndTimes: true, entry: d.entry, offset: d.offset)
            if options.fsync { _ = Glibc.fsync(dir.fd) }
        }
        deferred.removeAll()
        deferredIndex.removeAll()
    }

    /// Reads and discards `count` bytes of `data`.
    static func skip(_ data: ByteSource, _ count: Int64, entry: String, offset: Int64?) throws {
        guard count > 0 else { return }
        let n = try data.skip(count)
        if n != count {
            throw CheckpointError("CKA-SEC-016", "entry data ends after \(n) of \(count) bytes",
                                  entry: entry, offset: offset)
        }
    }

    /// Consumes what a header-only entry (directory, link, device, FIFO) may still have in `data`: at most its
    /// size field, and no error when the decoder delivered none (the usual case).
    static func drainHeaderOnly(_ data: ByteSource, _ header: TarHeader) throws {
        if header.size > 0 { _ = try data.skip(header.size) }
    }

    /// Reads an entry's data fully into memory, refusing more than `limit` bytes before reading them.
    static func readSmall(_ data: ByteSource, size: Int64, limit: Int64, requirement: String, entry: String,
                          offset: Int64?) throws -> [UInt8] {
        guard size >= 0, size <= limit else {
            throw CheckpointError(requirement, "\(size) bytes is larger than the \(limit) bytes accepted",
                                  entry: entry, offset: offset)
        }
        let bytes = try data.readBytes(Int(size))
        if bytes.count != Int(size) {
            throw CheckpointError("CKA-SEC-016", "entry data ends after \(bytes.count) of \(size) bytes",
                                  entry: entry, offset: offset)
        }
        return bytes
    }
}
