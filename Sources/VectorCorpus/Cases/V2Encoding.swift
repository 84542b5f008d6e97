import TarFormat

/// How entries are encoded in v2: header fields, pax keys, `CKA.` records and pax extended headers (ported from
/// Tests/ConformanceTests/V2EncodingRuleTests).
enum V2Encoding {
    static func invalid(_ id: String, _ description: String, breaks: [String], flags: [VectorFlag] = [],
                        _ mutate: @escaping (inout V2TestArchive) -> Void) -> VectorCase {
        .v2Invalid(id, description, breaks: breaks, flags: flags, mutate)
    }

    static func valid(_ id: String, _ description: String, _ requirements: [String],
                      _ change: @escaping (inout V2TestArchive) -> Void) -> VectorCase {
        .v2(id, description, requirements: requirements) { V2TestArchive.workedExample(change) }
    }

    static func patching(_ path: String, pax: Bool = false, _ change: @escaping (inout [UInt8]) -> Void)
        -> (inout V2TestArchive) -> Void {
        { a in
            a.patch = { bytes, layout in
                V2Patch.header(&bytes, at: pax ? layout.paxBlock(path) : layout.block(path), change)
            }
        }
    }

    static var group: VectorGroup {
        VectorGroup(name: "v2-encoding", cases: [
            invalid("v2-enc-gnu-magic", "metadata/config.dump has the GNU magic ustar␠␠", breaks: ["CKA-TAR-007"],
                    flags: [.parserDifferential], patching("metadata/config.dump") {
                        $0.replaceSubrange(257..<265, with: Array("ustar  \u{0}".utf8))
                    }),
            invalid("v2-enc-pax-version-01", "the pax header of metadata/ has version 01", breaks: ["CKA-TAR-007"],
                    patching("metadata/", pax: true) { $0[263] = 0x30; $0[264] = 0x31 }),
            invalid("v2-enc-comment-record", "a pax comment record (the only record of its header)", breaks: ["CKA-TAR-025", "CKA-V2-051"]) { a in
                a.entries.update("rootfs/tree/etc/app.conf") { $0 = $0.with(["comment": "hi"]) }
            },
            valid("v2-enc-allowed-records", "SCHILY.xattr.security.selinux and a fractional mtime record on a rootfs file",
                  ["CKA-TAR-025"]) { a in
                a.entries.update("rootfs/tree/etc/app.conf") { $0 = $0.with(["SCHILY.xattr.security.selinux": "x", "mtime": "1.5"]) }
            },
            invalid("v2-enc-gnu-record", "a GNU.foo pax record (the only record of its header)", breaks: ["CKA-TAR-025", "CKA-V2-051"]) { a in
                a.entries.update("rootfs/tree/etc/app.conf") { $0 = $0.with(["GNU.foo": "1"]) }
            },
            invalid("v2-enc-cka-unknown-key", "a CKA.foo record", breaks: ["CKA-V2-005"]) { a in
                a.entries.update("metadata/config.dump") { $0 = $0.with(["CKA.foo": "1"]) }
            },
            invalid("v2-enc-section-name-on-file", "CKA.section.name on a regular file", breaks: ["CKA-V2-005"]) { a in
                a.entries.update("metadata/config.dump") { $0 = $0.with(["CKA.section.name": "x"]) }
            },
            invalid("v2-enc-index-record-on-marker", "CKA.index on the checkpoint marker", breaks: ["CKA-V2-005"]) { a in
                a.entries.update("checkpoint/") { $0 = $0.with(["CKA.index": "1"]) }
            },
            invalid("v2-enc-section-record-on-header", "CKA.section on cka-header.json", breaks: ["CKA-V2-005"]) { a in
                a.headerEntry = { $0.paxRecords.append(PaxRecord(key: "CKA.section", value: "metadata")) }
            },
            invalid("v2-enc-needless-path-record", "a path record for a short ASCII name", breaks: ["CKA-TAR-031", "CKA-V2-051"]) { a in
                a.entries.update("metadata/config.dump") { $0 = $0.with(["path": "metadata/config.dump"]) }
            },
            invalid("v2-enc-prefix-field", "metadata/config.dump split into the ustar prefix and name fields",
                    breaks: ["CKA-TAR-031"], flags: [.parserDifferential], patching("metadata/config.dump") {
                        V2Patch.put(&$0, "config.dump", at: 0, width: 100)
                        V2Patch.put(&$0, "metadata", at: 345, width: 155)
                    }),
            invalid("v2-enc-utf8-in-name-field", "a non-ASCII name in the ustar name field (the index names the file as written)", breaks: ["CKA-TAR-031", "CKA-IDX-005"],
                    flags: [.parserDifferential]) { a in
                a.entries += [.file("rootfs/tree/etc/zz", "", mode: 0o644)]
                patching("rootfs/tree/etc/zz") { V2Patch.put(&$0, "rootfs/tree/etc/zé", at: 0, width: 100) }(&a)
            },
            invalid("v2-enc-needless-linkpath", "a linkpath record for a short ASCII target", breaks: ["CKA-TAR-032", "CKA-V2-051"]) { a in
                a.entries.update("rootfs/tree/etc/localtime") { $0 = $0.with(["linkpath": "/usr/share/zoneinfo/UTC"]) }
            },
            valid("v2-enc-long-link", "a 131-byte link target in a linkpath record", ["CKA-TAR-032"]) { a in
                a.entries.update("rootfs/tree/etc/localtime") { $0.header.linkName = "/usr/share/" + String(repeating: "t", count: 120) }
            },
            invalid("v2-enc-dot-slash", "a name starting with ./", breaks: ["CKA-TAR-034", "CKA-TAR-036", "CKA-V2-013"]) { a in
                a.entries += [.file("./rootfs/tree/x", "")]
            },
            invalid("v2-enc-file-trailing-slash", "a regular file named with a trailing slash", breaks: ["CKA-TAR-036"]) { a in
                a.entries += [.file("rootfs/tree/x/", "", mode: 0o644)]
            },
            invalid("v2-enc-directory-no-slash", "the directory rootfs/tree/etc without its trailing slash",
                    breaks: ["CKA-TAR-036"], patching("rootfs/tree/etc/") { V2Patch.put(&$0, "rootfs/tree/etc", at: 0, width: 100) }),
            invalid("v2-enc-component-256", "a 256-byte name component", breaks: ["CKA-TAR-044"], flags: [.headerLimit]) { a in
                a.entries.insert([.file("rootfs/tree/" + String(repeating: "a", count: 256), "")], after: "rootfs/tree/")
            },
            valid("v2-enc-component-255", "a 255-byte name component", ["CKA-TAR-044"]) { a in
                a.entries.insert([.file("rootfs/tree/" + String(repeating: "a", count: 255), "", mode: 0o644)], after: "rootfs/tree/")
            },
            invalid("v2-enc-depth-257", "a name 257 components deep", breaks: ["CKA-TAR-044"], flags: [.headerLimit]) { a in
                a.entries += [.marker("ext", name: "d"), .file("ext/" + Array(repeating: "d", count: 256).joined(separator: "/"), "")]
            },
            invalid("v2-enc-xattrs-129", "129 xattrs on one entry", breaks: ["CKA-TAR-044"], flags: [.headerLimit]) { a in
                a.entries.update("rootfs/tree/etc/app.conf") { e in
                    e.header.xattrs = (0..<129).map { TarXattr(name: "user.\(1000 + $0)", value: [1]) }
                }
            },
            invalid("v2-enc-link-4201", "a 4201-byte link target", breaks: ["CKA-TAR-039", "CKA-TAR-044"], flags: [.headerLimit]) { a in
                a.entries.update("rootfs/tree/etc/localtime") { $0.header.linkName = "/" + String(repeating: "l/", count: 2100) }
            },
            invalid("v2-enc-pax-header-name", "the pax header of metadata/ is named PaxHeaders/metadata",
                    breaks: ["CKA-V2-049"], patching("metadata/", pax: true) { V2Patch.put(&$0, "PaxHeaders/metadata", at: 0, width: 100) }),
            invalid("v2-enc-pax-header-mode", "the pax header of rootfs/ has mode 0600",
                    breaks: ["CKA-V2-049"], patching("rootfs/", pax: true) { V2Patch.put(&$0, "0000600", at: 100, width: 8) }),
            invalid("v2-enc-pax-header-uname", "the pax header of checkpoint/ has uname root",
                    breaks: ["CKA-V2-049"], patching("checkpoint/", pax: true) { V2Patch.put(&$0, "root", at: 265, width: 32) }),
            valid("v2-enc-utf8-pax-header-name", "a 120-byte UTF-8 name: its pax header name cut at a character boundary",
                  ["CKA-V2-049"]) { a in
                a.entries += [.file("rootfs/tree/" + String(repeating: "ü", count: 60), "", mode: 0o644)]
            },
            invalid("v2-enc-record-order", "the records of the metadata marker out of key order", breaks: ["CKA-V2-050"]) { a in
                a.patch = { bytes, layout in
                    let body = layout.paxBlock("metadata/") + 512
                    bytes.replaceSubrange(body..<(body + 50), with: Array("26 CKA.section.critical=1\n24 CKA.section=metadata\n".utf8))
                }
            },
            invalid("v2-enc-needless-pax-header", "a pax header holding only uid=0", breaks: ["CKA-V2-051"]) { a in
                a.entries.update("rootfs/tree/etc/app.conf") { $0 = $0.with(["uid": "0"]) }
            },
            valid("v2-enc-large-uid", "uid 3000000 carried in a pax uid record", ["CKA-V2-051", "CKA-TAR-015"]) { a in
                a.entries.update("rootfs/tree/etc/app.conf") { $0.header.uid = 3_000_000 }
            },
        ])
    }
}
