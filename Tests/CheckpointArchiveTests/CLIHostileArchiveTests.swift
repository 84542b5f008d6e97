import Foundation
import TestSupport
import XCTest
#if canImport(Glibc)
import Glibc
#endif

/// Hostile archives made by hand (Python tarfile, GNU tar) refused by `ckpt extract` (part 6): exit status 1,
/// a CKA requirement named on standard error, no destination and no staging directory afterwards, and nothing
/// around the destination changed. v2 archives are built whole, with a correct index (CKA-IDX-014), so the
/// refusal is for the structural reason and not a digest mismatch.
private typealias Make = HandMadeArchive

final class CLIHostileArchiveTests: XCTestCase {
    /// The host's /etc/passwd, which some archives aim at; it must never change.
    var passwdBefore: String?

    override func setUpWithError() throws {
        try TestTools.require("python3")
        passwdBefore = FileTreeSnapshot.take("/etc/passwd")["."]
    }

    override func tearDown() {
        XCTAssertEqual(FileTreeSnapshot.take("/etc/passwd")["."], passwdBefore, "/etc/passwd changed")
        super.tearDown()
    }

    /// Writes the archive with `make` into the sandbox (next to `outside/` and `work/`), runs `ckpt extract`
    /// into `work/dest` and checks the refusal.
    @discardableResult
    func expectCLIRefusal(_ requirement: String, compress: String? = nil, options: [String] = [],
                          file: StaticString = #filePath, line: UInt = #line,
                          _ make: (Sandbox, URL) throws -> Void) throws -> ProcessResult {
        let box = try Sandbox(self)
        var archive = box.base.appendingPathComponent("hostile.tar")
        try make(box, archive)
        if let compress {
            XCTAssertEqual(try TestTools.spawn([compress, "-q", archive.path]).status, 0, file: file, line: line)
            archive = box.base.appendingPathComponent("hostile.tar" + (compress == "gzip" ? ".gz" : ".zst"))
        }
        let before = box.snapshot()
        let r = try TestTools.spawn([CLI.ckpt, "extract"] + options + [archive.path, box.destination])
        XCTAssertEqual(r.status, 1, "exit status; stderr: \(r.stderrText)", file: file, line: line)
        XCTAssertTrue(r.stderrText.contains("[\(requirement)]"), "expected \(requirement): \(r.stderrText)", file: file, line: line)
        XCTAssertNil(lstatOf(box.destination), "the destination exists", file: file, line: line)
        XCTAssertEqual(box.workEntries(), [], "a staging directory was left", file: file, line: line)
        XCTAssertEqual(box.snapshot(), before, "the sandbox changed", file: file, line: line)
        XCTAssertEqual(fileBytes(box.victim), Array("precious".utf8), file: file, line: line)
        return r
    }

    // MARK: v1 (Podman layout)

    func testV1ParentComponentNames() throws {
        try expectCLIRefusal("CKA-TAR-034") { _, out in
            try Make.writeV1(Make.podmanBase + [Make.file("../victim.txt", "overwritten")], to: out)
        }
        try expectCLIRefusal("CKA-TAR-034") { _, out in
            try Make.writeV1(Make.podmanBase + [Make.file("checkpoint/../../../outside/victim.txt", "overwritten")],
                             to: out)
        }
        // Inside the nested rootfs-diff.tar, aimed at the victim from rootfs/tree/.
        try expectCLIRefusal("CKA-TAR-034") { _, out in
            try Make.writeV1(Make.podmanBase + [Make.nestedTar("rootfs-diff.tar", [
                Make.file("etc/ok", "ok", mode: 0o644), Make.file("../../../../outside/victim.txt", "overwritten"),
            ])], to: out)
        }
    }

    func testV1AbsoluteNames() throws {
        try expectCLIRefusal("CKA-TAR-034") { box, out in
            try Make.writeV1(Make.podmanBase + [Make.file(box.victim, "overwritten")], to: out)
        }
        try expectCLIRefusal("CKA-TAR-034", compress: "zstd") { box, out in
            try Make.writeV1(Make.podmanBase + [Make.nestedTar("rootfs-diff.tar", [Make.file(box.victim, "x")])],
                             to: out)
        }
    }

    /// GNU tar with --absolute-names stores `../` and `/` names as given.
    func testV1MadeWithGNUTar() throws {
        try TestTools.require("tar")
        for name in ["../../outside/victim.txt", "ABS"] {
            try expectCLIRefusal("CKA-TAR-034") { box, out in
                let bundle = box.base.appendingPathComponent("evil/a/b")
                try FileManager.default.createDirectory(at: bundle, withIntermediateDirectories: true)
                let b = V1DirBuilder(bundle)
                b.file("config.dump", #"{"id":"1","name":"gnu"}"#)
                b.file("spec.dump", #"{"annotations":{"io.container.manager":"libpod"}}"#)
                b.file("checkpoint/inventory.img", "criu")
                V1DirBuilder(box.base.appendingPathComponent("evil")).file("outside/victim.txt", "overwritten")
                let member = name == "ABS" ? box.base.appendingPathComponent("evil/outside/victim.txt").path : name
                let r = try TestTools.spawn(["tar", "--format=pax", "--absolute-names", "-C", bundle.path, "-cf", out.path,
                                             "config.dump", "spec.dump", "checkpoint", member])
                XCTAssertEqual(r.status, 0, r.stderrText)
                let listed = try TestTools.spawn(["tar", "-tPf", out.path]).stdoutText
                XCTAssertTrue(listed.contains(member + "\n"), listed)
            }
        }
    }

    func testV1SymlinkThenWriteThroughIt() throws {
        // Outer stream: only checkpoint/parent -> ../pre-checkpoint may be a link there.
        try expectCLIRefusal("CKA-V2-040") { box, out in
            try Make.writeV1(Make.podmanBase + [Make.symlink("checkpoint/x", to: box.outside),
                                                Make.file("checkpoint/x/victim.txt", "overwritten")], to: out)
        }
        // Nested rootfs-diff.tar: a link to the outside, then a file below it.
        for compress in [nil, "gzip"] {
            try expectCLIRefusal("CKA-TAR-038", compress: compress) { box, out in
                try Make.writeV1(Make.podmanBase + [Make.nestedTar("rootfs-diff.tar", [
                    Make.symlink("x", to: box.outside), Make.file("x/victim.txt", "overwritten"),
                ])], to: out)
            }
        }
        // The same in a volume tar, with a relative link climbing out of the destination.
        try expectCLIRefusal("CKA-TAR-038") { _, out in
            try Make.writeV1(Make.podmanBase + [Make.nestedTar("volumes/data.tar", [
                Make.dir("./"), Make.symlink("./up", to: "../../../../../outside"),
                Make.file("./up/victim.txt", "overwritten"),
            ])], to: out)
        }
    }

    func testV1HardLinksOutsideTheTree() throws {
        try expectCLIRefusal("CKA-TAR-040") { _, out in
            try Make.writeV1(Make.podmanBase + [Make.hardlink("checkpoint/h", to: "../../etc/passwd")], to: out)
        }
        try expectCLIRefusal("CKA-TAR-040") { box, out in
            try Make.writeV1(Make.podmanBase + [Make.hardlink("checkpoint/h", to: box.victim)], to: out)
        }
        try expectCLIRefusal("CKA-TAR-040") { _, out in
            try Make.writeV1(Make.podmanBase + [Make.nestedTar("rootfs-diff.tar", [
                Make.file("etc/ok", "ok", mode: 0o644), Make.hardlink("etc/h", to: "../../etc/passwd"),
            ])], to: out)
        }
        try expectCLIRefusal("CKA-TAR-040") { box, out in
            try Make.writeV1(Make.podmanBase + [Make.nestedTar("rootfs-diff.tar", [
                Make.hardlink("etc/h", to: box.victim),
            ])], to: out)
        }
        // A target of the outer stream is not an earlier file of the nested tar.
        try expectCLIRefusal("CKA-TAR-040") { _, out in
            try Make.writeV1(Make.podmanBase + [Make.nestedTar("rootfs-diff.tar", [
                Make.hardlink("etc/h", to: "checkpoint/inventory.img"),
            ])], to: out)
        }
    }

    func testV1DeviceNodeInTheCheckpointArea() throws {
        try expectCLIRefusal("CKA-TAR-008", options: ["--devices"]) { _, out in
            try Make.writeV1(Make.podmanBase + [Make.device("checkpoint/null")], to: out)
        }
        try expectCLIRefusal("CKA-TAR-008", options: ["--devices"]) { _, out in
            try Make.writeV1(Make.podmanBase + [Make.device("sda", major: 8, minor: 0)], to: out)
        }
    }

    func testV1DeletedFilesLeavingTheRoot() throws {
        for list in [#"["../../etc/passwd"]"#, #"["/etc/../../etc/passwd"]"#, #"["/etc/motd","/"]"#] {
            try expectCLIRefusal("CKA-SEC-010") { _, out in
                try Make.writeV1(Make.podmanBase + [Make.file("deleted.files", list)], to: out)
            }
        }
    }

    // MARK: v2, built whole with a correct index

    /// The builder's archive without a hostile entry is accepted and passes the independent index check, so the
    /// refusals below are caused by the hostile entries alone.
    func testHandMadeV2ArchiveIsValid() throws {
        let box = try Sandbox(self)
        let archive = box.base.appendingPathComponent("valid.tar")
        let sections = Make.v2Sections(
            checkpoint: [Make.file("checkpoint/pages-1.img", "pages")],
            rootfsBeforeTree: [Make.file("rootfs/deleted.files", #"["/etc/motd"]"#)],
            rootfs: [Make.dir("rootfs/tree/etc/"), Make.file("rootfs/tree/etc/a", "x", mode: 0o644),
                     Make.symlink("rootfs/tree/etc/l", to: box.outside),
                     Make.hardlink("rootfs/tree/etc/h", to: "rootfs/tree/etc/a")])
        try Make.writeV2(sections, to: archive)
        let check = try TestTools.spawn([CLI.pythonPath, WorkedExampleTests.v2check, archive.path])
        XCTAssertEqual(check.status, 0, check.stdoutText)
        let r = try TestTools.spawn([CLI.ckpt, "extract", archive.path, box.destination])
        XCTAssertEqual(r.status, 0, r.stderrText)
        XCTAssertTrue(r.stderrText.contains("every digest verified, index digest \(check.stdoutText.trimmingCharacters(in: .whitespacesAndNewlines))"),
                      r.stderrText)
        XCTAssertEqual(readLink(box.destination + "/rootfs/tree/etc/l"), box.outside)
        XCTAssertEqual(fileBytes(box.victim), Array("precious".utf8))
    }

    func testV2ParentComponentNames() throws {
        try expectCLIRefusal("CKA-TAR-034") { _, out in
            try Make.writeV2(Make.v2Sections(rootfs: [Make.file("rootfs/tree/../../../../outside/victim.txt", "x")]),
                             to: out)
        }
        try expectCLIRefusal("CKA-TAR-034") { _, out in
            try Make.writeV2(Make.v2Sections(rootfs: [Make.dir("rootfs/tree/a/"),
                                                      Make.file("rootfs/tree/a/../../../../../outside/victim.txt", "x")]),
                             to: out)
        }
        // Not below its section's directory at all.
        try expectCLIRefusal("CKA-V2-013") { _, out in
            try Make.writeV2(Make.v2Sections(metadata: [Make.file("../victim.txt", "x")]), to: out)
        }
    }

    func testV2AbsoluteNames() throws {
        try expectCLIRefusal("CKA-V2-013") { box, out in
            try Make.writeV2(Make.v2Sections(rootfs: [Make.file(box.victim, "overwritten")]), to: out)
        }
        try expectCLIRefusal("CKA-TAR-034") { box, out in
            try Make.writeV2(Make.v2Sections(rootfs: [Make.file("rootfs/tree/" + box.victim, "overwritten")]), to: out)
        }
    }

    func testV2SymlinkThenWriteThroughIt() throws {
        try expectCLIRefusal("CKA-SEC-002") { box, out in
            try Make.writeV2(Make.v2Sections(rootfs: [Make.symlink("rootfs/tree/x", to: box.outside),
                                                      Make.file("rootfs/tree/x/victim.txt", "overwritten")]),
                             to: out)
        }
        try expectCLIRefusal("CKA-SEC-002") { _, out in
            try Make.writeV2(Make.v2Sections(rootfs: [Make.symlink("rootfs/tree/up", to: "../../../../outside"),
                                                      Make.dir("rootfs/tree/up/dir/")]),
                             to: out)
        }
    }

    func testV2HardLinksOutsideTheSection() throws {
        try expectCLIRefusal("CKA-V2-041") { _, out in
            try Make.writeV2(Make.v2Sections(rootfs: [Make.hardlink("rootfs/tree/h", to: "../../etc/passwd")]), to: out)
        }
        try expectCLIRefusal("CKA-SEC-005") { _, out in
            try Make.writeV2(Make.v2Sections(rootfs: [
                Make.hardlink("rootfs/tree/h", to: "rootfs/tree/../../../../outside/victim.txt"),
            ]), to: out)
        }
        try expectCLIRefusal("CKA-V2-041") { box, out in
            try Make.writeV2(Make.v2Sections(rootfs: [Make.hardlink("rootfs/tree/h", to: box.victim)]), to: out)
        }
    }

    func testV2DeviceNodeInTheCheckpointArea() throws {
        try expectCLIRefusal("CKA-SEC-007", options: ["--devices"]) { _, out in
            try Make.writeV2(Make.v2Sections(checkpoint: [Make.device("checkpoint/null")]), to: out)
        }
        try expectCLIRefusal("CKA-SEC-007", options: ["--devices"]) { _, out in
            try Make.writeV2(Make.v2Sections(metadata: [Make.device("metadata/null")]), to: out)
        }
    }

    /// A ckpt-made archive rewritten by Python with a hostile entry spliced into the rootfs section: the index no
    /// longer matches, but the structural refusal comes first, while streaming.
    func testRewrittenCkptArchiveIsRefusedForTheHostileEntry() throws {
        try expectCLIRefusal("CKA-SEC-002") { box, out in
            let src = box.base.appendingPathComponent("src")
            try WorkedExampleTests.makeExampleDirectory(src)
            let original = box.base.appendingPathComponent("original.tar")
            try CLI.create(src, original, ["--quiet"])
            let script = #"""
import copy, io, sys, tarfile
src, dst, outside = sys.argv[1:4]
with tarfile.open(src) as t:
    members = [(m, t.extractfile(m).read() if m.isreg() else None) for m in t.getmembers()]
buf = io.BytesIO()
w = tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT)
for m, data in members:
    w.addfile(m, io.BytesIO(data) if data is not None else None)
    if m.name == "rootfs/tree":
        link = tarfile.TarInfo("rootfs/tree/x"); link.type = tarfile.SYMTYPE; link.linkname = outside
        w.addfile(link)
        f = tarfile.TarInfo("rootfs/tree/x/victim.txt"); f.size = 11
        w.addfile(f, io.BytesIO(b"overwritten"))
open(dst, "wb").write(buf.getvalue() + b"\0" * 1024)
"""#
            try CLI.python(script, [original.path, out.path, box.outside])
            try FileManager.default.removeItem(at: src)
            try FileManager.default.removeItem(at: original)
        }
    }

    // MARK: --rootfs

    /// `ckpt extract --rootfs TARGET`: the v1 deletion list `["/etc/motd"]` removes exactly TARGET/etc/motd (not
    /// the host's, not through a link), and the tree files are applied into TARGET.
    func testRootfsOptionAppliesDeletionsAndTreeToTheTarget() throws {
        let box = try Sandbox(self)
        let target = box.work + "/root"
        let t = V1DirBuilder(URL(fileURLWithPath: target))
        t.file("etc/motd", "welcome", mode: 0o644)
        t.file("etc/hostname", "box", mode: 0o644)
        t.file("usr/bin/sh", "elf", mode: 0o755)
        t.symlink("etc/outside", to: box.outside)
        let archive = box.base.appendingPathComponent("podman.tar")
        try Make.writeV1(Make.podmanBase + [
            // Every parent is in the diff (no implied directories).
            Make.nestedTar("rootfs-diff.tar", [
                Make.file("app.conf", "x=1\n", mode: 0o644),
                Make.dir("opt/", mode: 0o750),
                Make.dir("opt/bin/", mode: 0o755),
                Make.file("opt/bin/tool", "#!/bin/sh\n", mode: 0o755),
            ]),
            Make.file("deleted.files", "[\n  \"/etc/motd\"\n]"),
        ], to: archive)
        let before = FileTreeSnapshot.take(target)
        let outsideBefore = FileTreeSnapshot.take(box.outside)
        let hostMotd = FileTreeSnapshot.take("/etc/motd")
        let unpacked = box.work + "/unpacked"
        let r = try TestTools.spawn([CLI.ckpt, "extract", "--rootfs", target, archive.path, unpacked])
        XCTAssertEqual(r.status, 0, r.stderrText)
        let after = FileTreeSnapshot.take(target)
        XCTAssertEqual(Set(before.keys).subtracting(after.keys), ["./etc/motd"], "deleted exactly /etc/motd")
        XCTAssertEqual(Set(after.keys).subtracting(before.keys), ["./app.conf", "./opt", "./opt/bin", "./opt/bin/tool"])
        for (path, value) in before where path != "./etc/motd" {
            XCTAssertEqual(after[path], value, "\(path) changed")
        }
        XCTAssertEqual(fileBytes(target + "/app.conf"), Array("x=1\n".utf8))
        XCTAssertEqual(fileBytes(target + "/opt/bin/tool"), Array("#!/bin/sh\n".utf8))
        XCTAssertEqual(lstatOf(target + "/opt/bin/tool").map { $0.st_mode & 0o7777 }, 0o755)
        XCTAssertEqual(lstatOf(target + "/opt").map { $0.st_mode & 0o7777 }, 0o750)
        XCTAssertEqual(fileBytes(target + "/usr/bin/sh"), Array("elf".utf8))
        XCTAssertEqual(FileTreeSnapshot.take(box.outside), outsideBefore)
        XCTAssertEqual(FileTreeSnapshot.take("/etc/motd"), hostMotd)
        // The unpacked directory keeps the diff: deleted.files byte for byte, not applied (CKA-DIR-003).
        XCTAssertEqual(fileBytes(unpacked + "/rootfs/deleted.files"), Array("[\n  \"/etc/motd\"\n]".utf8))
        XCTAssertEqual(fileBytes(unpacked + "/rootfs/tree/opt/bin/tool"), Array("#!/bin/sh\n".utf8))
    }

    /// Deletion paths through a symbolic link of the target that points outside it (CKA-SEC-011): the link
    /// itself is removed, never what it points to.
    func testRootfsOptionNeverDeletesThroughALink() throws {
        let box = try Sandbox(self)
        let target = box.work + "/root"
        let t = V1DirBuilder(URL(fileURLWithPath: target))
        t.file("etc/hostname", "box", mode: 0o644)
        t.symlink("escape", to: box.outside)
        let archive = box.base.appendingPathComponent("podman.tar")
        try Make.writeV1(Make.podmanBase + [
            Make.nestedTar("rootfs-diff.tar", [Make.file("app.conf", "x=1\n", mode: 0o644)]),
            Make.file("deleted.files", "[\n  \"/escape/victim.txt\",\n  \"/escape\"\n]"),
        ], to: archive)
        let outsideBefore = FileTreeSnapshot.take(box.outside)
        let r = try TestTools.spawn([CLI.ckpt, "extract", "--quiet", "--rootfs", target, archive.path, box.work + "/unpacked"])
        XCTAssertEqual(r.status, 0, r.stderrText)
        XCTAssertEqual(FileTreeSnapshot.take(box.outside), outsideBefore)
        XCTAssertEqual(fileBytes(box.victim), Array("precious".utf8))
        XCTAssertNil(lstatOf(target + "/escape"), "the link itself is the deleted object")
        XCTAssertEqual(fileBytes(target + "/app.conf"), Array("x=1\n".utf8))
        XCTAssertEqual(fileBytes(target + "/etc/hostname"), Array("box".utf8))
    }
}
