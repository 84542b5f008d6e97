import CheckpointArchive
import TarFormat

/// What the metadata, checkpoint and logs sections hold (5.3): CKA-V2-023, 024, 025, 037.
enum V2ContentRules {
    static let metadataNames: Set<String> = ["config.dump", "spec.dump", "network.status", "stats-dump", "bind.mounts",
                                             "status", "status.dump", "pod.options", "pod.dump"]
    /// The JSON metadata files are read up to this size (table 2.9); larger ones are not parsed.
    static let jsonLimit = 64 << 20

    /// The entry rules of the metadata, checkpoint and logs sections; returns how much content to keep.
    static func entry(_ h: TarHeader, in s: V2Section, report: V2Reporter) -> Int {
        guard h.type.isRegularFile, s.kind == .metadata || s.kind == .checkpoint || s.kind == .logs else { return 0 }
        let relative = Array(h.pathBytes.dropFirst(s.directory.count))
        let name = String(decoding: relative, as: UTF8.self)
        switch s.kind {
        case .metadata:
            guard !relative.contains(0x2F) else {
                report("CKA-V2-023", "the metadata section holds only files directly under metadata/", h)
                return 0
            }
            s.files.insert(name)
            guard metadataNames.contains(name) else {
                report("CKA-V2-024", "\(name) is not one of the v1 metadata files of part 4", h)
                return 0
            }
            return name == "stats-dump" ? 0 : jsonLimit
        case .checkpoint:
            s.files.insert(name)
        case .logs:
            if relative.contains(0x2F) {
                report("CKA-V2-037", "the logs section holds only files directly under logs/", h)
            } else if !Section.isValidName(name) {
                report("CKA-V2-037", "the log file name \"\(name)\" does not match [A-Za-z0-9][A-Za-z0-9_.-]*", h)
            }
        default: break
        }
        return 0
    }

    /// Checks the content of a file the entry rules asked for.
    static func content(_ bytes: [UInt8], of h: TarHeader, in s: V2Section, report: V2Reporter) {
        switch s.kind {
        case .metadata: metadataFormat(bytes, h, report: report)
        case .rootfs: V2RootfsRules.lists(bytes, h, in: s, report: report)
        default: break
        }
    }

    /// The rules that need the whole section: CKA-V2-023 (config.dump, spec.dump), CKA-V2-025, and the rootfs
    /// section's (CKA-V2-027, 029).
    static func sectionEnd(_ s: V2Section, report: V2Reporter) {
        switch s.kind {
        case .metadata:
            for f in ["config.dump", "spec.dump"] where !s.files.contains(f) {
                report("CKA-V2-023", "the metadata section has no regular file metadata/\(f)", path: s.path, offset: s.start)
            }
        case .checkpoint where !s.files.contains("inventory.img"):
            report("CKA-V2-025", "the checkpoint section has no regular file checkpoint/inventory.img", path: s.path,
                   offset: s.start)
        case .rootfs:
            V2RootfsRules.end(s, report: report)
        default: break
        }
    }

    /// CKA-V2-024: the content formats of part 4 for the JSON metadata files (`stats-dump`, a CRIU image, is
    /// opaque here): the top-level type of table 4.2, `id` and `name` of `config.dump` (4.3), the string
    /// annotations of `spec.dump` (4.4), the members of `bind.mounts` (4.12, CKA-SEC-010 for destinations).
    static func metadataFormat(_ bytes: [UInt8], _ h: TarHeader, report: V2Reporter) {
        let name = String(h.path.split(separator: "/").last ?? "")
        var cursor = V2JSONCursor(bytes)
        let value: V2JSONValue
        do {
            value = try cursor.value()
            if cursor.peek() != nil || cursor.at < bytes.count { throw V2JSONFailure(reason: "data after the JSON text", at: cursor.at) }
        } catch {
            report("CKA-V2-024", "\(name) is not a valid JSON text: \(error)", h)
            return
        }
        let expected: V2JSONKind = name == "bind.mounts" ? .array : .object
        guard value.kind == expected else {
            report("CKA-V2-024", "\(name) must hold a JSON \(expected.rawValue), not \(value.kind.rawValue)", h)
            return
        }
        switch name {
        case "config.dump":
            if value["id"]?.string == nil || value["name"]?.string == nil {
                report("CKA-V2-024", "config.dump must have the members id and name as strings", h)
            }
        case "spec.dump":
            if let annotations = value["annotations"] {
                guard case let .object(members) = annotations, members.allSatisfy({ $0.value.string != nil }) else {
                    report("CKA-V2-024", "the annotations of spec.dump must be an object of strings", h)
                    return
                }
            }
        case "bind.mounts":
            guard case let .array(items) = value else { return }
            for (i, item) in items.enumerated() { bindMount(item, i, h, report: report) }
        default: break
        }
    }

    /// One element of `bind.mounts` (table 4.12).
    static func bindMount(_ item: V2JSONValue, _ i: Int, _ h: TarHeader, report: V2Reporter) {
        guard item.kind == .object else {
            report("CKA-V2-024", "bind.mounts[\(i)] is not an object", h)
            return
        }
        if let destination = item["destination"]?.string {
            if let why = ContainerPath.problem(destination) {
                report("CKA-SEC-010", "bind.mounts[\(i)].destination \(ContainerPath.quoted(destination)) \(why)", h)
            }
        } else {
            report("CKA-V2-024", "bind.mounts[\(i)] has no destination string", h)
        }
        let source = item["source"]?.string ?? ""
        let parts = source.split(separator: "/", omittingEmptySubsequences: false).dropFirst()
        if !source.hasPrefix("/") || parts.contains(where: { $0.isEmpty || $0 == "." || $0 == ".." }) {
            report("CKA-V2-024", "bind.mounts[\(i)].source must be an absolute path without ., .. or empty components", h)
        }
        if let type = item["file_type"]?.string, type == "directory" || type == "file" {} else {
            report("CKA-V2-024", "bind.mounts[\(i)].file_type must be \"directory\" or \"file\"", h)
        }
        if let p = item["permissions"]?.integer, (0...4095).contains(p) {} else {
            report("CKA-V2-024", "bind.mounts[\(i)].permissions must be an integer from 0 to 4095", h)
        }
    }
}

/// What the rootfs checks remember while the section is read.
final class V2RootfsState {
    /// 0 after the marker, 1 after deleted.files, 2 after implied.dirs, 3 from rootfs/tree/ on.
    var phase = 0
    /// The implied directories and whether a directory entry was seen for each.
    var implied: [String: Bool]?
    /// Directories of the tree seen so far, without their trailing `/`.
    var directories: Set<[UInt8]> = [Array("rootfs/tree".utf8)]
}

/// The rootfs section (5.3): CKA-V2-027..031, 033, 034 and CKA-SEC-010 for its path lists.
enum V2RootfsRules {
    static let ids = ["CKA-V2-027", "CKA-V2-028", "CKA-V2-029", "CKA-V2-030", "CKA-V2-031", "CKA-V2-033",
                      "CKA-V2-034", "CKA-SEC-010"]
    static let treePrefix = Array("rootfs/tree/".utf8)

    /// One entry of the rootfs section; returns how much content to keep (the two lists).
    static func entry(_ h: TarHeader, records: [V2PaxRecord], in s: V2Section, report: V2Reporter) -> Int {
        guard let state = s.rootfs else { return 0 }
        if h.pathBytes.count > treePrefix.count, h.pathBytes.starts(with: treePrefix) {
            if state.phase < 3 {
                report("CKA-V2-027", "an entry below rootfs/tree/ before the directory rootfs/tree/", h)
                state.phase = 3
            }
            tree(h, records: records, in: s, state, report: report)
            return 0
        }
        var name = h.path
        if name.hasSuffix("/") { name.removeLast() }
        switch name {
        case "rootfs/deleted.files", "rootfs/implied.dirs":
            let deleted = name == "rootfs/deleted.files"
            step(h, state, to: deleted ? 1 : 2, report: report)
            guard h.type.isRegularFile else {
                report(deleted ? "CKA-V2-028" : "CKA-V2-029", "\(h.path) must be a regular file", h)
                return 0
            }
            return V2ContentRules.jsonLimit
        case "rootfs/tree":
            if h.type != .directory { report("CKA-V2-027", "rootfs/tree/ must be a directory", h) }
            step(h, state, to: 3, report: report)
            V2SectionRules.synthesized(h, mode: 0o755, report: report)
            s.previousName = Array("rootfs/tree".utf8)
            return 0
        default:
            report("CKA-V2-027", "the rootfs section holds only deleted.files, implied.dirs and tree/", h)
            return 0
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
        var name = h.pathBytes
        if name.last == 0x2F { name.removeLast() }
        if let slash = name.lastIndex(of: 0x2F), !state.directories.contains(Array(name[..<slash])) {
            report("CKA-V2-031", "no directory entry for its parent precedes it in the section", h)
        }
        if h.type == .directory {
            state.directories.insert(name)
            let path = "/" + String(decoding: name.dropFirst(treePrefix.count), as: UTF8.self)
            if state.implied?[path] != nil {
                state.implied?[path] = true
                impliedAttributes(h, records: records, report: report)
            }
        }
        let last = name[(name.lastIndex(of: 0x2F).map { $0 + 1 } ?? 0)...]
        if last.starts(with: [0x2E, 0x77, 0x68, 0x2E]) {
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

    /// CKA-V2-028, 029, 033 and CKA-SEC-010: the deletion list and the implied directories.
    static func lists(_ bytes: [UInt8], _ h: TarHeader, in s: V2Section, report: V2Reporter) {
        let deleted = h.path == "rootfs/deleted.files"
        guard deleted || h.path == "rootfs/implied.dirs" else { return }
        let id = deleted ? "CKA-V2-028" : "CKA-V2-029"
        let paths: [String]
        do {
            paths = try ContainerPath.parseList(bytes, requirement: id, entry: h.path)
        } catch let e as CheckpointError {
            report(e.requirement, e.message, h)
            return
        } catch {
            return
        }
        if paths.isEmpty { report(id, "the list is empty (the file is written only when it is not)", h) }
        var seen = Set<String>()
        for p in paths {
            if deleted, p == "/" {
                report("CKA-V2-033", "a deletion-list path must not be /", h)
            } else if let why = ContainerPath.problem(p) {
                report("CKA-SEC-010", "container path \(ContainerPath.quoted(p)) \(why)", h)
            }
            if !seen.insert(p).inserted { report(id, "the path \(ContainerPath.quoted(p)) is listed twice", h) }
        }
        if !deleted { s.rootfs?.implied = Dictionary(paths.map { ($0, false) }, uniquingKeysWith: { a, _ in a }) }
    }

    /// At the end of the section: rootfs/tree/ was present (CKA-V2-027), every implied directory was seen
    /// (CKA-V2-029).
    static func end(_ s: V2Section, report: V2Reporter) {
        guard let state = s.rootfs else { return }
        if state.phase < 3 {
            report("CKA-V2-027", "the rootfs section has no directory rootfs/tree/", path: s.path, offset: s.start)
        }
        for (path, seen) in (state.implied ?? [:]).sorted(by: { $0.key < $1.key }) where !seen {
            report("CKA-V2-029", "the implied directory \(ContainerPath.quoted(path)) has no directory entry "
                   + "rootfs/tree\(path)/", path: s.path, offset: s.start)
        }
    }
}
