import Foundation

/// CRI-O v1 archives as kubelet's checkpoint API makes CRI-O export them (part 4.14), and the CRI-O rules
/// (CKA-CRIO-002 .. 005) broken one at a time.
enum LegacyCRIO {
    typealias K = LegacyKubeFixtures

    static var group: VectorGroup {
        VectorGroup(name: "v1-cri-o", cases: valid + broken)
    }

    static var valid: [VectorCase] {
        [
            .v1(V1Base.crio, "A typical CRI-O export, uncompressed, in CRI-O's order: stats-dump, dump.log, genuine CRIU images, config.dump (reduced, indented), spec.dump with the CRI-O annotations, bind.mounts, rootfs-diff.tar, deleted.files, and the log copied as io.kubernetes.cri-o.LogPath",
                requirements: ["CKA-V1-018", "CKA-V1-019", "CKA-CRIO-002", "CKA-CRIO-003", "CKA-CRIO-004",
                               "CKA-CRIO-005"]) { K.crio },
            .v1("v1-crio-no-changes", "A CRI-O export of a container without bind mounts or file system changes: no bind.mounts, rootfs-diff.tar or deleted.files",
                requirements: ["CKA-V1-019", "CKA-CRIO-003", "CKA-CRIO-004"]) {
                var a = K.crio
                for name in ["bind.mounts", "rootfs-diff.tar", "deleted.files"] { a.entries.remove(name) }
                return a
            },
        ]
    }

    /// A change of `v1-crio`.
    static func crio(_ id: String, _ description: String, result: VectorCase.Result = .invalid, breaks: [String],
                     _ mutate: @escaping (inout V1TestArchive) -> Void) -> VectorCase {
        .v1Changed(id, description, result: result, breaks: breaks, base: V1Base.crio, from: { K.crio }, mutate)
    }

    static var broken: [VectorCase] {
        [
            crio("v1-crio-gzip", "A CRI-O archive re-packed with gzip (CRI-O never compresses; outer compression also points to Podman)",
                 result: .acceptable, breaks: ["CKA-V1-020", "CKA-CRIO-002"]) { $0.compression = .gzip },
            crio("v1-crio-annotations-not-json", "The annotation io.kubernetes.cri-o.Annotations is not JSON (CRI-O restore fails to unmarshal it)",
                 breaks: ["CKA-CRIO-003"]) {
                $0.entries.update("spec.dump") {
                    $0.data = Array(K.crioSpec(annotations: K.crioAnnotations.replacingFirst(
                        "\"{\\\"io.kubernetes.container.hash\\\":\\\"2b3f9c1e\\\"}\"", with: "\"2b3f9c1e\"")).utf8)
                }
            },
            crio("v1-crio-annotations-array", "The annotation io.kubernetes.cri-o.Annotations holds a JSON array, not an object",
                 breaks: ["CKA-CRIO-003"]) {
                $0.entries.update("spec.dump") {
                    $0.data = Array(K.crioSpec(annotations: K.crioAnnotations.replacingFirst(
                        "\"{\\\"io.kubernetes.container.hash\\\":\\\"2b3f9c1e\\\"}\"", with: "\"[\\\"2b3f9c1e\\\"]\"")).utf8)
                }
            },
            crio("v1-crio-log-directory", "io.kubernetes.cri-o.LogPath is a directory, not the copied log file",
                 breaks: ["CKA-CRIO-004"]) {
                $0.entries.update("io.kubernetes.cri-o.LogPath") { $0 = .dir("io.kubernetes.cri-o.LogPath/", mode: 0o755) }
            },
            crio("v1-crio-log-symlink", "io.kubernetes.cri-o.LogPath is a symbolic link to the host's log file",
                 breaks: ["CKA-CRIO-004"]) {
                $0.entries.update("io.kubernetes.cri-o.LogPath") {
                    $0 = .link("io.kubernetes.cri-o.LogPath", to: K.logPath)
                }
            },
            crio("v1-crio-network-status", "A CRI-O archive with Podman's network.status", result: .acceptable,
                 breaks: ["CKA-V1-020", "CKA-CRIO-005"]) {
                $0.entries.insert([.file("network.status", LegacyPodmanFixtures.networkStatus)], after: "bind.mounts")
            },
            crio("v1-crio-artifacts", "A CRI-O archive with Podman's artifacts/ directory", result: .acceptable,
                 breaks: ["CKA-V1-020", "CKA-CRIO-005"]) {
                $0.entries.append(.dir("artifacts/"))
            },
        ]
    }
}

extension String {
    /// The string with the first occurrence of `target` replaced (it must occur).
    func replacingFirst(_ target: String, with replacement: String) -> String {
        guard let r = range(of: target) else { preconditionFailure("'\(target)' not in the fixture") }
        return replacingCharacters(in: r, with: replacement)
    }
}
