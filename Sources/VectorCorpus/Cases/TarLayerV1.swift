import Compression
import TarFormat

/// Tar-layer rules of v1 archives (part 2) on a minimal Podman archive (`V1MiniArchive`): what follows the
/// end-of-archive marker, GNU and V7 headers, base-256 numbers, GNU long names, pax global headers, non-UTF-8
/// names, extended headers without their entry, sparse files, the `./` root of nested tars and compressed
/// nested tars.
enum TarLayerV1 {
    static let base = V1MiniArchive.baseID

    /// The minimal archive with GNU headers: GNU magic on the metadata files, base-256 size and mtime on the
    /// inventory image, and a GNU `L` long name in rootfs-diff.tar, as GNU tar writes them.
    static func gnu() -> V1MiniArchive {
        var a = V1MiniArchive()
        for name in ["config.dump", "spec.dump"] { a.update(name) { $0.header.magic = "ustar  \0" } }
        a.update("checkpoint/inventory.img") { e in
            e.header.magic = "ustar  \0"
            e.header.patches = [(124, [0x80] + [UInt8](repeating: 0, count: 10) + [UInt8(e.data.count)]),
                                (136, [0x80] + [UInt8](repeating: 0, count: 7) + [0x01, 0x00, 0x00, 0x00])]
        }
        a.update("rootfs-diff.tar") { e in e.nested! += [longName(String(repeating: "n", count: 150))] }
        return a
    }

    /// A rootfs-diff.tar file `etc/<name>` given by a GNU `L` header whose data is `name`, NUL and `extra` bytes.
    static func longName(_ name: String, extra: Int = 0) -> V1MiniEntry {
        let full = "etc/" + name
        var e = V1MiniEntry.file(full, "long\n", mode: 0o644)
        e.header.magic = "ustar  \0"
        e.header.name = String(full.prefix(100))
        var l = TarTestHeader("././@LongLink", type: 0x4C)
        l.magic = "ustar  \0"
        e.extended = TarTestStream.entry(l, Array(full.utf8) + [0] + [UInt8](repeating: 0x2E, count: extra))
        return e
    }

    /// A pax `x` header with `records` (for raw extended headers before an entry).
    static func pax(_ records: [(String, String)]) -> [UInt8] { TarTestStream.pax(records) }

    static var validCases: [VectorCase] {
        [
            .v1Mini(base, "A minimal Podman archive: devshm-checkpoint.tar with its ./ directory, config.dump, spec.dump, a genuine CRIU inventory, rootfs-diff.tar",
                    requirements: ["CKA-TAR-035", "CKA-CMP-013"]) { V1MiniArchive() },
            .v1Mini("v1-tar-podman-gzip", "v1-tar-podman, gzip-compressed", requirements: ["CKA-CMP-002"]) {
                var a = V1MiniArchive()
                a.compression = .gzip
                return a
            },
            .v1Mini("v1-tar-podman-zstd", "v1-tar-podman, zstd-compressed (Podman's default)",
                    requirements: ["CKA-CMP-002", "CKA-CMP-004"]) {
                var a = V1MiniArchive()
                a.compression = .zstd
                return a
            },
            .v1Mini("v1-tar-record-padding", "v1-tar-podman padded with zero blocks to a 10240-byte record, as GNU tar writes",
                    requirements: ["CKA-TAR-003"]) {
                var a = V1MiniArchive()
                let size = (try? a.tar().count) ?? 0
                a.trailing = [UInt8](repeating: 0, count: (10240 - size % 10240) % 10240)
                return a
            },
            .v1Mini("v1-tar-gnu-headers", "GNU headers: GNU magic, base-256 size and mtime, a GNU L long name (150 bytes) in rootfs-diff.tar",
                    requirements: ["CKA-TAR-006", "CKA-TAR-013", "CKA-TAR-028"], flags: [.parserDifferential], gnu),
        ]
    }

    static var invalidCases: [VectorCase] {
        [
            .v1MiniInvalid("v1-tar-trailing-garbage", "text after the end-of-archive marker of the record-padded archive",
                           breaks: ["CKA-TAR-003"], flags: [.parserDifferential], base: "v1-tar-record-padding") { a in
                let size = try a.tar().count
                a.trailing = Array("hidden\n".utf8) + [UInt8](repeating: 0, count: (10240 - (size + 7) % 10240) % 10240)
            },
            .v1MiniInvalid("v1-tar-v7-header", "config.dump with a V7 header (no magic; refused, so no config.dump)",
                           breaks: ["CKA-TAR-006", "CKA-V1-001"]) { a in
                a.update("config.dump") { $0.header.magic = "" }
            },
            .v1MiniInvalid("v1-tar-base256-negative-uid", "config.dump's uid as base-256 -1", breaks: ["CKA-TAR-013"],
                           flags: [.parserDifferential], base: "v1-tar-gnu-headers", from: gnu) { a in
                a.update("config.dump") { $0.header.patches = [(108, [UInt8](repeating: 0xFF, count: 8))] }
            },
            .v1MiniInvalid("v1-tar-base256-negative-size", "checkpoint/inventory.img's size as base-256 -44", breaks: ["CKA-TAR-013"],
                           flags: [.parserDifferential], base: "v1-tar-gnu-headers", from: gnu, malformed: true) { a in
                a.update("checkpoint/inventory.img") { e in
                    e.header.patches[0] = (124, [UInt8](repeating: 0xFF, count: 11) + [UInt8(256 - e.data.count)])
                }
            },
            .v1MiniInvalid("v1-tar-gnu-long-name-65537", "a GNU L header of 65537 bytes (the name, NUL and filler) in rootfs-diff.tar",
                           breaks: ["CKA-TAR-028", "CKA-SEC-015"], flags: [.headerLimit], base: "v1-tar-gnu-headers", from: gnu) { a in
                a.update("rootfs-diff.tar") { e in
                    e.nested![e.nested!.count - 1] = longName(String(repeating: "n", count: 150), extra: 65537 - 155)
                }
            },
            .v1MiniInvalid("v1-tar-global-header", "a pax global header (git archive's comment record) before config.dump",
                           breaks: ["CKA-TAR-009"], flags: [.globalHeader, .parserDifferential]) { a in
                a.update("config.dump") { e in
                    e.extended = TarTestStream.extended(TarTestStream.record("comment", "0123456789abcdef0123456789abcdef01234567"),
                                                        type: 0x67, name: "pax_global_header")
                }
            },
            .v1MiniInvalid("v1-tar-link-not-utf8", "a symbolic link in rootfs-diff.tar whose target is the Latin-1 name caf\\xE9 (the tree shows the byte as U+FFFD)",
                           result: .acceptable, breaks: ["CKA-TAR-030"]) { a in
                a.update("rootfs-diff.tar") { e in
                    var link = V1MiniEntry.file("etc/motd", [], mode: 0o777)
                    link.header.type = 0x32
                    link.header.patches = [(157, Array("caf".utf8) + [0xE9])]
                    link.linkTarget = "caf\u{FFFD}"
                    e.nested!.append(link)
                }
            },
            .v1MiniInvalid("v1-tar-root-not-directory", "the outer stream starts with ./ as a regular file", breaks: ["CKA-TAR-035"]) { a in
                a.entries.insert(.file("./", "", mode: 0o644), at: 0)
            },
            .v1MiniInvalid("v1-tar-pax-empty", "a pax extended header of size zero before config.dump", breaks: ["CKA-TAR-022"]) { a in
                a.update("config.dump") { $0.extended = TarTestStream.extended([]) }
            },
            .v1MiniInvalid("v1-tar-pax-twice", "two pax extended headers before config.dump (readers disagree on which applies)",
                           breaks: ["CKA-TAR-022"], flags: [.parserDifferential]) { a in
                a.update("config.dump") { $0.extended = pax([("mtime", "1")]) + pax([("mtime", "2")]) }
            },
            .v1MiniInvalid("v1-tar-pax-at-end", "a pax extended header directly before the end-of-archive marker",
                           breaks: ["CKA-TAR-022"], malformed: true) { a in a.end = pax([("mtime", "1")]) + TarTestStream.end },
            .v1MiniInvalid("v1-tar-sparse", "a sparse file in rootfs-diff.tar (pax GNU.sparse 0.0 records, one segment)",
                           breaks: ["CKA-TAR-010"], flags: [.parserDifferential]) { a in
                a.update("rootfs-diff.tar") { e in
                    e.nested![1].extended = pax([("GNU.sparse.size", "4"), ("GNU.sparse.numblocks", "1"),
                                                 ("GNU.sparse.offset", "0"), ("GNU.sparse.numbytes", "4")])
                }
            },
            .v1MiniInvalid("v1-tar-rootfs-diff-gzip", "Podman's rootfs-diff.tar as a gzip stream (only containerd's layer is compressed)",
                           breaks: ["CKA-CMP-013", "CKA-V1-020"]) { a in a.update("rootfs-diff.tar") { $0.nestedCompression = .gzip } },
            .v1MiniInvalid("v1-tar-devshm-zstd", "devshm-checkpoint.tar as a zstd stream", breaks: ["CKA-CMP-013"]) { a in
                a.update("devshm-checkpoint.tar") { $0.nestedCompression = .zstd }
            },
        ]
    }

    static var group: VectorGroup { VectorGroup(name: "tar-layer-v1", cases: validCases + invalidCases) }
}
