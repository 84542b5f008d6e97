import ByteStreams
import CheckpointArchive
import Compression
@testable import Conformance
import Foundation
import TarFormat
import TestSupport
import XCTest

/// Archives that follow the specification give no finding: the worked example of part 10, and what the
/// encoder (`ckpt create`) writes in every option combination, with and without digest verification.
final class V2ValidArchiveTests: XCTestCase {
    /// Part 10's archive is reproduced byte for byte; its placeholder `checkpoint/inventory.img` is not a CRIU
    /// image, so it is acceptable (one CKA-V2-055 warning) rather than valid.
    func testWorkedExampleIsReproducedAndAcceptable() throws {
        let built = try V2TestArchive(entries: V2TestArchive.workedExample).build()
        XCTAssertEqual(built.tar.count, 18944)
        XCTAssertEqual(V2TestArchive.sha256(built.tar), "d2ec815bca5021b7444ce864738f2ebe145e456f834776592bbb0a6c7f2e8753")
        for verify in [true, false] {
            var options = ValidatorOptions()
            options.verifyDigests = verify
            let outcome = try V2Check.run(built.file, options: options)
            XCTAssertEqual(outcome.diagnostics.map(\.id), ["CKA-V2-055"], V2Check.describe(outcome))
            XCTAssertEqual(outcome.diagnostics.first?.severity, .warning)
            XCTAssertEqual(outcome.diagnostics.first?.offset, 7168, "the header block of checkpoint/inventory.img")
            XCTAssertNil(outcome.malformed)
            // --no-digests computes no digest, not even the index's.
            XCTAssertEqual(outcome.result.indexDigest,
                           verify ? "sha256:05bd21c5486f43dd207344c0449b639864048dfd317a3a3c257593ea15016153" : nil)
            XCTAssertEqual(outcome.result.profile, "podman")
            XCTAssertEqual(outcome.result.header?.sections.map(\.kind), [.metadata, .checkpoint, .rootfs])
            XCTAssertEqual(outcome.result.tarEnd?.marker, .twoZeroBlocks)
        }
    }

    func testEncoderOutputIsValidInEveryCombination() throws {
        let dir = try TestTools.temporaryDirectory(self)
        try V2Fixture.make(dir)
        let combinations: [(CompressionFormat, Bool, Int)] = [
            (.none, false, 0), (.none, false, 512), (.none, false, 4096), (.gzip, false, 0), (.gzip, true, 0),
            (.zstd, false, 0), (.zstd, true, 0),
        ]
        for (compression, framed, alignment) in combinations {
            for deterministic in [true, false] {
                let bytes = try V2Fixture.encode(dir, compression: compression, framed: framed, alignment: alignment,
                                                 deterministic: deterministic)
                for verify in [true, false] {
                    var options = ValidatorOptions()
                    options.verifyDigests = verify
                    let outcome = try V2Check.run(bytes, options: options)
                    let label = "\(compression) framed=\(framed) align=\(alignment) det=\(deterministic) verify=\(verify)"
                    XCTAssertEqual(outcome.diagnostics, [], "\(label)\n\(V2Check.describe(outcome))")
                    XCTAssertNil(outcome.malformed, label)
                    // --no-digests computes no digest, not even the index's.
                    XCTAssertEqual(outcome.result.indexDigest != nil, verify, label)
                    if framed {
                        XCTAssertTrue(outcome.checked.contains(compression == .gzip ? "CKA-FRM-003" : "CKA-FRM-004"), label)
                    }
                }
            }
        }
    }

    func testPipeWithoutTailIsValid() throws {
        let dir = try TestTools.temporaryDirectory(self)
        try V2Fixture.make(dir)
        let bytes = try V2Fixture.encode(dir, compression: .zstd, framed: true)
        let outcome = try V2Check.run(bytes, tail: false)
        XCTAssertEqual(outcome.diagnostics, [], V2Check.describe(outcome))
        XCTAssertFalse(outcome.checked.contains("CKA-FRM-004"), "the locator cannot be checked without the tail")
    }

    func testFramedArchivesWithMemberBoundariesAreValid() throws {
        for compression in [CompressionFormat.gzip, .zstd] {
            var archive = V2TestArchive()
            archive.compression = compression
            archive.framed = true
            let built = try archive.build()
            let outcome = try V2Check.run(built.file)
            XCTAssertEqual(outcome.diagnostics, [], "\(compression)\n\(V2Check.describe(outcome))")
            XCTAssertTrue(outcome.checked.contains("CKA-FRM-001"))
        }
    }

    /// Every V requirement of the v2 areas that the checker implements is marked as run on a valid archive
    /// (they become JUnit test cases).
    func testRulesRunOnValidArchives() throws {
        var archive = V2TestArchive()
        archive.entries += [
            .marker("devshm"), .marker("volume", name: "data"), .marker("logs"), .file("logs/ctr.log", "x\n"),
            .marker("artifacts"), .marker("ext", name: "v1"),
        ]
        archive.compression = .gzip
        archive.framed = true
        let built = try archive.build()
        let outcome = try V2Check.run(built.file, options: {
            var o = ValidatorOptions()
            o.expectedIndexDigest = "sha256:" + String(repeating: "0", count: 64)
            return o
        }())
        XCTAssertEqual(outcome.ids, ["CKA-IDX-010"], V2Check.describe(outcome))
        let expected = RequirementCatalog.checkable.map(\.id).filter { id in
            ["CKA-V2-", "CKA-IDX-", "CKA-FRM-", "CKA-ALN-"].contains { id.hasPrefix($0) }
        } + ["CKA-CNV-001", "CKA-GEN-014", "CKA-TAR-007", "CKA-TAR-025", "CKA-TAR-031", "CKA-TAR-032", "CKA-TAR-036",
             "CKA-TAR-044", "CKA-SEC-010"]
        let missing = Set(expected).subtracting(outcome.checked)
        // Not on this archive: the zstd locator, and alignment (the header declares none; ALN-001 runs).
        XCTAssertEqual(missing, ["CKA-FRM-004"], "not marked as run: \(missing.sorted())")
        for id in outcome.checked {
            XCTAssertEqual(RequirementCatalog.requirement(id)?.isCheckable, true, "\(id) is not a V requirement")
        }
    }
}
