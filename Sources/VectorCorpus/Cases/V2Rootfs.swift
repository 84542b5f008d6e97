import TarFormat

/// The rootfs section (5.3): its fixed prefix, the deletion and implied-directory lists, implied directories,
/// tree completeness, whiteout names and container paths (ported from Tests/ConformanceTests/V2RootfsRuleTests).
enum V2Rootfs {
    static func invalid(_ id: String, _ description: String, breaks: [String], flags: [VectorFlag] = [],
                        _ mutate: @escaping (inout V2TestArchive) -> Void) -> VectorCase {
        .v2Invalid(id, description, breaks: breaks, flags: flags, mutate)
    }

    static func valid(_ id: String, _ description: String, _ requirements: [String],
                      _ change: @escaping (inout V2TestArchive) -> Void) -> VectorCase {
        .v2(id, description, requirements: requirements) { V2TestArchive.workedExample(change) }
    }

    static func deleted(_ text: String) -> (inout V2TestArchive) -> Void {
        { a in a.entries.update("rootfs/deleted.files") { $0 = .file("rootfs/deleted.files", text) } }
    }

    static var group: VectorGroup {
        VectorGroup(name: "v2-rootfs", cases: [
            invalid("v2-rfs-other-name", "rootfs/other in the rootfs section", breaks: ["CKA-V2-027"]) { a in
                a.entries.insert([.file("rootfs/other", "x")], after: "rootfs/implied.dirs")
            },
            invalid("v2-rfs-prefix-order", "rootfs/implied.dirs before rootfs/deleted.files", breaks: ["CKA-V2-027"]) { a in
                a.entries.swapAt(6, 7)
            },
            invalid("v2-rfs-no-tree", "a rootfs section without rootfs/tree/", breaks: ["CKA-V2-027"]) { a in
                for p in ["rootfs/tree/", "rootfs/tree/etc/", "rootfs/tree/etc/app.conf", "rootfs/tree/etc/localtime",
                          "rootfs/implied.dirs"] { a.entries.remove(p) }
            },
            invalid("v2-rfs-tree-is-file", "rootfs/tree is a regular file (mode 0600) before the directory rootfs/tree/", breaks: ["CKA-TAR-037", "CKA-V2-027", "CKA-V2-053"]) { a in
                a.entries.insert([.file("rootfs/tree", "")], after: "rootfs/implied.dirs")
            },
            invalid("v2-rfs-deleted-empty", "rootfs/deleted.files is []", breaks: ["CKA-V2-028"], deleted("[]")),
            valid("v2-rfs-no-deletions", "a rootfs section without rootfs/deleted.files", ["CKA-V2-028"]) { a in
                a.entries.remove("rootfs/deleted.files")
            },
            invalid("v2-rfs-deleted-duplicate", "rootfs/deleted.files lists /a twice", breaks: ["CKA-V2-028"], deleted(#"["/a","/a"]"#)),
            invalid("v2-rfs-deleted-object", "rootfs/deleted.files is a JSON object", breaks: ["CKA-V2-028"], deleted(#"{"/a":1}"#)),
            invalid("v2-rfs-deleted-directory", "rootfs/deleted.files is a directory", breaks: ["CKA-V2-028"]) { a in
                a.entries.update("rootfs/deleted.files") { $0 = .dir("rootfs/deleted.files/") }
            },
            invalid("v2-rfs-implied-missing-directory", "rootfs/implied.dirs lists /usr, which has no directory entry",
                    breaks: ["CKA-V2-029"]) { a in
                a.entries.update("rootfs/implied.dirs") { $0 = .file("rootfs/implied.dirs", #"["/etc","/usr"]"#) }
            },
            valid("v2-rfs-implied-two", "rootfs/implied.dirs lists /etc and /usr, both present", ["CKA-V2-029", "CKA-V2-030"]) { a in
                a.entries.update("rootfs/implied.dirs") { $0 = .file("rootfs/implied.dirs", #"["/etc","/usr"]"#) }
                a.entries += [.dir("rootfs/tree/usr/")]
            },
            invalid("v2-rfs-implied-file", "rootfs/implied.dirs lists a regular file", breaks: ["CKA-V2-029"]) { a in
                a.entries.update("rootfs/implied.dirs") { $0 = .file("rootfs/implied.dirs", #"["/etc/app.conf"]"#) }
            },
            invalid("v2-rfs-implied-mode", "the implied directory /etc has mode 0700", breaks: ["CKA-V2-030"]) { a in
                a.entries.update("rootfs/tree/etc/") { $0.header.mode = 0o700 }
            },
            valid("v2-rfs-not-implied-mode", "/etc, not implied, has mode 0700", ["CKA-V2-030"]) { a in
                a.entries.remove("rootfs/implied.dirs")
                a.entries.update("rootfs/tree/etc/") { $0.header.mode = 0o700 }
            },
            invalid("v2-rfs-implied-xattr", "the implied directory /etc carries an xattr", breaks: ["CKA-V2-030"]) { a in
                a.entries.update("rootfs/tree/etc/") { $0.header.xattrs = [TarXattr(name: "user.a", value: [1])] }
            },
            invalid("v2-rfs-tree-incomplete", "rootfs/tree/etc/app.conf without its parent directory entry", breaks: ["CKA-V2-031"]) { a in
                a.entries.remove("rootfs/implied.dirs")
                a.entries.remove("rootfs/tree/etc/")
            },
            valid("v2-rfs-no-implied", "a rootfs section without rootfs/implied.dirs, /etc an ordinary directory", ["CKA-V2-031"]) { a in
                a.entries.remove("rootfs/implied.dirs")
            },
            invalid("v2-rfs-delete-root", "rootfs/deleted.files lists /", breaks: ["CKA-V2-033"], flags: [.metadataPath], deleted(#"["/"]"#)),
            invalid("v2-rfs-deleted-relative", "a relative deletion path etc/motd", breaks: ["CKA-SEC-010"],
                    flags: [.metadataPath], deleted(#"["etc/motd"]"#)),
            invalid("v2-rfs-deleted-dotdot", "a deletion path /etc/../motd", breaks: ["CKA-SEC-010"],
                    flags: [.metadataPath, .pathTraversal], deleted(#"["/etc/../motd"]"#)),
            invalid("v2-rfs-deleted-trailing-slash", "a deletion path /etc/", breaks: ["CKA-SEC-010"],
                    flags: [.metadataPath], deleted(#"["/etc/"]"#)),
            invalid("v2-rfs-deleted-empty-component", "a deletion path /etc//motd", breaks: ["CKA-SEC-010"],
                    flags: [.metadataPath], deleted(#"["/etc//motd"]"#)),
            invalid("v2-rfs-implied-root", "rootfs/implied.dirs lists /", breaks: ["CKA-V2-029", "CKA-SEC-010"], flags: [.metadataPath]) { a in
                a.entries.update("rootfs/implied.dirs") { $0 = .file("rootfs/implied.dirs", #"["/etc","/"]"#) }
            },
            .v2("v2-rfs-whiteout-name", "rootfs/tree/etc/.wh.motd: a whiteout-like name (a SHOULD NOT)",
                result: .acceptable, requirements: ["CKA-V2-034"], base: VectorBase.workedExample) {
                V2TestArchive.workedExample { a in
                    a.entries.insert([.file("rootfs/tree/etc/.wh.motd", "", mode: 0o644)], after: "rootfs/tree/etc/")
                }
            },
            valid("v2-rfs-whx-name", "rootfs/tree/etc/.whx is no whiteout name", ["CKA-V2-034"]) { a in
                a.entries.insert([.file("rootfs/tree/etc/.whx", "", mode: 0o644)], after: "rootfs/tree/etc/")
            },
        ])
    }
}
