import CheckpointArchive
import Foundation
import TarFormat

extension ExpectedTree {
    /// The unpacked directory (part 9, table 9.1) a v1 archive stands for, derived from the entries it is built
    /// from and the mapping rules of the specification, not from a decoder:
    ///
    /// - `config.dump`, `spec.dump`, `network.status`, `stats-dump`, `bind.mounts`, `status`, `status.dump`,
    ///   `pod.options`, `pod.dump` go to `metadata/`; `ctr.log`, `dump.log`, `container.log` and
    ///   `io.kubernetes.cri-o.LogPath` to `logs/`; `checkpoint/`, `pre-checkpoint/` and `artifacts/` keep their
    ///   paths (their directory entry gives the section directory its attributes); any other top-level name goes
    ///   to `ext/v1/` (CKA-DIR-007, table 5.12);
    /// - `rootfs-diff.tar` entries go to `rootfs/tree/`, each missing parent created with mode 0755 and listed in
    ///   `rootfs/implied.dirs` unless an entry names it later (CKA-DIR-004); a non-empty `deleted.files` is copied
    ///   to `rootfs/deleted.files`; containerd's gzip layer maps its whiteouts to `rootfs/deleted.files`
    ///   (`<d>/.wh.<n>` deletes `/<d>/<n>`, `<d>/.wh..wh..opq` deletes `/<d>` and keeps `<d>` an explicit
    ///   directory; CKA-DIR-005, CKA-CNV-009); both lists are written as `json.MarshalIndent` does, mode 0600;
    /// - `devshm-checkpoint.tar` goes to `devshm/` and `volumes/<name>.tar` to `volumes/<name>/`, the `./` entry
    ///   giving the directory its attributes (CKA-DIR-006); the outer `volumes/` entry maps to nothing;
    /// - directories the archive does not name (section directories, parents) are mode 0755, owner 0; an empty
    ///   nested tar or an empty `deleted.files` stands for nothing (table 5.11);
    /// - `cka-header.json` names the profile of CKA-V1-019, the outer compression and the sections in the order
    ///   of CKA-V2-015 (CKA-DIR-001).
    public static func v1(_ archive: V1TestArchive) -> [TreeEntry] {
        var d = V1TreeDerivation()
        for e in archive.entries { d.outer(e) }
        return d.finish(profile: archive.profile, compression: archive.compression.rawValue)
    }
}

/// The state of `ExpectedTree.v1` while it walks the entries.
struct V1TreeDerivation {
    var tree: [[UInt8]: TreeEntry] = [:]
    /// Sections present: (order rank, name, header JSON).
    var sections: [String: (rank: Int, name: String, json: String)] = [:]
    var implied: [String] = []
    var impliedSet: Set<String> = []
    var whiteouts: [String] = []

    static let metadataFiles: Set<String> = ["config.dump", "spec.dump", "network.status", "stats-dump", "bind.mounts",
                                             "status", "status.dump", "pod.options", "pod.dump"]
    static let logFiles: Set<String> = ["ctr.log", "dump.log", "container.log", "io.kubernetes.cri-o.LogPath"]

    /// `./x/` -> `x`; nil for the root entry.
    static func normalise(_ path: String) -> String? {
        var p = Substring(path)
        if p.hasPrefix("./") { p = p.dropFirst(2) }
        while p.hasSuffix("/") { p = p.dropLast() }
        return p.isEmpty || p == "." ? nil : String(p)
    }

    func has(_ path: String) -> Bool { tree[Array(path.utf8)] != nil }

    mutating func put(_ t: TreeEntry) { tree[Array(t.path.utf8)] = t }

    mutating func section(_ kind: String, name: String? = nil, critical: Bool, rank: Int, dir: String,
                          attributes: TarHeader? = nil) {
        let key = kind + "/" + (name ?? "")
        if sections[key] == nil {
            var json = "{\"kind\":\(V2TestArchive.json(kind))"
            if let name { json += ",\"name\":\(V2TestArchive.json(name))" }
            sections[key] = (rank, name ?? "", json + ",\"critical\":\(critical)}")
        }
        for p in Self.prefixes(dir) where !has(p) { put(TreeEntry(path: p, type: "dir", mode: 0o755)) }
        if let h = attributes {
            put(Self.entry(h, path: dir, data: []))
        } else if !has(dir) {
            put(TreeEntry(path: dir, type: "dir", mode: 0o755))
        }
        if kind == "rootfs", !has("rootfs/tree") { put(TreeEntry(path: "rootfs/tree", type: "dir", mode: 0o755)) }
    }

    /// `a`, `a/b` for `a/b/c`.
    static func prefixes(_ path: String) -> [String] {
        let parts = path.split(separator: "/")
        return (1..<max(parts.count, 1)).map { parts[0..<$0].joined(separator: "/") }
    }

    static func entry(_ h: TarHeader, path: String, data: [UInt8]) -> TreeEntry {
        var t = TreeEntry(path: path, type: ExpectedTree.type(h.type), mode: Int(h.mode), uid: Int(h.uid), gid: Int(h.gid))
        switch h.type {
        case .regular, .regularLegacy:
            t.size = data.count
            t.sha256 = V2TestArchive.sha256(data)
        case .symbolicLink:
            t.linkTarget = h.linkName
        case .characterDevice, .blockDevice:
            t.devMajor = Int(h.devMajor)
            t.devMinor = Int(h.devMinor)
        default:
            break
        }
        if !h.xattrs.isEmpty {
            t.xattrs = Dictionary(h.xattrs.map { ($0.name, Data($0.value).base64EncodedString()) }) { $1 }
        }
        return t
    }

    /// Adds an entry at `path` below the section directory `root`; missing parents are implied (rootfs tree) or
    /// plain 0755 directories; a hard link names `link` and takes its target's attributes.
    mutating func add(_ h: TarHeader, path: String, root: String, data: [UInt8], link: String? = nil) {
        let inTree = root == "rootfs/tree"
        for p in Self.prefixes(path) where p.count > root.count && !has(p) {
            put(TreeEntry(path: p, type: "dir", mode: 0o755))
            if inTree {
                let container = String(p.dropFirst(root.count))
                implied.append(container)
                impliedSet.insert(container)
            }
        }
        if inTree, h.type == .directory { impliedSet.remove(String(path.dropFirst(root.count))) }
        var t = Self.entry(h, path: path, data: data)
        if let link, let target = tree[Array(link.utf8)] {
            t.linkTarget = link
            (t.mode, t.uid, t.gid) = (target.mode, target.uid, target.gid)
        }
        put(t)
    }

    // MARK: - Outer entries

    mutating func outer(_ e: V1TestEntry) {
        let h = e.header
        guard let name = Self.normalise(h.path) else { return }
        let top = String(name.split(separator: "/")[0])
        let isRoot = !name.contains("/")
        if Self.metadataFiles.contains(top) {
            section("metadata", critical: true, rank: 0, dir: "metadata")
            add(h, path: "metadata/" + name, root: "metadata", data: e.data)
        } else if Self.logFiles.contains(top) {
            section("logs", critical: false, rank: 5, dir: "logs")
            add(h, path: "logs/" + name, root: "logs", data: e.data)
        } else if ["checkpoint", "pre-checkpoint", "artifacts"].contains(top) {
            let rank = top == "artifacts" ? 6 : 1
            if isRoot {
                section(top, critical: top != "artifacts", rank: rank, dir: top, attributes: h)
            } else {
                section(top, critical: top != "artifacts", rank: rank, dir: top)
                let link = h.type == .hardLink ? Self.normalise(h.linkName) : nil
                add(h, path: name, root: top, data: e.data, link: link)
            }
        } else if top == "rootfs-diff.tar", let nested = e.nested {
            for n in nested.entries { rootfs(n, layer: nested.gzip) }
        } else if top == "deleted.files" {
            let list = (try? JSONSerialization.jsonObject(with: Data(e.data))) as? [Any]
            guard !(list ?? []).isEmpty else { return }
            section("rootfs", critical: true, rank: 2, dir: "rootfs")
            add(h, path: "rootfs/deleted.files", root: "rootfs", data: e.data)
        } else if top == "devshm-checkpoint.tar", let nested = e.nested {
            fileSystem(nested, kind: "devshm", name: nil, rank: 3, dir: "devshm")
        } else if top == "volumes" {
            guard !isRoot, let nested = e.nested else { return }
            let volume = String(name.dropFirst("volumes/".count).dropLast(".tar".count))
            fileSystem(nested, kind: "volume", name: volume, rank: 4, dir: "volumes/" + volume)
        } else {
            section("ext", name: "v1", critical: false, rank: 7, dir: "ext/v1")
            let link = h.type == .hardLink ? Self.normalise(h.linkName).map { "ext/v1/" + $0 } : nil
            add(h, path: "ext/v1/" + name, root: "ext/v1", data: e.data, link: link)
        }
    }

    /// A devshm or volume tar: `./` gives the directory its attributes, `./<p>` goes to `<dir>/<p>`.
    mutating func fileSystem(_ nested: V1NestedTar, kind: String, name: String?, rank: Int, dir: String) {
        section(kind, name: name, critical: true, rank: rank, dir: dir,
                attributes: nested.entries.first { Self.normalise($0.header.path) == nil }?.header)
        for n in nested.entries {
            guard let p = Self.normalise(n.header.path) else { continue }
            let link = n.header.type == .hardLink ? Self.normalise(n.header.linkName).map { dir + "/" + $0 } : nil
            add(n.header, path: dir + "/" + p, root: dir, data: n.data, link: link)
        }
    }

    /// One entry of `rootfs-diff.tar` (a plain tar, or containerd's layer with whiteouts).
    mutating func rootfs(_ n: V1TestEntry, layer: Bool) {
        guard let p = Self.normalise(n.header.path) else { return }
        let parts = p.split(separator: "/").map(String.init)
        let last = parts[parts.count - 1]
        let dir = parts.dropLast().joined(separator: "/")
        if layer, last.hasPrefix(".wh.") {
            let deleted = last == ".wh..wh..opq" ? "/" + dir : (dir.isEmpty ? "" : "/" + dir) + "/" + last.dropFirst(4)
            if !whiteouts.contains(deleted) { whiteouts.append(deleted) }
            section("rootfs", critical: true, rank: 2, dir: "rootfs")
            if last == ".wh..wh..opq", !has("rootfs/tree/" + dir) {
                add(TarHeader(path: dir, type: .directory, mode: 0o755), path: "rootfs/tree/" + dir, root: "rootfs/tree",
                    data: [])
            }
            return
        }
        section("rootfs", critical: true, rank: 2, dir: "rootfs")
        let link = n.header.type == .hardLink ? Self.normalise(n.header.linkName).map { "rootfs/tree/" + $0 } : nil
        add(n.header, path: "rootfs/tree/" + p, root: "rootfs/tree", data: n.data, link: link)
    }

    // MARK: - End

    mutating func finish(profile: CheckpointProfile, compression: String) -> [TreeEntry] {
        let impliedList = implied.filter { impliedSet.contains($0) }
        if !whiteouts.isEmpty { add(listHeader(), path: "rootfs/deleted.files", root: "rootfs", data: goList(whiteouts)) }
        if !impliedList.isEmpty {
            add(listHeader(), path: "rootfs/implied.dirs", root: "rootfs", data: goList(impliedList))
        }
        let ordered = sections.values.sorted { a, b in
            a.rank != b.rank ? a.rank < b.rank : Array(a.name.utf8).lexicographicallyPrecedes(Array(b.name.utf8))
        }
        let header = "{\"format\":\"checkpoint-archive\",\"version\":2,\"profile\":\(V2TestArchive.json(profile.rawValue)),"
            + "\"compression\":\"\(compression)\",\"framed\":false,\"alignment\":0,\"creator\":\"ckpt\","
            + "\"sections\":[\(ordered.map(\.json).joined(separator: ","))]}\n"
        let bytes = Array(header.utf8)
        put(TreeEntry(path: "cka-header.json", type: "file", mode: 0o644, size: bytes.count,
                      sha256: V2TestArchive.sha256(bytes)))
        return ExpectedTree.sorted(Array(tree.values))
    }

    func listHeader() -> TarHeader { TarHeader(path: "", type: .regular, mode: 0o600) }

    /// `json.MarshalIndent(list, "", "  ")` of a list of plain ASCII paths.
    func goList(_ list: [String]) -> [UInt8] {
        Array(("[\n" + list.map { "  " + V2TestArchive.json($0) }.joined(separator: ",\n") + "\n]").utf8)
    }
}
