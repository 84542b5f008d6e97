import Compression
import TarFormat

/// Hostile v2 archives (part 6): names and links that try to leave the destination, duplicates, truncated
/// streams. Every one must be refused by a validator and by an extractor without writing outside a fresh
/// destination; `ckpt-vectors verify` extracts each inside a chain of `VectorExtraction.sentinelDepth` parent
/// directories holding sentinel files and checks that nothing beside the destination changed, so the traversals
/// here climb at most that many levels above the destination.
enum Hostile {
    /// `n` parent steps.
    static func up(_ n: Int) -> String { Array(repeating: "..", count: n).joined(separator: "/") }

    static func invalid(_ id: String, _ description: String, breaks: [String], flags: [VectorFlag],
                        malformed: Bool = false, _ mutate: @escaping (inout V2TestArchive) -> Void) -> VectorCase {
        .v2Invalid(id, description, breaks: breaks, flags: flags, malformed: malformed, mutate)
    }

    static var traversalCases: [VectorCase] {
        [
            invalid("v2-hostile-dotdot", "a rootfs file named rootfs/tree/../../../../cka-escape (two levels above the destination)",
                    breaks: ["CKA-TAR-034", "CKA-V2-031"], flags: [.pathTraversal]) { a in
                a.entries.insert([.file("rootfs/tree/" + up(4) + "/cka-escape", "escaped\n", mode: 0o644)], after: "rootfs/tree/")
            },
            invalid("v2-hostile-absolute", "a rootfs file named /tmp/cka-escape", breaks: ["CKA-TAR-034", "CKA-V2-013"],
                    flags: [.pathTraversal]) { a in
                a.entries += [.file("/tmp/cka-escape", "escaped\n", mode: 0o644)]
            },
            invalid("v2-hostile-symlink-write", "a relative symlink rootfs/tree/etc/up -> ../../../.. (allowed in rootfs), then a file written through it",
                    breaks: ["CKA-TAR-038", "CKA-V2-031"], flags: [.pathTraversal, .linkEscape]) { a in
                a.entries += [.link("rootfs/tree/etc/up", up(4)), .file("rootfs/tree/etc/up/cka-escape", "escaped\n", mode: 0o644)]
            },
            invalid("v2-hostile-symlink-absolute-write", "an absolute symlink rootfs/tree/etc/tmp -> /tmp, then a file written through it",
                    breaks: ["CKA-TAR-038", "CKA-V2-031"], flags: [.pathTraversal, .linkEscape]) { a in
                a.entries += [.link("rootfs/tree/etc/tmp", "/tmp"), .file("rootfs/tree/etc/tmp/cka-escape", "escaped\n", mode: 0o644)]
            },
            invalid("v2-hostile-hardlink-dotdot", "a hard link rootfs/tree/etc/passwd to ../../../../../../etc/passwd",
                    breaks: ["CKA-TAR-040", "CKA-V2-041"], flags: [.linkEscape]) { a in
                a.entries += [.link("rootfs/tree/etc/passwd", up(6) + "/etc/passwd", type: .hardLink)]
            },
            invalid("v2-hostile-hardlink-absolute", "a hard link rootfs/tree/etc/shadow to /etc/shadow", breaks: ["CKA-TAR-040", "CKA-V2-041"],
                    flags: [.linkEscape]) { a in
                a.entries += [.link("rootfs/tree/etc/shadow", "/etc/shadow", type: .hardLink)]
            },
            invalid("v2-hostile-hardlink-other-section", "a hard link in rootfs to metadata/config.dump (another section)",
                    breaks: ["CKA-V2-041"], flags: [.linkEscape]) { a in
                a.entries.insert([.link("rootfs/tree/etc/config", "metadata/config.dump", type: .hardLink)], after: "rootfs/tree/etc/app.conf")
            },
            invalid("v2-hostile-duplicate", "rootfs/tree/etc/app.conf twice, the second with other content (later overwrites earlier)",
                    breaks: ["CKA-TAR-037"], flags: [.duplicate]) { a in
                a.entries.insert([.file("rootfs/tree/etc/app.conf", "x=2\n", mode: 0o4755)], after: "rootfs/tree/etc/app.conf")
            },
        ]
    }

    static var truncationCases: [VectorCase] {
        [
            .v2Bytes("v2-hostile-truncated-header", "the archive cut 300 bytes into the header block of metadata/config.dump",
                     breaks: ["CKA-TAR-001"], flags: [.truncated], malformed: true) { bytes, built in
                bytes.removeSubrange((built.layout.block("metadata/config.dump") + 300)...)
            },
            .v2Bytes("v2-hostile-truncated-data", "the archive cut inside the data of metadata/spec.dump", breaks: ["CKA-TAR-001"],
                     flags: [.truncated], malformed: true) { bytes, built in
                bytes.removeSubrange(Int(built.layout.entry("metadata/spec.dump").dataOffset + 20)...)
            },
            .v2Bytes("v2-hostile-truncated-eoa", "the archive cut after the first of its two end-of-archive blocks",
                     breaks: ["CKA-TAR-001"], flags: [.truncated]) { bytes, _ in bytes.removeLast(512) },
            .v2Bytes("v2-hostile-zstd-frame-cut", "a framed zstd archive cut in the middle of its checkpoint section's frame",
                     breaks: ["CKA-CMP-010"], flags: [.truncated, .framing], base: "v2-zstd-framed",
                     from: { V2TestArchive.compressed(.zstd, framed: true) }, malformed: true) { bytes, built in
                let cut = (built.boundaries[2].compressedOffset + built.boundaries[3].compressedOffset) / 2
                bytes.removeSubrange(Int(cut)...)
            },
            .v2Bytes("v2-hostile-gzip-header-cut", "a gzip archive cut inside its member header", breaks: ["CKA-CMP-010"],
                     flags: [.truncated], base: "v2-gzip", from: { V2TestArchive.compressed(.gzip, framed: false) },
                     malformed: true) { bytes, _ in bytes.removeSubrange(6...) },
        ]
    }

    static var group: VectorGroup {
        VectorGroup(name: "hostile-v2", cases: traversalCases + truncationCases)
    }
}
