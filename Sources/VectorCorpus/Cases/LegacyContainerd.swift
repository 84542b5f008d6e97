import TarFormat

/// containerd v1 archives as its CRI `CheckpointContainer` writes them (part 4.14): the rootfs diff as a gzip OCI
/// layer with whiteouts, `status` and `status.dump`; and the containerd rules (CKA-CTRD-003 .. 007) broken one
/// at a time.
enum LegacyContainerd {
    typealias K = LegacyKubeFixtures

    static var group: VectorGroup {
        VectorGroup(name: "v1-containerd", cases: valid + broken + whiteouts)
    }

    static var valid: [VectorCase] {
        [
            .v1(V1Base.containerd, "A typical containerd checkpoint in lexical order: genuine CRIU images flat under checkpoint/, compact config.dump and spec.dump, container.log, dump.log, the gzip layer (a whiteout, an opaque directory recreated with a file), stats-dump, status, status.dump",
                requirements: ["CKA-V1-019", "CKA-CTRD-001", "CKA-CTRD-003", "CKA-CTRD-004", "CKA-CTRD-005",
                               "CKA-CTRD-007"]) { K.containerd },
            .v1("v1-containerd-no-rootfs", "A containerd checkpoint of a container that changed no files and logged nothing: no rootfs-diff.tar, container.log or dump.log",
                requirements: ["CKA-CTRD-001"]) {
                var a = K.containerd
                for name in ["rootfs-diff.tar", "container.log", "dump.log"] { a.entries.remove(name) }
                return a
            },
            .v1("v1-containerd-whiteouts-only", "A layer of deletions only: a whiteout at the layer root and one in etc/ (the rootfs section holds the deletion list and etc)",
                requirements: ["CKA-CTRD-005"]) {
                var a = K.containerd
                a.entries.update("rootfs-diff.tar") {
                    $0.nested!.entries = [.file(".wh.core", "", mode: 0o644), .dir("etc/"), .file("etc/.wh.motd", "", mode: 0o644)]
                }
                return a
            },
            .v1("v1-generic-containerd-without-status-dump", "containerd's layout without status.dump or a rootfs diff: with no io.container.manager, CKA-V1-019 makes it generic (which is why CKA-CTRD-001 cannot be broken under detection)",
                requirements: ["CKA-V1-019"]) {
                var a = K.containerd
                a.entries.remove("status.dump")
                a.entries.remove("rootfs-diff.tar")
                return a
            },
        ]
    }

    /// A change of `v1-containerd`.
    static func ctrd(_ id: String, _ description: String, breaks: [String], flags: [VectorFlag] = [],
                     _ mutate: @escaping (inout V1TestArchive) -> Void) -> VectorCase {
        .v1Changed(id, description, breaks: breaks, flags: flags, base: V1Base.containerd, from: { K.containerd }, mutate)
    }

    /// A change of the layer's bytes (compressed) of `v1-containerd`.
    static func layerBytes(_ id: String, _ description: String, breaks: [String], flags: [VectorFlag] = [],
                           _ change: @escaping (inout [UInt8]) -> Void) -> VectorCase {
        ctrd(id, description, breaks: breaks, flags: flags) {
            $0.entries.update("rootfs-diff.tar") { e in
                var bytes = (try? e.content()) ?? []
                change(&bytes)
                e.nested = nil
                e.data = bytes
            }
        }
    }

    static var broken: [VectorCase] {
        [
            .v1Changed("v1-containerd-engine-modes", "spec.dump and the CRIU images 0644, as containerd's os.Create leaves them (CKA-V1-009 asks for 0600)",
                       result: .acceptable, breaks: ["CKA-V1-009"], base: V1Base.containerd, from: { K.containerd }) { a in
                for i in a.entries.indices where a.entries[i].header.path == "spec.dump"
                    || (a.entries[i].header.path.hasPrefix("checkpoint/") && a.entries[i].header.type == .regular) {
                    a.entries[i].header.mode = 0o644
                }
            },
            ctrd("v1-ctrd-no-status-dump", "containerd's layout without status.dump: detected as generic, whose rootfs-diff.tar must not be a gzip layer",
                 breaks: ["CKA-CMP-013"]) { $0.entries.remove("status.dump") },
            ctrd("v1-ctrd-deleted-files", "A containerd archive with deleted.files besides the layer's whiteouts",
                 breaks: ["CKA-CTRD-003", "CKA-V1-020"], flags: [.metadataPath]) {
                $0.entries.insert([.file("deleted.files", LegacyFixtures.goList(["/etc/issue"]))], before: "dump.log")
            },
            ctrd("v1-ctrd-plain-layer", "rootfs-diff.tar is a plain tar (its whiteouts would be restored as files; a plain diff also points to Podman or CRI-O)",
                 breaks: ["CKA-V1-015", "CKA-V1-020", "CKA-CTRD-004"]) {
                $0.entries.update("rootfs-diff.tar") { $0.nested!.gzip = false }
            },
            layerBytes("v1-ctrd-layer-bad-crc", "The gzip layer's CRC-32 is wrong", breaks: ["CKA-CTRD-004"],
                       flags: [.checksum]) { $0[$0.count - 8] ^= 0xFF },
            layerBytes("v1-ctrd-layer-truncated", "The gzip layer ends inside its deflate data", breaks: ["CKA-CTRD-004"],
                       flags: [.truncated]) { $0 = Array($0.prefix($0.count / 2)) },
            layerBytes("v1-ctrd-layer-zstd", "The layer is zstd-compressed (an OCI layer of another media type)",
                       breaks: ["CKA-CMP-013"]) {
                let tar = (try? CorpusGenerator.decompressed($0)) ?? []
                $0 = (try? V1TestArchive.compress(tar, .zstd)) ?? []
            },
            ctrd("v1-ctrd-checkpoint-subdirectory", "A directory under checkpoint/ (containerd writes the images flat)",
                 breaks: ["CKA-CTRD-007"]) {
                $0.entries.insert([.dir("checkpoint/sub/", mode: 0o700)], after: "checkpoint/pstree.img")
            },
            ctrd("v1-ctrd-checkpoint-parent", "checkpoint/parent -> ../pre-checkpoint in a containerd archive (allowed for Podman, never written by containerd)",
                 breaks: ["CKA-CTRD-007"]) {
                $0.entries.insert([.link("checkpoint/parent", to: "../pre-checkpoint")], after: "checkpoint/pages-1.img")
            },
        ]
    }

    /// A change of the layer entries of `v1-containerd`.
    static func layer(_ id: String, _ description: String, breaks: [String], flags: [VectorFlag] = [],
                      _ change: @escaping (inout [V1TestEntry]) -> Void) -> VectorCase {
        ctrd(id, description, breaks: breaks, flags: flags) { $0.entries.updateNested("rootfs-diff.tar", change) }
    }

    static var whiteouts: [VectorCase] {
        [
            layer("v1-ctrd-whiteout-not-empty", "A whiteout .wh.motd with content", breaks: ["CKA-CTRD-005"]) {
                $0.update("etc/.wh.motd") { $0.data = Array("motd\n".utf8) }
            },
            layer("v1-ctrd-whiteout-directory", "A whiteout that is a directory", breaks: ["CKA-CTRD-005"]) {
                $0.update("etc/.wh.motd") { $0 = .dir("etc/.wh.motd/") }
            },
            layer("v1-ctrd-whiteout-unknown-meta", "A .wh..wh. name other than the opaque marker (.wh..wh.plnk)",
                  breaks: ["CKA-CTRD-005"]) { $0.update("etc/.wh.motd") { $0.header.path = "etc/.wh..wh.plnk" } },
            layer("v1-ctrd-whiteout-empty-name", "A whiteout .wh. naming nothing", breaks: ["CKA-CTRD-005"]) {
                $0.update("etc/.wh.motd") { $0.header.path = "etc/.wh." }
            },
            layer("v1-ctrd-whiteout-dotdot", "A whiteout .wh... deleting /etc/.. (the container root's parent)",
                  breaks: ["CKA-SEC-010"], flags: [.pathTraversal]) {
                $0.update("etc/.wh.motd") { $0.header.path = "etc/.wh..." }
            },
            layer("v1-ctrd-opaque-root", "An opaque whiteout at the layer root (deletes /)", breaks: ["CKA-SEC-010"],
                  flags: [.pathTraversal]) {
                $0.insert([.file(".wh..wh..opq", "", mode: 0o644)], before: "etc/")
            },
        ]
    }
}
