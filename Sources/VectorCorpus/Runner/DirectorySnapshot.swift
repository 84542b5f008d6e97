import ByteStreams
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// What a directory holds, path by path (type, permission bits, owner, size, content digest, link target),
/// without following symbolic links: the runner takes one before and one after running another program and
/// reports every difference as a write outside the place the program was given (CKA-VEC-006).
public struct DirectorySnapshot: Equatable, Sendable {
    /// Relative path -> a description of what is there.
    public private(set) var entries: [String: String] = [:]

    /// Snapshots `root`, leaving out the paths in `excluded` (relative to `root`) and everything below them.
    public static func take(_ root: String, excluding excluded: Set<String> = []) -> DirectorySnapshot {
        var s = DirectorySnapshot()
        s.walk(root, "", excluded: excluded)
        return s
    }

    /// The differences from `self` to `after`, one line each, in path order.
    public func changes(to after: DirectorySnapshot) -> [String] {
        var out: [String] = []
        for path in Set(entries.keys).union(after.entries.keys).sorted() {
            switch (entries[path], after.entries[path]) {
            case (nil, let now?): out.append("created \(path) (\(now))")
            case (let was?, nil): out.append("removed \(path) (\(was))")
            case let (was?, now?) where was != now: out.append("changed \(path) (\(was) -> \(now))")
            default: break
            }
        }
        return out
    }

    private mutating func walk(_ root: String, _ relative: String, excluded: Set<String>) {
        let dir = relative.isEmpty ? root : root + "/" + relative
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: dir) else { return }
        for name in names.sorted() {
            let path = relative.isEmpty ? name : relative + "/" + name
            if excluded.contains(path) { continue }
            let full = root + "/" + path
            var st = stat()
            guard lstat(full, &st) == 0 else { continue }
            var text = String(format: "mode %o uid %d gid %d", Int(st.st_mode), Int(st.st_uid), Int(st.st_gid))
            switch st.st_mode & S_IFMT {
            case S_IFREG:
                let digest = (try? FileSource(path: full).readAll(limit: 256 << 20)).map(V2TestArchive.sha256) ?? "unreadable"
                text += " size \(st.st_size) sha256 \(digest)"
            case S_IFLNK:
                text += " -> " + ((try? TreeScanner.linkTarget(full)) ?? "?")
            case S_IFDIR:
                walk(root, path, excluded: excluded)
            default:
                text += " rdev \(st.st_rdev)"
            }
            entries[path] = text
        }
    }
}
