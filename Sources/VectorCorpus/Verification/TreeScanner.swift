import ByteStreams
import CSysShims
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Reads an unpacked directory from disk as a tree (table 7.5), without following symbolic links: names that
/// share an inode become one `file` (the first in byte order) and `hardlink`s to it.
public enum TreeScanner {
    /// The tree under `root` (its root itself and `cka-index.json` excluded), sorted by path.
    /// - Parameter ignoredXattrs: xattr names a host may add by itself (labels), not compared.
    public static func scan(_ root: String, ignoredXattrs: Set<String> = ["security.selinux"]) throws -> [TreeEntry] {
        var out: [TreeEntry] = []
        var inodes: [String: String] = [:]  // device:inode -> first path
        try walk(root, "", into: &out, ignoredXattrs: ignoredXattrs)
        out = ExpectedTree.sorted(out.filter { $0.path != "cka-index.json" })
        // Hard links: the first name of an inode (in byte order) is the file.
        for i in out.indices where out[i].type == "file" {
            let key = try inodeKey(root + "/" + out[i].path)
            guard let key else { continue }
            if let first = inodes[key] {
                out[i].type = "hardlink"
                out[i].linkTarget = first
                out[i].size = nil
                out[i].sha256 = nil
            } else {
                inodes[key] = out[i].path
            }
        }
        return out
    }

    /// The tree in the form `scan` gives: every hard-link group as one `file` (its first name in byte order, with
    /// the content of the file linked to) and `hardlink`s to it.
    public static func normalized(_ tree: [TreeEntry]) -> [TreeEntry] {
        // Keyed by the bytes of the path: Swift's String equality would merge names that differ only by Unicode
        // normalisation, which are distinct (CKA-SEC-024).
        var byPath = Dictionary(tree.map { (Array($0.path.utf8), $0) }) { a, _ in a }
        func root(_ path: String) -> [UInt8] {
            var p = Array(path.utf8)
            var seen = Set<[UInt8]>()
            while let e = byPath[p], e.type == "hardlink", let t = e.linkTarget, seen.insert(p).inserted { p = Array(t.utf8) }
            return p
        }
        var groups: [[UInt8]: [String]] = [:]
        for e in tree where e.type == "hardlink" || e.type == "file" { groups[root(e.path), default: []].append(e.path) }
        for (r, members) in groups where members.count > 1 {
            guard let file = byPath[r] else { continue }
            let names = members.sorted { Array($0.utf8).lexicographicallyPrecedes(Array($1.utf8)) }
            for (i, name) in names.enumerated() {
                var e = file
                e.path = name
                if i > 0 {
                    e.type = "hardlink"
                    e.linkTarget = names[0]
                    e.size = nil
                    e.sha256 = nil
                } else {
                    e.type = "file"
                    e.linkTarget = nil
                }
                byPath[Array(name.utf8)] = e
            }
        }
        return ExpectedTree.sorted(Array(byPath.values))
    }

    static func walk(_ root: String, _ rel: String, into out: inout [TreeEntry], ignoredXattrs: Set<String>) throws {
        let dir = rel.isEmpty ? root : root + "/" + rel
        let names = try FileManager.default.contentsOfDirectory(atPath: dir).sorted()
        for name in names {
            let path = rel.isEmpty ? name : rel + "/" + name
            let full = root + "/" + path
            var st = stat()
            guard lstat(full, &st) == 0 else { throw VectorError("lstat \(full): \(String(cString: strerror(errno)))") }
            var e = TreeEntry(path: path, type: "file", mode: Int(st.st_mode) & 0o7777, uid: Int(st.st_uid),
                              gid: Int(st.st_gid))
            switch st.st_mode & S_IFMT {
            case S_IFREG:
                let bytes = try FileSource(path: full).readAll(limit: 1 << 30)
                e.size = bytes.count
                e.sha256 = V2TestArchive.sha256(bytes)
            case S_IFDIR:
                e.type = "dir"
            case S_IFLNK:
                e.type = "symlink"
                e.linkTarget = try linkTarget(full)
            case S_IFCHR, S_IFBLK:
                e.type = st.st_mode & S_IFMT == S_IFCHR ? "char" : "block"
                let dev = UInt64(st.st_rdev)
                e.devMajor = Int(((dev >> 8) & 0xFFF) | ((dev >> 32) & ~UInt64(0xFFF)))
                e.devMinor = Int((dev & 0xFF) | ((dev >> 12) & ~UInt64(0xFF)))
            case S_IFIFO:
                e.type = "fifo"
            default:
                e.type = "socket"
            }
            let x = xattrs(full).filter { !ignoredXattrs.contains($0.key) }
            if !x.isEmpty { e.xattrs = x.mapValues { Data($0).base64EncodedString() } }
            out.append(e)
            if e.type == "dir" { try walk(root, path, into: &out, ignoredXattrs: ignoredXattrs) }
        }
    }

    static func inodeKey(_ path: String) throws -> String? {
        var st = stat()
        guard lstat(path, &st) == 0 else { return nil }
        return st.st_nlink > 1 ? "\(st.st_dev):\(st.st_ino)" : nil
    }

    static func linkTarget(_ path: String) throws -> String {
        var buffer = [CChar](repeating: 0, count: 8192)
        let n = readlink(path, &buffer, buffer.count)
        guard n >= 0 else { throw VectorError("readlink \(path): \(String(cString: strerror(errno)))") }
        return String(decoding: buffer[0..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// Every xattr of `path` (not following a final symlink).
    static func xattrs(_ path: String) -> [String: [UInt8]] {
        let size = llistxattr(path, nil, 0)
        guard size > 0 else { return [:] }
        var names = [CChar](repeating: 0, count: size)
        let got = llistxattr(path, &names, size)
        guard got > 0 else { return [:] }
        var out: [String: [UInt8]] = [:]
        for raw in names[0..<got].split(separator: 0) {
            let name = String(decoding: raw.map { UInt8(bitPattern: $0) }, as: UTF8.self)
            let n = lgetxattr(path, name, nil, 0)
            guard n >= 0 else { continue }
            var value = [UInt8](repeating: 0, count: max(n, 1))
            let m = lgetxattr(path, name, &value, value.count)
            if m >= 0 { out[name] = Array(value[0..<m]) }
        }
        return out
    }
}
