@testable import Conformance
import TarFormat
import XCTest

/// The rootfs section (5.3): its fixed prefix, the two path lists, implied directories, tree completeness.
final class V2RootfsRuleTests: XCTestCase {
    func testPrefixOrder027() throws {
        try assertRule("CKA-V2-027") { a in a.entries.insert([.file("rootfs/other", "x")], after: "rootfs/implied.dirs") }
        try assertRule("CKA-V2-027") { a in a.entries.swapAt(6, 7) }
        try assertRule("CKA-V2-027") { a in
            a.entries.remove("rootfs/tree/")
            a.entries.remove("rootfs/tree/etc/")
            a.entries.remove("rootfs/tree/etc/app.conf")
            a.entries.remove("rootfs/tree/etc/localtime")
            a.entries.remove("rootfs/implied.dirs")
        }
        try assertRule("CKA-V2-027", { a in a.entries.insert([.file("rootfs/tree", "")], after: "rootfs/implied.dirs") })
    }

    func testDeletionList028() throws {
        try assertRule("CKA-V2-028", { a in a.entries.update("rootfs/deleted.files") { $0 = .file("rootfs/deleted.files", "[]") } },
                       variant: { a in a.entries.remove("rootfs/deleted.files") })
        try assertRule("CKA-V2-028") { a in
            a.entries.update("rootfs/deleted.files") { $0 = .file("rootfs/deleted.files", #"["/a","/a"]"#) }
        }
        try assertRule("CKA-V2-028") { a in
            a.entries.update("rootfs/deleted.files") { $0 = .file("rootfs/deleted.files", #"{"/a":1}"#) }
        }
        try assertRule("CKA-V2-028") { a in a.entries.update("rootfs/deleted.files") { $0 = .dir("rootfs/deleted.files/") } }
    }

    func testImpliedDirectories029() throws {
        try assertRule("CKA-V2-029", { a in
            a.entries.update("rootfs/implied.dirs") { $0 = .file("rootfs/implied.dirs", #"["/etc","/usr"]"#) }
        }, variant: { a in
            a.entries.update("rootfs/implied.dirs") { $0 = .file("rootfs/implied.dirs", #"["/etc","/usr"]"#) }
            a.entries += [.dir("rootfs/tree/usr/")]
        })
        try assertRule("CKA-V2-029") { a in
            a.entries.update("rootfs/implied.dirs") { $0 = .file("rootfs/implied.dirs", #"["/etc/app.conf"]"#) }
        }
    }

    func testImpliedAttributes030() throws {
        try assertRule("CKA-V2-030", { a in a.entries.update("rootfs/tree/etc/") { $0.header.mode = 0o700 } }, variant: { a in
            a.entries.remove("rootfs/implied.dirs")
            a.entries.update("rootfs/tree/etc/") { $0.header.mode = 0o700 }
        })
        try assertRule("CKA-V2-030") { a in
            a.entries.update("rootfs/tree/etc/") { $0.header.xattrs = [TarXattr(name: "user.a", value: [1])] }
        }
    }

    func testTreeComplete031() throws {
        try assertRule("CKA-V2-031", { a in
            a.entries.remove("rootfs/implied.dirs")
            a.entries.remove("rootfs/tree/etc/")
        }, variant: { a in a.entries.remove("rootfs/implied.dirs") })
    }

    func testDeletionOfRoot033() throws {
        try assertRule("CKA-V2-033") { a in
            a.entries.update("rootfs/deleted.files") { $0 = .file("rootfs/deleted.files", #"["/"]"#) }
        }
    }

    func testContainerPaths() throws {
        for bad in [#"["etc/motd"]"#, #"["/etc/../motd"]"#, #"["/etc/"]"#, #"["/etc//motd"]"#] {
            try assertRule("CKA-SEC-010") { a in
                a.entries.update("rootfs/deleted.files") { $0 = .file("rootfs/deleted.files", bad) }
            }
        }
        try assertRule("CKA-SEC-010") { a in
            a.entries.update("rootfs/implied.dirs") { $0 = .file("rootfs/implied.dirs", #"["/etc","/"]"#) }
        }
    }

    func testWhiteoutNames034() throws {
        let found = try assertRule("CKA-V2-034", { a in
            a.entries.insert([.file("rootfs/tree/etc/.wh.motd", "", mode: 0o644)], after: "rootfs/tree/etc/")
        }, variant: { a in a.entries.insert([.file("rootfs/tree/etc/.whx", "", mode: 0o644)], after: "rootfs/tree/etc/") })
        XCTAssertEqual(found.diagnostics.map(\.severity), [.warning])
    }
}
