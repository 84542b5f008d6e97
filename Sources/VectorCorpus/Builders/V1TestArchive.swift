import ByteStreams
import CheckpointArchive
import Compression
import Foundation
import TarFormat

/// A v1 archive built entry by entry with `TarWriter`: the outer entries in the order given (the engine's order is
/// the fixture's business), nested tars built from their descriptions, then the outer compression.
///
/// Moved here from the conformance tests so that the rule-trigger fixtures and the golden v1 vectors share one
/// builder; the static helpers below are the ones those tests use (`V1TestArchive.podman()`, `.file`, ...).
public struct V1TestArchive {
    /// The outer entries, in order.
    public var entries: [V1TestEntry]
    /// The compression of the outer stream (Podman's `--compress`).
    public var compression: CompressionFormat

    public init(_ entries: [V1TestEntry] = [], compression: CompressionFormat = .none) {
        self.entries = entries
        self.compression = compression
    }

    /// The uncompressed outer tar stream.
    public func tarStream() throws -> [UInt8] { try Self.tar(entries) }

    /// The archive file: the tar stream compressed as `compression` says.
    public func build() throws -> [UInt8] {
        let tar = try tarStream()
        return compression == .none ? tar : try Self.compress(tar, compression)
    }

    /// The profile of CKA-V1-019, decided from the description: `podman` if `spec.dump`'s annotation
    /// `io.container.manager` is `libpod`, `cri-o` if it is `cri-o`, otherwise `containerd` if there is a top-level
    /// `status.dump`, otherwise `generic`.
    public var profile: CheckpointProfile {
        func top(_ e: V1TestEntry) -> String {
            var p = e.header.path
            if p.hasPrefix("./") { p.removeFirst(2) }
            return String(p.split(separator: "/", omittingEmptySubsequences: false).first ?? "")
        }
        let spec = entries.first { top($0) == "spec.dump" && $0.header.type.isRegularFile }
        let object = spec.flatMap { try? JSONSerialization.jsonObject(with: Data($0.data)) as? [String: Any] }
        switch (object?["annotations"] as? [String: Any])?["io.container.manager"] as? String {
        case "libpod": return .podman
        case "cri-o": return .crio
        default: return entries.contains { top($0) == "status.dump" } ? .containerd : .generic
        }
    }

    // MARK: - Building blocks

    /// An outer or nested entry.
    public typealias Entry = V1TestEntry

    /// A regular file holding `content` (UTF-8).
    public static func file(_ name: String, _ content: String, mode: Int64 = 0o600) -> Entry {
        .file(name, content, mode: mode)
    }

    /// A regular file holding `bytes`.
    public static func file(_ name: String, bytes: [UInt8], mode: Int64 = 0o600) -> Entry { .bytes(name, bytes, mode: mode) }

    /// A directory (`name` should end in `/`).
    public static func dir(_ name: String, mode: Int64 = 0o755) -> Entry { .dir(name, mode: mode) }

    /// A symbolic link (or a hard link) to `target`.
    public static func link(_ name: String, to target: String, type: TarEntryType = .symbolicLink) -> Entry {
        .link(name, to: target, type: type)
    }

    /// A tar stream of the entries (nested tars built from their descriptions), ended by two zero blocks.
    public static func tar(_ entries: [Entry]) throws -> [UInt8] {
        let sink = MemorySink()
        let w = try TarWriter(sink: sink)
        for e in entries { try w.writeEntry(e.header, data: try e.content()) }
        try w.finish()
        return sink.bytes
    }

    /// `bytes` gzip-compressed by this package's encoder.
    public static func gzip(_ bytes: [UInt8]) throws -> [UInt8] { try compress(bytes, .gzip) }

    /// `bytes` compressed by this package's encoder for `format`.
    public static func compress(_ bytes: [UInt8], _ format: CompressionFormat) throws -> [UInt8] {
        let sink = MemorySink()
        let encoder = try format.makeEncoder(sink)
        try bytes.withUnsafeBytes { try encoder.write($0) }
        try encoder.finish()
        return sink.bytes
    }

    // MARK: - Small fixtures of the rule tests

    /// A CRIU `stats-dump` with an empty payload.
    public static let statsDump: [UInt8] = [0x40, 0x59, 0x10, 0x55, 0x06, 0x33, 0x09, 0x57, 0, 0, 0, 0]
    /// The start of a CRIU inventory image (its magic and a length).
    public static let inventory: [UInt8] = [0x16, 0x31, 0x31, 0x58, 0x24, 0, 0, 0]

    /// A minimal libpod `config.dump` (compact).
    public static let podmanConfig = #"{"id":"0123abcd","name":"demo","rootfsImageID":"abc"}"#
    /// A minimal Podman `spec.dump`.
    public static let podmanSpec = #"{"ociVersion":"1.2.0","annotations":{"io.container.manager":"libpod"}}"#
    /// A minimal reduced, indented `config.dump` (CRI-O).
    public static let crioConfig = """
    {
      "id": "c0ffee",
      "name": "counter",
      "checkpointedTime": "2024-01-01T00:01:00Z"
    }
    """
    /// A minimal CRI-O `spec.dump` with the CRI-O annotations.
    public static let crioSpec = #"{"ociVersion":"1.2.0","annotations":{"io.container.manager":"cri-o","io.kubernetes.cri-o.Metadata":"{}","io.kubernetes.cri-o.Annotations":"{\"a\":\"b\"}"}}"#
    /// A minimal reduced, compact `config.dump` (containerd).
    public static let containerdConfig = #"{"id":"c0ffee","name":"ctr","checkpointedTime":"2024-01-01T00:01:00Z"}"#
    /// A minimal containerd `spec.dump` (CRI annotations, no `io.container.manager`).
    public static let containerdSpec = #"{"ociVersion":"1.1.0","annotations":{"io.kubernetes.cri.container-name":"ctr"}}"#

    /// Podman's include list (`exportCheckpoint`), CKA-POD-001.
    public static let podmanOrder = ["artifacts", "devshm-checkpoint.tar", "config.dump", "spec.dump", "network.status",
                                     "stats-dump", "ctr.log", "pre-checkpoint", "checkpoint", "rootfs-diff.tar",
                                     "deleted.files", "volumes"]
    /// CRI-O's include list (`exportCheckpoint`), CKA-CRIO-001.
    public static let crioOrder = ["stats-dump", "dump.log", "checkpoint", "config.dump", "spec.dump", "bind.mounts",
                                   "rootfs-diff.tar", "deleted.files", "io.kubernetes.cri-o.LogPath"]

    /// The entries in an engine's order of top-level names (stable; names the list lacks go last).
    public static func ordered(_ entries: [Entry], by order: [String]) -> [Entry] {
        func rank(_ e: Entry) -> Int {
            let top = e.header.path.split(separator: "/").first.map(String.init) ?? ""
            return order.firstIndex(of: top) ?? order.count
        }
        return entries.enumerated().sorted { (rank($0.element), $0.offset) < (rank($1.element), $1.offset) }
            .map(\.element)
    }

    /// A valid Podman archive with `extra` entries, in Podman's include-list order.
    public static func podman(_ extra: [Entry] = [], spec: String = podmanSpec, config: String = podmanConfig) throws
        -> [UInt8] {
        try tar(ordered([file("config.dump", config), file("spec.dump", spec), dir("checkpoint/"),
                         file("checkpoint/inventory.img", bytes: inventory)] + extra, by: podmanOrder))
    }

    /// A valid CRI-O archive with `extra` entries, in CRI-O's order.
    public static func crio(_ extra: [Entry] = [], spec: String = crioSpec) throws -> [UInt8] {
        try tar(ordered([dir("checkpoint/"), file("checkpoint/inventory.img", bytes: inventory),
                         file("config.dump", crioConfig), file("spec.dump", spec)] + extra, by: crioOrder))
    }

    /// A gzip OCI layer holding `entries`.
    public static func layer(_ entries: [Entry]) throws -> [UInt8] { try gzip(try tar(entries)) }

    /// A valid containerd archive (lexical order); `rootfs` nil leaves out rootfs-diff.tar.
    public static func containerd(rootfs: [UInt8]? = nil, extra: [Entry] = [], statusDump: Bool = true) throws -> [UInt8] {
        var entries: [Entry] = [dir("checkpoint/"), file("checkpoint/inventory.img", bytes: inventory),
                                file("config.dump", containerdConfig)]
        if let rootfs { entries.append(file("rootfs-diff.tar", bytes: rootfs, mode: 0o644)) }
        entries.append(file("spec.dump", containerdSpec))
        if statusDump { entries.append(file("status.dump", #"{"id":"c0ffee"}"#)) }
        return try tar(entries + extra)
    }
}
