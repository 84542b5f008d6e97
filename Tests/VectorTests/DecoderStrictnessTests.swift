import ByteStreams
import CheckpointArchive
import Foundation
import TestSupport
import VectorCorpus
import XCTest

/// The v2 decoder refuses every committed invalid vector that breaks a rule binding decoders, naming that rule,
/// the entry and the byte offset (CKA-GEN-006, CKA-GEN-007); `ckpt-vectors verify` holds the whole corpus to this,
/// these tests pin the requirement each refusal names.
final class DecoderStrictnessTests: XCTestCase {
    let vectors = TestTools.repositoryRoot.appendingPathComponent("Vectors").path

    /// Extracts a file with what `ckpt extract` runs; returns the error, nil when it was accepted.
    func refusal(_ path: String, fromPipe: Bool = false) throws -> CheckpointError? {
        let destination = try TestTools.temporaryDirectory(self).appendingPathComponent("unpacked").path
        let file = try FileSource(path: path)
        // A pipe is modelled by a source that cannot tell its descriptor: the decoder sees the stream only.
        let input: ByteSource = fromPipe ? MemorySource(try file.readAll()) : file
        let opened = try ArchiveOpener.open(input)
        let extractor = try SafeExtractor(destination: destination)
        do {
            _ = try ArchiveExtraction.decode(opened, into: extractor, reflinkDescriptor: nil,
                                             archiveDescriptor: fromPipe ? nil : file.descriptor.rawValue)
            try extractor.commit()
            return nil
        } catch let e as CheckpointError {
            extractor.abort()
            XCTAssertFalse(FileManager.default.fileExists(atPath: destination), "a refusal left \(destination)")
            return e
        }
    }

    func vector(_ id: String) throws -> String {
        let data = try Data(contentsOf: URL(fileURLWithPath: vectors + "/manifest.json"))
        let manifest = try JSONDecoder().decode(VectorManifest.self, from: data)
        let c = try XCTUnwrap(manifest.cases.first { $0.id == id }, id)
        return vectors + "/" + c.file
    }

    /// vector id -> (requirement, entry) the refusal must name.
    static let expected: [(String, String, String?)] = [
        ("v2-hdr-version-record-elsewhere", "CKA-V2-001", "metadata/config.dump"),
        ("v2-hdr-alignment-1000", "CKA-ALN-001", "cka-header.json"),
        ("v2-hdr-alignment-2mib", "CKA-ALN-001", "cka-header.json"),
        ("v2-sec-marker-size", "CKA-TAR-011", "checkpoint/"),
        ("v2-sec-index-record", "CKA-V2-045", "cka-index.json"),
        ("v2-cnt-no-spec-dump", "CKA-V2-023", "metadata/"),
        ("v2-cnt-bind-mount-traversal", "CKA-SEC-010", "metadata/bind.mounts"),
        ("v2-cnt-no-inventory", "CKA-V2-025", "checkpoint/"),
        ("v2-rfs-other-name", "CKA-V2-027", nil),
        ("v2-rfs-prefix-order", "CKA-V2-027", nil),
        ("v2-rfs-no-tree", "CKA-V2-027", "rootfs/"),
        ("v2-rfs-deleted-directory", "CKA-V2-028", nil),
        ("v2-enc-cka-unknown-key", "CKA-V2-005", nil),
        ("v2-enc-section-name-on-file", "CKA-V2-005", nil),
        ("v2-enc-index-record-on-marker", "CKA-V2-005", nil),
        ("v2-enc-section-record-on-header", "CKA-V2-005", "cka-header.json"),
        ("v2-tar-ustar-uid-with-pax", "CKA-TAR-015", "rootfs/tree/etc/app.conf"),
        ("v2-frm-gzip-locator-text", "CKA-FRM-005", nil),
        ("v2-frm-gzip-locator-length", "CKA-FRM-005", nil),
        ("v2-frm-gzip-locator-index-offset", "CKA-FRM-005", nil),
        ("v2-frm-zstd-locator-text", "CKA-FRM-005", nil),
        ("v2-frm-zstd-locator-length", "CKA-FRM-005", nil),
        ("v2-frm-zstd-locator-index-offset", "CKA-FRM-005", nil),
    ]

    func testEachFixedRuleIsNamedWithEntryAndOffset() throws {
        for (id, requirement, entry) in Self.expected {
            let e = try XCTUnwrap(try refusal(try vector(id)), "\(id) was accepted")
            XCTAssertEqual(e.requirement, requirement, "\(id): \(e)")
            if let entry { XCTAssertEqual(e.entry, entry, "\(id): \(e)") } else if !requirement.hasPrefix("CKA-FRM") {
                XCTAssertNotNil(e.entry, "\(id): \(e)")
            }
            XCTAssertNotNil(e.offset, "\(id): \(e)")
        }
    }

    /// The requirement each refusal names is one the case breaks.
    func testRefusalsNameARuleTheCaseBreaks() throws {
        let data = try Data(contentsOf: URL(fileURLWithPath: vectors + "/manifest.json"))
        let manifest = try JSONDecoder().decode(VectorManifest.self, from: data)
        for (id, requirement, _) in Self.expected {
            let c = try XCTUnwrap(manifest.cases.first { $0.id == id })
            XCTAssertTrue(c.requirements.contains(requirement), "\(id) breaks \(c.requirements), not \(requirement)")
            XCTAssertEqual(DecoderBinding.decoderRules(c.requirements), [requirement], id)
        }
    }

    /// The valid framed vectors still pass the locator check (it runs on every framed file).
    func testValidFramedArchivesPassTheLocatorCheck() throws {
        for id in ["v2-gzip-framed", "v2-zstd-framed", "v2-gzip-framed-every-section"] {
            XCTAssertNil(try refusal(try vector(id)), id)
        }
    }

    /// A locator whose index member offset points elsewhere (no vector breaks only this): the member found there
    /// does not decompress to the index entry (CKA-FRM-005, CKA-FRM-007).
    func testLocatorMemberOffsetIsChecked() throws {
        for (id, trailer) in [("v2-gzip-framed", 10), ("v2-zstd-framed", 0)] {
            var bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: try vector(id))))
            let memberField = bytes.count - trailer - 32 + 8
            bytes[memberField] &-= 1
            let path = try TestTools.temporaryDirectory(self).appendingPathComponent(id).path
            try Data(bytes).write(to: URL(fileURLWithPath: path))
            let e = try XCTUnwrap(try refusal(path), id)
            XCTAssertEqual(e.requirement, "CKA-FRM-005", "\(id): \(e)")
            XCTAssertTrue(e.message.contains("index member"), e.message)
        }
    }

    /// From a pipe the decoder never sees the locator (decompressors pass over it, CKA-FRM-007), so the payload
    /// rules are checked only when the archive is a file; everything the stream carries is still checked.
    func testPipedInputCannotSeeTheLocator() throws {
        XCTAssertNil(try refusal(try vector("v2-frm-gzip-locator-length"), fromPipe: true))
        XCTAssertEqual(try refusal(try vector("v2-cnt-no-inventory"), fromPipe: true)?.requirement, "CKA-V2-025")
    }

    func testDecoderBindingReadsTheClassList() {
        XCTAssertEqual(DecoderBinding.decoderRules(["CKA-V2-006", "CKA-V2-001", "CKA-V2-003"]), ["CKA-V2-001"])
        XCTAssertFalse(DecoderBinding.mustRefuse(["CKA-V2-048", "CKA-V2-053"]))
        XCTAssertTrue(DecoderBinding.mustRefuse(["CKA-FRM-005"]))
        XCTAssertFalse(DecoderBinding.mustRefuse(["CKA-NOPE-999"]))
    }

    /// `verify` fails an invalid vector ckpt extract accepts exactly when a requirement of the case binds decoders.
    func testVerifyCountsOnlyDecoderRulesAsFailures() throws {
        let (corpus, report) = try SharedVerification.result()
        let accepted = report.outcomes.filter { $0.extractRefused == false }
        XCTAssertGreaterThan(accepted.count, 0)
        for o in accepted {
            let entry = try XCTUnwrap(corpus.vectors.first { $0.entry.id == o.id }).entry
            XCTAssertEqual(DecoderBinding.decoderRules(entry.requirements), [], o.id)
            XCTAssertTrue(o.decoderNotBound, o.id)
            XCTAssertTrue(o.notes.contains { $0.hasPrefix("decoder not bound") }, o.id)
        }
        let refused = report.outcomes.filter { $0.extractRefused == true }.count
        XCTAssertEqual(refused + accepted.count, corpus.vectors.filter { $0.entry.result == "invalid" }.count)
        XCTAssertTrue(report.render().contains("\(accepted.count) invalid accepted by ckpt extract, decoder not bound"))
    }
}
