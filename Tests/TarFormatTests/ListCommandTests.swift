import Foundation
import TarFormat
import TestSupport
import XCTest

/// `ckpt list` as users run it: exit statuses, partial output on damage, stdin, JSON shape.
final class ListCommandTests: XCTestCase {
    private var ckpt: String { TestTools.product("ckpt") }

    private func archive() throws -> [UInt8] {
        var link = TarHeader(path: "link", type: .symbolicLink)
        link.linkName = "/target"
        var dev = TarHeader(path: "null", type: .characterDevice)
        dev.devMajor = 1
        dev.devMinor = 3
        return try Archives.make([
            (TarHeader(path: "a.txt"), Array("alpha\n".utf8)),
            (TarHeader(path: "b.bin"), [UInt8](repeating: 1, count: 3000)),
            (link, []), (dev, []),
        ])
    }

    func testJSONShapeAndSuccess() throws {
        let dir = try TestTools.temporaryDirectory(self)
        let url = dir.appendingPathComponent("a.tar")
        try Data(archive()).write(to: url)
        let r = try TestTools.run([ckpt, "list", "--json", url.path])
        XCTAssertEqual(r.status, 0, r.stderrText)
        let objects = try r.stdoutText.split(separator: "\n").map {
            try XCTUnwrap(JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any])
        }
        XCTAssertEqual(objects.map { $0["path"] as? String }, ["a.txt", "b.bin", "link", "null"])
        XCTAssertEqual(objects[0]["size"] as? Int, 6)
        XCTAssertEqual(objects[0]["type"] as? String, "file")
        XCTAssertEqual(objects[2]["linkname"] as? String, "/target")
        XCTAssertNil(objects[0]["linkname"])
        XCTAssertEqual(objects[3]["devmajor"] as? Int, 1)
        XCTAssertEqual(objects[3]["devminor"] as? Int, 3)
        let stdin = try TestTools.run([ckpt, "list", "--json", "-"], stdinFile: url)
        XCTAssertEqual(stdin.stdoutText, r.stdoutText)
        XCTAssertEqual(stdin.status, 0)
    }

    func testMalformedArchivePrintsWhatWasReadThenFailsWithOffset() throws {
        let dir = try TestTools.temporaryDirectory(self)
        let full = try archive()
        let url = dir.appendingPathComponent("cut.tar")
        try Data(full[0..<2000]).write(to: url)  // inside b.bin's data
        let r = try TestTools.run([ckpt, "list", url.path])
        XCTAssertEqual(r.status, 1)
        XCTAssertEqual(r.stdoutText, "a.txt\nb.bin\n")
        XCTAssertTrue(r.stderrText.contains("truncated"), r.stderrText)
        XCTAssertTrue(r.stderrText.contains("byte offset 2000"), r.stderrText)

        var corrupt = full
        corrupt[1024 + 20] ^= 0xFF  // b.bin's header
        try Data(corrupt).write(to: url)
        let c = try TestTools.run([ckpt, "list", "-", ], stdinFile: url)
        XCTAssertEqual(c.status, 1)
        XCTAssertEqual(c.stdoutText, "a.txt\n")
        XCTAssertTrue(c.stderrText.contains("checksum") && c.stderrText.contains("byte offset 1024"), c.stderrText)
    }

    func testUsageAndIOErrorsExitTwo() throws {
        XCTAssertEqual(try TestTools.run([ckpt, "list"]).status, 2)
        XCTAssertEqual(try TestTools.run([ckpt, "list", "--bogus", "x"]).status, 2)
        let missing = try TestTools.run([ckpt, "list", "/nonexistent/archive.tar"])
        XCTAssertEqual(missing.status, 2)
        XCTAssertTrue(missing.stderrText.contains("No such file"), missing.stderrText)
        XCTAssertEqual(try TestTools.run([ckpt, "--help"]).status, 0)
        XCTAssertEqual(try TestTools.run([ckpt, "list", "--help"]).status, 0)
    }

    func testUnsupportedCompressionIsRefusedClearly() throws {
        let dir = try TestTools.temporaryDirectory(self)
        let url = dir.appendingPathComponent("a.tar.lz4")
        try Data([0x04, 0x22, 0x4D, 0x18, 0x64, 0x40, 0xA7] + [UInt8](repeating: 0, count: 100)).write(to: url)
        let r = try TestTools.run([ckpt, "list", url.path])
        XCTAssertEqual(r.status, 1)
        XCTAssertTrue(r.stderrText.contains("unsupported compression: lz4"), r.stderrText)
        // bzip2 and xz are decoded: damaged streams are named as such.
        try Data([0xFD, 0x37, 0x7A, 0x58, 0x5A, 0x00] + [UInt8](repeating: 0, count: 100)).write(to: url)
        let xz = try TestTools.run([ckpt, "list", url.path])
        XCTAssertEqual(xz.status, 1)
        XCTAssertTrue(xz.stderrText.contains("xz: corrupt data"), xz.stderrText)
        try Data("BZh9".utf8 + [UInt8](repeating: 0, count: 100)).write(to: url)
        XCTAssertTrue(try TestTools.run([ckpt, "list", url.path]).stderrText.contains("bzip2: corrupt data"))
    }

    /// bzip2 and xz archives list as GNU tar lists them (`tar -tjf`, `tar -tJf`).
    func testBzip2AndXzArchivesList() throws {
        let dir = try TestTools.temporaryDirectory(self)
        let tree = dir.appendingPathComponent("t")
        try FileManager.default.createDirectory(at: tree.appendingPathComponent("d"), withIntermediateDirectories: true)
        try Data("hello\n".utf8).write(to: tree.appendingPathComponent("d/f"))
        for (flag, name) in [("-j", "a.tar.bz2"), ("-J", "a.tar.xz")] {
            let path = dir.appendingPathComponent(name).path
            XCTAssertEqual(try TestTools.run(["/usr/bin/tar", "-c", flag, "-f", path, "-C", tree.path, "."]).status, 0)
            let ours = try TestTools.run([ckpt, "list", path])
            XCTAssertEqual(ours.status, 0, ours.stderrText)
            let gnu = try TestTools.run(["/usr/bin/tar", "-t", flag, "-f", path])
            XCTAssertEqual(ours.stdoutText, gnu.stdoutText, name)
        }
    }

    func testBundledSampleLists() throws {
        let sample = TestTools.repositoryRoot.appendingPathComponent("Examples/podman-checkpoint.tar.zst")
        let r = try TestTools.run([ckpt, "list", sample.path])
        XCTAssertEqual(r.status, 0, r.stderrText)
        XCTAssertTrue(r.stdoutText.hasPrefix("config.dump\nspec.dump\n"))
        XCTAssertTrue(r.stdoutText.contains("checkpoint/inventory.img\n"))
    }
}
