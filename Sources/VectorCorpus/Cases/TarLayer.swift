import TarFormat

/// The tar stream of a v2 archive (part 2.1, 2.3, 2.7, 2.8): its end, header checksums, lone zero blocks, sparse
/// files, names below non-directories, xattr namespaces and unused header bytes. Each case is one change of the
/// worked example (or of its zstd form).
enum TarLayer {
    /// Where the entry after the last section entry (the index's pax header) starts in the tar stream.
    static func indexStart(_ built: V2Built) -> Int {
        let last = built.layout.entries.last!
        return Int(last.dataOffset + (last.size + 511) / 512 * 512)
    }

    static func patching(_ path: String, pax: Bool = false, _ change: @escaping (inout [UInt8]) -> Void)
        -> (inout V2TestArchive) -> Void {
        { a in a.patch = { bytes, layout in V2Patch.header(&bytes, at: pax ? layout.paxBlock(path) : layout.block(path), change) } }
    }

    /// A `security.capability` (revision 2, cap_net_bind_service permitted and effective), an access ACL with a
    /// named user (not reducible to mode bits), `user.a` and `user.b` on rootfs/tree/etc/app.conf.
    static func xattrs(_ a: inout V2TestArchive) {
        let undefined: [UInt8] = [0xFF, 0xFF, 0xFF, 0xFF]
        let acl: [UInt8] = [2, 0, 0, 0] + [1, 0, 6, 0] + undefined + [2, 0, 4, 0, 0xE8, 3, 0, 0] + [4, 0, 4, 0] + undefined
            + [0x10, 0, 4, 0] + undefined + [0x20, 0, 4, 0] + undefined
        let capability: [UInt8] = [1, 0, 0, 2, 0, 4, 0, 0] + [UInt8](repeating: 0, count: 12)
        a.entries.update("rootfs/tree/etc/app.conf") { e in
            e.header.xattrs = [TarXattr(name: "security.capability", value: capability),
                               TarXattr(name: "system.posix_acl_access", value: acl),
                               TarXattr(name: "user.a", value: Array("first".utf8)),
                               TarXattr(name: "user.b", value: Array("other".utf8))]
        }
    }

    static var group: VectorGroup {
        VectorGroup(name: "tar-layer", cases: [
            .v2Invalid("v2-tar-record-padding", "the tar stream padded with one zero block after its end-of-archive marker",
                       breaks: ["CKA-TAR-002"], flags: [.parserDifferential]) { $0.trailing = [UInt8](repeating: 0, count: 512) },
            .v2Invalid("v2-tar-trailing-text", "a line of text after the end-of-archive marker (readers ignore it)",
                       breaks: ["CKA-TAR-002"], flags: [.parserDifferential]) { $0.trailing = Array("hidden\n".utf8) },
            .v2Bytes("v2-tar-checksum", "the checksum field of metadata/config.dump's header is off by one",
                     breaks: ["CKA-TAR-004"], flags: [.checksum], malformed: true) { bytes, built in
                let at = built.layout.block("metadata/config.dump") + 153
                bytes[at] = bytes[at] == 0x37 ? 0x36 : bytes[at] + 1
            },
            .v2Invalid("v2-tar-checksum-signed", "metadata/config.dump's header checksum computed with signed bytes (old Sun tar) over the uname zoé",
                       breaks: ["CKA-TAR-004"], flags: [.checksum, .parserDifferential], malformed: true) { a in
                // Readers that accept signed sums as a fallback (GNU tar, Go, this package's reader) read it.
                a.patch = { bytes, layout in
                    let at = layout.block("metadata/config.dump")
                    bytes.replaceSubrange((at + 265)..<(at + 269), with: Array("zoé".utf8))
                    let block = bytes[at..<(at + 512)].enumerated().map { i, b in
                        (148..<156).contains(i) ? 0x20 : Int(Int8(bitPattern: b))
                    }
                    let digits = Array(TarTestHeader.octal(block.reduce(0, +), digits: 6).utf8)
                    bytes.replaceSubrange((at + 148)..<(at + 156), with: digits + [0, 0x20])
                }
            },
            .v2Bytes("v2-tar-lone-zero-block", "a single zero block before the index entry (readers that skip it see one more entry)",
                     breaks: ["CKA-TAR-005"], flags: [.parserDifferential], malformed: true) { bytes, built in
                bytes.insert(contentsOf: [UInt8](repeating: 0, count: 512), at: indexStart(built))
            },
            .v2Invalid("v2-tar-sparse-record", "a rootfs file marked sparse by pax GNU.sparse records (format 0.1, one segment)",
                       breaks: ["CKA-TAR-010", "CKA-TAR-025", "CKA-V2-051"], flags: [.parserDifferential]) { a in
                a.entries.update("rootfs/tree/etc/app.conf") {
                    $0 = $0.with(["GNU.sparse.map": "0,4", "GNU.sparse.numblocks": "1", "GNU.sparse.size": "4"])
                }
            },
            .v2Invalid("v2-tar-below-file", "rootfs/tree/etc/app.conf/x after the regular file rootfs/tree/etc/app.conf",
                       breaks: ["CKA-TAR-038", "CKA-V2-031"]) { a in
                a.entries.insert([.file("rootfs/tree/etc/app.conf/x", "", mode: 0o644)], after: "rootfs/tree/etc/app.conf")
            },
            .v2("v2-tar-xattrs", "a file capability, a POSIX access ACL naming uid 1000 and two user. xattrs on a rootfs file",
                requirements: ["CKA-TAR-041"]) { V2TestArchive.workedExample(xattrs) },
            .v2Invalid("v2-tar-xattr-trusted", "the overlayfs xattr trusted.overlay.opaque added to a rootfs file",
                       breaks: ["CKA-TAR-041"], base: "v2-tar-xattrs", from: { V2TestArchive.workedExample(xattrs) }) { a in
                a.entries.update("rootfs/tree/etc/app.conf") { $0.header.xattrs.append(TarXattr(name: "trusted.overlay.opaque", value: [0x79])) }
            },
            .v2Invalid("v2-tar-xattr-system", "the xattr system.nfs4_acl added to a rootfs file", breaks: ["CKA-TAR-041"],
                       base: "v2-tar-xattrs", from: { V2TestArchive.workedExample(xattrs) }) { a in
                a.entries.update("rootfs/tree/etc/app.conf") { $0.header.xattrs.append(TarXattr(name: "system.nfs4_acl", value: [0])) }
            },
            .v2Invalid("v2-tar-name-field-garbage", "bytes after the NUL that ends the name field of metadata/config.dump",
                       breaks: ["CKA-TAR-042"], flags: [.parserDifferential], patching("metadata/config.dump") { b in
                b[60] = 0x78
            }),
            .v2Invalid("v2-tar-header-tail", "a non-zero byte in the 12 unused bytes at the end of a header block",
                       breaks: ["CKA-TAR-042"], patching("checkpoint/inventory.img") { $0[511] = 0x01 }),
            .v2Invalid("v2-tar-data-padding", "a non-zero byte in the padding after metadata/config.dump's data",
                       breaks: ["CKA-TAR-042"]) { a in
                a.patch = { bytes, layout in
                    let e = layout.entry("metadata/config.dump")
                    bytes[Int(e.dataOffset + e.size) + 3] = 0x20
                }
            },
            .v2Invalid("v2-tar-pax-padding", "a non-zero byte in the padding after the pax records of checkpoint/",
                       breaks: ["CKA-TAR-042"]) { a in
                a.patch = { bytes, layout in bytes[layout.paxBlock("checkpoint/") + 1023] = 0x0A }
            },
        ])
    }
}
