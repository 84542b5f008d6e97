import ByteStreams
import Compression
import CSysShims
import TarFormat
#if canImport(Glibc)
import Glibc
#endif

/// What each engine profile can express, checked before any byte is written (CKA-CNV-008).
extension V1WritePlan {
    static let profileMetadata: [CheckpointProfile: [String]] = [
        .podman: ["config.dump", "spec.dump", "network.status", "stats-dump"],
        .crio: ["config.dump", "spec.dump", "stats-dump", "bind.mounts"],
        .containerd: ["config.dump", "spec.dump", "stats-dump", "status", "status.dump"],
        .generic: V1Names.metadataFiles,
    ]
    static let profileLogs: [CheckpointProfile: [String]] = [
        .podman: ["ctr.log"],
        .crio: ["dump.log", "io.kubernetes.cri-o.LogPath"],
        .containerd: ["dump.log", "container.log"],
        .generic: V1Names.logFiles,
    ]

    func checkProfile() throws {
        // Names a v1 reader would not map back to the same place.
        for name in metadata where !V1Names.metadataFiles.contains(name) {
            throw CheckpointError("CKA-CNV-008", "a v1 archive has no place for this metadata file", entry: "metadata/" + name)
        }
        for name in logs where !V1Names.logFiles.contains(name) {
            throw CheckpointError("CKA-CNV-008", "a v1 archive has no place for this log file", entry: "logs/" + name)
        }
        let engine = profile != .podman && profile != .generic
        if engine {
            let lacking: [(Bool, String)] = [(checkpointName == V1Names.preCheckpointDirectory, "pre-checkpoint/"),
                                             (hasDevShm, "devshm/"), (!volumes.isEmpty, "volumes/"),
                                             (hasArtifacts, "artifacts/")]
            for (present, what) in lacking where present {
                throw CheckpointError("CKA-CNV-008", "the \(profile.rawValue) profile cannot carry \(what)", entry: what)
            }
        }
        if options.strictLayout {
            let allowedMetadata = Self.profileMetadata[profile] ?? [], allowedLogs = Self.profileLogs[profile] ?? []
            for name in metadata where !allowedMetadata.contains(name) {
                throw CheckpointError("CKA-CNV-008", "\(profile.rawValue) never writes \(name) (strict layout)",
                                      entry: "metadata/" + name)
            }
            for name in logs where !allowedLogs.contains(name) {
                throw CheckpointError("CKA-CNV-008", "\(profile.rawValue) never writes \(name) (strict layout)",
                                      entry: "logs/" + name)
            }
        }
        // The written archive must be detected as the same profile (CKA-V1-019).
        let spec = try Self.readSmall(root + "/metadata/spec.dump", entry: "metadata/spec.dump")
        let manager = try V1ProfileDetector.containerManager(specDump: spec)
        switch profile {
        case .podman where manager != "libpod":
            throw CheckpointError("CKA-POD-002", "spec.dump must have io.container.manager libpod for the podman profile",
                                  entry: "metadata/spec.dump")
        case .crio where manager != "cri-o":
            throw CheckpointError("CKA-CRIO-003", "spec.dump must have io.container.manager cri-o for the cri-o profile",
                                  entry: "metadata/spec.dump")
        case .containerd, .generic:
            if manager == "libpod" || manager == "cri-o" {
                throw CheckpointError("CKA-V1-019", "spec.dump names the engine \(manager!): the archive would be read as "
                                      + "that profile, not \(profile.rawValue)", entry: "metadata/spec.dump")
            }
            if profile == .containerd, !metadata.contains("status.dump") {
                throw CheckpointError("CKA-CTRD-001", "a containerd archive needs status.dump", entry: "metadata/status.dump")
            }
            if profile == .generic, metadata.contains("status.dump") {
                throw CheckpointError("CKA-V1-019", "with status.dump the archive would be read as containerd, not generic",
                                      entry: "metadata/status.dump")
            }
        default:
            break
        }
        if profile == .crio, metadata.contains("bind.mounts") {
            let bytes = try Self.readSmall(root + "/metadata/bind.mounts", entry: "metadata/bind.mounts")
            try V1ReadSession.validateBindMounts(bytes, entry: "metadata/bind.mounts", offset: 0)
        }
        if profile == .containerd {
            for entry in try DirectoryScanner(root: root + "/checkpoint", prefix: "checkpoint/").entries(includeRoot: false)
            where entry.header.type != .regular || entry.header.path.dropFirst("checkpoint/".count).contains("/") {
                throw CheckpointError("CKA-CTRD-007", "containerd's checkpoint/ holds only regular files directly inside it",
                                      entry: entry.header.path)
            }
        }
        // Tree names that read back as whiteouts (CKA-V1-015; containerd cannot express them at all).
        for e in treeEntries {
            let base = e.header.path.split(separator: "/").last.map(String.init) ?? ""
            if base.hasPrefix(".wh.") {
                throw CheckpointError(profile == .containerd ? "CKA-CNV-008" : "CKA-V1-015",
                                      "a rootfs entry whose name starts with .wh. would be a whiteout",
                                      entry: "rootfs/tree/" + e.header.path)
            }
        }
        // v1 restore applies rootfs-diff.tar before deleted.files (CKA-CNV-008, CKA-POD-005).
        if profile != .containerd, !deletedPaths.isEmpty {
            let deleted = Set(deletedPaths)
            for e in treeEntries {
                var p = "/" + e.header.path
                if p.hasSuffix("/") { p.removeLast() }
                var probe = Substring(p)
                while !probe.isEmpty {
                    if deleted.contains(String(probe)) {
                        throw CheckpointError("CKA-CNV-008", "deleted path \(probe) is or contains the tree entry \(p); "
                                              + "\(profile.rawValue) restore would delete it after applying the diff",
                                              entry: "rootfs/deleted.files")
                    }
                    guard let slash = probe.lastIndex(of: "/") else { break }
                    probe = probe[..<slash]
                }
            }
        }
    }
}
