import TarFormat

/// Broken nested tars of Podman archives (CKA-V1-006: part 2 applies to each nested tar as a stream of its own):
/// truncated, a bad checksum, no end-of-archive marker, not a tar, compressed, hostile names and links.
enum LegacyNested {
    static var group: VectorGroup {
        VectorGroup(name: "v1-nested", cases: streams + names)
    }

    /// `v1-podman` with the bytes of its rootfs-diff.tar changed by `change`.
    static func rootfsBytes(_ id: String, _ description: String, breaks: [String], flags: [VectorFlag] = [],
                            malformed: Bool = false, _ change: @escaping (inout [UInt8]) -> Void) -> VectorCase {
        .v1Changed(id, description, breaks: breaks, flags: flags, base: V1Base.podman,
                   from: { LegacyPodmanFixtures.typical() }, malformed: malformed) {
            $0.entries.update("rootfs-diff.tar") { e in
                var bytes = (try? e.content()) ?? []
                change(&bytes)
                e.nested = nil
                e.data = bytes
            }
        }
    }

    /// `v1-podman` with its rootfs-diff.tar entries changed by `change`.
    static func rootfsEntries(_ id: String, _ description: String, breaks: [String], flags: [VectorFlag] = [],
                              _ change: @escaping (inout [V1TestEntry]) -> Void) -> VectorCase {
        .v1Changed(id, description, breaks: breaks, flags: flags, base: V1Base.podman,
                   from: { LegacyPodmanFixtures.typical() }) {
            $0.entries.updateNested("rootfs-diff.tar", change)
        }
    }

    static var streams: [VectorCase] {
        [
            rootfsBytes("v1-rootfs-diff-truncated", "rootfs-diff.tar ends inside the data of its first file",
                        breaks: ["CKA-TAR-001"], flags: [.truncated]) { $0 = Array($0.prefix(512 + 3)) },
            rootfsBytes("v1-rootfs-diff-no-end-marker", "rootfs-diff.tar lacks its two zero blocks",
                        breaks: ["CKA-TAR-001"], flags: [.truncated]) { $0.removeLast(1024) },
            rootfsBytes("v1-rootfs-diff-bad-checksum", "The first header of rootfs-diff.tar has a wrong checksum",
                        breaks: ["CKA-TAR-004"], flags: [.checksum]) { $0[148] = $0[148] == 0x31 ? 0x32 : 0x31 },
            rootfsBytes("v1-rootfs-diff-not-a-tar", "rootfs-diff.tar holds text, not a tar stream (its first header's checksum field is no number)",
                        breaks: ["CKA-TAR-012"]) { $0 = Array(String(repeating: "not a tar archive\n", count: 40).utf8) },
            rootfsBytes("v1-rootfs-diff-zstd", "rootfs-diff.tar is zstd-compressed (nested tars of Podman are plain)",
                        breaks: ["CKA-CMP-013"]) { $0 = (try? V1TestArchive.compress($0, .zstd)) ?? [] },
            rootfsBytes("v1-rootfs-diff-gzip-in-podman", "rootfs-diff.tar is a gzip layer in a Podman archive (only containerd's is; the gzip layer also points to containerd)",
                        breaks: ["CKA-V1-020", "CKA-CMP-013"]) { $0 = StoredGzip.encode($0) },
            .v1Changed("v1-devshm-gzip", "devshm-checkpoint.tar is gzip-compressed", breaks: ["CKA-CMP-013"],
                       base: "v1-podman-devshm", from: LegacyPodman.devshm) {
                $0.entries.update("devshm-checkpoint.tar") { e in
                    e.data = StoredGzip.encode((try? e.content()) ?? [])
                    e.nested = nil
                }
            },
            .v1Changed("v1-volume-truncated", "volumes/data.tar ends inside a header", breaks: ["CKA-TAR-001"],
                       flags: [.truncated], base: "v1-podman-volumes", from: LegacyPodman.volumes) {
                $0.entries.update("volumes/data.tar") { e in
                    e.data = Array(((try? e.content()) ?? []).prefix(700))
                    e.nested = nil
                }
            },
        ]
    }

    static var names: [VectorCase] {
        [
            rootfsEntries("v1-rootfs-diff-traversal", "A rootfs-diff.tar entry named ../../etc/cron.d/evil",
                          breaks: ["CKA-TAR-034"], flags: [.pathTraversal]) {
                $0.append(.file("../../etc/cron.d/evil", "* * * * * root sh\n", mode: 0o644))
            },
            rootfsEntries("v1-rootfs-diff-absolute", "A rootfs-diff.tar entry named /etc/shadow",
                          breaks: ["CKA-TAR-034"], flags: [.pathTraversal]) {
                $0.append(.file("/etc/shadow", "root::0:0:99999:7:::\n", mode: 0o600))
            },
            rootfsEntries("v1-rootfs-diff-duplicate", "rootfs-diff.tar names etc/app.conf twice", breaks: ["CKA-TAR-037"],
                          flags: [.duplicate]) {
                $0.append(.file("etc/app.conf", "x=2\n", mode: 0o644))
            },
            rootfsEntries("v1-rootfs-diff-hard-link-escape", "A hard link in rootfs-diff.tar to ../../etc/shadow",
                          breaks: ["CKA-TAR-040"], flags: [.linkEscape]) {
                $0.append(.link("etc/shadow-link", to: "../../etc/shadow", type: .hardLink))
            },
            rootfsEntries("v1-rootfs-diff-under-symlink", "An entry below the symlink etc/localtime (a parent that is not a directory)",
                          breaks: ["CKA-TAR-038"], flags: [.linkEscape]) {
                $0.insert([.file("etc/localtime/evil", "x\n", mode: 0o644)], after: "etc/localtime")
            },
        ]
    }
}
