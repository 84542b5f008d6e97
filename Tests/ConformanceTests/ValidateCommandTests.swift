import Foundation
import TestSupport
import XCTest
#if canImport(FoundationXML)
import FoundationXML
#endif

/// `ckpt-validate` as engine developers run it in CI: verdicts, exit statuses, formats, stdin.
final class ValidateCommandTests: XCTestCase {
    private var validate: String { TestTools.product("ckpt-validate") }
    private var ckpt: String { TestTools.product("ckpt") }

    /// A valid v2 archive made by `ckpt create` from the worked example's directory.
    private func makeV2(_ dir: URL, _ extra: [String] = []) throws -> URL {
        let src = dir.appendingPathComponent("src-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: src.appendingPathComponent("metadata"), withIntermediateDirectories: true)
        try FileManager.default.createDirectory(at: src.appendingPathComponent("checkpoint"), withIntermediateDirectories: true)
        try Data(#"{"id":"0123abcd","name":"demo","runtime":"crun"}"#.utf8).write(to: src.appendingPathComponent("metadata/config.dump"))
        try Data(#"{"ociVersion":"1.2.0","annotations":{"io.container.manager":"libpod"}}"#.utf8)
            .write(to: src.appendingPathComponent("metadata/spec.dump"))
        try Data([0x16, 0x31, 0x31, 0x58] + [UInt8](repeating: 0, count: 60)).write(to: src.appendingPathComponent("checkpoint/inventory.img"))
        for p in ["metadata/config.dump", "metadata/spec.dump", "checkpoint/inventory.img"] {
            chmod(src.appendingPathComponent(p).path, 0o600)
        }
        let out = dir.appendingPathComponent("v2-\(UUID().uuidString).tar" + (extra.contains("zstd") ? ".zst" : ""))
        let r = try TestTools.run([ckpt, "create", "--quiet", "--profile", "podman"] + extra + [src.path, out.path])
        XCTAssertEqual(r.status, 0, r.stderrText)
        return out
    }

    func testValidArchivesExitZeroInEveryFormat() throws {
        let dir = try TestTools.temporaryDirectory(self)
        for extra in [[], ["--compress", "zstd", "--framed"], ["--compress", "gzip"], ["--align", "4096"]] {
            let archive = try makeV2(dir, extra)
            let text = try TestTools.run([validate, archive.path])
            XCTAssertEqual(text.status, 0, "\(extra): \(text.stdoutText)")
            XCTAssertTrue(text.stdoutText.contains("VALID"), text.stdoutText)
            XCTAssertTrue(text.stdoutText.hasSuffix("1 file: 1 valid, 0 acceptable, 0 invalid\n"), text.stdoutText)
        }
        let sample = TestTools.repositoryRoot.appendingPathComponent("Examples/podman-checkpoint.tar.zst")
        let r = try TestTools.run([validate, "--format", "json", sample.path])
        XCTAssertEqual(r.status, 0, r.stdoutText)
        let o = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(r.stdoutText.utf8)) as? [String: Any])
        XCTAssertEqual(o["format"] as? String, "v1")
        XCTAssertEqual(o["profile"] as? String, "podman")
        XCTAssertEqual(o["compression"] as? String, "zstd")
    }

    func testTamperedArchiveIsInvalidWithIDEntryAndOffset() throws {
        let dir = try TestTools.temporaryDirectory(self)
        let archive = try makeV2(dir)
        var bytes = [UInt8](try Data(contentsOf: archive))
        // The content of metadata/config.dump starts with `{"id"`; change one byte of it.
        let needle = Array(#"{"id":"0123abcd""#.utf8)
        let at = try XCTUnwrap((0..<(bytes.count - needle.count)).first { bytes[$0..<($0 + needle.count)].elementsEqual(needle) })
        bytes[at + 8] = 0x39
        let bad = dir.appendingPathComponent("bad.tar")
        try Data(bytes).write(to: bad)
        let r = try TestTools.run([validate, "--format", "json", bad.path])
        XCTAssertEqual(r.status, 1)
        let o = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(r.stdoutText.utf8)) as? [String: Any])
        XCTAssertEqual(o["verdict"] as? String, "invalid")
        let diags = try XCTUnwrap(o["diagnostics"] as? [[String: Any]])
        let digest = try XCTUnwrap(diags.first { $0["id"] as? String == "CKA-IDX-005" }, "\(diags)")
        XCTAssertEqual(digest["path"] as? String, "metadata/config.dump")
        XCTAssertNotNil(digest["offset"] as? Int)
        // --no-digests does not see it.
        XCTAssertEqual(try TestTools.run([validate, "--no-digests", bad.path]).status, 0)
    }

    func testStdinAndFileGiveTheSameReport() throws {
        let dir = try TestTools.temporaryDirectory(self)
        let archive = try makeV2(dir, ["--compress", "zstd"])
        var bytes = [UInt8](try Data(contentsOf: archive))
        bytes.removeLast(200)  // truncated: invalid
        let cut = dir.appendingPathComponent("cut.tar.zst")
        try Data(bytes).write(to: cut)
        for file in [archive, cut] {
            let fromFile = try TestTools.run([validate, "--format", "json", file.path])
            let fromStdin = try TestTools.run([validate, "--format", "json", "-"], stdinFile: file)
            XCTAssertEqual(fromFile.status, fromStdin.status)
            let a = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(fromFile.stdoutText.utf8)) as? [String: Any])
            let b = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(fromStdin.stdoutText.utf8)) as? [String: Any])
            XCTAssertEqual(a["verdict"] as? String, b["verdict"] as? String)
            let ids = { (o: [String: Any]) in
                (o["diagnostics"] as? [[String: Any]] ?? []).map { "\($0["id"] ?? "")@\($0["offset"] ?? "")/\($0["compressedOffset"] ?? "")" }
            }
            XCTAssertEqual(ids(a), ids(b), file.lastPathComponent)
        }
    }

    /// Diagnostics of framed archives name the member or frame holding their offset, in every format and from
    /// standard input too; a whole-stream compressed archive has no such offset.
    func testFramedArchivesReportCompressedOffsets() throws {
        let dir = try TestTools.temporaryDirectory(self)
        let src = dir.appendingPathComponent("src")
        try FileManager.default.createDirectory(at: src.appendingPathComponent("metadata"), withIntermediateDirectories: true)
        try FileManager.default.createDirectory(at: src.appendingPathComponent("checkpoint"), withIntermediateDirectories: true)
        try Data(#"{"id":"0123abcd","name":"demo"}"#.utf8).write(to: src.appendingPathComponent("metadata/config.dump"))
        try Data(#"{"annotations":{"io.container.manager":"libpod"}}"#.utf8).write(to: src.appendingPathComponent("metadata/spec.dump"))
        try Data([0x16, 0x31, 0x31, 0x58] + [UInt8](repeating: 0, count: 60)).write(to: src.appendingPathComponent("checkpoint/inventory.img"))
        try Data("not an image".utf8).write(to: src.appendingPathComponent("checkpoint/pstree.img"))
        for p in ["metadata/config.dump", "metadata/spec.dump", "checkpoint/inventory.img", "checkpoint/pstree.img"] {
            chmod(src.appendingPathComponent(p).path, 0o600)
        }
        for (compression, framed) in [("zstd", true), ("gzip", true), ("zstd", false)] {
            let out = dir.appendingPathComponent("a-\(compression)-\(framed).tar")
            let r = try TestTools.run([ckpt, "create", "--quiet", "--compress", compression] + (framed ? ["--framed"] : [])
                                      + [src.path, out.path])
            XCTAssertEqual(r.status, 0, r.stderrText)
            for input in [[out.path], ["-"]] {
                let json = try TestTools.run([validate, "--format", "json"] + input, stdinFile: input == ["-"] ? out : nil)
                XCTAssertEqual(json.status, 0, json.stdoutText)
                let o = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(json.stdoutText.utf8)) as? [String: Any])
                XCTAssertEqual(o["verdict"] as? String, "acceptable")
                let d = try XCTUnwrap((o["diagnostics"] as? [[String: Any]])?.first)
                XCTAssertEqual(d["id"] as? String, "CKA-V2-055")
                XCTAssertEqual(d["path"] as? String, "checkpoint/pstree.img")
                let compressed = d["compressedOffset"] as? Int
                if framed {
                    // The checkpoint section's frame: after the header's and the metadata section's.
                    XCTAssertNotNil(compressed, "\(compression) \(input)")
                    XCTAssertGreaterThan(compressed ?? 0, 0)
                } else {
                    XCTAssertTrue(d["compressedOffset"] is NSNull, "\(compression) whole-stream: \(d)")
                }
                let text = try TestTools.run([validate] + input, stdinFile: input == ["-"] ? out : nil)
                XCTAssertEqual(text.stdoutText.contains("compressed offset \(compressed ?? -1)"), framed, text.stdoutText)
                let junit = try TestTools.run([validate, "--format", "junit"] + input, stdinFile: input == ["-"] ? out : nil)
                XCTAssertEqual(junit.stdoutText.contains("compressed offset \(compressed ?? -1)"), framed, junit.stdoutText)
            }
        }
    }

    func testJUnitAndExitStatuses() throws {
        let dir = try TestTools.temporaryDirectory(self)
        let good = try makeV2(dir)
        let junk = dir.appendingPathComponent("junk.tar")
        try Data(repeating: 0x41, count: 3000).write(to: junk)
        let r = try TestTools.run([validate, "--format", "junit", good.path, junk.path])
        XCTAssertEqual(r.status, 1)
        let doc = try XMLDocument(data: r.stdout)
        XCTAssertEqual(try doc.nodes(forXPath: "/testsuites/testsuite").count, 2)
        XCTAssertGreaterThan(try doc.nodes(forXPath: "/testsuites/testsuite[1]/testcase").count, 20,
                            "one test case per rule checked")
        XCTAssertEqual(try doc.nodes(forXPath: "/testsuites/testsuite[1]//failure").count, 0)
        XCTAssertGreaterThan(try doc.nodes(forXPath: "/testsuites/testsuite[2]//failure").count, 0)
        XCTAssertEqual(try TestTools.run([validate]).status, 2, "no file named")
        XCTAssertEqual(try TestTools.run([validate, "--format", "yaml", good.path]).status, 2)
        XCTAssertEqual(try TestTools.run([validate, dir.appendingPathComponent("missing.tar").path]).status, 2)
    }

    func testCheckpointctlShapedArchives() throws {
        // As checkpointctl's bats suite builds them: GNU tar of a directory (names with ./), config.dump `{}`,
        // spec.dump with the libpod annotation, a checkpoint/ directory; gzip-compressed too.
        let dir = try TestTools.temporaryDirectory(self)
        let src = dir.appendingPathComponent("ctl")
        try FileManager.default.createDirectory(at: src.appendingPathComponent("checkpoint"), withIntermediateDirectories: true)
        try Data("{}".utf8).write(to: src.appendingPathComponent("config.dump"))
        try Data(#"{"annotations":{"io.container.manager":"libpod"}}"#.utf8).write(to: src.appendingPathComponent("spec.dump"))
        try Data([0x16, 0x31, 0x31, 0x58] + [UInt8](repeating: 0, count: 60))
            .write(to: src.appendingPathComponent("checkpoint/inventory.img"))
        let plain = dir.appendingPathComponent("ctl.tar"), gz = dir.appendingPathComponent("ctl.tar.gz")
        XCTAssertEqual(try TestTools.run(["tar", "cf", plain.path, "."], directory: src).status, 0)
        XCTAssertEqual(try TestTools.run(["tar", "czf", gz.path, "."], directory: src).status, 0)
        for archive in [plain, gz] {
            let r = try TestTools.run([validate, "--format", "json", archive.path])
            let o = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(r.stdoutText.utf8)) as? [String: Any])
            XCTAssertEqual(o["format"] as? String, "v1")
            XCTAssertEqual(o["profile"] as? String, "podman")
            // config.dump `{}` lacks id and name (CKA-V1-010): invalid, and the finding says so.
            XCTAssertEqual(o["verdict"] as? String, "invalid", r.stdoutText)
            let ids = (o["diagnostics"] as? [[String: Any]] ?? []).compactMap { $0["id"] as? String }
            XCTAssertTrue(ids.contains("CKA-V1-010"), "\(ids)")
            XCTAssertEqual(r.status, 1)
        }
    }
}
