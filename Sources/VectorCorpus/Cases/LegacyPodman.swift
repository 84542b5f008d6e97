import TarFormat

/// Podman v1 archives as `podman container checkpoint --export` writes them (part 4.14): uncompressed, gzip and
/// zstd; with and without the rootfs diff; `/dev/shm`; named volumes; pre-checkpoints; and the Podman rules
/// (CKA-POD-002 .. 006) broken one at a time.
enum LegacyPodman {
    typealias F = LegacyPodmanFixtures

    static var group: VectorGroup {
        VectorGroup(name: "v1-podman", cases: valid + broken)
    }

    static var valid: [VectorCase] {
        [
            .v1(V1Base.podman, "A typical Podman export with --compress none: config.dump, spec.dump, network.status, stats-dump, ctr.log, genuine CRIU images, rootfs-diff.tar (changed files, an added directory, a symlink; parents implied) and deleted.files, in the include-list order",
                requirements: ["CKA-V1-001", "CKA-V1-002", "CKA-V1-003", "CKA-V1-006", "CKA-V1-007", "CKA-V1-008",
                               "CKA-V1-009", "CKA-V1-010", "CKA-V1-012", "CKA-V1-013", "CKA-V1-014", "CKA-V1-015",
                               "CKA-V1-019", "CKA-V1-020", "CKA-V1-021", "CKA-POD-002", "CKA-POD-004", "CKA-POD-006"]) {
                F.typical()
            },
            .v1("v1-podman-gzip", "The typical Podman export with --compress gzip (one gzip member around the whole tar stream; nested tars stay uncompressed)",
                requirements: ["CKA-V1-019", "CKA-V1-020", "CKA-POD-002"]) { F.typical(.gzip) },
            .v1("v1-podman-zstd", "The typical Podman export with Podman's default --compress zstd",
                requirements: ["CKA-V1-019", "CKA-V1-020", "CKA-POD-002"]) { F.typical(.zstd) },
            .v1("v1-podman-minimal", "The least a Podman restore accepts: config.dump, spec.dump and checkpoint/ with a genuine inventory.img",
                requirements: ["CKA-V1-001", "CKA-V1-002", "CKA-V1-003", "CKA-V1-010", "CKA-POD-002"]) {
                V1TestArchive([.file("config.dump", F.config()), .file("spec.dump", F.spec()), .dir("checkpoint/", mode: 0o700),
                               .bytes("checkpoint/inventory.img", V2Fixtures.image("inventory.img"))])
            },
            .v1("v1-podman-ignore-rootfs", "An export with --ignore-rootfs: no rootfs-diff.tar and no deleted.files, so no rootfs section",
                requirements: ["CKA-V1-019", "CKA-POD-002"]) { V1TestArchive(F.core(), compression: .zstd) },
            .v1("v1-podman-deletions-only", "A container that only deleted files: deleted.files without rootfs-diff.tar (the rootfs section holds only the deletion list)",
                requirements: ["CKA-V1-014"]) {
                V1TestArchive(F.core() + [.file("deleted.files", LegacyFixtures.goList(["/etc/motd", "/var/log/dnf.log"]))])
            },
            .v1("v1-podman-empty-diff", "An empty rootfs-diff.tar (its end-of-archive blocks only) and an empty deleted.files list: both stand for nothing (table 5.11), no rootfs section",
                requirements: ["CKA-V1-006", "CKA-V1-014"]) {
                V1TestArchive(F.core() + [.nested("rootfs-diff.tar", []), .file("deleted.files", "[]")])
            },
            .v1("v1-podman-devshm", "A container with a private /dev/shm: devshm-checkpoint.tar (first entry './' mode 1777, then './<name>') second in the include list",
                requirements: ["CKA-V1-006", "CKA-POD-003"], devshm),
            .v1("v1-podman-volumes", "Two named volumes listed in config.dump namedVolumes, exported as volumes/<name>.tar after the rootfs diff (one empty: its './' entry only; no entry for volumes/ itself)",
                requirements: ["CKA-V1-006", "CKA-V1-016", "CKA-V1-017", "CKA-POD-003"], volumes),
            .v1("v1-podman-pre-checkpoint", "A pre-dump exported with --pre-checkpoint: pre-checkpoint/ (inventory, page map, pages) in place of checkpoint/",
                requirements: ["CKA-V1-002", "CKA-V1-012"]) {
                V1TestArchive(Array(F.core().prefix(5)) + LegacyFixtures.preCheckpoint)
            },
            .v1("v1-podman-with-previous", "The checkpoint that follows a pre-dump (--with-previous): checkpoint/parent is the symbolic link ../pre-checkpoint",
                requirements: ["CKA-V1-012"]) { V1TestArchive(F.core(parent: true)) },
            .v1("v1-podman-every-section", "Everything Podman exports, zstd-compressed: artifacts/, devshm-checkpoint.tar, metadata, ctr.log, CRIU images, rootfs diff, deletions, two named volumes",
                requirements: ["CKA-V1-005", "CKA-V1-006", "CKA-V1-016", "CKA-V1-017", "CKA-V1-020", "CKA-POD-003",
                               "CKA-POD-004"]) { F.everySection },
            .v1("v1-podman-rootfs-entry-types", "A rootfs diff with every entry type a container's root holds: hard links, symlinks, a FIFO, a character device, setuid and owners, xattrs (SCHILY.xattr), an added directory with its subtree",
                requirements: ["CKA-V1-006", "CKA-V1-015", "CKA-POD-004"]) {
                V1TestArchive(F.core() + [.nested("rootfs-diff.tar", [
                    .file("etc/app.conf", "x=1\n", mode: 0o644)
                        .with { $0.xattrs = [TarXattr(name: "user.origin", value: Array("vector".utf8))] },
                    .link("etc/app.conf.bak", to: "etc/app.conf", type: .hardLink),
                    .special("dev/null", .characterDevice, mode: 0o666).with { $0.devMajor = 1; $0.devMinor = 3 },
                    .dir("opt/tool/", mode: 0o755),
                    V1TestEntry.file("opt/tool/run", "#!/bin/sh\n", mode: 0o4755).owned(0, 10),
                    .link("opt/tool/sh", to: "/bin/sh"),
                    .special("run/ctl.fifo", .fifo, mode: 0o600),
                ])])
            },
            .v1("v1-podman-gnu-tar", "A Podman checkpoint re-packed with `tar -C dir -cf x.tar .` as checkpointctl's tests do: a './' root entry and './' on every name (names compared after stripping it)",
                requirements: ["CKA-V1-001", "CKA-V1-002", "CKA-V1-019"]) {
                V1TestArchive([.dir("./", mode: 0o700)] + F.core().map { e in
                    e.with { $0.path = "./" + $0.path }
                })
            },
        ]
    }

    static var broken: [VectorCase] {
        [
            .v1Changed("v1-pod-devshm-name-without-dot-slash", "devshm-checkpoint.tar names a file 'sem.counter' instead of './sem.counter'",
                       breaks: ["CKA-POD-003"], base: "v1-podman-devshm",
                       from: devshm) {
                $0.entries.updateNested("devshm-checkpoint.tar") { $0.update("./sem.counter") { $0.header.path = "sem.counter" } }
            },
            .v1Changed("v1-pod-devshm-no-root-entry", "devshm-checkpoint.tar lacks its first entry './'",
                       breaks: ["CKA-POD-003"], base: "v1-podman-devshm",
                       from: devshm) {
                $0.entries.updateNested("devshm-checkpoint.tar") { $0.remove("./") }
            },
            .v1Changed("v1-pod-volume-name-without-dot-slash", "volumes/data.tar names its entries 'db/' and 'db/state.db' without './'",
                       breaks: ["CKA-POD-003"], base: "v1-podman-volumes", from: volumes) {
                $0.entries.updateNested("volumes/data.tar") { entries in
                    for i in entries.indices where entries[i].header.path.hasPrefix("./db") {
                        entries[i].header.path.removeFirst(2)
                    }
                }
            },
            .v1Changed("v1-pod-rootfs-diff-dot-slash", "rootfs-diff.tar names its entries './etc/app.conf' and so on (Podman writes relative names without './')",
                       breaks: ["CKA-POD-004"], base: V1Base.podman, from: { F.typical() }) {
                $0.entries.updateNested("rootfs-diff.tar") { entries in
                    for i in entries.indices { entries[i].header.path = "./" + entries[i].header.path }
                }
            },
            .v1Changed("v1-pod-dump-log", "A Podman archive with dump.log (Podman does not export it; dump.log also points to CRI-O or containerd)",
                       result: .acceptable, breaks: ["CKA-V1-020", "CKA-POD-006"], base: V1Base.podman, from: { F.typical() }) {
                $0.entries.insert([.file("dump.log", LegacyFixtures.dumpLog)], after: "ctr.log")
            },
        ]
    }

    /// The typical core with a private /dev/shm.
    static func devshm() -> V1TestArchive { V1TestArchive([.nested("devshm-checkpoint.tar", F.devShm)] + F.core()) }

    /// The typical core with two named volumes (one empty).
    static func volumes() -> V1TestArchive {
        V1TestArchive(F.core(volumes: ["data", "cache"])
                      + [.nested("volumes/data.tar", F.volumeData),
                         .nested("volumes/cache.tar", [V1TestEntry.dir("./", mode: 0o777)])])
    }
}
