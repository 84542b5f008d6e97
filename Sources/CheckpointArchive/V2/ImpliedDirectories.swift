/// The directories `rootfs/implied.dirs` names, each waiting for its directory entry in the tree
/// (CKA-V2-029), in bounded memory however long the list: the paths go to a spool and a `NameTable` (flag 1
/// listed, flag 2 seen), and only the number still missing is counted.
final class ImpliedDirectories {
    private let table: NameTable
    private let paths: RecordSpool
    /// Listed directories not seen yet.
    private(set) var pending = 0

    init(budget: MemoryBudget) {
        table = budget.makeNameTable()
        paths = budget.makeSpool()
    }

    /// Why a temporary file failed, if one did.
    var ioError: String? { table.ioError ?? paths.ioError }

    /// A container path of the list (the list has no repeats: they are refused first).
    func add(_ path: String) {
        table.insert(V2MetadataFile.key(path), flags: 1)
        paths.append { $0.string(path) }
        pending += 1
    }

    /// The tree has a directory entry for the container path `path`.
    func seen(_ path: String) {
        guard pending > 0 else { return }
        let key = V2MetadataFile.key(path)
        if table[key] == 1 {
            table.insert(key, flags: 2)
            pending -= 1
        }
    }

    /// The first listed directory (in string order) without its entry, nil when none is missing.
    func firstMissing() -> String? {
        guard pending > 0 else { return nil }
        var first: String?
        let reader = paths.makeReader()
        while var r = reader.next() {
            let p = r.string()
            if table[V2MetadataFile.key(p)] == 1, first.map({ p < $0 }) ?? true { first = p }
        }
        return first
    }
}
