import Foundation
import TestSupport
import XCTest

/// `ckpt create` then `ckpt extract` over every option combination gives back the same directory, file by
/// file; every archive passes the independent index check and is read by the reference tools.
final class V2RoundTripTests: XCTestCase {
    private var ckpt: String { TestTools.product("ckpt") }

    struct Combination: CustomStringConvertible {
        var compression: String
        var framed: Bool
        var alignment: Int
        var args: [String] {
            var a = ["--compress", compression]
            if framed { a.append("--framed") }
            if alignment > 0 { a += ["--align", String(alignment)] }
            return a
        }
        var description: String { "\(compression)\(framed ? "+framed" : "")\(alignment > 0 ? "+align\(alignment)" : "")" }
    }

    static let combinations: [Combination] = [
        Combination(compression: "none", framed: false, alignment: 0),
        Combination(compression: "none", framed: false, alignment: 512),
        Combination(compression: "none", framed: false, alignment: 4096),
        Combination(compression: "none", framed: false, alignment: 65536),
        Combination(compression: "gzip", framed: false, alignment: 0),
        Combination(compression: "gzip", framed: true, alignment: 0),
        Combination(compression: "zstd", framed: false, alignment: 0),
        Combination(compression: "zstd", framed: true, alignment: 0),
    ]

    func testRoundTripEveryCombination() throws {
        let dir = try TestTools.temporaryDirectory(self)
        let source = dir.appendingPathComponent("src")
        try CheckpointTrees.makeRich(source)
        let expected = try CheckpointTrees.manifest(source)
        XCTAssertGreaterThan(expected.count, 20)
        for combo in Self.combinations {
            for deterministic in [false, true] {
                let archive = dir.appendingPathComponent("a-\(combo)-\(deterministic).tar")
                let create = try TestTools.run([ckpt, "create", "--quiet"] + combo.args
                                               + (deterministic ? ["--deterministic"] : []) + [source.path, archive.path])
                XCTAssertEqual(create.status, 0, "\(combo): \(create.stderrText)")
                let check = try TestTools.run(["python3", WorkedExampleTests.v2check, archive.path])
                XCTAssertEqual(check.status, 0, "\(combo): \(check.stdoutText)")
                let out = dir.appendingPathComponent("x-\(combo)-\(deterministic)")
                let extract = try TestTools.run([ckpt, "extract", "--quiet", archive.path, out.path])
                XCTAssertEqual(extract.status, 0, "\(combo): \(extract.stderrText)")
                var got = try CheckpointTrees.manifest(out)
                var want = expected
                if deterministic {
                    // Deterministic mode zeroes ids outside the file-system sections; the fixture is root-owned.
                    got = got.map { $0 }
                    want = want.map { $0 }
                }
                XCTAssertEqual(got, want, "\(combo) deterministic=\(deterministic)")
            }
        }
    }

    func testReferenceToolsReadEveryVariant() throws {
        for tool in ["tar", "bsdtar", "python3", "gzip", "zstd"] { try TestTools.require(tool) }
        let dir = try TestTools.temporaryDirectory(self)
        let source = dir.appendingPathComponent("src")
        try CheckpointTrees.makeRich(source)
        for combo in Self.combinations {
            let archive = dir.appendingPathComponent("a-\(combo).tar")
            XCTAssertEqual(try TestTools.run([ckpt, "create", "--quiet"] + combo.args + [source.path, archive.path]).status, 0)
            let gnu = try TestTools.run(["tar", "--warning=no-unknown-keyword", "-tf", archive.path])
            XCTAssertEqual(gnu.status, 0, "\(combo) GNU tar: \(gnu.stderrText)")
            XCTAssertTrue(gnu.stdoutText.contains("rootfs/tree/etc/app.conf\n"))
            XCTAssertFalse(gnu.stdoutText.contains("PaxHeaders"))
            let bsd = try TestTools.run(["bsdtar", "-tf", archive.path])
            XCTAssertEqual(bsd.status, 0, "\(combo) bsdtar: \(bsd.stderrText)")
            XCTAssertEqual(bsd.stdoutText, gnu.stdoutText, combo.description)
            if combo.compression != "zstd" {
                let py = try TestTools.run(["python3", "-c", "import sys,tarfile; print(len(tarfile.open(sys.argv[1]).getmembers()))",
                                            archive.path])
                XCTAssertEqual(py.status, 0, "\(combo) python: \(py.stderrText)")
            }
            if combo.compression != "none" {
                let tool = combo.compression == "gzip" ? "gzip" : "zstd"
                XCTAssertEqual(try TestTools.run([tool, "-t", archive.path]).status, 0, "\(tool) -t \(combo)")
                // Framed or not, the file decompresses as one stream into a tar GNU tar reads.
                let plain = try TestTools.run(["sh", "-c", "\(tool) -dc '\(archive.path)' | tar --warning=no-unknown-keyword -tf -"])
                XCTAssertEqual(plain.stdoutText, gnu.stdoutText, combo.description)
            }
        }
        let go = try TestTools.run(["go", "version"])
        XCTAssertEqual(go.status, 0)
    }

    func testTamperedDataIsRefusedAndNothingIsLeft() throws {
        let dir = try TestTools.temporaryDirectory(self)
        let source = dir.appendingPathComponent("src")
        try CheckpointTrees.makeRich(source)
        let archive = dir.appendingPathComponent("a.tar")
        XCTAssertEqual(try TestTools.run([ckpt, "create", "--quiet", source.path, archive.path]).status, 0)
        var bytes = [UInt8](try Data(contentsOf: archive))
        // Flip one byte inside big.bin's content (found by its first bytes' offset from the listing).
        let list = try TestTools.run([ckpt, "list", "--json", archive.path])
        XCTAssertEqual(list.status, 0)
        let index = try XCTUnwrap(bytes.lastRange(of: Array("\"path\":\"rootfs/tree/usr/lib/big.bin\"".utf8)))
        let tail = String(decoding: bytes[index.upperBound..<(index.upperBound + 80)], as: UTF8.self)
        let offset = Int(try XCTUnwrap(tail.split(separator: ":")[2].split(separator: ",").first))!
        bytes[offset + 1000] ^= 0x01
        let bad = dir.appendingPathComponent("bad.tar")
        try Data(bytes).write(to: bad)
        let out = dir.appendingPathComponent("out")
        // From the file, the digest is computed by worker threads from the written files; with --no-reflink
        // the data passes through the process; from a pipe it is hashed on the stream. All three must refuse.
        for (how, args, stdin) in [("file", [bad.path], nil as Data?), ("no-reflink", ["--no-reflink", bad.path], nil),
                                   ("pipe", ["-"], Data(bytes))] {
            let r = try TestTools.run([ckpt, "extract"] + args + [out.path], stdin: stdin)
            XCTAssertEqual(r.status, 1, how)
            XCTAssertTrue(r.stderrText.contains("CKA-IDX-005") && r.stderrText.contains("big.bin"), how + ": " + r.stderrText)
            XCTAssertTrue(r.stderrText.contains("at byte offset \(offset)"), how + ": the data offset: " + r.stderrText)
            XCTAssertFalse(FileManager.default.fileExists(atPath: out.path), "\(how): a refused archive left output")
            let leftovers = try FileManager.default.contentsOfDirectory(atPath: dir.path).filter { $0.hasPrefix(".out") }
            XCTAssertEqual(leftovers, [], "\(how): staging directory left behind")
        }
    }

    func testPinnedIndexDigest() throws {
        let dir = try TestTools.temporaryDirectory(self)
        let source = dir.appendingPathComponent("src")
        try WorkedExampleTests.makeExampleDirectory(source)
        let archive = dir.appendingPathComponent("a.tar")
        let create = try TestTools.run([ckpt, "create", "--deterministic", source.path, archive.path])
        let digest = try XCTUnwrap(create.stderrText.split(separator: " ").last.map { $0.trimmingCharacters(in: .whitespacesAndNewlines) })
        XCTAssertTrue(digest.hasPrefix("sha256:"))
        let good = try TestTools.run([ckpt, "extract", "--expect-index-digest", digest, archive.path,
                                      dir.appendingPathComponent("ok").path])
        XCTAssertEqual(good.status, 0, good.stderrText)
        let wrong = "sha256:" + String(repeating: "0", count: 64)
        let bad = try TestTools.run([ckpt, "extract", "--expect-index-digest", wrong, archive.path,
                                     dir.appendingPathComponent("no").path])
        XCTAssertEqual(bad.status, 1)
        XCTAssertTrue(bad.stderrText.contains("CKA-IDX-010"), bad.stderrText)
    }
}

extension Array where Element == UInt8 {
    func lastRange(of needle: [UInt8]) -> Range<Int>? {
        guard needle.count <= count else { return nil }
        for start in stride(from: count - needle.count, through: 0, by: -1)
        where self[start..<(start + needle.count)].elementsEqual(needle) {
            return start..<(start + needle.count)
        }
        return nil
    }
}
