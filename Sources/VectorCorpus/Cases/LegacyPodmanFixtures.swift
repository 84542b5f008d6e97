import Compression
import TarFormat

/// Podman checkpoint archives as `podman container checkpoint --export` writes them (part 4.14): the include list
/// in its order, names without `./`, directories ending in `/`, JSON written by `metadata.WriteJSONFile`
/// (two-space indent, mode 0600), nested tars created by `os.Create` (mode 0644), uncompressed nested tars, the
/// outer stream compressed as `--compress` says.
public enum LegacyPodmanFixtures {
    /// The container ID of the Podman fixtures.
    public static let id = "0f9e043486de19792d436c501a9e24a070a732b62445e8c67c794540234a49d7"

    /// `libpod.ContainerConfig` (the members readers use and a few more), with `namedVolumes` for `volumes`.
    public static func config(volumes: [String] = []) -> String {
        var named = ""
        if !volumes.isEmpty {
            let items = volumes.map {
                "    {\n      \"volumeName\": \"\($0)\",\n      \"dest\": \"/\($0)\",\n      \"options\": [\n"
                    + "        \"nosuid\",\n        \"nodev\",\n        \"rbind\"\n      ]\n    }"
            }
            named = "  \"namedVolumes\": [\n" + items.joined(separator: ",\n") + "\n  ],\n"
        }
        return """
        {
          "id": "\(id)",
          "name": "counter",
          "rootfsImageID": "3e1f5d7c9b2a40e8a1c6f0d2b4e6a8c0e2f4a6c8e0b2d4f6a8c0e2b4d6f8a0c2",
          "rootfsImageName": "quay.io/example/counter:1.0",
          "rawImageName": "quay.io/example/counter:1.0",
          "stopSignal": 15,
        \(named)  "runtime": "crun",
          "createdTime": "2024-01-01T00:00:00.123456789Z",
          "logPath": "/var/lib/containers/storage/overlay-containers/\(id)/userdata/ctr.log",
          "logDriver": "k8s-file"
        }
        """
    }

    /// The OCI runtime spec Podman generated (shortened), with `io.container.manager: libpod`.
    public static func spec(annotations: String = "\"io.container.manager\": \"libpod\"") -> String {
        """
        {
          "ociVersion": "1.2.0",
          "process": {
            "user": {
              "uid": 0,
              "gid": 0
            },
            "args": [
              "/bin/counter"
            ],
            "cwd": "/"
          },
          "root": {
            "path": "/var/lib/containers/storage/overlay/8c1e/merged"
          },
          "hostname": "counter",
          "mounts": [
            {
              "destination": "/proc",
              "type": "proc",
              "source": "proc",
              "options": [
                "nosuid",
                "noexec",
                "nodev"
              ]
            }
          ],
          "annotations": {
            \(annotations),
            "org.opencontainers.image.stopSignal": "15"
          }
        }
        """
    }

    /// netavark's status of the default `podman` network.
    public static let networkStatus = """
    {
      "podman": {
        "interfaces": {
          "eth0": {
            "subnets": [
              {
                "ipnet": "10.88.0.9/16",
                "gateway": "10.88.0.1"
              }
            ],
            "mac_address": "6e:0f:8a:21:3b:5c"
          }
        }
      }
    }
    """

    /// Changed files (no parent directories, an added directory with its subtree), in the order of the changes.
    public static var rootfsDiff: [V1TestEntry] {
        [.file("etc/app.conf", "x=1\n", mode: 0o644),
         .link("etc/localtime", to: "/usr/share/zoneinfo/UTC"),
         V1TestEntry.dir("srv/data/", mode: 0o750).owned(1000, 1000),
         V1TestEntry.file("srv/data/state.txt", "state=42\n", mode: 0o640).owned(1000, 1000),
         .file("test.output", "counter: 3\n", mode: 0o644)]
    }

    /// `deleted.files` of `rootfsDiff`.
    public static let deleted = LegacyFixtures.goList(["/etc/motd", "/var/cache/apt"])

    /// The container's `/dev/shm` as `archive.TarWithOptions(IncludeSourceDir: true)` writes it.
    public static var devShm: [V1TestEntry] {
        [.dir("./", mode: 0o1777), .bytes("./counter.shm", V2Fixtures.noise(1500, seed: 7), mode: 0o644),
         .file("./sem.counter", "sem\n", mode: 0o600)]
    }

    /// A named volume's content (`./` first, `./<path>` after, lexical walk order).
    public static var volumeData: [V1TestEntry] {
        [V1TestEntry.dir("./", mode: 0o755).owned(1000, 1000),
         V1TestEntry.dir("./db/", mode: 0o700).owned(1000, 1000),
         V1TestEntry.file("./db/state.db", "rows=3\n", mode: 0o600).owned(1000, 1000),
         .file("./top.txt", "top\n", mode: 0o644)]
    }

    /// Metadata and CRIU images: what every Podman export holds, in the include-list order.
    public static func core(volumes: [String] = [], parent: Bool = false) -> [V1TestEntry] {
        [.file("config.dump", config(volumes: volumes)), .file("spec.dump", spec()),
         .file("network.status", networkStatus), LegacyFixtures.statsDump,
         .file("ctr.log", LegacyFixtures.criLog)] + LegacyFixtures.checkpoint(parent: parent)
    }

    /// A typical export: metadata, the container log, CRIU images, the rootfs diff and `deleted.files`.
    public static func typical(_ compression: CompressionFormat = .none) -> V1TestArchive {
        V1TestArchive(core() + [.nested("rootfs-diff.tar", rootfsDiff), .file("deleted.files", deleted)],
                      compression: compression)
    }

    /// Everything Podman can export: artifacts, `/dev/shm`, metadata, log, images, rootfs diff, deletions and two
    /// named volumes (one empty), zstd-compressed as by default.
    public static var everySection: V1TestArchive {
        V1TestArchive([.dir("artifacts/", mode: 0o755), .nested("devshm-checkpoint.tar", devShm)]
                      + core(volumes: ["cache", "data"])
                      + [.nested("rootfs-diff.tar", rootfsDiff), .file("deleted.files", deleted),
                         .nested("volumes/cache.tar", [.dir("./", mode: 0o755)]),
                         .nested("volumes/data.tar", volumeData)],
                      compression: .zstd)
    }
}
