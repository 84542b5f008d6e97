import Foundation
import TestSupport
import XCTest

/// `ckpt-vectors` exit statuses: 0 success, 1 stale or wrong, 2 usage or I/O.
final class CLITests: XCTestCase {
    let tool = TestTools.product("ckpt-vectors")
    let root = TestTools.repositoryRoot.path

    func testCoverageCheck() throws {
        let ok = try TestTools.spawn([tool, "coverage", "--vectors", root + "/Vectors", "--root", root, "--check", root + "/Spec/coverage.md"])
        XCTAssertEqual(ok.status, 0, ok.stderrText)
        let stale = try TestTools.temporaryDirectory(self).appendingPathComponent("coverage.md")
        try Data("old\n".utf8).write(to: stale)
        let r = try TestTools.spawn([tool, "coverage", "--vectors", root + "/Vectors", "--root", root, "--check", stale.path])
        XCTAssertEqual(r.status, 1)
        XCTAssertTrue(r.stderrText.contains("stale"), r.stderrText)
    }

    func testUsageAndIOErrors() throws {
        XCTAssertEqual(try TestTools.spawn([tool, "verify", "--vectors", "/nonexistent-vectors"]).status, 2)
        XCTAssertEqual(try TestTools.spawn([tool, "verify", "--no-such-option"]).status, 2)
        XCTAssertEqual(try TestTools.spawn([tool, "--help"]).status, 0)
    }

    func testGenerateWritesTheCommittedCorpus() throws {
        let out = try TestTools.temporaryDirectory(self).appendingPathComponent("Vectors").path
        let r = try TestTools.spawn([tool, "generate", "--out", out])
        XCTAssertEqual(r.status, 0, r.stderrText)
        let committed = try Data(contentsOf: URL(fileURLWithPath: root + "/Vectors/manifest.json"))
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: out + "/manifest.json")), committed)
        let again = try TestTools.spawn([tool, "verify", "--vectors", out, "--no-extract"])
        XCTAssertEqual(again.status, 0, again.stdoutText)
    }
}
