import TarFormat

/// The top-level names of v1 archives (table 4.2) and how they map onto the unpacked directory (table 9.1).
public enum V1Names {
    /// Top-level files that go to `metadata/<same name>` (table 5.12).
    public static let metadataFiles: [String] = [
        "config.dump", "spec.dump", "network.status", "stats-dump", "bind.mounts", "status", "status.dump",
        "pod.options", "pod.dump",
    ]
    /// Top-level files that go to `logs/<same name>` (table 5.12).
    public static let logFiles: [String] = ["ctr.log", "dump.log", "container.log", "io.kubernetes.cri-o.LogPath"]
    /// The JSON metadata files of CKA-V1-007 (`stats-dump` is a binary CRIU image).
    public static let jsonMetadataFiles: Set<String> = [
        "config.dump", "spec.dump", "network.status", "bind.mounts", "status", "status.dump", "pod.options",
        "pod.dump",
    ]

    public static let rootfsDiffTar = "rootfs-diff.tar"
    public static let deletedFiles = "deleted.files"
    public static let devShmTar = "devshm-checkpoint.tar"
    public static let volumesDirectory = "volumes"
    public static let artifactsDirectory = "artifacts"
    public static let checkpointDirectory = "checkpoint"
    public static let preCheckpointDirectory = "pre-checkpoint"
    /// The CRI-O log entry: a file literally named after the annotation key (CKA-CRIO-004).
    public static let crioLogPath = "io.kubernetes.cri-o.LogPath"

    /// Every top-level name a v1 reader maps somewhere other than `ext/v1/` (an unknown name is carried
    /// there, CKA-CNV-005).
    public static let known: Set<String> = Set(metadataFiles + logFiles + [
        rootfsDiffTar, deletedFiles, devShmTar, volumesDirectory, artifactsDirectory, checkpointDirectory,
        preCheckpointDirectory,
    ])

    /// Names only one engine writes (table 4.13, "top-level names only this engine writes").
    static let exclusiveNames: [String: CheckpointProfile] = [
        "network.status": .podman, "artifacts": .podman, "ctr.log": .podman, "devshm-checkpoint.tar": .podman,
        "volumes": .podman, "pre-checkpoint": .podman,
        "bind.mounts": .crio, "io.kubernetes.cri-o.LogPath": .crio,
        "status": .containerd, "status.dump": .containerd, "container.log": .containerd,
    ]

    /// Podman's include list (`exportCheckpoint`), for the order signal.
    static let podmanOrder = ["artifacts", "devshm-checkpoint.tar", "config.dump", "spec.dump", "network.status",
                              "stats-dump", "ctr.log", "pre-checkpoint", "checkpoint", "rootfs-diff.tar",
                              "deleted.files", "volumes"]
    /// CRI-O's include list (`exportCheckpoint`), for the order signal.
    static let crioOrder = ["stats-dump", "dump.log", "checkpoint", "config.dump", "spec.dump", "bind.mounts",
                            "rootfs-diff.tar", "deleted.files", "io.kubernetes.cri-o.LogPath"]

    /// Whether `name` can be the `<name>` of `volumes/<name>.tar` (CKA-V1-017 via CKA-V2-022).
    public static func isValidVolumeName(_ name: String) -> Bool { Section.isValidName(name) }
}

/// Entry-name handling shared by the v1 reader and writer (part 2.7 of the specification).
enum V1Path {
    /// A name after stripping one leading `./` and trailing slashes: either the root of its tar (`./`, `.`)
    /// or a relative name.
    enum Normalised: Equatable {
        case root
        case name([UInt8])
    }

    static func normalise(_ raw: [UInt8]) -> Normalised {
        // An absolute name stays as it is, so that `problem` reports it.
        if raw.first == 0x2F { return .name(raw) }
        var n = raw[...]
        if n.count >= 2, n[n.startIndex] == 0x2E, n[n.startIndex + 1] == 0x2F { n = n.dropFirst(2) }
        if n.last == 0x2F { n = n.dropLast() }
        if n.isEmpty || n.elementsEqual([0x2E]) { return .root }
        return .name(Array(n))
    }

    /// Why a normalised name breaks CKA-TAR-034, or nil when it is a valid relative name.
    static func problem(_ name: [UInt8]) -> String? {
        if name.isEmpty { return "empty name" }
        if name.first == 0x2F { return "absolute name" }
        for component in name.split(separator: 0x2F, omittingEmptySubsequences: false) {
            if component.isEmpty { return "empty path component" }
            if component.elementsEqual([0x2E]) { return "'.' path component" }
            if component.elementsEqual([0x2E, 0x2E]) { return "'..' path component" }
        }
        return nil
    }

    static func components(_ name: [UInt8]) -> [ArraySlice<UInt8>] {
        name.split(separator: 0x2F, omittingEmptySubsequences: false)
    }

    /// Depth-first order with siblings in byte order (what `filepath.WalkDir` and `DirectoryScanner` give):
    /// compares names component by component; a directory precedes everything inside it.
    static func walkOrderPrecedes(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        let ca = components(a), cb = components(b)
        for (x, y) in zip(ca, cb) where !x.elementsEqual(y) {
            return x.lexicographicallyPrecedes(y)
        }
        return ca.count < cb.count
    }

    static func string(_ bytes: [UInt8]) -> String { String(decoding: bytes, as: UTF8.self) }
}

/// Container paths in `deleted.files`, `rootfs/implied.dirs` and `bind.mounts` (CKA-SEC-010), with the
/// requirement IDs the v1 profiles use.
public enum V1ContainerPath {
    /// See `ContainerPath.problem`.
    public static func problem(_ path: String) -> String? { ContainerPath.problem(path) }

    /// Parses a JSON array of container paths, validating every element with CKA-SEC-010.
    public static func parseList(_ bytes: [UInt8], entry: String, requirement: String = "CKA-V1-014",
                                 offset: Int64? = nil) throws -> [String] {
        let list = try ContainerPath.parseList(bytes, requirement: requirement, entry: entry, offset: offset)
        for p in list { try ContainerPath.check(p, entry: entry, offset: offset) }
        return list
    }

    /// A path quoted for a message, with control characters escaped.
    static func quoted(_ s: String) -> String { String(decoding: V1JSON.goQuoted(s), as: UTF8.self) }
}
