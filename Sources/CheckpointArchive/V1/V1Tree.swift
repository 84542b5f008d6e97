/// The names a v1 decoder has delivered, in unpacked-directory terms (`rootfs/tree/etc`, `checkpoint/x`):
/// used to find missing parent directories, duplicates (CKA-TAR-037), entries below a non-directory
/// (CKA-TAR-038) and hard-link targets (CKA-TAR-040). Paths are kept without a trailing slash.
///
/// The names live in a dictionary, or, when the reader is given a memory limit (`V1ReaderOptions.nameTableMemory`,
/// a validator), in a `NameTable` whose memory stays fixed however many entries the archive has.
final class V1Tree {
    enum Kind: UInt8, Equatable {
        /// A directory named by an entry (or a section marker from the archive).
        case directory = 1
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

    private var kinds: [[UInt8]: Kind] = [:]
    private let table: NameTable?
    /// A path whose every component prefix (itself included) is known to be a directory: the parent of the
    /// previous entry, or the previous entry when it was a directory. A known directory never becomes anything
    /// else (that would be a duplicate), so the parents inside it need not be looked up again.
    private var knownDirectories: [UInt8] = []

    /// - Parameter memoryLimit: keep the names in a `NameTable` of this many bytes instead of a dictionary.
    init(memoryLimit: Int? = nil) { table = memoryLimit.map { NameTable(memoryLimit: $0) } }

    /// Why the name table's temporary file failed, if it did.
    var ioError: String? { table?.ioError }

    func kind<C: Collection>(_ path: C) -> Kind? where C.Element == UInt8 {
        if let table { return table[NameTable.key(path)].flatMap(Kind.init(rawValue:)) }
        return kinds[Array(path)]
    }

    func set<C: Collection>(_ path: C, _ kind: Kind) where C.Element == UInt8 {
        if let table { table.update(NameTable.key(path)) { _ in kind.rawValue } } else { kinds[Array(path)] = kind }
    }

    /// Registers an entry at `path` below the directory `root` (a proper prefix of `path`, already known).
    /// A directory the decoder created (implied or synthesized) that an entry names later takes the entry's kind.
    /// - Returns: the parents between `root` and `path` that are missing, top-down (now registered as
    ///   `parentKind`), as their lengths (each is `path[..<length]`: a deep name has depth times length bytes of
    ///   parents, which are not copied).
    /// - Throws: `CheckpointError` CKA-TAR-037 (the name was already delivered) or CKA-TAR-038 (a parent is
    ///   not a directory, or a non-directory replaces a directory created for earlier entries).
    func register(_ path: [UInt8], kind: Kind, root: [UInt8], parentKind: Kind, entry: String,
                  offset: Int64?) throws -> [Int] {
        var parents: [Int] = []
        // Parents inside the known directories (compared component by component) are directories already.
        var shared = 0
        let limit = min(path.count, knownDirectories.count)
        while shared < limit, path[shared] == knownDirectories[shared] { shared += 1 }
        let wholeKnown = shared == knownDirectories.count
        var i = root.count + 1
        while i < path.count {
            if path[i] == 0x2F, i > shared || (i == shared && !wholeKnown) {
                let parent = path[..<i]
                if let k = self.kind(parent) {
                    guard k.isDirectory else {
                        throw CheckpointError("CKA-TAR-038", "a parent of this entry is an earlier non-directory entry",
                                              entry: entry, offset: offset)
                    }
                } else {
                    parents.append(i)
                }
            }
            i += 1
        }
        if let existing = self.kind(path) {
            if existing.isPromotable {
                guard kind == .directory else {
                    throw CheckpointError("CKA-TAR-038",
                                          "a non-directory entry names a directory that earlier entries are inside",
                                          entry: entry, offset: offset)
                }
            } else {
                throw CheckpointError("CKA-TAR-037", "duplicate entry name", entry: entry, offset: offset)
            }
        }
        for p in parents { set(path[..<p], parentKind) }
        set(path, kind)
        // Every prefix of the entry's parent is a directory now; of the entry too when it is one.
        if kind.isDirectory {
            knownDirectories = path
        } else if let slash = path.lastIndex(of: 0x2F) {
            knownDirectories = Array(path[..<slash])
        }
        return parents
    }
}
