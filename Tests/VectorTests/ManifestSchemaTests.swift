import Foundation
import TestSupport
import VectorCorpus
import XCTest

/// CKA-VEC-001: Vectors/manifest.json (and every tree file) validates against Spec/vectors-manifest.schema.json,
/// checked by an independent checker (Fixtures/schemacheck.py, Python standard library only).
final class ManifestSchemaTests: XCTestCase {
    let root = TestTools.repositoryRoot
    var schema: String { root.appendingPathComponent("Spec/vectors-manifest.schema.json").path }
    var checker: String { root.appendingPathComponent("Tests/VectorTests/Fixtures/schemacheck.py").path }

    func check(_ document: String, definition: String? = nil) throws -> ProcessResult {
        try TestTools.require("python3")
        return try TestTools.spawn(["python3", checker, schema, document] + (definition.map { ["--def", $0] } ?? []))
    }

    func testManifestValidates() throws {
        let r = try check(root.appendingPathComponent("Vectors/manifest.json").path)
        XCTAssertEqual(r.status, 0, r.stdoutText + r.stderrText)
    }

    func testTreeFilesValidate() throws {
        let data = try Data(contentsOf: root.appendingPathComponent("Vectors/manifest.json"))
        let manifest = try JSONDecoder().decode(VectorManifest.self, from: data)
        let files = manifest.cases.compactMap(\.treeFile)
        XCTAssertFalse(files.isEmpty)
        for f in files {
            let r = try check(root.appendingPathComponent("Vectors/" + f).path, definition: "treeEntry[]")
            XCTAssertEqual(r.status, 0, f + ": " + r.stdoutText + r.stderrText)
        }
    }

    /// The checker is no stub: it rejects a manifest with a bad digest, a missing member and a valid case
    /// without tree.
    func testCheckerRejectsBrokenManifests() throws {
        let data = try Data(contentsOf: root.appendingPathComponent("Vectors/manifest.json"))
        var m = try JSONDecoder().decode(VectorManifest.self, from: data)
        let dir = try TestTools.temporaryDirectory(self)
        func rejected(_ change: (inout VectorManifest) -> Void) throws -> String {
            var copy = m
            change(&copy)
            let path = dir.appendingPathComponent("m.json").path
            try Data(ManifestJSON.render(copy)).write(to: URL(fileURLWithPath: path))
            let r = try check(path)
            XCTAssertEqual(r.status, 1, r.stderrText)
            return r.stdoutText
        }
        XCTAssertTrue(try rejected { $0.testGroups[0].tests[0].sha256 = "X" }.contains("does not match"))
        XCTAssertTrue(try rejected { $0.testGroups[0].tests[0].tree = nil }.contains("oneOf"))
        XCTAssertTrue(try rejected { $0.testGroups[0].tests[0].requirements = ["CKA-V2-1"] }.contains("does not match"))
        XCTAssertTrue(try rejected { $0.notes["bad-name"] = ManifestNote(bugType: "BASIC", description: "x") }.contains("name"))
        m.testGroups[0].profile = "docker"
        let path = dir.appendingPathComponent("p.json").path
        try Data(ManifestJSON.render(m)).write(to: URL(fileURLWithPath: path))
        XCTAssertEqual(try check(path).status, 1)
    }
}
