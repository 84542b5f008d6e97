/// Hostile paths in the metadata files a restore acts on (podman#27977): `deleted.files` entries that leave the
/// container root or are not paths at all (CKA-V1-014 via CKA-SEC-010), and `bind.mounts` elements with unsafe
/// destinations, unclean sources or bad types and permissions (CKA-V1-018).
enum LegacyMetadataPaths {
    static var group: VectorGroup {
        VectorGroup(name: "v1-metadata-paths", cases: deletedFiles + bindMounts)
    }

    /// `v1-podman` with `deleted.files` holding `json` (raw bytes of the file).
    static func deleted(_ id: String, _ description: String, breaks: [String] = ["CKA-SEC-010"], _ bytes: [UInt8])
        -> VectorCase {
        .v1Changed(id, description, breaks: breaks, flags: [.metadataPath, .pathTraversal], base: V1Base.podman,
                   from: { LegacyPodmanFixtures.typical() }) {
            $0.entries.update("deleted.files") { $0.data = bytes }
        }
    }

    static var deletedFiles: [VectorCase] {
        [
            deleted("v1-deleted-files-relative-traversal", "deleted.files lists ../../etc/passwd",
                    Array(LegacyFixtures.goList(["/etc/motd", "../../etc/passwd"]).utf8)),
            deleted("v1-deleted-files-absolute-traversal", "deleted.files lists /../../../../tmp/victim_file.txt (the podman#27977 report)",
                    Array(LegacyFixtures.goList(["/../../../../tmp/victim_file.txt"]).utf8)),
            deleted("v1-deleted-files-inner-dotdot", "deleted.files lists /etc/../../host/etc/passwd",
                    Array(LegacyFixtures.goList(["/etc/../../host/etc/passwd"]).utf8)),
            deleted("v1-deleted-files-root", "deleted.files lists / (the whole container root)",
                    Array(LegacyFixtures.goList(["/"]).utf8)),
            deleted("v1-deleted-files-empty-component", "deleted.files lists //etc/passwd (an empty component)",
                    Array(LegacyFixtures.goList(["//etc/passwd"]).utf8)),
            deleted("v1-deleted-files-nul", "deleted.files lists /etc/motd\\u0000.bak (a NUL byte, escaped in JSON)",
                    Array("[\n  \"/etc/motd\\u0000.bak\"\n]".utf8)),
            deleted("v1-deleted-files-invalid-utf8", "deleted.files holds a path with a byte that is not UTF-8",
                    Array("[\n  \"/etc/".utf8) + [0xFF] + Array("motd\"\n]".utf8)),
        ]
    }

    /// `v1-crio` with `bind.mounts` holding `items` (raw JSON elements).
    static func bind(_ id: String, _ description: String, breaks: [String], _ text: String) -> VectorCase {
        .v1Changed(id, description, breaks: breaks, flags: [.metadataPath], base: V1Base.crio,
                   from: { LegacyKubeFixtures.crio }) {
            $0.entries.update("bind.mounts") { $0.data = Array(text.utf8) }
        }
    }

    static func mount(source: String = "/var/lib/kubelet/pods/425c89ed/etc-hosts", destination: String = "/etc/hosts",
                      type: String = "\"file\"", permissions: String = "420") -> String {
        LegacyKubeFixtures.bindMounts([LegacyKubeFixtures.bindMount(source: source, destination: destination, type: type,
                                                                    permissions: permissions)])
    }

    static var bindMounts: [VectorCase] {
        typealias K = LegacyKubeFixtures
        return [
            bind("v1-bind-mounts-destination-traversal", "A bind mount destination ../../etc/shadow",
                 breaks: ["CKA-SEC-010"], mount(destination: "../../etc/shadow")),
            bind("v1-bind-mounts-destination-dotdot", "A bind mount destination /data/../../host",
                 breaks: ["CKA-SEC-010"], mount(destination: "/data/../../host")),
            bind("v1-bind-mounts-destination-nul", "A bind mount destination /etc/hosts\\u0000x (a NUL byte, escaped in JSON)",
                 breaks: ["CKA-SEC-010"], mount(destination: "/etc/hostsNUL").replacingFirst("NUL", with: "\\u0000x")),
            bind("v1-bind-mounts-source-relative", "A relative bind mount source", breaks: ["CKA-V1-018"],
                 mount(source: "etc-hosts")),
            bind("v1-bind-mounts-source-dotdot", "A bind mount source /var/lib/kubelet/../../etc/shadow",
                 breaks: ["CKA-V1-018"], mount(source: "/var/lib/kubelet/../../etc/shadow")),
            bind("v1-bind-mounts-file-type", "file_type socket (only directory and file)", breaks: ["CKA-V1-018"],
                 mount(type: "\"socket\"")),
            bind("v1-bind-mounts-permissions-large", "permissions 4096 (more than the permission bits)",
                 breaks: ["CKA-V1-018"], mount(permissions: "4096")),
            bind("v1-bind-mounts-permissions-negative", "permissions -1", breaks: ["CKA-V1-018"], mount(permissions: "-1")),
            bind("v1-bind-mounts-permissions-fraction", "permissions 420.5", breaks: ["CKA-V1-018"],
                 mount(permissions: "420.5")),
            bind("v1-bind-mounts-permissions-string", "permissions as the string \"0644\"", breaks: ["CKA-V1-018"],
                 mount(permissions: "\"0644\"")),
            bind("v1-bind-mounts-missing-destination", "An element without destination", breaks: ["CKA-V1-018"],
                 "[\n  {\n    \"source\": \"/run/x\",\n    \"file_type\": \"file\",\n    \"permissions\": 420\n  }\n]"),
            bind("v1-bind-mounts-object", "bind.mounts is a JSON object", breaks: ["CKA-V1-018"],
                 "{\n  \"/etc/hosts\": \"/run/hosts\"\n}"),
            bind("v1-bind-mounts-not-json", "bind.mounts is cut in the middle", breaks: ["CKA-V1-018"],
                 String(K.bindMounts().prefix(40))),
        ]
    }
}
