import CheckpointArchive
import Compression
import TarFormat

/// The rules of part 4 that need the whole archive and its profile, evaluated once `V1Reader` has read it:
/// CKA-V1-016 and CKA-V1-020, and the Podman, CRI-O and containerd rules. One function per requirement.
struct V1ProfileRules {
    let collector: DiagnosticCollector
    let summary: V1ReadSummary
    /// The profile whose rules apply: detected (CKA-V1-019) or forced by the caller.
    let profile: CheckpointProfile
    let facts: V1StreamFacts
    /// The JSON metadata files by their v1 name.
    let metadata: [String: [UInt8]]

    /// Top-level JSON type of each metadata file of CKA-V1-007 (table 4.2).
    static let jsonTypes: [String: String] = [
        "config.dump": "object", "spec.dump": "object", "network.status": "object", "deleted.files": "array",
        "bind.mounts": "array", "status": "object", "status.dump": "object", "pod.options": "object",
        "pod.dump": "object",
    ]

    var topLevelNames: [String] { summary.signals.topLevelNames }

    func has(_ name: String) -> Bool { topLevelNames.contains(name) }

    func offset(_ name: String) -> Int64? { facts.topLevelOffsets[name] }

    func run() {
        collector.ran("CKA-V1-016", "CKA-V1-020")
        checkSignalsAgree()
        checkNestedCompression()
        switch profile {
        case .podman:
            collector.ran("CKA-POD-002", "CKA-POD-003", "CKA-POD-004", "CKA-POD-006")
            checkNamedVolumes()
            checkPodmanManager()
            checkPodmanDevShmAndVolumeNames()
            checkPodmanRootfsDiffNames()
            checkPodmanDumpLog()
        case .crio:
            collector.ran("CKA-CRIO-002", "CKA-CRIO-003", "CKA-CRIO-004", "CKA-CRIO-005")
            checkCRIOCompression()
            checkCRIOAnnotations()
            checkCRIOForeignNames()
        case .containerd:
            collector.ran("CKA-CTRD-001", "CKA-CTRD-003", "CKA-CTRD-004", "CKA-CTRD-005", "CKA-CTRD-007")
            checkContainerdStatusDump()
            checkContainerdDeletedFiles()
            checkContainerdLayer()
            checkContainerdCheckpointEntries()
        case .generic:
            break
        }
    }

    // MARK: - Common

    /// CKA-V1-020: each secondary signal of table 4.13 should point to the profile applied.
    func checkSignalsAgree() {
        guard profile != .generic else { return }
        for e in summary.detection.evidence where !e.engines.contains(profile) {
            let engines = e.engines.isEmpty ? "no known engine" : e.engines.map(\.rawValue).sorted().joined(separator: ", ")
            collector.report("CKA-V1-020", "\(e.signal) points to \(engines), but the archive's profile is \(profile.rawValue)")
        }
    }

    /// CKA-CMP-013: only containerd's `rootfs-diff.tar` is compressed (the reader refuses other compressed
    /// nested tars itself).
    func checkNestedCompression() {
        guard let c = summary.signals.rootfsDiffCompression, c != .none, profile != .containerd else { return }
        collector.report("CKA-CMP-013", "rootfs-diff.tar is \(c)-compressed, which only the containerd profile allows "
                         + "(this archive's profile is \(profile.rawValue))", path: V1Names.rootfsDiffTar,
                         offset: offset(V1Names.rootfsDiffTar))
    }

    // MARK: - Podman

    /// CKA-V1-016: a `volumes/<name>.tar` for every `namedVolumes` element of a Podman archive.
    func checkNamedVolumes() {
        guard let config = metadata["config.dump"] else { return }
        for v in V1MetadataJSON.namedVolumes(configDump: config) where !facts.volumeTars.contains(v) {
            collector.report("CKA-V1-016", "config.dump names the volume \(v) but the archive has no volumes/\(v).tar "
                             + "(restore fails unless --ignore-volumes)", path: "config.dump", offset: offset("config.dump"))
        }
    }

    /// CKA-POD-002: `io.container.manager` is `libpod`.
    func checkPodmanManager() {
        let m = summary.signals.containerManager
        if m != "libpod" {
            collector.report("CKA-POD-002", "spec.dump annotation io.container.manager is "
                             + (m.map { "\"\($0)\"" } ?? "absent") + ", not \"libpod\"", path: "spec.dump",
                             offset: offset("spec.dump"))
        }
    }

    /// CKA-POD-003: `devshm-checkpoint.tar` and `volumes/<name>.tar` start with the directory `./` and name
    /// everything else `./<path>`.
    func checkPodmanDevShmAndVolumeNames() {
        for (label, names) in facts.nested where label != V1Names.rootfsDiffTar {
            if let first = names.first {
                if first.name != "./" || first.type != .directory {
                    collector.report("CKA-POD-003", "the first entry is '\(first.name)' (\(first.type)), not the "
                                     + "directory './'", path: "\(label): \(first.name)", offset: first.offset)
                }
            } else {
                collector.report("CKA-POD-003", "the nested tar has no entries, not even its './' directory", path: label,
                                 offset: offset(label))
            }
            for e in names.withoutDotSlash {
                collector.report("CKA-POD-003", "entry name '\(e.name)' is not of the form './<path>'",
                                 path: "\(label): \(e.name)", offset: e.offset)
            }
        }
    }

    /// CKA-POD-004: `rootfs-diff.tar` names are relative without `./`.
    func checkPodmanRootfsDiffNames() {
        for (label, names) in facts.nested where label == V1Names.rootfsDiffTar {
            for e in names.withDotSlash {
                collector.report("CKA-POD-004", "entry name '\(e.name)' has a './' prefix", path: "\(label): \(e.name)",
                                 offset: e.offset)
            }
        }
    }

    /// CKA-POD-006: Podman does not export `dump.log`.
    func checkPodmanDumpLog() {
        if has("dump.log") {
            collector.report("CKA-POD-006", "a Podman archive with dump.log (Podman does not export it)", path: "dump.log",
                             offset: offset("dump.log"))
        }
    }

    // MARK: - CRI-O

    /// CKA-CRIO-002: CRI-O archives are uncompressed.
    func checkCRIOCompression() {
        if summary.compression != .none {
            collector.report("CKA-CRIO-002", "a CRI-O archive compressed with \(summary.compression) (CRI-O never "
                             + "compresses; it was re-packed)", offset: 0)
        }
    }

    /// CKA-CRIO-003: `io.container.manager` is `cri-o`; `io.kubernetes.cri-o.Annotations` holds a JSON object.
    func checkCRIOAnnotations() {
        let m = summary.signals.containerManager
        if m != "cri-o" {
            collector.report("CKA-CRIO-003", "spec.dump annotation io.container.manager is "
                             + (m.map { "\"\($0)\"" } ?? "absent") + ", not \"cri-o\"", path: "spec.dump",
                             offset: offset("spec.dump"))
        }
        guard let spec = metadata["spec.dump"], let annotations = V1MetadataJSON.annotations(specDump: spec),
              let a = annotations.last(where: { $0.key == "io.kubernetes.cri-o.Annotations" }) else { return }
        if !(a.value.map(V1MetadataJSON.isObject) ?? false) {
            collector.report("CKA-CRIO-003", "annotation io.kubernetes.cri-o.Annotations does not hold a JSON object "
                             + "(CRI-O restore fails to unmarshal it)", path: "spec.dump", offset: offset("spec.dump"))
        }
    }

    /// CKA-CRIO-005: names CRI-O never writes.
    func checkCRIOForeignNames() {
        for name in ["network.status", V1Names.devShmTar, V1Names.volumesDirectory, V1Names.artifactsDirectory]
        where has(name) {
            collector.report("CKA-CRIO-005", "a CRI-O archive with \(name) (CRI-O does not write it)", path: name,
                             offset: offset(name))
        }
    }

    // MARK: - containerd

    /// CKA-CTRD-001: `status.dump` is present.
    func checkContainerdStatusDump() {
        if !has("status.dump") {
            collector.report("CKA-CTRD-001", "a containerd archive without status.dump (containerd restore fails)")
        }
    }

    /// CKA-CTRD-003: no `deleted.files` (deletions are whiteouts in the layer).
    func checkContainerdDeletedFiles() {
        if has(V1Names.deletedFiles) {
            collector.report("CKA-CTRD-003", "a containerd archive with deleted.files", path: V1Names.deletedFiles,
                             offset: offset(V1Names.deletedFiles))
        }
    }

    /// CKA-CTRD-004: `rootfs-diff.tar` is a gzip-compressed OCI layer.
    func checkContainerdLayer() {
        guard let c = summary.signals.rootfsDiffCompression, c != .gzip else { return }
        collector.report("CKA-CTRD-004", "rootfs-diff.tar is " + (c == .none ? "a plain tar" : "\(c)-compressed")
                         + ", not a gzip-compressed OCI layer", path: V1Names.rootfsDiffTar,
                         offset: offset(V1Names.rootfsDiffTar))
    }

    /// CKA-CTRD-007: only regular files directly under `checkpoint/`.
    func checkContainerdCheckpointEntries() {
        for e in facts.checkpointEntries where e.name.hasPrefix("checkpoint/") {
            let depth = e.name.split(separator: "/").count
            let isFile = e.type == .regular || e.type == .regularLegacy
            if !isFile || depth != 2 {
                collector.report("CKA-CTRD-007", "'\(e.name)' (\(e.type)) is not a regular file directly under checkpoint/",
                                 path: e.name, offset: e.offset)
            }
        }
    }
}
