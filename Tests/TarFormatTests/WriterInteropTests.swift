import Foundation
import TarFormat
import TestSupport
import XCTest

/// Archives written by our writer, read by GNU tar, bsdtar, Python's tarfile and Go's archive/tar.
final class WriterInteropTests: XCTestCase {
    private var fixtures: URL { TestTools.repositoryRoot.appendingPathComponent("Tests/TarFormatTests/Fixtures") }

    private func writeArchive(_ options: TarWriterOptions, in dir: URL) throws -> URL {
        let url = dir.appendingPathComponent("ours.tar")
        try Data(Archives.make(TarWriterTests.richEntries(), options: options)).write(to: url)
        return url
    }

    private func jsonLines(_ text: String) throws -> [[String: Any]] {
        try text.split(separator: "\n").map {
            try XCTUnwrap(JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any])
        }
    }

    func testEveryToolListsOurOutputIdentically() throws {
        for tool in ["tar", "bsdtar", "python3", "go"] { try TestTools.require(tool) }
        let dir = try TestTools.temporaryDirectory(self)
        for options in [TarWriterOptions(), TarWriterOptions(alignment: 4096)] {
            let archive = try writeArchive(options, in: dir)
            let ours = try TestTools.run([TestTools.product("ckpt"), "list", "--json", archive.path])
            XCTAssertEqual(ours.status, 0, ours.stderrText)
            let python = try TestTools.run(["python3", fixtures.appendingPathComponent("pylist.py").path, archive.path])
            XCTAssertEqual(python.status, 0, python.stderrText)
            let go = try GoTool.list(archive, test: self)
            let oursObjects = try jsonLines(ours.stdoutText)
            for (name, other) in [("python", try jsonLines(python.stdoutText)), ("go", try jsonLines(go))] {
                try ListingComparison.assertSame(ours: oursObjects, other: other, otherName: name)
            }
            let names = try TestTools.run(["bash", fixtures.appendingPathComponent("tools-list.sh").path, archive.path])
            XCTAssertEqual(names.status, 0, names.stderrText)
            let lines = names.stdoutText.split(separator: "\n").map(String.init)
            let expected = oursObjects.map { ListingComparison.trimSlash($0["path"] as? String ?? "") }
            XCTAssertEqual(lines.filter { $0.hasPrefix("gnutar:") }.map { String($0.dropFirst(7)) }, expected)
            XCTAssertEqual(lines.filter { $0.hasPrefix("bsdtar:") }.map { String($0.dropFirst(7)) }, expected)
            XCTAssertFalse(names.stdoutText.contains("PaxHeaders"), "a reader saw a pax header as a file")
        }
    }

    func testExtractionByEveryToolGivesTheSameTree() throws {
        for tool in ["tar", "bsdtar", "python3"] { try TestTools.require(tool) }
        let dir = try TestTools.temporaryDirectory(self)
        let archive = try writeArchive(TarWriterOptions(alignment: 4096), in: dir)
        var manifests: [String: String] = [:]
        let extractors: [(String, [String])] = [
            ("gnutar", ["tar", "--xattrs", "--xattrs-include=user.*", "-xpf", archive.path, "-C"]),
            ("bsdtar", ["bsdtar", "--xattrs", "-xpf", archive.path, "-C"]),
            ("python", ["python3", "-c", """
                import sys, tarfile
                tarfile.open(sys.argv[1]).extractall(sys.argv[2], filter='fully_trusted')
                """, archive.path]),
        ]
        for (name, command) in extractors {
            let out = dir.appendingPathComponent("x-\(name)")
            try FileManager.default.createDirectory(at: out, withIntermediateDirectories: true)
            let r = try TestTools.run(command + [out.path])
            XCTAssertEqual(r.status, 0, "\(name): \(r.stderrText)")
            let m = try TestTools.run(["python3", fixtures.appendingPathComponent("treemanifest.py").path, out.path])
            XCTAssertEqual(m.status, 0, m.stderrText)
            manifests[name] = m.stdoutText
        }
        let gnu = try XCTUnwrap(manifests["gnutar"])
        XCTAssertFalse(gnu.isEmpty)
        XCTAssertEqual(manifests["bsdtar"].map(Self.withoutXattrs), Self.withoutXattrs(gnu))
        // Python's extractall does not restore xattrs; compare it without them.
        XCTAssertEqual(manifests["python"].map(Self.withoutXattrs), Self.withoutXattrs(gnu))
        // The content and metadata we wrote are what GNU tar extracted.
        let tree = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(gnu.utf8)) as? [[String: Any]])
        let byPath = Dictionary(uniqueKeysWithValues: tree.compactMap { e in (e["path"] as? String).map { ($0, e) } })
        XCTAssertEqual(byPath["dir/small.txt"]?["size"] as? Int, 6)
        XCTAssertEqual(byPath["dir/abs-symlink"]?["target"] as? String ?? byPath["dir/abs-symlink"]?["link"] as? String,
                       "/usr/lib/" + String(repeating: "x", count: 120))
        XCTAssertNotNil(byPath["dir/äöü-日本語.txt"])
        XCTAssertEqual(byPath.keys.filter { $0.hasSuffix("deep.bin") }.count, 1)
        XCTAssertTrue(gnu.contains("user.alpha"), "GNU tar restored the xattrs we wrote")
    }

    /// A manifest with the xattrs objects removed, for extractors that do not restore them.
    static func withoutXattrs(_ manifest: String) -> String {
        guard let tree = try? JSONSerialization.jsonObject(with: Data(manifest.utf8)) as? [[String: Any]] else {
            return manifest
        }
        let stripped = tree.map { $0.filter { $0.key != "xattrs" } }
        let data = (try? JSONSerialization.data(withJSONObject: stripped, options: [.sortedKeys])) ?? Data()
        return String(decoding: data, as: UTF8.self)
    }
}
