import TarFormat

/// Numeric header fields (part 2.4), pax extended headers and records (2.5) and names (2.6) of a v2 archive:
/// each case changes one field or record of the worked example.
enum TarLayerFields {
    static func patching(_ path: String, pax: Bool = false, _ change: @escaping (inout [UInt8]) -> Void)
        -> (inout V2TestArchive) -> Void {
        TarLayer.patching(path, pax: pax, change)
    }

    /// The worked example with `records` added to rootfs/tree/etc/app.conf.
    static func appConf(_ records: [String: String]) -> (inout V2TestArchive) -> Void {
        { a in a.entries.update("rootfs/tree/etc/app.conf") { $0 = $0.with(records) } }
    }

    static var numericCases: [VectorCase] {
        [
            .v2Invalid("v2-tar-octal-digit-8", "the mode field of metadata/config.dump is 0000648", breaks: ["CKA-TAR-012"],
                       malformed: true, patching("metadata/config.dump") { V2Patch.put(&$0, "0000648", at: 100, width: 8) }),
            .v2Invalid("v2-tar-octal-inner-space", "the uid field of metadata/config.dump is `0000 12` (GNU tar reads 0, Go refuses it)",
                       breaks: ["CKA-TAR-012"], flags: [.parserDifferential], malformed: true,
                       patching("metadata/config.dump") { V2Patch.put(&$0, "0000 12", at: 108, width: 8) }),
            .v2Invalid("v2-tar-octal-short", "the mode field of metadata/config.dump is `600` and NULs (octal, not the v2 encoding)",
                       breaks: ["CKA-TAR-014"], patching("metadata/config.dump") { V2Patch.put(&$0, "600", at: 100, width: 8) }),
            .v2Invalid("v2-tar-octal-space-terminated", "the size field of metadata/config.dump ends with a space instead of NUL",
                       breaks: ["CKA-TAR-014"], patching("metadata/config.dump") { $0[135] = 0x20 }),
            .v2Invalid("v2-tar-base256-uid", "the uid field of rootfs/tree/etc/app.conf as a GNU base-256 number (0)",
                       breaks: ["CKA-TAR-014"], flags: [.parserDifferential], patching("rootfs/tree/etc/app.conf") { b in
                b.replaceSubrange(108..<116, with: [0x80, 0, 0, 0, 0, 0, 0, 0])
            }),
            .v2Invalid("v2-tar-checksum-seven-digits", "the checksum of metadata/config.dump written as seven octal digits and NUL (correct value)",
                       breaks: ["CKA-TAR-014"]) { a in
                a.patch = { bytes, layout in
                    let at = layout.block("metadata/config.dump")
                    let sum = bytes[at..<(at + 512)].enumerated().reduce(0) { $0 + ((148..<156).contains($1.offset) ? 0x20 : Int($1.element)) }
                    bytes.replaceSubrange((at + 148)..<(at + 156), with: Array(TarTestHeader.octal(sum, digits: 7).utf8) + [0])
                }
            },
        ]
    }

    static var paxCases: [VectorCase] {
        [
            .v2Invalid("v2-tar-pax-length", "the first record of the metadata marker's pax header says 25 bytes for 24",
                       breaks: ["CKA-TAR-020"], malformed: true) { a in
                a.patch = { bytes, layout in bytes[layout.paxBlock("metadata/") + 513] = 0x35 }
            },
            .v2Invalid("v2-tar-pax-leading-zero", "the metadata marker's second record rewritten as `026 CKA.section.critical=` (a length with a leading zero, same size)",
                       breaks: ["CKA-TAR-020"], malformed: true) { a in
                a.patch = { bytes, layout in
                    let body = layout.paxBlock("metadata/") + 512
                    bytes.replaceSubrange((body + 24)..<(body + 50), with: Array("026 CKA.section.critical=\n".utf8))
                }
            },
            .v2Invalid("v2-tar-pax-duplicate-key", "the record SCHILY.xattr.user.b renamed SCHILY.xattr.user.a: that key twice in one pax header",
                       breaks: ["CKA-TAR-021"], flags: [.parserDifferential], base: "v2-tar-xattrs",
                       from: { V2TestArchive.workedExample(TarLayer.xattrs) }) { a in
                a.patch = { bytes, layout in
                    let body = layout.paxBlock("rootfs/tree/etc/app.conf") + 512
                    let key = Array("SCHILY.xattr.user.b=".utf8)
                    let at = (body..<(body + 1024)).first { bytes[$0..<($0 + key.count)].elementsEqual(key) }!
                    bytes[at + key.count - 2] = 0x61
                }
            },
            .v2Invalid("v2-tar-pax-linkpath-nul", "a linkpath record `/usr/share/zoneinfo/UTC<NUL>/etc/shadow` on rootfs/tree/etc/localtime",
                       breaks: ["CKA-TAR-023"], flags: [.parserDifferential], malformed: true) { a in
                a.entries.update("rootfs/tree/etc/localtime") { $0 = $0.with(["linkpath": "/usr/share/zoneinfo/UTC\u{0}/etc/shadow"]) }
            },
            .v2Invalid("v2-tar-pax-mtime-exponent", "an mtime record `1e9` on rootfs/tree/etc/app.conf", breaks: ["CKA-TAR-024"],
                       flags: [.parserDifferential], base: "v2-enc-allowed-records", malformed: true,
                       appConf(["SCHILY.xattr.security.selinux": "x", "mtime": "1e9"])),
            .v2Invalid("v2-tar-pax-uid-sign", "a uid record `+3000000` on rootfs/tree/etc/app.conf", breaks: ["CKA-TAR-024"],
                       flags: [.parserDifferential], base: "v2-enc-large-uid", from: {
                           V2TestArchive.workedExample { $0.entries.update("rootfs/tree/etc/app.conf") { $0.header.uid = 3_000_000 } }
                       }, malformed: true) { a in
                a.patch = { bytes, layout in
                    let body = layout.paxBlock("rootfs/tree/etc/app.conf") + 512
                    let text = Array("15 uid=3000000\n".utf8)
                    let at = (body..<(body + 512)).first { bytes[$0..<($0 + text.count)].elementsEqual(text) }!
                    bytes.replaceSubrange(at..<(at + text.count), with: Array("15 uid=+300000\n".utf8))
                }
            },
            .v2Invalid("v2-tar-pax-over-1mib", "sixteen 64 KiB xattrs on rootfs/tree/etc/app.conf: a pax header of 1,049,000 bytes; zstd",
                       breaks: ["CKA-TAR-027", "CKA-SEC-015"], flags: [.headerLimit], base: "v2-zstd",
                       from: { V2TestArchive.compressed(.zstd, framed: false) }) { a in
                a.entries.update("rootfs/tree/etc/app.conf") { e in
                    e.header.xattrs = (0..<16).map { TarXattr(name: "user.x\(10 + $0)", value: [UInt8](repeating: 0x61, count: 65536)) }
                }
            },
            .v2Invalid("v2-tar-link-not-utf8", "the byte 0xFF in the ustar linkname of rootfs/tree/etc/localtime",
                       breaks: ["CKA-TAR-029", "CKA-TAR-032"], patching("rootfs/tree/etc/localtime") { $0[157 + 20] = 0xFF }),
        ]
    }

    static var group: VectorGroup {
        VectorGroup(name: "tar-layer-fields", cases: numericCases + paxCases)
    }
}
