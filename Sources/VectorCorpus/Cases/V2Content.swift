import Foundation
import TarFormat

/// What each section may contain (5.3, table 5.4): metadata files and formats, checkpoint images, logs,
/// artifacts, ext, links, special files, mode bits, xattrs and permissions (ported from
/// Tests/ConformanceTests/V2StructureRuleTests).
enum V2Content {
    static func invalid(_ id: String, _ description: String, breaks: [String], flags: [VectorFlag] = [],
                        _ mutate: @escaping (inout V2TestArchive) -> Void) -> VectorCase {
        .v2Invalid(id, description, breaks: breaks, flags: flags, mutate)
    }

    static func valid(_ id: String, _ description: String, _ requirements: [String], flags: [VectorFlag] = [],
                      _ change: @escaping (inout V2TestArchive) -> Void) -> VectorCase {
        .v2(id, description, requirements: requirements, flags: flags) { V2TestArchive.workedExample(change) }
    }

    static let mount = #"{"source":"/srv/data","destination":"/data","file_type":"directory","permissions":493}"#
    static let unknownType = TarEntryType(rawValue: 0x44)

    static var group: VectorGroup {
        VectorGroup(name: "v2-content", cases: [
            invalid("v2-cnt-no-spec-dump", "the metadata section has no spec.dump", breaks: ["CKA-V2-023"]) { a in
                a.entries.remove("metadata/spec.dump")
            },
            invalid("v2-cnt-metadata-subdirectory-file", "a file in a subdirectory of metadata/", breaks: ["CKA-V2-023"]) { a in
                a.entries.insert([.file("metadata/sub/status", "{}")], after: "metadata/spec.dump")
            },
            invalid("v2-cnt-metadata-directory", "a directory inside metadata/", breaks: ["CKA-V2-023"]) { a in
                a.entries.insert([.dir("metadata/sub/")], after: "metadata/spec.dump")
            },
            invalid("v2-cnt-metadata-unknown-name", "metadata/vendor.json is not a v1 metadata file", breaks: ["CKA-V2-024"]) { a in
                a.entries.insert([.file("metadata/vendor.json", "{}")], after: "metadata/spec.dump")
            },
            valid("v2-cnt-metadata-status", "metadata/status, a v1 metadata file", ["CKA-V2-024"]) { a in
                a.entries.insert([.file("metadata/status", "{}")], after: "metadata/spec.dump")
            },
            invalid("v2-cnt-config-without-name", "config.dump without the name member", breaks: ["CKA-V2-024"]) { a in
                a.entries.update("metadata/config.dump") { $0 = .file("metadata/config.dump", #"{"id":"x"}"#) }
            },
            invalid("v2-cnt-spec-annotation-type", "spec.dump with a non-string annotation", breaks: ["CKA-V2-024"]) { a in
                a.entries.update("metadata/spec.dump") { $0 = .file("metadata/spec.dump", #"{"annotations":{"a":1}}"#) }
            },
            invalid("v2-cnt-config-trailing-text", "config.dump with text after the JSON object", breaks: ["CKA-V2-024"]) { a in
                a.entries.update("metadata/config.dump") { $0 = .file("metadata/config.dump", "{\"id\":\"x\",\"name\":\"y\"} x") }
            },
            invalid("v2-cnt-bind-mount-type", "bind.mounts with file_type socket", breaks: ["CKA-V2-024"]) { a in
                a.entries.insert([.file("metadata/bind.mounts", "[" + mount.replacingOccurrences(of: "directory", with: "socket") + "]")],
                                 after: "metadata/")
            },
            valid("v2-cnt-bind-mounts", "a valid bind.mounts", ["CKA-V2-024", "CKA-SEC-010"]) { a in
                a.entries.insert([.file("metadata/bind.mounts", "[" + mount + "]")], after: "metadata/")
            },
            invalid("v2-cnt-bind-mount-traversal", "a bind.mounts destination /../data", breaks: ["CKA-SEC-010"],
                    flags: [.metadataPath, .pathTraversal]) { a in
                a.entries.insert([.file("metadata/bind.mounts", "[" + mount.replacingOccurrences(of: "\"/data\"", with: "\"/../data\"") + "]")],
                                 after: "metadata/")
            },
            invalid("v2-cnt-no-inventory", "a checkpoint section without inventory.img", breaks: ["CKA-V2-025"]) { a in
                a.entries.remove("checkpoint/inventory.img")
            },
            valid("v2-cnt-pre-checkpoint-no-inventory", "a pre-checkpoint section needs no inventory.img", ["CKA-V2-025"]) { a in
                a.entries.update("checkpoint/") { $0 = .marker("pre-checkpoint") }
                a.entries.update("checkpoint/inventory.img") { $0 = .file("pre-checkpoint/pages-1.img", "x") }
            },
            invalid("v2-cnt-parent-link-target", "checkpoint/parent points to ../elsewhere", breaks: ["CKA-V2-026"],
                    flags: [.linkEscape]) { a in
                a.entries.insert([.link("checkpoint/parent", "../elsewhere")], after: "checkpoint/inventory.img")
            },
            invalid("v2-cnt-checkpoint-unknown-type", "an entry of typeflag D in the checkpoint section", breaks: ["CKA-TAR-008", "CKA-V2-026"]) { a in
                a.entries.insert([.special("checkpoint/zz", unknownType)], after: "checkpoint/inventory.img")
            },
            invalid("v2-cnt-logs-subdirectory", "logs/sub/x.log", breaks: ["CKA-V2-037"]) { a in
                a.entries += [.marker("logs"), .file("logs/sub/x.log", "x")]
            },
            valid("v2-cnt-logs-names", "logs/ctr.log and logs/io.kubernetes.cri-o.LogPath", ["CKA-V2-037"]) { a in
                a.entries += [.marker("logs"), .file("logs/ctr.log", "x"), .file("logs/io.kubernetes.cri-o.LogPath", "x")]
            },
            invalid("v2-cnt-logs-bad-name", "logs/-x.log", breaks: ["CKA-V2-037"]) { a in
                a.entries += [.marker("logs"), .file("logs/-x.log", "x")]
            },
            invalid("v2-cnt-logs-directory", "a directory in logs/", breaks: ["CKA-V2-037"]) { a in
                a.entries += [.marker("logs"), .dir("logs/sub/")]
            },
            invalid("v2-cnt-artifacts-unknown-type", "an entry of typeflag D in artifacts/", breaks: ["CKA-TAR-008", "CKA-V2-038"]) { a in
                a.entries += [.marker("artifacts"), .special("artifacts/x", unknownType)]
            },
            valid("v2-cnt-artifacts", "artifacts with a directory, a file and a relative link inside artifacts/", ["CKA-V2-038", "CKA-V2-040"]) { a in
                a.entries += [.marker("artifacts"), .dir("artifacts/d/"), .file("artifacts/d/f", "x", mode: 0o644),
                              .link("artifacts/d/l", "../d/f")]
            },
            invalid("v2-cnt-ext-unknown-type", "an entry of typeflag D in an ext section", breaks: ["CKA-TAR-008", "CKA-V2-039"]) { a in
                a.entries += [.marker("ext", name: "v1"), .special("ext/v1/x", unknownType)]
            },
            valid("v2-cnt-ext", "an ext section with a directory and a file", ["CKA-V2-039"]) { a in
                a.entries += [.marker("ext", name: "v1"), .dir("ext/v1/d/"), .file("ext/v1/d/f", "x")]
            },
            invalid("v2-cnt-metadata-symlink", "a symbolic link in the metadata section", breaks: ["CKA-V2-040"]) { a in
                a.entries.insert([.link("metadata/status", "config.dump")], after: "metadata/spec.dump")
            },
            invalid("v2-cnt-artifacts-link-escape", "an artifacts link to ../metadata/config.dump", breaks: ["CKA-V2-040"],
                    flags: [.linkEscape]) { a in
                a.entries += [.marker("artifacts"), .link("artifacts/l", "../metadata/config.dump")]
            },
            invalid("v2-cnt-ext-symlink", "a symbolic link in an ext section", breaks: ["CKA-V2-040"]) { a in
                a.entries += [.marker("ext", name: "v1"), .link("ext/v1/l", "x")]
            },
            invalid("v2-cnt-ext-fifo", "a FIFO in an ext section", breaks: ["CKA-V2-041"]) { a in
                a.entries += [.marker("ext", name: "v1"), .special("ext/v1/fifo", .fifo)]
            },
            valid("v2-cnt-devshm-fifo", "a FIFO in devshm", ["CKA-V2-041"]) { a in
                a.entries += [.marker("devshm"), .special("devshm/fifo", .fifo)]
            },
            invalid("v2-cnt-hard-link-other-section", "a devshm hard link to a rootfs file", breaks: ["CKA-V2-041"],
                    flags: [.linkEscape]) { a in
                a.entries += [.marker("devshm"), .link("devshm/hard", "rootfs/tree/etc/app.conf", type: .hardLink)]
            },
            invalid("v2-cnt-setuid-image", "a setuid CRIU image", breaks: ["CKA-V2-042"]) { a in
                a.entries.update("checkpoint/inventory.img") { $0.header.mode = 0o4600 }
            },
            valid("v2-cnt-setuid-rootfs", "a setuid file in rootfs", ["CKA-V2-042"]) { a in
                a.entries.update("rootfs/tree/etc/app.conf") { $0.header.mode = 0o4755 }
            },
            invalid("v2-cnt-sticky-ext", "a sticky ext marker", breaks: ["CKA-V2-042"]) { a in
                a.entries += [.marker("ext", name: "v1", mode: 0o1777)]
            },
            invalid("v2-cnt-metadata-xattr", "an xattr on metadata/config.dump", breaks: ["CKA-V2-043"]) { a in
                a.entries.update("metadata/config.dump") { $0.header.xattrs = [TarXattr(name: "user.x", value: [1])] }
            },
            .v2("v2-cnt-spec-dump-0644", "metadata/spec.dump readable by group and others (a SHOULD NOT)",
                result: .acceptable, requirements: ["CKA-V2-044"], base: VectorBase.workedExample) {
                V2TestArchive.workedExample { a in a.entries.update("metadata/spec.dump") { $0.header.mode = 0o644 } }
            },
            valid("v2-cnt-rootfs-0666", "a rootfs file with mode 0666 (rootfs keeps any permissions)", ["CKA-V2-044"]) { a in
                a.entries.update("rootfs/tree/etc/app.conf") { $0.header.mode = 0o666 }
            },
        ])
    }
}
