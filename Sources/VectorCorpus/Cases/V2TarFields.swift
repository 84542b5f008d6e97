import TarFormat

/// Tar-layer rules that v2 makes stricter, broken inside an otherwise valid v2 archive (ported from the v2
/// assertions of Tests/ConformanceTests/TarLayerRulesTests). The bare-stream tar cases join in stage 2.
enum V2TarFields {
    static func patching(_ path: String, _ change: @escaping (inout [UInt8]) -> Void) -> (inout V2TestArchive) -> Void {
        { a in a.patch = { bytes, layout in V2Patch.header(&bytes, at: layout.block(path), change) } }
    }

    static var group: VectorGroup {
        VectorGroup(name: "v2-tar-fields", cases: [
            .v2Invalid("v2-tar-ustar-uid-with-pax", "uid 3000000 in a pax record while the ustar uid field holds 7777777",
                       breaks: ["CKA-TAR-015"], flags: [.parserDifferential], base: "v2-enc-large-uid",
                       from: { V2TestArchive.workedExample { $0.entries.update("rootfs/tree/etc/app.conf") { $0.header.uid = 3_000_000 } } },
                       patching("rootfs/tree/etc/app.conf") { V2Patch.put(&$0, "7777777", at: 108, width: 8) }),
            .v2Invalid("v2-tar-devmajor-on-file", "devmajor 1 on a regular file", breaks: ["CKA-TAR-018"],
                       patching("rootfs/tree/etc/app.conf") { V2Patch.put(&$0, "0000001", at: 329, width: 8) }),
            .v2Invalid("v2-tar-mode-type-bits", "mode 0100644 (file-type bits) on a regular file", breaks: ["CKA-TAR-017"],
                       patching("rootfs/tree/etc/app.conf") { V2Patch.put(&$0, "0100644", at: 100, width: 8) }),
            .v2Invalid("v2-tar-hard-link-later", "a hard link to a file that comes after it", breaks: ["CKA-TAR-040"],
                       flags: [.linkEscape]) { a in
                a.entries.insert([.link("rootfs/tree/etc/a-link", "rootfs/tree/etc/app.conf", type: .hardLink)],
                                 after: "rootfs/tree/etc/")
            },
        ])
    }
}
