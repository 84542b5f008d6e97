/// The names a v1 decoder has delivered, in unpacked-directory terms (`rootfs/tree/etc`, `checkpoint/x`):
/// used to find missing parent directories, duplicates (CKA-TAR-037), entries below a non-directory
/// (CKA-TAR-038) and hard-link targets (CKA-TAR-040). Paths are kept without a trailing slash.
final class V1Tree {
    enum Kind: Equatable {
        /// A directory named by an entry (or a section marker from the archive).
        case directory
        /// A missing parent in `rootfs/tree/` created by the decoder and listed in `rootfs/implied.dirs`.
        case implied
        /// A directory created by the decoder outside the rootfs tree (a missing parent, a synthesised section
        /// marker, the directory of a containerd opaque whiteout); an entry naming it later is not a duplicate.
        case synthesized
        case regular
        /// Symbolic links, hard links, devices and FIFOs.
        case other

        var isDirectory: Bool { self == .directory || self == .implied || self == .synthesized }
        var isPromotable: Bool { self == .implied || self == .synthesized }
    }

    private(set) var kinds: [[UInt8]: Kind] = [:]

    func kind(_ path: [UInt8]) -> Kind? { kinds[path] }

    func set(_ path: [UInt8], _ kind: Kind) { kinds[path] = kind }

    /// Registers an entry at `path` below the directory `root` (a proper prefix of `path`, already known).
    /// - Returns: the parents between `root` and `path` that are missing, top-down (now registered as
    ///   `parentKind`), and whether `path` was a decoder-created directory now named by an entry.
    /// - Throws: `CheckpointError` CKA-TAR-037 (the name was already delivered) or CKA-TAR-038 (a parent is
    ///   not a directory, or a non-directory replaces a directory created for earlier entries).
    func register(_ path: [UInt8], kind: Kind, root: [UInt8], parentKind: Kind, entry: String,
                  offset: Int64?) throws -> (parents: [[UInt8]], promoted: Bool) {
        var parents: [[UInt8]] = []
        var i = root.count + 1
        while i < path.count {
            if path[i] == 0x2F {
                let parent = Array(path[..<i])
                if let k = kinds[parent] {
                    guard k.isDirectory else {
                        throw CheckpointError("CKA-TAR-038", "a parent of this entry is an earlier non-directory entry",
                                              entry: entry, offset: offset)
                    }
                } else {
                    parents.append(parent)
                }
            }
            i += 1
        }
        var promoted = false
        if let existing = kinds[path] {
            if existing.isPromotable {
                guard kind == .directory else {
                    throw CheckpointError("CKA-TAR-038",
                                          "a non-directory entry names a directory that earlier entries are inside",
                                          entry: entry, offset: offset)
                }
                promoted = true
            } else {
                throw CheckpointError("CKA-TAR-037", "duplicate entry name", entry: entry, offset: offset)
            }
        }
        for p in parents { kinds[p] = parentKind }
        kinds[path] = kind
        return (parents, promoted)
    }
}
