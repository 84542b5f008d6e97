import ByteStreams
import CheckpointArchive
import TarFormat

/// What the rootfs checks remember while the section is read, in fixed memory: the names go to the run's
/// `NameTable` (with the flags below), the implied directories to a spool for the check at the section's end.
final class V2RootfsState {
    /// 0 after the marker, 1 after deleted.files, 2 after implied.dirs, 3 from rootfs/tree/ on.
    var phase = 0
    let names: NameTable
    /// Memory for the implied directories before they go to a temporary file.
    let spoolMemory: Int
    /// The paths of `rootfs/implied.dirs`, in list order.
    var implied: RecordSpool?
    /// The parent directory of the previous tree entry, known to be a directory entry of the tree.
    var knownParent: [UInt8] = V2RootfsRules.treeRoot

    init(names: NameTable, spoolMemory: Int) {
        self.names = names
        self.spoolMemory = spoolMemory
        names.insert(NameTable.key(V2RootfsRules.treeRoot), flags: V2RootfsRules.treeDirectory)
    }
}

/// The rootfs section (5.3): CKA-V2-027..031, 033, 034 and CKA-SEC-010 for its path lists.
enum V2RootfsRules {
    static let ids = ["CKA-V2-027", "CKA-V2-028", "CKA-V2-029", "CKA-V2-030", "CKA-V2-031", "CKA-V2-033",
                      "CKA-V2-034", "CKA-SEC-010"]
    static let treePrefixText: StaticString = "rootfs/tree/"
    static let treePrefix = treePrefixText.withUTF8Buffer { Array($0) }
    static let treeRoot = Array("rootfs/tree".utf8)

    /// Flags of the run's `NameTable` (keys: tree names without a trailing `/`, `rootfs/tree` + container path).
    static let treeDirectory: UInt8 = 0x80
    static let impliedListed: UInt8 = 0x40
    static let deletedListed: UInt8 = 0x20

    /// The key of a container path `/p` of the lists: the name `rootfs/tree/p` has.
    static func key(containerPath p: String) -> NameTable.Key { NameTable.key(treeRoot + Array(p.utf8)) }

    /// One entry of the rootfs section; returns whether its content is checked (the two lists).
    static func entry(_ h: TarHeader, records: [V2PaxRecord], in s: V2Section, report: V2Reporter) -> V2ContentRules.Content {
        guard let state = s.rootfs else { return .none }
        if h.pathBytes.count > treePrefix.count, h.pathBytes.withUnsafeBytes({ $0.hasPrefix(treePrefixText) }) {
            if state.phase < 3 {
                report("CKA-V2-027", "an entry below rootfs/tree/ before the directory rootfs/tree/", h)
                state.phase = 3
            }
            tree(h, records: records, in: s, state, report: report)
            return .none
        }
        var name = h.path
        if name.hasSuffix("/") { name.removeLast() }
        switch name {
        case "rootfs/deleted.files", "rootfs/implied.dirs":
            let deleted = name == "rootfs/deleted.files"
            step(h, state, to: deleted ? 1 : 2, report: report)
            guard h.type.isRegularFile else {
                report(deleted ? "CKA-V2-028" : "CKA-V2-029", "\(h.path) must be a regular file", h)
                return .none
            }
            return .json
        case "rootfs/tree":
            if h.type != .directory { report("CKA-V2-027", "rootfs/tree/ must be a directory", h) }
            step(h, state, to: 3, report: report)
            V2SectionRules.synthesized(h, mode: 0o755, report: report)
            s.previousName = treeRoot
            return .none
        default:
            report("CKA-V2-027", "the rootfs section holds only deleted.files, implied.dirs and tree/", h)
            return .none
        }
    }

    /// CKA-V2-027: marker, deleted.files, implied.dirs, tree/, in this order and once each.
    private static func step(_ h: TarHeader, _ state: V2RootfsState, to phase: Int, report: V2Reporter) {
        if state.phase >= phase {
            report("CKA-V2-027", "\(h.path) out of order (marker, deleted.files, implied.dirs, tree/, then the tree)", h)
        }
        state.phase = max(state.phase, phase)
    }

    /// An entry below rootfs/tree/: CKA-V2-031 (parents first), 029/030 (implied directories), 034, 048.
    private static func tree(_ h: TarHeader, records: [V2PaxRecord], in s: V2Section, _ state: V2RootfsState,
                             report: V2Reporter) {
        let name = V2SectionRules.withoutSlash(h.pathBytes)
        if let slash = name.lastIndex(of: 0x2F) {
            let parent = name[..<slash]
            if !Bytes.same(parent, state.knownParent) {
                if (state.names[NameTable.key(parent)] ?? 0) & treeDirectory != 0 {
                    state.knownParent = Array(parent)
                } else {
                    report("CKA-V2-031", "no directory entry for its parent precedes it in the section", h)
                }
            }
        }
        if h.type == .directory {
            let old = state.names.insert(NameTable.key(name), flags: treeDirectory) ?? 0
            if old & impliedListed != 0, old & treeDirectory == 0 {
                impliedAttributes(h, records: records, report: report)
            }
        }
        let last = name[(name.lastIndex(of: 0x2F).map { $0 + 1 } ?? name.startIndex)...]
        if last.withUnsafeBytes({ $0.hasPrefix(".wh.") }) {
            report("CKA-V2-034", "a name starting with .wh. reads as a whiteout to OCI layer tools", h)
        }
        V2SectionRules.ordering(h, in: s, report: report)
    }

    /// CKA-V2-030: an implied directory has mode 0755, uid 0, gid 0, mtime 0 and no xattrs.
    static func impliedAttributes(_ h: TarHeader, records: [V2PaxRecord], report: V2Reporter) {
        if h.mode & 0o7777 != 0o755 || h.uid != 0 || h.gid != 0 || h.mtime != TarTime(seconds: 0)
            || records.contains(where: { $0.key.hasPrefix("SCHILY.xattr.") }) {
            report("CKA-V2-030", "an implied directory must have mode 0755, uid 0, gid 0, mtime 0 and no xattrs", h)
        }
    }

    /// CKA-V2-028, 029, 033 and CKA-SEC-010: the deletion list and the implied directories, walked as they
    /// stream (grammar of 4.8: a JSON array of strings). Findings about the paths count only when the list
    /// parses; duplicates are found with the name table, the implied directories spooled for `end`.
    static func lists(_ input: V2JSONInput, _ h: TarHeader, in s: V2Section, report: V2Reporter) throws {
        let deleted = h.path == "rootfs/deleted.files"
        guard deleted || h.path == "rootfs/implied.dirs", let state = s.rootfs else { return }
        let id = deleted ? "CKA-V2-028" : "CKA-V2-029"
        let flag = deleted ? deletedListed : impliedListed
        var findings = V2PendingFindings(limit: 4 * report.collector.capPerRule)
        let spool = deleted ? nil : RecordSpool(memoryLimit: state.spoolMemory)
        var count = 0
        var c = V2JSONCursor(input)
        do {
            guard let kind = try c.peek() else { throw V2JSONFailure(reason: "no JSON value", at: c.at) }
            guard kind == .array else {
                try c.skipValue()
                if try c.hasMore() { throw V2JSONFailure(reason: "data after the JSON text", at: c.at) }
                report(id, "must be a JSON array of strings, not \(kind.rawValue)", h)
                return
            }
            var notString: V2JSONKind?
            try c.array { c, _ in
                guard notString == nil else { return try c.skipValue() }
                guard let kind = try c.peek(), kind == .string, let p = try c.stringValue() else {
                    notString = try c.peek() ?? .null
                    return try c.skipValue()
                }
                count += 1
                if deleted, p == "/" {
                    findings.add("CKA-V2-033", "a deletion-list path must not be /")
                } else if let why = ContainerPath.problem(p) {
                    findings.add("CKA-SEC-010", "container path \(ContainerPath.quoted(p)) \(why)")
                }
                if (state.names.insert(key(containerPath: p), flags: flag) ?? 0) & flag != 0 {
                    findings.add(id, "the path \(ContainerPath.quoted(p)) is listed twice")
                } else if let spool {
                    var w = RecordWriter()
                    w.string(p)
                    spool.append(w)
                }
            }
            if try c.hasMore() { throw V2JSONFailure(reason: "data after the JSON text", at: c.at) }
            if let notString {
                report(id, "holds a \(notString.rawValue) where a path string belongs", h)
                return
            }
        } catch let error as V2JSONFailure {
            let utf8 = error.reason.contains("UTF-8")
            report(utf8 ? "CKA-SEC-010" : id, "not a valid JSON text: \(error)", h)
            return
        }
        if count == 0 { report(id, "the list is empty (the file is written only when it is not)", h) }
        findings.emit(h, report: report)
        if let spool { state.implied = spool }
    }

    /// At the end of the section: rootfs/tree/ was present (CKA-V2-027), every implied directory was seen
    /// (CKA-V2-029).
    static func end(_ s: V2Section, report: V2Reporter) {
        guard let state = s.rootfs else { return }
        if state.phase < 3 {
            report("CKA-V2-027", "the rootfs section has no directory rootfs/tree/", path: s.path, offset: s.start)
        }
        guard let spool = state.implied else { return }
        let reader = spool.makeReader()
        while var r = reader.next() {
            let path = r.string()
            if (state.names[key(containerPath: path)] ?? 0) & treeDirectory == 0 {
                report("CKA-V2-029", "the implied directory \(ContainerPath.quoted(path)) has no directory entry "
                       + "rootfs/tree\(path)/", path: s.path, offset: s.start)
            }
        }
        state.implied = nil
    }
}
