import TarFormat

/// Valid v2 archives: the worked example, minimal and typical checkpoints, every section kind and entry type,
/// names, links, devices, xattrs, deletions, empty and extension sections.
enum V2Valid {
    static var group: VectorGroup {
        VectorGroup(name: "v2-valid", cases: [
            .v2(VectorBase.workedExample, "The worked example of part 10 (metadata, checkpoint, rootfs; uncompressed)",
                requirements: ["CKA-V2-001", "CKA-V2-003", "CKA-V2-045", "CKA-IDX-001", "CKA-IDX-014"]) { V2TestArchive() },
            .v2("v2-placeholder-inventory-image", "The worked example of part 10 exactly: its checkpoint/inventory.img is a text placeholder, not a CRIU image",
                result: .acceptable, requirements: ["CKA-V2-055"], base: VectorBase.workedExample) {
                V2TestArchive(entries: V2TestArchive.workedExample)
            },
            .v2("v2-pinned-index-digest", "The worked example validated and extracted with its own index digest pinned",
                requirements: ["CKA-IDX-010"], flags: [.index], indexPin: .own) { V2TestArchive() },
            .v2("v2-minimal", "The smallest valid archive: config.dump, spec.dump and a genuine CRIU inventory.img",
                requirements: ["CKA-V2-016", "CKA-V2-023", "CKA-V2-025"]) {
                var a = V2TestArchive()
                a.entries = [.marker("metadata"), .file("metadata/config.dump", V2Fixtures.podmanConfig),
                             .file("metadata/spec.dump", V2Fixtures.podmanSpec), .marker("checkpoint"),
                             .bytes("checkpoint/inventory.img", V2Fixtures.image("inventory.img"))]
                return a
            },
            .v2("v2-typical", "A typical Podman checkpoint: metadata with stats-dump, genuine CRIU images of one process, a rootfs diff with deletions and owners, the container log",
                requirements: ["CKA-V2-024", "CKA-V2-026", "CKA-V2-027", "CKA-V2-037", "CKA-V2-048"]) {
                var a = V2Fixtures.typical
                a.entries.insert([.link("checkpoint/parent", "../pre-checkpoint")], after: "checkpoint/pages-1.img")
                return a
            },
            .v2("v2-every-section", "Every section kind in order: metadata, checkpoint, rootfs, devshm, two volumes, logs, artifacts, a critical and an ancillary ext section",
                requirements: ["CKA-V2-010", "CKA-V2-011", "CKA-V2-012", "CKA-V2-015", "CKA-V2-038", "CKA-V2-039",
                               "CKA-V2-040", "CKA-V2-042"], flags: [.sectionOrder]) { V2Fixtures.everySection },
            .v2("v2-pre-checkpoint", "A pre-dump: a pre-checkpoint section (pagemap and pages) instead of checkpoint",
                requirements: ["CKA-V2-016", "CKA-V2-026"], flags: [.sectionOrder]) {
                var a = V2TestArchive()
                a.entries = V2Fixtures.metadata + [
                    .marker("pre-checkpoint"),
                    .bytes("pre-checkpoint/pagemap-1.img", V2Fixtures.image("pagemap-1.img")),
                    .bytes("pre-checkpoint/pages-1.img", V2Fixtures.pages(2, seed: 9)),
                ] + V2Fixtures.rootfs
                return a
            },
            .v2("v2-many-volumes", "Twenty-four volume sections whose names use every allowed character class, in byte order",
                requirements: ["CKA-V2-015", "CKA-V2-022"], flags: [.sectionOrder]) {
                var a = V2TestArchive()
                let names = ["0", "9lives", "A", "Data_1", "Z.z", "a", "a-b", "a.b", "a_b", "a0", "app-data", "b",
                             "cache", "config.d", "data", "db", "logs-vol", "m", "n.1", "q_q", "scratch", "tmp", "x",
                             String(repeating: "v", count: 255)]
                a.entries = V2Fixtures.metadata + [.marker("checkpoint"),
                                                   .bytes("checkpoint/inventory.img", V2Fixtures.image("inventory.img"))]
                for name in names.sorted(by: { Array($0.utf8).lexicographicallyPrecedes(Array($1.utf8)) }) {
                    a.entries += [.marker("volume", name: name), .file("volumes/\(name)/v", name + "\n", mode: 0o644)]
                }
                return a
            },
            .v2("v2-long-utf8-names", "Long and UTF-8 names and link targets: 100-byte ASCII names in the ustar field, longer and non-ASCII ones in pax records, 255-byte components, truncated pax header names",
                requirements: ["CKA-TAR-029", "CKA-TAR-031", "CKA-TAR-032", "CKA-TAR-044", "CKA-V2-049", "CKA-SEC-024"],
                flags: [.parserDifferential]) {
                var a = V2TestArchive()
                let hundred = "rootfs/tree/n/" + String(repeating: "a", count: 100 - 14)
                let long = "rootfs/tree/n/" + String(repeating: "b", count: 255)
                let utf = "rootfs/tree/n/äöü-日本語-" + String(repeating: "ü", count: 60)
                a.entries = Array(V2TestArchive.validExample[0..<5]) + [
                    .marker("rootfs"), .dir("rootfs/tree/"), .dir("rootfs/tree/n/"),
                    .file(hundred, "100\n", mode: 0o644),
                    .file(long, "255\n", mode: 0o644),
                    .link("rootfs/tree/n/c-link", "/usr/share/" + String(repeating: "t", count: 120)),
                    .link("rootfs/tree/n/d-link", "données/ü"),
                    .file("rootfs/tree/n/e\u{301}", "decomposed\n", mode: 0o644),
                    .file("rootfs/tree/n/x", "x\n", mode: 0o644),
                    .file(utf, "utf8\n", mode: 0o644),
                    .file("rootfs/tree/n/\u{e9}", "composed\n", mode: 0o644),
                ].sorted(byTreeOrderFrom: 5)
                return a
            },
            .v2("v2-hard-links", "Hard links in rootfs, devshm and a volume, each to an earlier file of its own section",
                requirements: ["CKA-TAR-040", "CKA-V2-041"], flags: [.linkEscape]) {
                var a = V2TestArchive()
                a.entries.insert([.link("rootfs/tree/etc/app.conf.hard", "rootfs/tree/etc/app.conf", type: .hardLink),
                                  .link("rootfs/tree/etc/app.conf.hard2", "rootfs/tree/etc/app.conf", type: .hardLink)],
                                 after: "rootfs/tree/etc/app.conf")
                a.entries += [.marker("devshm"), .file("devshm/a", "shm\n", mode: 0o644),
                              .link("devshm/b", "devshm/a", type: .hardLink),
                              .marker("volume", name: "data"), .file("volumes/data/a", "vol\n", mode: 0o640),
                              .link("volumes/data/b", "volumes/data/a", type: .hardLink)]
                return a
            },
            .v2("v2-symlinks", "Symbolic links in rootfs with absolute, dangling and upward targets (restored verbatim, never followed), a relative link in artifacts and checkpoint/parent",
                requirements: ["CKA-TAR-039", "CKA-V2-026", "CKA-V2-040"], flags: [.linkEscape]) {
                var a = V2TestArchive()
                a.entries.insert([.link("checkpoint/parent", "../pre-checkpoint")], after: "checkpoint/inventory.img")
                a.entries += [.link("rootfs/tree/etc/passwd-link", "../../../../etc/passwd"),
                              .link("rootfs/tree/etc/zdangling", "/nonexistent/target"),
                              .dir("rootfs/tree/usr/"), .link("rootfs/tree/usr/lib64", "lib"),
                              .marker("artifacts"), .file("artifacts/a.txt", "a\n", mode: 0o644),
                              .link("artifacts/b", "./a.txt")]
                return a
            },
            .v2("v2-devices-fifos", "Character and block devices, FIFOs and setuid/setgid/sticky bits in rootfs, a FIFO in devshm and in a volume",
                requirements: ["CKA-TAR-018", "CKA-V2-041", "CKA-V2-042"]) {
                var a = V2TestArchive()
                a.entries = a.entries + [
                    .dir("rootfs/tree/dev/"),
                    V2TestEntry.special("rootfs/tree/dev/loop0", .blockDevice).with { $0.devMajor = 7; $0.mode = 0o660; $0.gid = 6 },
                    V2TestEntry.special("rootfs/tree/dev/null", .characterDevice).with { $0.devMajor = 1; $0.devMinor = 3; $0.mode = 0o666 },
                    V2TestEntry.special("rootfs/tree/dev/pipe", .fifo).with { $0.mode = 0o600 },
                    .dir("rootfs/tree/tmp/", mode: 0o1777),
                    .file("rootfs/tree/tmp/setgid-tool", "#!/bin/sh\n", mode: 0o2755),
                    .file("rootfs/tree/tmp/setuid-tool", "#!/bin/sh\n", mode: 0o4755),
                ]
                a.entries = a.entries.sorted(byTreeOrderFrom: 5) + [
                    .marker("devshm", mode: 0o1777), .special("devshm/fifo", .fifo),
                    .marker("volume", name: "q"), .special("volumes/q/fifo", .fifo),
                ]
                return a
            },
            .v2("v2-xattrs", "Extended attributes (text and binary values) on rootfs files and directories, on the devshm marker and a volume root",
                requirements: ["CKA-V2-043"]) {
                var a = V2TestArchive()
                a.entries.update("rootfs/tree/etc/app.conf") {
                    $0.header.xattrs = [TarXattr(name: "user.checkpoint", value: Array("yes".utf8)),
                                        TarXattr(name: "user.binary", value: [0, 1, 2, 0xFF, 0xFE])]
                }
                a.entries += [.dir("rootfs/tree/var/").with { $0.xattrs = [TarXattr(name: "user.dir", value: Array("d".utf8))] },
                              .marker("devshm", mode: 0o1777).with { $0.xattrs = [TarXattr(name: "user.shm", value: [1])] },
                              .marker("volume", name: "data").with { $0.xattrs = [TarXattr(name: "user.volume", value: Array("v".utf8))] },
                              .file("volumes/data/f", "f\n", mode: 0o644)]
                return a
            },
            .v2("v2-deletions", "A rootfs diff that only deletes paths, and one that deletes then recreates a path",
                requirements: ["CKA-V2-028", "CKA-V2-033", "CKA-SEC-010"]) {
                var a = V2TestArchive()
                a.entries.remove("rootfs/implied.dirs")
                a.entries.update("rootfs/deleted.files") {
                    $0 = .file("rootfs/deleted.files", "[\n  \"/etc\",\n  \"/home/user/.cache\",\n  \"/opt/app dir/x\"\n]")
                }
                a.entries.update("rootfs/tree/etc/") { $0.header.mode = 0o700 }
                return a
            },
            .v2("v2-empty-sections", "Sections without content: rootfs (marker and tree only), devshm, a volume, logs, artifacts and an ext section",
                requirements: ["CKA-V2-016", "CKA-V2-027"], flags: [.sectionOrder]) {
                var a = V2TestArchive()
                a.entries = Array(V2TestArchive.validExample[0..<5]) + [
                    .marker("rootfs"), .dir("rootfs/tree/"), .marker("devshm"), .marker("volume", name: "empty"),
                    .marker("logs"), .marker("artifacts"), .marker("ext", name: "empty"),
                ]
                return a
            },
            .v2("v2-ancillary-extension", "An ext section and a section of an unknown ancillary kind (critical 0): the unknown one is skipped by decoders, still counted and digested",
                requirements: ["CKA-V2-009", "CKA-V2-017", "CKA-V2-039"], flags: [.sectionOrder]) {
                var a = V2TestArchive()
                a.entries += [.marker("ext", name: "org.example.trace"), .dir("ext/org.example.trace/d/"),
                              .file("ext/org.example.trace/d/trace.bin", "trace\n", mode: 0o644),
                              .marker("future-kind", critical: "0"), .file("future-kind/data.bin", "opaque"),
                              .dir("future-kind/sub/")]
                return a
            },
            .v2("v2-owners", "Numeric owners in rootfs and volumes, including ids above the ustar range carried in pax uid/gid records",
                requirements: ["CKA-TAR-015", "CKA-V2-051"]) {
                var a = V2TestArchive()
                a.entries.update("rootfs/tree/etc/app.conf") { $0.header.uid = 1000; $0.header.gid = 100 }
                a.entries += [.file("rootfs/tree/etc/zz-big-ids", "ids\n", mode: 0o644).with { $0.uid = 3_000_000; $0.gid = 2_097_152 },
                              .marker("volume", name: "home").with { $0.uid = 1000; $0.gid = 1000 },
                              .file("volumes/home/f", "f\n", mode: 0o600).with { $0.uid = 1000; $0.gid = 1000 }]
                return a
            },
        ])
    }
}

extension Array where Element == V2TestEntry {
    /// The entries from `start` on sorted depth-first with siblings in byte order (CKA-V2-048), the earlier ones
    /// kept in place (for fixtures listing names out of order).
    func sorted(byTreeOrderFrom start: Int) -> [V2TestEntry] {
        func key(_ e: V2TestEntry) -> [[UInt8]] {
            let p = e.header.path.hasSuffix("/") ? String(e.header.path.dropLast()) : e.header.path
            return p.split(separator: "/", omittingEmptySubsequences: false).map { [UInt8]($0.utf8) }
        }
        let tail = self[start...].sorted { a, b in
            let (ka, kb) = (key(a), key(b))
            for (x, y) in zip(ka, kb) where x != y { return x.lexicographicallyPrecedes(y) }
            return ka.count < kb.count
        }
        return Array(self[..<start]) + tail
    }
}
