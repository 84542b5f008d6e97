import Foundation
import TestSupport
import VectorCorpus
import XCTest

/// `ckpt-vectors verify` as part of `swift test`: the generator and the committed files agree, every verdict and
/// finding is the manifest's, every valid vector extracts to its tree; and the verifier notices when they do not.
final class CorpusVerificationTests: XCTestCase {
    func testCommittedCorpusVerifies() throws {
        let (corpus, report) = try SharedVerification.result()
        XCTAssertTrue(report.passed, report.render())
        XCTAssertEqual(report.outcomes.count, corpus.vectors.count)
        print(report.render().split(separator: "\n").suffix(3).joined(separator: "\n"))
        let byResult = Dictionary(grouping: corpus.vectors, by: \.entry.result).mapValues(\.count)
        XCTAssertGreaterThanOrEqual(byResult["valid"] ?? 0, 20)
        XCTAssertGreaterThanOrEqual(byResult["invalid"] ?? 0, 150)
        XCTAssertGreaterThanOrEqual(byResult["acceptable"] ?? 0, 3)
        // Every invalid case was validated and its findings are exactly its requirements (VEC-006 and more).
        for o in report.outcomes where o.result == "invalid" {
            let entry = corpus.vectors.first { $0.entry.id == o.id }!.entry
            XCTAssertEqual(Set(o.findings), Set(entry.requirements), o.id)
        }
    }

    func testCorpusStaysSmall() throws {
        let (corpus, _) = try SharedVerification.result()
        let size = corpus.files.values.reduce(0) { $0 + $1.count }
        XCTAssertLessThan(size, 20 << 20, "the whole corpus is kept under 20 MiB")
    }

    func testGenerationIsDeterministic() throws {
        let (first, _) = try SharedVerification.result()
        let second = try CorpusGenerator.generate()
        XCTAssertEqual(first.files.keys.sorted(), second.files.keys.sorted())
        for (path, bytes) in first.files { XCTAssertTrue(second.files[path] == bytes, "\(path) differs between two runs") }
    }

    func testManifestJSONRoundTrips() throws {
        let (corpus, _) = try SharedVerification.result()
        let bytes = try XCTUnwrap(corpus.files["manifest.json"])
        let decoded = try JSONDecoder().decode(VectorManifest.self, from: Data(bytes))
        XCTAssertEqual(decoded, corpus.manifest)
        XCTAssertEqual(ManifestJSON.render(decoded), bytes)
        XCTAssertEqual(decoded.numberOfTests, decoded.cases.count)
        XCTAssertEqual(decoded.cases.map(\.tcId), Array(1...decoded.cases.count))
        // Flags used and notes defined are the same set (CKA-VEC-002, MUST and SHOULD).
        XCTAssertEqual(Set(decoded.cases.flatMap(\.flags)), Set(decoded.notes.keys))
    }

    func testValidCasesListTheRequirementsOfTheirDerivedCases() throws {
        let (corpus, _) = try SharedVerification.result()
        let byId = Dictionary(uniqueKeysWithValues: corpus.vectors.map { ($0.entry.id, $0) })
        var derived = 0
        for v in corpus.vectors {
            guard let base = v.vectorCase.base else { continue }
            let b = try XCTUnwrap(byId[base], "\(v.entry.id): base \(base)")
            XCTAssertEqual(b.entry.result, "valid", "\(v.entry.id): base \(base)")
            if v.entry.result != "valid" {
                derived += 1
                XCTAssertTrue(Set(v.entry.requirements).isSubset(of: b.entry.requirements), "\(base) lists \(v.entry.requirements)")
            }
        }
        XCTAssertGreaterThan(derived, 150)
    }

    /// A corrupted copy of the corpus: the verifier reports each change at the case it concerns.
    func testVerifierDetectsChanges() throws {
        let (corpus, _) = try SharedVerification.result()
        let copy = try TestTools.temporaryDirectory(self).appendingPathComponent("Vectors").path
        try CorpusGenerator.write(corpus, to: copy)
        let fm = FileManager.default
        // A byte of an uncompressed archive, an invalid case now valid, a file removed, a stale file added.
        let plain = try XCTUnwrap(corpus.vectors.first { $0.entry.id == "v2-worked-example" })
        var bytes = plain.bytes
        bytes[bytes.count - 1100] ^= 1
        try Data(bytes).write(to: URL(fileURLWithPath: copy + "/" + plain.entry.file))
        let invalid = try XCTUnwrap(corpus.vectors.first { $0.entry.id == "v2-idx-entry-count" })
        let valid = try XCTUnwrap(corpus.vectors.first { $0.entry.id == "v2-minimal" })
        try Data(valid.bytes).write(to: URL(fileURLWithPath: copy + "/" + invalid.entry.file))
        let removed = try XCTUnwrap(corpus.vectors.first { $0.entry.id == "v2-zstd" })
        try fm.removeItem(atPath: copy + "/" + removed.entry.file)
        try Data([1]).write(to: URL(fileURLWithPath: copy + "/v2/valid/stray.tar"))
        let report = try CorpusVerifier.verify(directory: copy, generated: corpus, extract: false)
        XCTAssertFalse(report.passed)
        let failed = Set(report.outcomes.filter { !$0.passed }.map(\.id))
        XCTAssertEqual(failed, ["v2-worked-example", "v2-idx-entry-count", "v2-zstd"], report.render())
        XCTAssertTrue(report.corpusProblems.contains { $0.contains("stray.tar") }, report.render())
        let swapped = try XCTUnwrap(report.outcomes.first { $0.id == "v2-idx-entry-count" })
        XCTAssertTrue(swapped.problems.contains { $0.contains("validator verdict valid") }, "\(swapped.problems)")
    }

    func testTreeComparison() {
        let file = TreeEntry(path: "a", type: "file", mode: 0o644, size: 1, sha256: String(repeating: "0", count: 64))
        let link = TreeEntry(path: "b", type: "hardlink", mode: 0o644, linkTarget: "a")
        XCTAssertEqual(TreeComparison.differences(expected: [file, link], actual: [file, link]), [])
        var other = file
        other.mode = "0600"
        XCTAssertEqual(TreeComparison.differences(expected: [file], actual: [other]).count, 1)
        XCTAssertEqual(TreeComparison.differences(expected: [file, link], actual: [file]).count, 1)
        // Names that differ only by Unicode normalisation are two paths (CKA-SEC-024).
        let composed = TreeEntry(path: "\u{e9}", type: "dir", mode: 0o755)
        let decomposed = TreeEntry(path: "e\u{301}", type: "dir", mode: 0o755)
        XCTAssertEqual(TreeComparison.differences(expected: [composed, decomposed], actual: [composed]).count, 1)
        // A hard link named before its target (in byte order) is normalised the way the scanner reports it.
        let late = TreeEntry(path: "0", type: "hardlink", mode: 0o644, linkTarget: "a")
        var first = file
        first.path = "0"
        var second = link
        second.path = "a"
        second.linkTarget = "0"
        XCTAssertEqual(TreeComparison.differences(expected: [file, late], actual: [first, second]), [])
    }
}
