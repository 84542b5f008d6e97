import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// The directories of a run: a private root that holds only the current case, so that anything another program
/// writes beside the place it was given shows up in a snapshot of the root, and a separate directory for the
/// programs' output.
///
/// A decoder case is laid out as
///
/// ```
/// ROOT/<tcId>/<archive file>          a copy of the vector (the original is never handed out)
/// ROOT/<tcId>/parent/.sentinel        the fresh sentinel parent: the working directory of the command
/// ROOT/<tcId>/parent/unpacked         {dir}: does not exist when the command starts
/// ```
///
/// and an encoder case as `ROOT/<tcId>/source/unpacked` ({dir}, unpacked by our decoder),
/// `ROOT/<tcId>/out/archive.tar` ({archive}, in its own sentinel parent) and `ROOT/<tcId>/back/unpacked`
/// (their archive unpacked again by our decoder).
final class RunWorkspace {
    let root: String
    let logs: String
    static let sentinelName = ".sentinel"
    static let sentinelText = Data("ckpt-vectors run: nothing may change this file or create files beside {dir}\n".utf8)

    init() throws {
        let base = FileManager.default.temporaryDirectory.path + "/ckpt-vectors-run-" + UUID().uuidString
        root = base + "/cases"
        logs = base + "/logs"
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: logs, withIntermediateDirectories: true)
    }

    deinit { Self.removeTree(URL(fileURLWithPath: root).deletingLastPathComponent().path) }

    /// A case directory `ROOT/<tcId>` with the given sentinel parents (`parent`, `out`) created and marked.
    func makeCase(_ tcId: Int, sentinelParents: [String]) throws -> String {
        let dir = root + "/\(tcId)"
        Self.removeTree(dir)
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: false)
        for p in sentinelParents {
            try FileManager.default.createDirectory(atPath: dir + "/" + p, withIntermediateDirectories: false)
            try Self.sentinelText.write(to: URL(fileURLWithPath: dir + "/" + p + "/" + Self.sentinelName))
        }
        return dir
    }

    /// Removes a case directory.
    func removeCase(_ dir: String) { Self.removeTree(dir) }

    /// Removes `path` and everything below it, first giving every directory owner rwx (a program may leave
    /// directories without write or search permission), never following symbolic links.
    static func removeTree(_ path: String) {
        var st = stat()
        guard lstat(path, &st) == 0 else { return }
        if st.st_mode & S_IFMT == S_IFDIR {
            chmod(path, (st.st_mode & 0o7777) | 0o700)
            for name in (try? FileManager.default.contentsOfDirectory(atPath: path)) ?? [] {
                removeTree(path + "/" + name)
            }
            rmdir(path)
        } else {
            unlink(path)
        }
    }

    /// Bytes held by regular files below `path` (not following symbolic links).
    static func bytesBelow(_ path: String) -> Int64 {
        var st = stat()
        guard lstat(path, &st) == 0 else { return 0 }
        if st.st_mode & S_IFMT == S_IFREG { return Int64(st.st_size) }
        guard st.st_mode & S_IFMT == S_IFDIR else { return 0 }
        return ((try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []).reduce(0) { $0 + bytesBelow(path + "/" + $1) }
    }

    /// The type of what is at `path` (not following a final symbolic link), or nil when nothing is.
    static func type(at path: String) -> mode_t? {
        var st = stat()
        return lstat(path, &st) == 0 ? st.st_mode & S_IFMT : nil
    }
}
