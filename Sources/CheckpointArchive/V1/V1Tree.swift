import TarFormat

/// The names a v1 decoder has delivered, in unpacked-directory terms (`rootfs/tree/etc`, `checkpoint/x`):
/// used to find missing parent directories, duplicates (CKA-TAR-037), entries below a non-directory
/// (CKA-TAR-038) and hard-link targets (CKA-TAR-040). Paths are kept without a trailing slash, numbered component
/// by component (`PathTable`), so a deep name costs its length, not its depth times its length.
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

    private var table = PathTable()
    private var kinds: [Int: Kind] = [:]

    func kind(_ path: [UInt8]) -> Kind? { table.find(path).flatMap { kinds[$0] } }

    func set(_ path: [UInt8], _ kind: Kind) {
        if let node = table.intern(path).last?.node { kinds[node] = kind }
    }

    /// Registers an entry at `path` below the directory `root` (a proper prefix of `path`, already known).
    /// - Returns: the parents between `root` and `path` that are missing, top-down (now registered as
    ///   `parentKind`), and whether `path` was a decoder-created directory now named by an entry.
    /// - Throws: `CheckpointError` CKA-TAR-037 (the name was already delivered) or CKA-TAR-038 (a parent is
    ///   not a directory, or a non-directory replaces a directory created for earlier entries).
    func register(_ path: [UInt8], kind: Kind, root: [UInt8], parentKind: Kind, entry: String,
                  offset: Int64?) throws -> (parents: [[UInt8]], promoted: Bool) {
        let prefixes = table.intern(path)
        guard let node = prefixes.last?.node else {
            throw CheckpointError("CKA-TAR-034", "the name is empty", entry: entry, offset: offset)
        }
        var missing: [PathTable.Prefix] = []
        for p in prefixes.dropLast() where p.end > root.count {
            if let k = kinds[p.node] {
                guard k.isDirectory else {
                    throw CheckpointError("CKA-TAR-038", "a parent of this entry is an earlier non-directory entry",
                                          entry: entry, offset: offset)
                }
            } else {
                missing.append(p)
            }
        }
        var promoted = false
        if let existing = kinds[node] {
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
        for p in missing { kinds[p.node] = parentKind }
        kinds[node] = kind
        return (missing.map { Array(path[..<$0.end]) }, promoted)
    }
}
