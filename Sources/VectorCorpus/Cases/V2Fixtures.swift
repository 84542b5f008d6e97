import TarFormat

/// Source descriptions shared by the v2 case files: realistic metadata, genuine CRIU images, deterministic
/// payloads.
public enum V2Fixtures {
    /// A Podman `config.dump` (the members the v1 profile rules look at, and a few more).
    public static let podmanConfig = #"{"id":"5f2a9c0e7b1d4e3f8a6b2c1d0e9f8a7b6c5d4e3f2a1b0c9d8e7f6a5b4c3d2e1f","name":"counter","rootfsImageID":"3e1f5d7c9b2a","rootfsImageName":"quay.io/example/counter:1.0","runtime":"crun","createdTime":"2024-01-01T00:00:00Z","checkpointedTime":"2024-01-01T00:01:00Z"}"#
    /// A Podman `spec.dump` (an OCI runtime spec, shortened).
    public static let podmanSpec = #"{"ociVersion":"1.2.0","process":{"args":["/bin/counter"],"cwd":"/"},"root":{"path":"rootfs"},"annotations":{"io.container.manager":"libpod"}}"#
    /// Podman's `network.status` for a container without networks.
    public static let networkStatus = "{}"

    /// A CRIU image by name (`inventory.img`, `core-1.img`, ...): genuine bytes from `CRIUImages`.
    public static func image(_ name: String) -> [UInt8] {
        guard let bytes = CRIUImages.images[name] else { preconditionFailure("no CRIU image \(name)") }
        return bytes
    }

    /// Raw memory pages (`pages-N.img` holds page contents, not a CRIU protobuf image): `count` 4 KiB pages of a
    /// fixed pattern.
    public static func pages(_ count: Int, seed: UInt8 = 0) -> [UInt8] {
        (0..<(count * 4096)).map { UInt8(truncatingIfNeeded: ($0 / 4096) &* 31 &+ ($0 % 251) &+ Int(seed)) }
    }

    /// Deterministic, poorly compressible bytes (a linear congruential sequence).
    public static func noise(_ count: Int, seed: UInt32 = 1) -> [UInt8] {
        var x = seed
        return (0..<count).map { _ in
            x = x &* 1_664_525 &+ 1_013_904_223
            return UInt8(truncatingIfNeeded: x >> 24)
        }
    }

    /// The metadata section of a Podman checkpoint: config.dump, network.status, spec.dump, stats-dump.
    public static var metadata: [V2TestEntry] {
        [.marker("metadata"), .file("metadata/config.dump", podmanConfig), .file("metadata/network.status", networkStatus),
         .file("metadata/spec.dump", podmanSpec), .bytes("metadata/stats-dump", image("stats-dump.img"))]
    }

    /// A checkpoint section with the images of one small process (genuine CRIU images, raw pages).
    public static func checkpoint(pages count: Int = 2, parentLink: Bool = false) -> [V2TestEntry] {
        var out: [V2TestEntry] = [.marker("checkpoint")]
        for name in ["core-1.img", "fs-1.img", "ids-1.img", "inventory.img", "mm-1.img", "pagemap-1.img"] {
            out.append(.bytes("checkpoint/\(name)", image(name)))
        }
        out.append(.bytes("checkpoint/pages-1.img", pages(count)))
        if parentLink { out.append(.link("checkpoint/parent", "../pre-checkpoint")) }
        out.append(.bytes("checkpoint/pstree.img", image("pstree.img")))
        return out
    }

    /// A rootfs section: one deletion, one implied directory, a changed file and an absolute symlink.
    public static var rootfs: [V2TestEntry] {
        [.marker("rootfs"),
         .file("rootfs/deleted.files", "[\n  \"/etc/motd\",\n  \"/var/cache/apt\"\n]"),
         .file("rootfs/implied.dirs", "[\n  \"/srv\"\n]"),
         .dir("rootfs/tree/"),
         .dir("rootfs/tree/srv/"),
         .dir("rootfs/tree/srv/data/", mode: 0o750).with { $0.uid = 1000; $0.gid = 1000 },
         .file("rootfs/tree/srv/data/state.txt", "state=42\n", mode: 0o640).with { $0.uid = 1000; $0.gid = 1000 }]
    }

    /// A realistic Podman checkpoint: metadata, genuine CRIU images, a rootfs diff and the container log.
    public static var typical: V2TestArchive {
        var a = V2TestArchive()
        a.entries = metadata + checkpoint() + rootfs
            + [.marker("logs"), .file("logs/ctr.log", "2024-01-01T00:00:59Z stdout F count=59\n")]
        return a
    }

    /// Every section kind, in order.
    public static var everySection: V2TestArchive {
        var a = V2TestArchive()
        a.entries = metadata + checkpoint() + rootfs + [
            .marker("devshm", mode: 0o1777),
            .bytes("devshm/segment", noise(3000, seed: 7), mode: 0o600),
            .marker("volume", name: "cache"),
            .file("volumes/cache/index", "idx\n", mode: 0o644),
            .marker("volume", name: "data"),
            .dir("volumes/data/db/", mode: 0o700).with { $0.uid = 999; $0.gid = 999 },
            .file("volumes/data/db/table.dat", "rows\n", mode: 0o600).with { $0.uid = 999; $0.gid = 999 },
            .marker("logs"),
            .file("logs/ctr.log", "started\n"),
            .file("logs/dump.log", "(00.000000) Dumping finished successfully\n"),
            .marker("artifacts"),
            .dir("artifacts/secrets/"),
            .file("artifacts/secrets/token", "t0k3n\n", mode: 0o644),
            .link("artifacts/token-link", "secrets/token"),
            .marker("ext", name: "required.example", critical: "1"),
            .file("ext/required.example/must-understand.json", "{\"v\":1}", mode: 0o644),
            .marker("ext", name: "vendor.example"),
            .dir("ext/vendor.example/nested/"),
            .file("ext/vendor.example/nested/data.json", "{}", mode: 0o644),
        ]
        return a
    }

    /// Files large enough for every alignment (1 KiB to 70 KiB) in the checkpoint and rootfs sections.
    public static var payload: V2TestArchive {
        var a = V2TestArchive()
        a.entries = metadata + checkpoint(pages: 17) + [
            .marker("rootfs"), .dir("rootfs/tree/"), .dir("rootfs/tree/opt/"),
            .bytes("rootfs/tree/opt/blob.bin", noise(70_000, seed: 3), mode: 0o644),
            .bytes("rootfs/tree/opt/small.bin", noise(1000, seed: 4), mode: 0o644),
            .bytes("rootfs/tree/opt/tail.bin", noise(5000, seed: 5), mode: 0o644),
        ]
        return a
    }
}
