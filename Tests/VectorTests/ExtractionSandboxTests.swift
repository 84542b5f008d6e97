import Foundation
import TestSupport
@testable import VectorCorpus
import XCTest

/// `ckpt-vectors verify` extracts every vector below a chain of sentinel directories and fails a case whose
/// extraction changes anything outside its destination (CKA-VEC-006); an extractor that escapes is caught.
final class ExtractionSandboxTests: XCTestCase {
    struct Refused: Error {}

    func outcome(_ extractor: @escaping (String, String) throws -> Void) throws -> CaseOutcome {
        let (corpus, _) = try SharedVerification.result()
        let v = try XCTUnwrap(corpus.vectors.first { $0.entry.id == "v2-hostile-dotdot" })
        var o = CaseOutcome(id: v.entry.id, result: v.entry.result)
        VectorExtraction.check(v, path: SharedVerification.vectorsDirectory + "/" + v.entry.file, into: &o, extractor: extractor)
        return o
    }

    func testARefusalThatWritesNothingPasses() throws {
        let o = try outcome { _, _ in throw Refused() }
        XCTAssertEqual(o.problems, [])
        XCTAssertEqual(o.extractRefused, true)
    }

    func testWritesAboveTheDestinationAreCaught() throws {
        for levels in 1...VectorExtraction.sentinelDepth {
            let o = try outcome { _, destination in
                try FileManager.default.createDirectory(atPath: destination, withIntermediateDirectories: false)
                let up = Array(repeating: "..", count: levels).joined(separator: "/")
                try Data("escaped\n".utf8).write(to: URL(fileURLWithPath: destination + "/" + up + "/cka-escape"))
                throw Refused()
            }
            XCTAssertTrue(o.problems.contains { $0.contains("changed the parents of the destination") }, "\(levels): \(o.problems)")
        }
        let sentinel = try outcome { _, destination in
            try FileManager.default.createDirectory(atPath: destination, withIntermediateDirectories: false)
            try Data("changed\n".utf8).write(to: URL(fileURLWithPath: destination + "/../../sentinel"))
        }
        XCTAssertTrue(sentinel.problems.contains { $0.contains("changed the parents of the destination") }, "\(sentinel.problems)")
    }

    func testTheAbsoluteProbeIsCaught() throws {
        let probe = try XCTUnwrap(VectorExtraction.escapeProbes.first)
        XCTAssertFalse(FileManager.default.fileExists(atPath: probe), "\(probe) exists: an earlier extraction escaped?")
        try? FileManager.default.removeItem(atPath: probe)
        let o = try outcome { _, _ in
            try Data("escaped\n".utf8).write(to: URL(fileURLWithPath: probe))
            throw Refused()
        }
        XCTAssertTrue(o.problems.contains { $0.contains("created \(probe)") }, "\(o.problems)")
        XCTAssertFalse(FileManager.default.fileExists(atPath: probe))
    }
}
