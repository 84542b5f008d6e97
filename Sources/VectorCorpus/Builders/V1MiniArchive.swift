import ByteStreams
import Compression
import TarFormat

/// One entry of a hand-built v1 archive, written from raw header fields (`TarTestHeader`) so that GNU, V7, pax
/// and base-256 variants can be written, with the facts the expected tree needs kept beside them: `name`, `mode`,
/// `uid`, `gid`, `data`. A nested tar is given by its entries (`nested`).
public struct V1MiniEntry {
    /// The name readers see (the GNU long name or pax path when the header's name field differs).
    public var name: String
    public var header: TarTestHeader
    public var data: [UInt8]
    /// Raw blocks written before the header (GNU `L`/`K`, pax `x` or `g` headers), padded.
    public var extended: [UInt8] = []
    /// The entries of a nested tar; its tar stream becomes `data` (gzip-compressed when `nestedCompression`).
    public var nested: [V1MiniEntry]?
    public var nestedCompression: CompressionFormat = .none
    /// The target of a symbolic link as the expected tree shows it.
    public var linkTarget: String?

    var mode: Int { Int(header.mode.prefix(7).filter(\.isNumber), radix: 8) ?? 0 }
    var uid: Int { Int(header.uid.prefix(7).filter(\.isNumber), radix: 8) ?? 0 }
    var gid: Int { Int(header.gid.prefix(7).filter(\.isNumber), radix: 8) ?? 0 }
    var isDirectory: Bool { header.type == 0x35 }

    /// A regular file.
    public static func file(_ name: String, _ data: [UInt8], mode: Int = 0o600, uid: Int = 0) -> V1MiniEntry {
        var h = TarTestHeader(name)
        h.mode = TarTestHeader.octal(mode, digits: 7) + "\0"
        h.uid = TarTestHeader.octal(uid, digits: 7) + "\0"
        h.gid = h.uid
        return V1MiniEntry(name: name, header: h, data: data)
    }

    public static func file(_ name: String, _ text: String, mode: Int = 0o600, uid: Int = 0) -> V1MiniEntry {
        file(name, Array(text.utf8), mode: mode, uid: uid)
    }

    /// A directory (`name` as written, usually with a trailing `/`).
    public static func dir(_ name: String, mode: Int = 0o755, uid: Int = 0) -> V1MiniEntry {
        var e = file(name, [], mode: mode, uid: uid)
        e.header.type = 0x35
        return e
    }

    /// A nested tar named `name` holding `entries`; 0644 as Podman writes its nested tars (CKA-V1-009).
    public static func tar(_ name: String, _ entries: [V1MiniEntry], mode: Int = 0o644) -> V1MiniEntry {
        var e = file(name, [], mode: mode)
        e.nested = entries
        return e
    }

    /// The entry as tar blocks.
    public func bytes() throws -> [UInt8] {
        var content = data
        if let nested {
            let stream = try V1MiniArchive.stream(nested)
            content = nestedCompression == .none ? stream : try V1MiniArchive.compress(stream, nestedCompression)
        }
        return extended + TarTestStream.entry(header, content)
    }
}

/// A minimal Podman-shaped v1 archive for the tar-layer, compression and hostile vectors: `devshm-checkpoint.tar`,
/// `config.dump`, `spec.dump`, `checkpoint/` with a genuine CRIU inventory and `rootfs-diff.tar`, in Podman's
/// order, with raw control over every header. The full v1 corpus (every engine profile) has builders of its own;
/// this one only knows the names it uses.
///
/// The expected tree follows part 9 of the specification: metadata files under `metadata/`, `devshm-checkpoint.tar`
/// into `devshm/` with the attributes of its `./` entry, `rootfs-diff.tar` into `rootfs/tree/` (every parent
/// given, so no `rootfs/implied.dirs`), ownership outside rootfs and devshm being the extracting user's (root, 0),
/// and a `cka-header.json` naming the profile, the compression and the sections (CKA-DIR-001).
public struct V1MiniArchive {
    public var entries: [V1MiniEntry] = V1MiniArchive.podman
    public var compression: CompressionFormat = .none
    /// The end of the tar stream: two zero blocks unless changed.
    public var end: [UInt8] = TarTestStream.end
    /// Bytes after `end` in the tar stream (before compression).
    public var trailing: [UInt8] = []
    /// Bytes after the compressed file (another gzip member or zstd frame).
    public var appended: [UInt8] = []

    public init() {}

    public static let podmanConfig = #"{"id":"0123abcd","name":"demo","rootfsImageID":"abc"}"#
    public static let podmanSpec = #"{"ociVersion":"1.2.0","annotations":{"io.container.manager":"libpod"}}"#

    /// The entries of the minimal Podman archive.
    public static var podman: [V1MiniEntry] {
        [
            .tar("devshm-checkpoint.tar", [.dir("./", mode: 0o1777), .file("./shm-1", "shm\n", mode: 0o644, uid: 1000)]),
            .file("config.dump", podmanConfig),
            .file("spec.dump", podmanSpec),
            .dir("checkpoint/"),
            .file("checkpoint/inventory.img", CRIUImages.images["inventory.img"]!),
            .tar("rootfs-diff.tar", [.dir("etc/"), .file("etc/app.conf", "x=1\n", mode: 0o644, uid: 1000)], mode: 0o644),
        ]
    }

    /// The tar stream of `entries` followed by two zero blocks.
    public static func stream(_ entries: [V1MiniEntry]) throws -> [UInt8] {
        try entries.flatMap { try $0.bytes() } + TarTestStream.end
    }

    public static func compress(_ bytes: [UInt8], _ format: CompressionFormat) throws -> [UInt8] {
        let sink = MemorySink()
        let encoder = try format.makeEncoder(sink)
        try encoder.write(bytes)
        try encoder.finish()
        return sink.bytes
    }

    /// The uncompressed tar stream.
    public func tar() throws -> [UInt8] { try entries.flatMap { try $0.bytes() } + end + trailing }

    /// The archive file.
    public func build() throws -> [UInt8] {
        let t = try tar()
        return (compression == .none ? t : try Self.compress(t, compression)) + appended
    }

    /// The offset in the tar stream of the header block of the entry named `name` (after its extended headers).
    public func headerOffset(_ name: String) throws -> Int {
        var at = 0
        for e in entries {
            if e.name == name { return at + e.extended.count }
            at += try e.bytes().count
        }
        throw VectorError("no entry \(name)")
    }

    /// Changes the entry named `name` (it must exist).
    public mutating func update(_ name: String, _ change: (inout V1MiniEntry) -> Void) {
        change(&entries[entries.firstIndex { $0.name == name }!])
    }

    /// The unpacked directory `ckpt extract` must make of the archive.
    public func tree() -> [TreeEntry] {
        var out: [TreeEntry] = []
        var sections: [String] = []
        func file(_ path: String, _ e: V1MiniEntry, owner: Bool) {
            if let target = e.linkTarget {
                out.append(TreeEntry(path: path, type: "symlink", mode: e.mode & 0o7777, uid: owner ? e.uid : 0,
                                     gid: owner ? e.gid : 0, linkTarget: target))
                return
            }
            out.append(TreeEntry(path: path, type: e.isDirectory ? "dir" : "file", mode: e.mode & 0o7777,
                                 uid: owner ? e.uid : 0, gid: owner ? e.gid : 0,
                                 size: e.isDirectory ? nil : e.data.count,
                                 sha256: e.isDirectory ? nil : V2TestArchive.sha256(e.data)))
        }
        for e in entries {
            let name = e.name.hasSuffix("/") ? String(e.name.dropLast()) : e.name
            switch name {
            case "config.dump", "spec.dump":
                if !sections.contains("metadata") {
                    sections.append("metadata")
                    out.append(TreeEntry(path: "metadata", type: "dir", mode: 0o755))
                }
                file("metadata/" + name, e, owner: false)
            case "devshm-checkpoint.tar":
                sections.append("devshm")
                for n in e.nested ?? [] {
                    let inner = n.name.hasPrefix("./") ? String(n.name.dropFirst(2)) : n.name
                    let path = inner.isEmpty ? "devshm" : "devshm/" + (inner.hasSuffix("/") ? String(inner.dropLast()) : inner)
                    file(path, n, owner: true)
                }
            case "rootfs-diff.tar":
                sections.append("rootfs")
                out += [TreeEntry(path: "rootfs", type: "dir", mode: 0o755), TreeEntry(path: "rootfs/tree", type: "dir", mode: 0o755)]
                for n in e.nested ?? [] {
                    let inner = n.name.hasSuffix("/") ? String(n.name.dropLast()) : n.name
                    file("rootfs/tree/" + inner, n, owner: true)
                }
            default:
                if name == "checkpoint" { sections.append("checkpoint") }
                file(name, e, owner: false)
            }
        }
        let order = ["metadata", "checkpoint", "rootfs", "devshm"]
        let list = order.filter(sections.contains).map { "{\"kind\":\"\($0)\",\"critical\":true}" }
        let header = Array(("{\"format\":\"checkpoint-archive\",\"version\":2,\"profile\":\"podman\",\"compression\":"
            + "\"\(compression.rawValue)\",\"framed\":false,\"alignment\":0,\"creator\":\"ckpt\",\"sections\":["
            + list.joined(separator: ",") + "]}\n").utf8)
        out.append(TreeEntry(path: "cka-header.json", type: "file", mode: 0o644, size: header.count,
                             sha256: V2TestArchive.sha256(header)))
        return ExpectedTree.sorted(out)
    }
}

extension V1MiniArchive {
    /// The id of the valid case of the minimal Podman archive, uncompressed.
    public static let baseID = "v1-tar-podman"
}
