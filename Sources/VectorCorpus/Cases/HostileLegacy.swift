import Compression
import TarFormat

/// Hostile v1 archives (part 6) on the minimal Podman archive: traversal through names and links of the nested
/// rootfs-diff.tar and the outer stream, duplicates, oversized extended headers declared but never sent, sparse
/// maps, decompression bombs, truncations and bad checksums. Traversals climb at most
/// `VectorExtraction.sentinelDepth` levels above the destination (see `Hostile`).
enum HostileLegacy {
    static func up(_ n: Int) -> String { Hostile.up(n) }
    static func zstd() -> V1MiniArchive { var a = V1MiniArchive(); a.compression = .zstd; return a }
    static func gzip() -> V1MiniArchive { var a = V1MiniArchive(); a.compression = .gzip; return a }

    /// Adds `entries` at the end of rootfs-diff.tar.
    static func rootfs(_ entries: [V1MiniEntry]) -> (inout V1MiniArchive) throws -> Void {
        { a in a.update("rootfs-diff.tar") { $0.nested! += entries } }
    }

    static func link(_ name: String, _ target: String, hard: Bool = false) -> V1MiniEntry {
        var e = V1MiniEntry.file(name, [], mode: 0o777)
        e.header.type = hard ? 0x31 : 0x32
        e.header.linkname = target
        return e
    }

    /// An extended header block of `type` declaring `size` bytes, without its data.
    static func declared(_ type: UInt8, size: String) -> [UInt8] {
        var h = TarTestHeader(type == 0x4C ? "././@LongLink" : "PaxHeaders/config.dump", type: type)
        h.size = size
        return h.block(dataSize: 0)
    }

    static var traversalCases: [VectorCase] {
        [
            .v1MiniInvalid("v1-hostile-dotdot", "rootfs-diff.tar holds ../../../../cka-escape (two levels above the destination)",
                           breaks: ["CKA-TAR-034"], flags: [.pathTraversal], rootfs([.file(up(4) + "/cka-escape", "escaped\n")])),
            .v1MiniInvalid("v1-hostile-absolute", "rootfs-diff.tar holds /tmp/cka-escape", breaks: ["CKA-TAR-034"],
                           flags: [.pathTraversal], rootfs([.file("/tmp/cka-escape", "escaped\n")])),
            .v1MiniInvalid("v1-hostile-pax-path-override", "rootfs-diff.tar: etc/notes whose pax path record says ../../../../cka-escape (readers that ignore pax records write etc/notes)",
                           breaks: ["CKA-TAR-034"], flags: [.pathTraversal, .parserDifferential]) { a in
                var e = V1MiniEntry.file("etc/notes", "escaped\n")
                e.extended = TarTestStream.pax([("path", up(4) + "/cka-escape")])
                try rootfs([e])(&a)
            },
            .v1MiniInvalid("v1-hostile-outer-dotdot", "the outer stream holds ../cka-escape", breaks: ["CKA-TAR-034"],
                           flags: [.pathTraversal]) { a in a.entries.append(.file("../cka-escape", "escaped\n")) },
            .v1MiniInvalid("v1-hostile-devshm-dotdot", "devshm-checkpoint.tar holds ./../../cka-escape", breaks: ["CKA-TAR-034"],
                           flags: [.pathTraversal]) { a in
                a.update("devshm-checkpoint.tar") { $0.nested!.append(.file("./" + up(2) + "/cka-escape", "escaped\n")) }
            },
            .v1MiniInvalid("v1-hostile-symlink-write", "rootfs-diff.tar: etc/up -> ../../../.., then etc/up/cka-escape written through it",
                           breaks: ["CKA-TAR-038"], flags: [.pathTraversal, .linkEscape],
                           rootfs([link("etc/up", up(4)), .file("etc/up/cka-escape", "escaped\n")])),
            .v1MiniInvalid("v1-hostile-symlink-checkpoint", "checkpoint/up -> ../.. (a link CRIU never writes), then checkpoint/up/cka-escape",
                           breaks: ["CKA-TAR-038", "CKA-V1-012"], flags: [.pathTraversal, .linkEscape]) { a in
                a.entries += [link("checkpoint/up", up(2)), .file("checkpoint/up/cka-escape", "escaped\n")]
            },
            .v1MiniInvalid("v1-hostile-hardlink-dotdot", "rootfs-diff.tar: a hard link etc/passwd to ../../../../../../etc/passwd",
                           breaks: ["CKA-TAR-040"], flags: [.linkEscape], rootfs([link("etc/passwd", up(6) + "/etc/passwd", hard: true)])),
            .v1MiniInvalid("v1-hostile-hardlink-outer", "rootfs-diff.tar: a hard link etc/config to config.dump, a file of the outer stream",
                           breaks: ["CKA-TAR-040"], flags: [.linkEscape], rootfs([link("etc/config", "config.dump", hard: true)])),
            .v1MiniInvalid("v1-hostile-duplicate", "rootfs-diff.tar holds etc/app.conf twice, the second setuid", breaks: ["CKA-TAR-037"],
                           flags: [.duplicate], rootfs([.file("etc/app.conf", "x=2\n", mode: 0o4755)])),
            .v1MiniInvalid("v1-hostile-duplicate-dot-slash", "config.dump and ./config.dump (the same name once normalised)",
                           breaks: ["CKA-TAR-037", "CKA-V1-010"], flags: [.duplicate, .parserDifferential]) { a in
                a.entries.append(.file("./config.dump", #"{"id":"evil"}"#))
            },
        ]
    }

    static var limitCases: [VectorCase] {
        [
            .v1MiniInvalid("v1-hostile-pax-8gib", "a pax header before config.dump declaring 8 GiB of records (none follow)",
                           breaks: ["CKA-TAR-027", "CKA-SEC-015"], flags: [.headerLimit]) { a in
                a.update("config.dump") { $0.extended = declared(0x78, size: "77777777777\0") }
            },
            .v1MiniInvalid("v1-hostile-gnu-long-name-1gib", "a GNU L header in rootfs-diff.tar declaring a 1 GiB name (none follows)",
                           breaks: ["CKA-TAR-028", "CKA-SEC-015"], flags: [.headerLimit]) { a in
                a.update("rootfs-diff.tar") { e in
                    var h = declared(0x4C, size: "10000000000\0")
                    V2Patch.put(&h, "ustar  ", at: 257, width: 8)
                    TarTestHeader.fixChecksum(&h)
                    e.nested![1].extended = h
                }
            },
            .v1MiniInvalid("v1-hostile-sparse-map", "checkpoint/inventory.img marked sparse by a pax GNU.sparse.map of 70000 segments (more than readers keep)",
                           breaks: ["CKA-TAR-010"], flags: [.headerLimit], base: "v1-tar-podman-zstd", from: zstd) { a in
                a.update("checkpoint/inventory.img") { e in
                    e.extended = TarTestStream.pax([
                        ("GNU.sparse.map", Array(repeating: "0,0", count: 69_999).joined(separator: ",") + ",0,\(e.data.count)"),
                        ("GNU.sparse.name", "checkpoint/inventory.img"), ("GNU.sparse.size", "\(e.data.count)"),
                    ])
                }
            },
        ]
    }

    /// 8704 RLE blocks: 1.0625 GiB from 34 KiB, past the default budget of 1024 times the file (at least 1 MiB).
    static let zstdBombBlocks = 8704
    /// 4.4 million matches: 1.057 GiB from 1.05 MiB of deflate, past 1024 times the file's 1.05 MiB. deflate cannot
    /// do better than 1032:1, and the budget counts a file as at least 1 MiB, so no smaller gzip file exceeds it.
    static let gzipBombMatches = 4_400_000

    static var damageCases: [VectorCase] {
        [
            .v1MiniBytes("v1-hostile-zstd-bomb", "v1-tar-podman-zstd followed by a 34 KiB zstd frame of 1.06 GiB of zeros (record padding after the end of the archive)",
                         breaks: ["CKA-SEC-020"], flags: [.bomb], base: "v1-tar-podman-zstd", from: zstd) { bytes, _ in
                bytes += Bombs.zstdZeros(blocks: zstdBombBlocks)
            },
            .v1MiniBytes("v1-hostile-gzip-bomb", "v1-tar-podman-gzip followed by a 1.05 MiB gzip member of 1.06 GiB of zeros (deflate at its maximum ratio)",
                         breaks: ["CKA-SEC-020"], flags: [.bomb], base: "v1-tar-podman-gzip", from: gzip) { bytes, _ in
                bytes += Bombs.gzipZeros(matches: gzipBombMatches)
            },
            .v1MiniBytes("v1-hostile-truncated-data", "the archive cut inside the data of checkpoint/inventory.img", breaks: ["CKA-TAR-001"],
                         flags: [.truncated], malformed: true) { bytes, a in
                bytes.removeSubrange((try a.headerOffset("checkpoint/inventory.img") + 512 + 20)...)
            },
            .v1MiniInvalid("v1-hostile-truncated-nested", "rootfs-diff.tar's own stream cut inside its second header", breaks: ["CKA-TAR-001"],
                           flags: [.truncated], malformed: true) { a in
                a.update("rootfs-diff.tar") { e in
                    e.data = Array(((try? V1MiniArchive.stream(e.nested!)) ?? []).prefix(700))
                    e.nested = nil
                }
            },
            .v1MiniBytes("v1-hostile-zstd-cut", "the zstd archive cut in the middle of its frame", breaks: ["CKA-CMP-010"],
                         flags: [.truncated], base: "v1-tar-podman-zstd", from: zstd, malformed: true) { bytes, _ in
                bytes.removeSubrange((bytes.count / 2)...)
            },
            .v1MiniBytes("v1-hostile-gzip-isize", "the gzip trailer's ISIZE is one more than the data", breaks: ["CKA-CMP-006"],
                         flags: [.checksum], base: "v1-tar-podman-gzip", from: gzip, malformed: true) { bytes, _ in
                bytes[bytes.count - 4] &+= 1
            },
            .v1MiniInvalid("v1-hostile-nested-checksum", "the checksum of etc/app.conf's header inside rootfs-diff.tar is wrong",
                           breaks: ["CKA-TAR-004"], flags: [.checksum], malformed: true) { a in
                a.update("rootfs-diff.tar") { $0.nested![1].header.checksum = "012345\0 " }
            },
        ]
    }

    static var group: VectorGroup { VectorGroup(name: "hostile-v1", cases: traversalCases + limitCases + damageCases) }
}
