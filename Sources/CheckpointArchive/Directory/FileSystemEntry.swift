import CSysShims
import TarFormat
#if canImport(Glibc)
import Glibc
#endif

/// One object found on disk while scanning a directory: its tar header (path relative to the scan root)
/// and, for regular files, where to read the content.
public struct FileSystemEntry: Sendable {
    /// The header to write: type, mode, ownership, mtime, link target, device numbers, xattrs.
    public var header: TarHeader
    /// Absolute path of the object on disk.
    public var sourcePath: String
}

/// Reads an object's metadata with `lstat` (never following a final symbolic link) into a tar header.
enum FileMetadata {
    /// Extended attribute namespaces carried by archives; `trusted.*` needs privilege and is never restored
    /// (CKA-SEC-008), so it is not captured either.
    static let capturedXattrPrefixes = ["user.", "security."]

    static func header(path: String, archivePath: String) throws -> TarHeader {
        var st = stat()
        guard lstat(path, &st) == 0 else { throw CheckpointError.system("lstat", path: path) }
        var h = TarHeader(path: archivePath)
        h.mode = Int64(st.st_mode & 0o7777)
        h.uid = Int64(st.st_uid)
        h.gid = Int64(st.st_gid)
        h.mtime = TarTime(seconds: Int64(st.st_mtim.tv_sec), nanoseconds: Int32(st.st_mtim.tv_nsec))
        switch st.st_mode & S_IFMT {
        case S_IFREG:
            h.type = .regular
            h.size = Int64(st.st_size)
        case S_IFDIR:
            h.type = .directory
            if !h.pathBytes.isEmpty, h.pathBytes.last != 0x2F { h.pathBytes.append(0x2F) }
        case S_IFLNK:
            h.type = .symbolicLink
            h.linkBytes = try readLink(path)
        case S_IFCHR, S_IFBLK:
            h.type = (st.st_mode & S_IFMT) == S_IFCHR ? .characterDevice : .blockDevice
            let dev = UInt64(st.st_rdev)
            h.devMajor = Int64(((dev >> 8) & 0xFFF) | ((dev >> 32) & ~UInt64(0xFFF)))
            h.devMinor = Int64((dev & 0xFF) | ((dev >> 12) & ~UInt64(0xFF)))
        case S_IFIFO:
            h.type = .fifo
        default:
            throw CheckpointError("CKA-DIR-009", "sockets and other special objects cannot be archived",
                                  entry: archivePath)
        }
        h.xattrs = try xattrs(path)
        return h
    }

    static func readLink(_ path: String) throws -> [UInt8] {
        var buffer = [UInt8](repeating: 0, count: 4096)
        let n = buffer.withUnsafeMutableBytes { readlink(path, $0.baseAddress!.assumingMemoryBound(to: CChar.self), 4096) }
        guard n >= 0 else { throw CheckpointError.system("readlink", path: path) }
        return Array(buffer[0..<n])
    }

    /// The captured xattrs of `path`, sorted by name, read without following a symbolic link.
    static func xattrs(_ path: String) throws -> [TarXattr] {
        let size = llistxattr(path, nil, 0)
        if size < 0 {
            if errno == ENOTSUP || errno == EPERM { return [] }
            throw CheckpointError.system("llistxattr", path: path)
        }
        if size == 0 { return [] }
        var names = [CChar](repeating: 0, count: size)
        let got = llistxattr(path, &names, size)
        guard got >= 0 else { throw CheckpointError.system("llistxattr", path: path) }
        var out: [TarXattr] = []
        for raw in names[0..<got].split(separator: 0) {
            let name = String(decoding: raw.map { UInt8(bitPattern: $0) }, as: UTF8.self)
            guard capturedXattrPrefixes.contains(where: { name.hasPrefix($0) }) else { continue }
            let vsize = lgetxattr(path, name, nil, 0)
            guard vsize >= 0 else { continue }
            var value = [UInt8](repeating: 0, count: vsize)
            let vgot = value.withUnsafeMutableBytes { lgetxattr(path, name, $0.baseAddress, vsize) }
            guard vgot >= 0 else { continue }
            out.append(TarXattr(name: name, value: Array(value[0..<vgot])))
        }
        return out.sorted { $0.name.utf8.lexicographicallyPrecedes($1.name.utf8) }
    }
}

extension CheckpointError {
    /// A failed system call on a path (an I/O problem, not a broken requirement).
    static func system(_ call: String, path: String) -> CheckpointError {
        CheckpointError("IO", "\(call) failed: \(String(cString: strerror(errno)))", entry: path)
    }

    /// Whether this is an I/O failure rather than a broken requirement.
    public var isIOError: Bool { requirement == "IO" }
}
