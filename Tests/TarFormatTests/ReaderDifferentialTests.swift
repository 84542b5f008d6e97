import Foundation
import TestSupport
import XCTest

/// Archives made by GNU tar (gnu, oldgnu, ustar, posix, v7), bsdtar, Python's tarfile and Go's
/// archive/tar at test time: `ckpt list --json` must agree with Python's tarfile field by field.
final class ReaderDifferentialTests: XCTestCase {
    nonisolated(unsafe) private static var corpus: URL?
    override class func tearDown() {
        if let c = corpus { try? FileManager.default.removeItem(at: c) }
        corpus = nil
        super.tearDown()
    }

    private var fixtures: URL { TestTools.repositoryRoot.appendingPathComponent("Tests/TarFormatTests/Fixtures") }

    /// Builds the corpus once per run (about 10 s): every writer and format over one source tree.
    private func corpusDirectory() throws -> URL {
        if let c = Self.corpus { return c }
        for tool in ["tar", "bsdtar", "python3", "go"] { try TestTools.require(tool) }
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("ckpt-corpus-\(UUID().uuidString)")
        let r = try TestTools.run(["bash", fixtures.appendingPathComponent("make-archives.sh").path, dir.path])
        XCTAssertEqual(r.status, 0, "make-archives.sh: \(r.stderrText)")
        Self.corpus = dir
        return dir
    }

    private func archives(_ dir: URL) throws -> [URL] {
        try FileManager.default.contentsOfDirectory(at: dir, includingPropertiesForKeys: nil)
            .filter { $0.pathExtension == "tar" }.sorted { $0.path < $1.path }
    }

    private func parse(_ text: String) throws -> [[String: Any]] {
        try text.split(separator: "\n").map {
            try XCTUnwrap(JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any])
        }
    }

    func testListingAgreesWithPythonForEveryWriterAndFormat() throws {
        let dir = try corpusDirectory()
        let all = try archives(dir)
        // 5 GNU tar formats, 2 bsdtar, 2 Python, 2 Go, and the big sparse ones.
        XCTAssertGreaterThanOrEqual(all.count, 11, all.map(\.lastPathComponent).joined(separator: " "))
        for archive in all {
            let ours = try TestTools.run([TestTools.product("ckpt"), "list", "--json", archive.path])
            XCTAssertEqual(ours.status, 0, "\(archive.lastPathComponent): \(ours.stderrText)")
            let python = try TestTools.run(["python3", fixtures.appendingPathComponent("pylist.py").path, archive.path])
            XCTAssertEqual(python.status, 0, "\(archive.lastPathComponent): \(python.stderrText)")
            try ListingComparison.assertSame(ours: parse(ours.stdoutText), other: parse(python.stdoutText),
                                             otherName: "python on \(archive.lastPathComponent)")
        }
    }

    func testFeatureCoverageOfTheCorpus() throws {
        let dir = try corpusDirectory()
        var types = Set<String>()
        var maxName = 0
        var sawXattr = false, sawUTF8 = false, sawBigSparse = false
        for archive in try archives(dir) {
            let ours = try TestTools.run([TestTools.product("ckpt"), "list", "--json", archive.path])
            for entry in try parse(ours.stdoutText) {
                types.insert(entry["type"] as? String ?? "")
                let path = entry["path"] as? String ?? ""
                maxName = max(maxName, path.utf8.count)
                if entry["xattrs"] != nil { sawXattr = true }
                if path.unicodeScalars.contains(where: { $0.value > 127 }) { sawUTF8 = true }
                if (entry["size"] as? Int ?? 0) > 8 << 30 { sawBigSparse = true }
            }
        }
        XCTAssertTrue(types.isSuperset(of: ["file", "dir", "symlink", "hardlink", "fifo", "char", "block"]),
                      "types seen: \(types.sorted())")
        XCTAssertGreaterThan(maxName, 255)
        XCTAssertTrue(sawXattr, "no archive carried xattrs")
        XCTAssertTrue(sawUTF8, "no archive carried UTF-8 names")
        XCTAssertTrue(sawBigSparse, "no sparse file over 8 GiB was listed")
    }

    func testCompressedAndPipedInputGiveTheSameListing() throws {
        for tool in ["gzip", "zstd"] { try TestTools.require(tool) }
        let dir = try corpusDirectory()
        let archive = try XCTUnwrap(try archives(dir).first { $0.lastPathComponent.contains("posix") })
        let plain = try TestTools.run([TestTools.product("ckpt"), "list", "--json", archive.path])
        XCTAssertEqual(plain.status, 0)
        let work = try TestTools.temporaryDirectory(self)
        for (tool, ext) in [("gzip", "gz"), ("zstd", "zst")] {
            let out = work.appendingPathComponent("a.tar.\(ext)")
            let c = try TestTools.run(["sh", "-c", "\(tool) -c < '\(archive.path)' > '\(out.path)'"])
            XCTAssertEqual(c.status, 0)
            let fromFile = try TestTools.run([TestTools.product("ckpt"), "list", "--json", out.path])
            XCTAssertEqual(fromFile.stdoutText, plain.stdoutText, tool)
            let fromPipe = try TestTools.run([TestTools.product("ckpt"), "list", "--json", "-"], stdinFile: out)
            XCTAssertEqual(fromPipe.stdoutText, plain.stdoutText, "\(tool) via stdin")
        }
    }
}
