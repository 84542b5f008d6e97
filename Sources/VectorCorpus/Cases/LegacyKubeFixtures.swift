import TarFormat

/// The archives of the Kubernetes engines (part 4.14): CRI-O's export (its include order, indented JSON,
/// `bind.mounts`, the log copied to a file named `io.kubernetes.cri-o.LogPath`, never compressed) and
/// containerd's CRI checkpoint (lexical order, compact JSON, `status` and `status.dump`, the rootfs diff as a
/// gzip OCI layer with whiteouts).
public enum LegacyKubeFixtures {
    static let podUID = "425c89ed-5bb7-4a76-a3fa-e6fd8a6f6484"
    static let logPath = "/var/log/pods/default_counter-pod_\(podUID)/counter/0.log"

    // MARK: - CRI-O

    /// The container ID of the CRI-O fixtures.
    public static let crioID = "d742a48a319f4eb65d0457266138df585955130f892ac84bb45549863f950005"

    /// checkpointctl's reduced `ContainerConfig`, indented (`metadata.WriteJSONFile`).
    public static let crioConfig = """
    {
      "id": "\(crioID)",
      "name": "counter",
      "rootfsImage": "quay.io/example/counter:1.0",
      "rootfsImageRef": "quay.io/example/counter@sha256:9b2c8e3f1a0d4c6b8e2f4a6c8e0b2d4f6a8c0e2b4d6f8a0c2e4b6d8f0a2c4e6b",
      "rootfsImageName": "quay.io/example/counter:1.0",
      "runtime": "runc",
      "createdTime": "2024-01-01T00:00:00.123456789Z",
      "checkpointedTime": "2024-01-01T00:01:00.987654321Z",
      "restoredTime": "0001-01-01T00:00:00Z",
      "restored": false
    }
    """

    /// The runtime spec CRI-O generated (shortened), indented; `annotations` are the members after
    /// `io.container.manager` (JSON text, indented by four spaces).
    public static func crioSpec(annotations: String = crioAnnotations) -> String {
        """
        {
          "ociVersion": "1.2.0",
          "process": {
            "args": [
              "/bin/counter"
            ],
            "cwd": "/"
          },
          "root": {
            "path": "/var/lib/containers/storage/overlay/5d1a/merged"
          },
          "mounts": [
            {
              "destination": "/etc/hosts",
              "type": "bind",
              "source": "/var/lib/kubelet/pods/\(podUID)/etc-hosts",
              "options": [
                "rbind",
                "rw"
              ]
            }
          ],
          "annotations": {
            "io.container.manager": "cri-o",
        \(annotations)
          }
        }
        """
    }

    /// The annotations CRI-O restore and checkpointctl read (`Annotations` and `Metadata` hold JSON objects).
    public static let crioAnnotations = """
        "io.kubernetes.cri-o.Annotations": "{\\"io.kubernetes.container.hash\\":\\"2b3f9c1e\\"}",
        "io.kubernetes.cri-o.LogPath": "\(logPath)",
        "io.kubernetes.cri-o.Metadata": "{\\"name\\":\\"counter\\",\\"attempt\\":0}",
        "io.kubernetes.pod.name": "counter-pod"
    """

    /// `bind.mounts` (indented, as `metadata.WriteJSONFile` writes) holding `items` (JSON object texts).
    public static func bindMounts(_ items: [String] = [hostsMount, emptyDirMount]) -> String {
        "[\n" + items.joined(separator: ",\n") + "\n]"
    }

    /// The bind mount of the pod's `/etc/hosts` file (permissions 0644).
    public static let hostsMount = bindMount(source: "/var/lib/kubelet/pods/\(podUID)/etc-hosts",
                                             destination: "/etc/hosts", type: "\"file\"", permissions: "420")
    /// The bind mount of an `emptyDir` volume at `/data` (permissions 0777).
    public static let emptyDirMount = bindMount(
        source: "/var/lib/kubelet/pods/\(podUID)/volumes/kubernetes.io~empty-dir/data", destination: "/data",
        type: "\"directory\"", permissions: "511")

    /// One element of `bind.mounts` with raw JSON values for `file_type` and `permissions`.
    public static func bindMount(source: String, destination: String, type: String, permissions: String) -> String {
        "  {\n    \"source\": \(V2TestArchive.json(source)),\n    \"destination\": \(V2TestArchive.json(destination)),\n"
            + "    \"file_type\": \(type),\n    \"permissions\": \(permissions)\n  }"
    }

    /// A typical CRI-O export in CRI-O's order: stats-dump, dump.log, checkpoint/, config.dump, spec.dump,
    /// bind.mounts, rootfs-diff.tar, deleted.files, io.kubernetes.cri-o.LogPath.
    public static var crio: V1TestArchive {
        V1TestArchive([LegacyFixtures.statsDump, .file("dump.log", LegacyFixtures.dumpLog)] + LegacyFixtures.checkpoint()
                      + [.file("config.dump", crioConfig), .file("spec.dump", crioSpec()),
                         .file("bind.mounts", bindMounts()),
                         .nested("rootfs-diff.tar", [.file("root/.bash_history", "ls\n", mode: 0o600),
                                                     .file("tmp/counter.out", "3\n", mode: 0o644)]),
                         .file("deleted.files", LegacyFixtures.goList(["/root/.cache", "/var/log/dnf.log"])),
                         .file("io.kubernetes.cri-o.LogPath", LegacyFixtures.criLog, mode: 0o644)])
    }

    // MARK: - containerd

    /// The container ID of the containerd fixtures.
    public static let containerdID = "62c68bd000268f48824cabf585afd4f5f06fb9f00aa38ef512843ca46faa97f2"

    /// checkpointctl's reduced `ContainerConfig`, compact (`json.Marshal`).
    public static let containerdConfig = #"{"id":"\#(containerdID)","name":"counter","rootfsImage":"quay.io/example/counter:1.0","rootfsImageRef":"sha256:7b1e9d3c5a2f4e6d8c0b2a4f6e8d0c2b4a6f8e0d2c4b6a8f0e2d4c6b8a0f2e4d","rootfsImageName":"quay.io/example/counter:1.0","runtime":"io.containerd.runc.v2","createdTime":"2024-01-01T00:00:00.123456789Z","checkpointedTime":"2024-01-01T00:01:00.987654321Z","restoredTime":"0001-01-01T00:00:00Z","restored":false}"#

    /// The raw spec blob (compact), with the CRI annotations checkpointctl reads and no `io.container.manager`.
    public static let containerdSpec = #"{"ociVersion":"1.1.0","process":{"args":["/bin/counter"],"cwd":"/"},"root":{"path":"rootfs"},"annotations":{"io.kubernetes.cri.container-name":"counter","io.kubernetes.cri.container-type":"container","io.kubernetes.cri.sandbox-name":"counter-pod","io.kubernetes.cri.sandbox-namespace":"default"}}"#

    /// containerd's `versionedStatus`.
    public static let status = #"{"Version":"v1","Pid":4242,"CreatedAt":1704067200123456789,"StartedAt":1704067200223456789,"FinishedAt":0,"ExitCode":0,"Reason":"","Message":"","Resources":null}"#

    /// The CRI `ContainerStatus` (snake_case, empty members omitted).
    public static let statusDump = #"{"id":"\#(containerdID)","metadata":{"name":"counter"},"state":1,"created_at":1704067200123456789,"started_at":1704067200223456789,"image":{"image":"quay.io/example/counter:1.0","user_specified_image":"quay.io/example/counter:1.0"},"image_ref":"quay.io/example/counter@sha256:7b1e9d3c5a2f4e6d8c0b2a4f6e8d0c2b4a6f8e0d2c4b6a8f0e2d4c6b8a0f2e4d","labels":{"io.kubernetes.container.name":"counter"},"log_path":"\#(logPath)"}"#

    /// The OCI layer of the container's changes (continuity's walk order: parents first, whiteouts in place): a
    /// deleted `/etc/motd`, a changed file, and an opaque directory `/var/cache/apt` recreated with one file.
    public static var layer: [V1TestEntry] {
        [.dir("etc/"), .file("etc/.wh.motd", "", mode: 0o644), .file("etc/app.conf", "x=1\n", mode: 0o644),
         .dir("var/"), .dir("var/cache/"), .dir("var/cache/apt/"), .file("var/cache/apt/.wh..wh..opq", "", mode: 0o644),
         .file("var/cache/apt/lock", "", mode: 0o640)]
    }

    /// A containerd checkpoint in lexical order. containerd creates `spec.dump` and the CRIU images with
    /// `os.Create` (0644); this one has them 0600, as CKA-V1-009 asks (`v1-containerd-engine-modes` keeps 0644).
    public static var containerd: V1TestArchive {
        V1TestArchive(LegacyFixtures.checkpoint()
                      + [.file("config.dump", containerdConfig), .file("container.log", LegacyFixtures.criLog),
                         .file("dump.log", LegacyFixtures.dumpLog), .nested("rootfs-diff.tar", layer, gzip: true),
                         .file("spec.dump", containerdSpec), LegacyFixtures.statsDump, .file("status", status),
                         .file("status.dump", statusDump)])
    }
}
