import Foundation

/// The common v1 rules (CKA-V1-001 .. 021) broken one at a time, each a minimal change of the typical Podman export
/// (`v1-podman`) or of a Podman case with the part the rule is about.
enum LegacyCommon {
    typealias F = LegacyPodmanFixtures

    static var group: VectorGroup {
        VectorGroup(name: "v1-common", cases: required + content + warnings)
    }

    /// A change of `v1-podman`.
    static func podman(_ id: String, _ description: String, result: VectorCase.Result = .invalid, breaks: [String],
                       flags: [VectorFlag] = [], _ mutate: @escaping (inout V1TestArchive) -> Void) -> VectorCase {
        .v1Changed(id, description, result: result, breaks: breaks, flags: flags, base: V1Base.podman,
                   from: { F.typical() }, mutate)
    }

    /// What every importer needs: config.dump, spec.dump, one CRIU image directory with inventory.img.
    static var required: [VectorCase] {
        [
            podman("v1-no-config-dump", "config.dump is missing (every engine's import fails without it)",
                   breaks: ["CKA-V1-001"]) { $0.entries.remove("config.dump") },
            podman("v1-no-spec-dump", "spec.dump is missing", breaks: ["CKA-V1-001"]) { $0.entries.remove("spec.dump") },
            podman("v1-config-dump-not-json", "config.dump is cut in the middle of its JSON text",
                   breaks: ["CKA-V1-001"]) { $0.entries.update("config.dump") { $0.data = Array($0.data.prefix(60)) } },
            podman("v1-spec-dump-array", "spec.dump is a JSON array, not an object", breaks: ["CKA-V1-001"]) {
                $0.entries.update("spec.dump") { $0.data = Array("[]".utf8) }
            },
            podman("v1-config-dump-directory", "config.dump is a directory", breaks: ["CKA-V1-001"]) {
                $0.entries.update("config.dump") { $0 = .dir("config.dump/", mode: 0o700) }
            },
            podman("v1-no-checkpoint-directory", "Neither checkpoint/ nor pre-checkpoint/", breaks: ["CKA-V1-002"]) {
                $0.entries.remove("checkpoint/", subtree: true)
            },
            podman("v1-checkpoint-and-pre-checkpoint", "Both checkpoint/ and pre-checkpoint/", breaks: ["CKA-V1-002"]) {
                $0.entries.insert(LegacyFixtures.preCheckpoint, before: "checkpoint/")
            },
            podman("v1-checkpoint-file", "checkpoint is a regular file instead of the CRIU image directory",
                   breaks: ["CKA-V1-002"]) {
                $0.entries.remove("checkpoint/", subtree: true)
                $0.entries.insert([.bytes("checkpoint", V2Fixtures.image("inventory.img"))], after: "ctr.log")
            },
            podman("v1-no-inventory", "checkpoint/ without inventory.img (\"a complete checkpoint for this container cannot be found\")",
                   breaks: ["CKA-V1-003"]) { $0.entries.remove("checkpoint/inventory.img") },
        ]
    }

    /// The content rules: nested tars, JSON metadata, config.dump members, checkpoint/ entries, deleted.files,
    /// whiteouts, volume names.
    static var content: [VectorCase] {
        [
            podman("v1-rootfs-diff-directory", "rootfs-diff.tar is a directory, not a nested tar", breaks: ["CKA-V1-006"]) {
                $0.entries.update("rootfs-diff.tar") { $0 = .dir("rootfs-diff.tar/") }
            },
            podman("v1-network-status-array", "network.status holds a JSON array, not an object", breaks: ["CKA-V1-007"]) {
                $0.entries.update("network.status") { $0.data = Array("[]".utf8) }
            },
            podman("v1-network-status-not-json", "network.status is not a JSON text", breaks: ["CKA-V1-007"]) {
                $0.entries.update("network.status") { $0.data = Array("{\n  \"podman\": {".utf8) }
            },
            podman("v1-annotations-not-strings", "spec.dump annotations hold a boolean value", breaks: ["CKA-V1-008"]) {
                $0.entries.update("spec.dump") {
                    $0.data = Array(F.spec(annotations: "\"io.container.manager\": \"libpod\",\n    \"io.podman.annotations.init\": true").utf8)
                }
            },
            podman("v1-config-dump-no-name", "config.dump has no name member", breaks: ["CKA-V1-010"]) {
                $0.entries.update("config.dump") { $0.data = Array(F.config().replacingOccurrences(of: "  \"name\": \"counter\",\n", with: "").utf8) }
            },
            podman("v1-config-dump-id-number", "config.dump has a numeric id", breaks: ["CKA-V1-010"]) {
                $0.entries.update("config.dump") {
                    $0.data = Array(F.config().replacingOccurrences(of: "\"id\": \"\(F.id)\"", with: "\"id\": 4242").utf8)
                }
            },
            podman("v1-checkpoint-symlink", "A symbolic link under checkpoint/ other than parent", breaks: ["CKA-V1-012"],
                   flags: [.linkEscape]) {
                $0.entries.insert([.link("checkpoint/latest", to: "/var/lib/containers/storage/core-1.img")],
                                  after: "checkpoint/inventory.img")
            },
            podman("v1-checkpoint-parent-elsewhere", "checkpoint/parent points somewhere other than ../pre-checkpoint",
                   breaks: ["CKA-V1-012"], flags: [.linkEscape]) {
                $0.entries.insert([.link("checkpoint/parent", to: "/var/lib/containers/pre")], after: "checkpoint/pages-1.img")
            },
            podman("v1-checkpoint-hard-link", "A hard link under checkpoint/", breaks: ["CKA-V1-012"]) {
                $0.entries.insert([.link("checkpoint/core-1.bak", to: "checkpoint/core-1.img", type: .hardLink)],
                                  after: "checkpoint/core-1.img")
            },
            podman("v1-deleted-files-object", "deleted.files is a JSON object, not an array of paths", breaks: ["CKA-V1-014"]) {
                $0.entries.update("deleted.files") { $0.data = Array(#"{"paths":["/etc/motd"]}"#.utf8) }
            },
            podman("v1-deleted-files-number", "deleted.files holds a number where a path belongs", breaks: ["CKA-V1-014"]) {
                $0.entries.update("deleted.files") { $0.data = Array("[\n  \"/etc/motd\",\n  42\n]".utf8) }
            },
            podman("v1-deleted-files-not-json", "deleted.files is cut before its closing bracket", breaks: ["CKA-V1-014"]) {
                $0.entries.update("deleted.files") { $0.data = Array("[\n  \"/etc/motd\"".utf8) }
            },
            podman("v1-whiteout-in-podman-rootfs", "Podman's rootfs-diff.tar holds an OCI whiteout, which its restore extracts as an ordinary file",
                   breaks: ["CKA-V1-015"]) {
                $0.entries.updateNested("rootfs-diff.tar") { $0.insert([.file("etc/.wh.motd", "", mode: 0o644)], before: "etc/app.conf") }
            },
            .v1Changed("v1-volume-not-a-tar", "A file under volumes/ not named <name>.tar (so config.dump's volume has no tar)",
                       breaks: ["CKA-V1-017", "CKA-V1-016"],
                       base: "v1-podman-volumes", from: LegacyPodman.volumes) {
                $0.entries.update("volumes/cache.tar") { $0.header.path = "volumes/cache.tgz" }
            },
            .v1Changed("v1-volume-stray-file", "A stray file under volumes/ beside the named volumes' tars",
                       breaks: ["CKA-V1-017"], base: "v1-podman-volumes", from: LegacyPodman.volumes) {
                $0.entries.insert([.file("volumes/notes.txt", "not a volume\n")], before: "volumes/cache.tar")
            },
            .v1Changed("v1-volume-bad-name", "volumes/.cache.tar: the volume name starts with a dot (CKA-V2-022)",
                       breaks: ["CKA-V1-017", "CKA-V1-016"], base: "v1-podman-volumes", from: LegacyPodman.volumes) {
                $0.entries.update("volumes/cache.tar") { $0.header.path = "volumes/.cache.tar" }
            },
            .v1Changed("v1-volume-nested-directory", "A volume tar one directory deeper: volumes/old/data.tar",
                       breaks: ["CKA-V1-017", "CKA-V1-016"], base: "v1-podman-volumes", from: LegacyPodman.volumes) {
                $0.entries.update("volumes/data.tar") { $0.header.path = "volumes/old/data.tar" }
            },
        ]
    }

    /// SHOULD rules: the archive is acceptable, with warnings.
    static var warnings: [VectorCase] {
        [
            podman("v1-unknown-top-level", "An unknown top-level file (carried as ext/v1/restore-hint.txt)",
                   result: .acceptable, breaks: ["CKA-V1-005"]) {
                $0.entries.append(.file("restore-hint.txt", "restore with --tcp-established\n", mode: 0o644))
            },
            podman("v1-config-dump-mode-0644", "config.dump is mode 0644 (it holds the container's configuration)",
                   result: .acceptable, breaks: ["CKA-V1-009"]) {
                $0.entries.update("config.dump") { $0.header.mode = 0o644 }
            },
            podman("v1-checkpoint-images-mode-0644", "The CRIU images are mode 0644 (they hold process memory)",
                   result: .acceptable, breaks: ["CKA-V1-009"]) {
                for i in $0.entries.indices where $0.entries[i].header.path.hasPrefix("checkpoint/")
                    && $0.entries[i].header.type == .regular { $0.entries[i].header.mode = 0o644 }
            },
            podman("v1-stats-dump-bad-magic", "stats-dump does not start with CRIU's magic numbers (checkpointctl: unknown magic)",
                   result: .acceptable, breaks: ["CKA-V1-013"]) {
                $0.entries.update("stats-dump") { $0.data = Array("not a CRIU stats image".utf8) }
            },
            podman("v1-stats-dump-payload-overflow", "stats-dump's payload length is larger than the file",
                   result: .acceptable, breaks: ["CKA-V1-013"]) {
                $0.entries.update("stats-dump") { $0.data[9] = 0x40 }
            },
            .v1Changed("v1-named-volume-without-tar", "config.dump names the volume cache but volumes/cache.tar is missing (as with --ignore-volumes)",
                       result: .acceptable, breaks: ["CKA-V1-016"], base: "v1-podman-volumes", from: LegacyPodman.volumes) {
                $0.entries.remove("volumes/cache.tar")
            },
            podman("v1-podman-with-status-dump", "A libpod archive with containerd's status.dump (a contradicting secondary signal)",
                   result: .acceptable, breaks: ["CKA-V1-020"]) {
                $0.entries.append(.file("status.dump", "{}"))
            },
            podman("v1-podman-out-of-order", "spec.dump before config.dump: an entry order no engine writes",
                   result: .acceptable, breaks: ["CKA-V1-020"]) {
                let spec = $0.entries.first { $0.header.path == "spec.dump" }!
                $0.entries.remove("spec.dump")
                $0.entries.insert([spec], before: "config.dump")
            },
            podman("v1-inventory-placeholder", "checkpoint/inventory.img is a text placeholder, not a CRIU image (as test fixtures carry)",
                   result: .acceptable, breaks: ["CKA-V1-021"]) {
                $0.entries.update("checkpoint/inventory.img") { $0.data = Array("criu-inventory\n".utf8) }
            },
            podman("v1-core-image-bad-magic", "checkpoint/core-1.img starts with the inventory magic instead of IMG_COMMON_MAGIC",
                   result: .acceptable, breaks: ["CKA-V1-021"]) {
                $0.entries.update("checkpoint/core-1.img") { $0.data.replaceSubrange(0..<4, with: [0x16, 0x31, 0x31, 0x58]) }
            },
        ]
    }
}
