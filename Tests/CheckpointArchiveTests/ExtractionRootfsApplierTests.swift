import ByteStreams
@testable import CheckpointArchive
import Foundation
import TarFormat
import TestSupport
import XCTest
#if canImport(Glibc)
import Glibc
#endif

/// `RootfsApplier`: deletions (CKA-SEC-010, CKA-SEC-011) and the tree applied to an existing root (CKA-V2-032).
final class ExtractionRootfsApplierTests: XCTestCase {
    let rootfs = Sections.rootfs

    /// A sandbox whose `work/root` is a small container root file system:
    /// ```
    /// etc/passwd, etc/hostname, usr/lib/libfoo.so, sub/file, data/dir/a, data/dir/out -> <outside>
    /// escape -> <outside>            (absolute, leaves the root if followed on the host)
    /// rel -> ../../../../../..        (relative, climbs above the root if followed on the host)
    /// abs -> /sub                     (absolute, inside the root when taken relative to it)
    /// ```
    func makeRoot() throws -> (Sandbox, String) {
        let box = try Sandbox(self)
        let root = box.work + "/root"
        let fm = FileManager.default
        for d in ["etc", "usr/lib", "sub", "data/dir"] {
            try fm.createDirectory(atPath: root + "/" + d, withIntermediateDirectories: true)
        }
        for (p, text) in [("etc/passwd", "root:x:0:0"), ("etc/hostname", "box"), ("usr/lib/libfoo.so", "elf"),
                          ("sub/file", "sub"), ("data/dir/a", "a")] {
            try Data(text.utf8).write(to: URL(fileURLWithPath: root + "/" + p))
        }
        XCTAssertEqual(symlink(box.outside, root + "/data/dir/out"), 0)
        XCTAssertEqual(symlink(box.outside, root + "/escape"), 0)
        XCTAssertEqual(symlink("../../../../../..", root + "/rel"), 0)
        XCTAssertEqual(symlink("/sub", root + "/abs"), 0)
        return (box, root)
    }

    func outsideSnapshot(_ box: Sandbox) -> [String: String] { FileTreeSnapshot.take(box.outside) }

    // MARK: Deletions

    func testDeletionPathSyntaxIsChecked() throws {
        let (box, root) = try makeRoot()
        let before = box.snapshot()
        let bad = ["../../etc/passwd", "etc/passwd", "/", "/etc/../etc/passwd", "/etc/", "/etc//passwd", "/./etc",
                   "/etc/passwd\u{0}x", "", "/" + String(repeating: "a", count: 4096)]
        for p in bad {
            let applier = try RootfsApplier(root: root)
            XCTAssertThrowsError(try applier.applyDeletions(["/etc/hostname", p]), p.debugDescription) { error in
                XCTAssertEqual((error as? CheckpointError)?.requirement, "CKA-SEC-010", "\(error)")
            }
        }
        // Checked all before any is applied: /etc/hostname is still there.
        XCTAssertEqual(box.snapshot(), before)
        for p in ["/etc/passwd", "/a b/ü", "/" + String(repeating: "a", count: 4095)] {
            XCTAssertNil(ContainerPath.problem(p), p)
        }
        // Through the sink, from rootfs/deleted.files (podman#27977).
        let applier = try RootfsApplier(root: root)
        XCTAssertThrowsError(try feed(applier, [
            .dir("rootfs/", rootfs),
            .file("rootfs/deleted.files", rootfs, text: "[\"/etc/hostname\",\"../../../../tmp/victim_file.txt\"]"),
        ])) { error in
            let e = error as? CheckpointError
            XCTAssertEqual(e?.requirement, "CKA-SEC-010", "\(error)")
            XCTAssertEqual(e?.entry, "rootfs/deleted.files")
            XCTAssertEqual(e?.offset, 1024)
        }
        XCTAssertEqual(box.snapshot(), before)
    }

    func testDeletionThroughIntermediateSymlinkNeverLeavesTheRoot() throws {
        let (box, root) = try makeRoot()
        let outside = outsideSnapshot(box)
        // The same path as the real outside file, but inside the root: the only one that may be deleted.
        let mirror = root + box.victim
        try FileManager.default.createDirectory(atPath: (mirror as NSString).deletingLastPathComponent,
                                                withIntermediateDirectories: true)
        try Data("decoy".utf8).write(to: URL(fileURLWithPath: mirror))
        let applier = try RootfsApplier(root: root)
        try applier.applyDeletions([
            "/escape/victim.txt",                    // escape -> <outside> (absolute): taken relative to root
            "/escape/dir",                           // a directory of the real outside, never reached
            "/rel/rel/rel" + box.outside + "/dir",   // `..` clamped at the root
            "/data/dir/out/victim.txt",              // a deeper link to outside
            "/nonexistent/x",                        // missing: nothing to do
            "/etc/passwd/x",                         // through a file: nothing to do
        ])
        XCTAssertEqual(outsideSnapshot(box), outside, "nothing outside the root changed")
        XCTAssertEqual(fileBytes(box.victim), Array("precious".utf8))
        XCTAssertNil(lstatOf(mirror), "the in-root mirror of the absolute link target was deleted")
        XCTAssertNotNil(lstatOf(root + "/etc/passwd"))

        // abs -> /sub resolves to <root>/sub; rel -> ../../.. stays at the root.
        try applier.applyDeletions(["/abs/file"])
        XCTAssertNil(lstatOf(root + "/sub/file"))
        XCTAssertNotNil(lstatOf(root + "/sub"))
        try applier.applyDeletions(["/rel/usr/lib/libfoo.so"])
        XCTAssertNil(lstatOf(root + "/usr/lib/libfoo.so"))
        XCTAssertEqual(outsideSnapshot(box), outside)
    }

    func testDeletionRemovesTheFinalComponentNotItsTarget() throws {
        let (box, root) = try makeRoot()
        let outside = outsideSnapshot(box)
        let applier = try RootfsApplier(root: root)
        // The final component is a link to outside: the link goes, the target stays.
        try applier.applyDeletions(["/escape", "/abs"])
        XCTAssertNil(lstatOf(root + "/escape"))
        XCTAssertNil(lstatOf(root + "/abs"))
        XCTAssertNotNil(lstatOf(root + "/sub/file"))
        // A directory is removed recursively; the link inside it is removed, not followed.
        try applier.applyDeletions(["/data"])
        XCTAssertNil(lstatOf(root + "/data"))
        XCTAssertEqual(outsideSnapshot(box), outside)
        XCTAssertEqual(fileBytes(box.victim), Array("precious".utf8))
    }

    func testSymlinkLoopIsRefused() throws {
        let (_, root) = try makeRoot()
        XCTAssertEqual(symlink("loop2", root + "/loop1"), 0)
        XCTAssertEqual(symlink("loop1", root + "/loop2"), 0)
        let applier = try RootfsApplier(root: root)
        XCTAssertThrowsError(try applier.applyDeletions(["/loop1/x"])) { error in
            XCTAssertEqual((error as? CheckpointError)?.requirement, "CKA-SEC-011")
        }
        XCTAssertNotNil(lstatOf(root + "/loop1"))
    }

    // MARK: Tree

    func testApplyRootfsSection() throws {
        let (box, root) = try makeRoot()
        let outside = outsideSnapshot(box)
        let rootMode = (lstatOf(root)?.st_mode ?? 0) & 0o7777
        let usrMode = (lstatOf(root + "/usr")?.st_mode ?? 0) & 0o7777
        XCTAssertEqual(chmod(root + "/usr/lib", 0o711), 0)
        let applier = try RootfsApplier(root: root, options: SafeExtractor.Options(restoreOwnership: isRoot))
        try feed(applier, [
            .file("metadata/config.dump", Sections.metadata, text: "{}"),   // other sections are skipped
            .dir("checkpoint/", Sections.checkpoint),
            .file("checkpoint/inventory.img", Sections.checkpoint, text: "img"),
            .dir("rootfs/", rootfs),
            .file("rootfs/deleted.files", rootfs, text: "[\n  \"/etc/hostname\",\n  \"/data\"\n]"),
            .file("rootfs/implied.dirs", rootfs, text: "[\"/usr\",\"/usr/lib\",\"/new\"]"),
            .dir("rootfs/tree/", rootfs, mode: 0o700),
            .dir("rootfs/tree/etc/", rootfs, mode: 0o750).with { $0.mtime = TarTime(seconds: 5000) },
            .file("rootfs/tree/etc/passwd", rootfs, text: "root:x:0:0:new", mode: 0o600).with {
                $0.uid = 0
                $0.gid = 42
            },
            .hardLink("rootfs/tree/etc/passwd-", rootfs, to: "rootfs/tree/etc/passwd"),
            .file("rootfs/tree/escape", rootfs, text: "replaces the link"),
            .dir("rootfs/tree/usr/", rootfs),
            .dir("rootfs/tree/usr/lib/", rootfs),
            .file("rootfs/tree/usr/lib/libnew.so", rootfs, text: "new elf", mode: 0o755),
            .dir("rootfs/tree/new/", rootfs),
            .file("rootfs/tree/new/file", rootfs, text: "n"),
            .symlink("rootfs/tree/sub", rootfs, to: "/etc/passwd"),       // replaces a directory
            .special("rootfs/tree/fifo", rootfs, .fifo, mode: 0o600),
            .dir("rootfs/tree/abs/", rootfs, mode: 0o700),                // replaces a symlink with a directory
            .file("rootfs/tree/abs/inside", rootfs, text: "i"),
        ])
        try applier.finish()
        XCTAssertEqual(outsideSnapshot(box), outside, "nothing outside the root changed")
        // Deletions ran first.
        XCTAssertNil(lstatOf(root + "/etc/hostname"))
        XCTAssertNil(lstatOf(root + "/data"))
        // Explicit directory: existing, metadata updated; root directory metadata never applied.
        XCTAssertEqual((lstatOf(root + "/etc")?.st_mode ?? 0) & 0o7777, 0o750)
        XCTAssertEqual(lstatOf(root + "/etc")?.st_mtim.tv_sec, 5000)
        XCTAssertEqual((lstatOf(root)?.st_mode ?? 0) & 0o7777, rootMode)
        // Replaced file and hard link.
        XCTAssertEqual(fileBytes(root + "/etc/passwd"), Array("root:x:0:0:new".utf8))
        XCTAssertEqual(lstatOf(root + "/etc/passwd-")?.st_ino, lstatOf(root + "/etc/passwd")?.st_ino)
        if isRoot { XCTAssertEqual(lstatOf(root + "/etc/passwd")?.st_gid, 42) }
        // The link to outside was replaced by a file, not written through.
        XCTAssertEqual(lstatOf(root + "/escape")?.st_mode, S_IFREG | 0o644)
        XCTAssertEqual(fileBytes(root + "/escape"), Array("replaces the link".utf8))
        // Implied directories: existing ones untouched, missing ones created 0755.
        XCTAssertEqual((lstatOf(root + "/usr")?.st_mode ?? 0) & 0o7777, usrMode)
        XCTAssertEqual((lstatOf(root + "/usr/lib")?.st_mode ?? 0) & 0o7777, 0o711)
        XCTAssertEqual(fileBytes(root + "/usr/lib/libfoo.so"), Array("elf".utf8))
        XCTAssertEqual(fileBytes(root + "/usr/lib/libnew.so"), Array("new elf".utf8))
        XCTAssertEqual(lstatOf(root + "/new")?.st_mode, S_IFDIR | 0o755)
        // A directory replaced by a symlink, a symlink replaced by a directory, a FIFO.
        XCTAssertEqual(readLink(root + "/sub"), "/etc/passwd")
        XCTAssertEqual(lstatOf(root + "/abs")?.st_mode, S_IFDIR | 0o700)
        XCTAssertEqual(fileBytes(root + "/abs/inside"), Array("i".utf8))
        XCTAssertEqual((lstatOf(root + "/fifo")?.st_mode ?? 0) & S_IFMT, S_IFIFO)
        XCTAssertNil(lstatOf(root + "/metadata"))
        XCTAssertNil(lstatOf(root + "/checkpoint"))
    }

    func testTreeEntryThroughSymlinkParentIsRefused() throws {
        let (box, root) = try makeRoot()
        let before = box.snapshot()
        let applier = try RootfsApplier(root: root)
        // No directory entry for `escape/`: the parent is the existing link to outside.
        XCTAssertThrowsError(try feed(applier, rootfsPrelude + [.file("rootfs/tree/escape/victim.txt", rootfs,
                                                                      text: "overwritten")])) { error in
            XCTAssertEqual((error as? CheckpointError)?.requirement, "CKA-SEC-002", "\(error)")
        }
        XCTAssertThrowsError(try feed(applier, [.file("rootfs/tree/x", rootfs)]), "the applier stays failed")
        // Deeper: data/dir/out -> outside.
        let applier2 = try RootfsApplier(root: root)
        XCTAssertThrowsError(try feed(applier2, rootfsPrelude + [.dir("rootfs/tree/data/dir/out/newdir/", rootfs)])) {
            XCTAssertEqual(($0 as? CheckpointError)?.requirement, "CKA-SEC-002", "\($0)")
        }
        // An implied directory that exists as a symbolic link is refused, not followed nor replaced.
        let applier3 = try RootfsApplier(root: root)
        applier3.impliedDirectories = ["/escape"]
        XCTAssertThrowsError(try feed(applier3, rootfsPrelude + [.dir("rootfs/tree/escape/", rootfs)])) {
            XCTAssertEqual(($0 as? CheckpointError)?.requirement, "CKA-SEC-006", "\($0)")
        }
        XCTAssertEqual(box.snapshot(), before)
    }

    func testRootfsSectionStructureIsChecked() throws {
        let (box, root) = try makeRoot()
        let before = box.snapshot()
        func refuse(_ requirement: String, _ entries: [TestEntry], line: UInt = #line) throws {
            let applier = try RootfsApplier(root: root)
            XCTAssertThrowsError(try feed(applier, entries), line: line) { error in
                XCTAssertEqual((error as? CheckpointError)?.requirement, requirement, "\(error)", line: line)
            }
        }
        try refuse("CKA-V2-027", rootfsPrelude + [.file("rootfs/deleted.files", rootfs, text: "[\"/etc/passwd\"]")])
        try refuse("CKA-V2-027", [.file("rootfs/other", rootfs, text: "x")])
        try refuse("CKA-V2-028", [.file("rootfs/deleted.files", rootfs, text: "[\"/etc/passwd\",]")])
        try refuse("CKA-V2-028", [.file("rootfs/deleted.files", rootfs, text: "[]")])
        try refuse("CKA-V2-028", [.file("rootfs/deleted.files", rootfs, text: "[\"/a\",\"/a\"]")])
        try refuse("CKA-V2-028", [.file("rootfs/deleted.files", rootfs, text: "{\"/a\":1}")])
        // A lone surrogate escape is not valid UTF-8: a bad container path (CKA-SEC-010), as in v1.
        try refuse("CKA-SEC-010", [.file("rootfs/deleted.files", rootfs, text: "[\"/\\ud800\"]")])
        try refuse("CKA-V2-029", [.file("rootfs/implied.dirs", rootfs, text: "[\"/usr\"] x")])
        try refuse("CKA-SEC-010", [.file("rootfs/implied.dirs", rootfs, text: "[\"usr\"]")])
        try refuse("CKA-SEC-005", rootfsPrelude + [.hardLink("rootfs/tree/h", rootfs, to: "rootfs/tree/etc/passwd")])
        try refuse("CKA-SEC-005", rootfsPrelude + [.hardLink("rootfs/tree/h", rootfs, to: "../etc/passwd")])
        try refuse("CKA-SEC-009", rootfsPrelude + [.special("rootfs/tree/null", rootfs, .characterDevice,
                                                            major: 1, minor: 3)])
        try refuse("CKA-V2-013", [.file("metadata/x", rootfs, text: "x")])
        try refuse("CKA-TAR-034", [.file("rootfs/tree/../../etc/passwd", rootfs, text: "x")])
        XCTAssertEqual(box.snapshot(), before)
        XCTAssertEqual(try ContainerPath.parseList(Array(" [ \"/a\\u00fc\\/b\" , \"/\\ud83d\\ude00\" ] ".utf8),
                                                   requirement: "T"), ["/aü/b", "/😀"])
    }
}
