import TarFormat
#if canImport(Glibc)
import Glibc
#endif

/// Walks a directory depth-first with siblings in byte order of their names (CKA-V2-048), yielding a tar
/// header for every object below it. Symbolic links are recorded, never followed; a file whose inode
/// was already seen becomes a hard link to the first name (within one scan).
public struct DirectoryScanner {
    /// The directory scanned.
    public let root: String
    /// The name prefix given to every entry (e.g. `rootfs/tree/`); the root itself is named by it.
    public let prefix: String

    public init(root: String, prefix: String) {
        self.root = root
        self.prefix = prefix
    }

    /// The sorted names inside a directory (without `.` and `..`).
    public static func children(of path: String) throws -> [String] {
        guard let dir = opendir(path) else { throw CheckpointError.system("opendir", path: path) }
        defer { closedir(dir) }
        var names: [[UInt8]] = []
        while let ent = readdir(dir) {
            let name = withUnsafeBytes(of: ent.pointee.d_name) { raw -> [UInt8] in
                let bytes = raw.bindMemory(to: UInt8.self)
                return Array(bytes[0..<(bytes.firstIndex(of: 0) ?? bytes.count)])
            }
            if name == [0x2E] || name == [0x2E, 0x2E] { continue }
            names.append(name)
        }
        names.sort { $0.lexicographicallyPrecedes($1) }
        return names.map { String(decoding: $0, as: UTF8.self) }
    }

    /// Every entry below the root in depth-first byte order; the root itself first when `includeRoot`.
    public func entries(includeRoot: Bool = true) throws -> [FileSystemEntry] {
        var out: [FileSystemEntry] = []
        try forEachEntry(includeRoot: includeRoot) { out.append($0) }
        return out
    }

    /// Calls `body` with every entry below the root in depth-first byte order (the root itself first when
    /// `includeRoot`), as it is found: memory holds the names of the directories being walked, not the tree.
    /// An error of the scan or of `body` stops the walk.
    public func forEachEntry(includeRoot: Bool = true, _ body: (FileSystemEntry) throws -> Void) throws {
        var seenInodes: [String: String] = [:]
        if includeRoot {
            try body(FileSystemEntry(header: try FileMetadata.header(path: root, archivePath: prefix), sourcePath: root))
        }
        try walk(root, archivePrefix: prefix, seen: &seenInodes, body)
    }

    private func walk(_ dir: String, archivePrefix: String, seen: inout [String: String],
                      _ body: (FileSystemEntry) throws -> Void) throws {
        for name in try Self.children(of: dir) {
            let path = dir + "/" + name
            var h = try FileMetadata.header(path: path, archivePath: archivePrefix + name)
            if h.type == .regular {
                var st = stat()
                _ = lstat(path, &st)
                if st.st_nlink > 1 {
                    let key = "\(st.st_dev):\(st.st_ino)"
                    if let first = seen[key] {
                        h.type = .hardLink
                        h.linkName = first
                        h.size = 0
                        h.xattrs = []
                    } else {
                        seen[key] = h.path
                    }
                }
            }
            try body(FileSystemEntry(header: h, sourcePath: path))
            if h.type == .directory { try walk(path, archivePrefix: h.path, seen: &seen, body) }
        }
    }
}
