import Compression
@testable import Conformance
import Foundation
import TarFormat
import XCTest

/// The index (5.6) against the stream.
final class V2IndexRuleTests: XCTestCase {
    private func index(_ change: @escaping (String) -> String) -> (inout V2TestArchive) -> Void {
        { $0.indexText = change }
    }

    private func replacing(_ a: String, _ b: String) -> (inout V2TestArchive) -> Void {
        index { text in
            XCTAssertTrue(text.contains(a), "the index has no \(a)")
            return text.replacingOccurrences(of: a, with: b)
        }
    }

    private var noDigests: ValidatorOptions {
        var o = ValidatorOptions()
        o.verifyDigests = false
        return o
    }

    func testDocument001() throws {
        try assertRule("CKA-IDX-001", index { $0 + "\n" })
        try assertRule("CKA-IDX-001", replacing("checkpoint-archive-index", "checkpoint-archive-idx"))
        try assertRule("CKA-IDX-001", replacing("\"version\":2,", ""))
        try assertRule("CKA-IDX-001", replacing("{\"path\":\"metadata/config.dump\",\"size\":48,", "{\"size\":48,\"path\":\"metadata/config.dump\","))
        try assertRule("CKA-IDX-001", replacing("\"sha256\":\"0e1c641804d6495f", "\"sha256\":\"0E1C641804D6495F"))
        try assertRule("CKA-IDX-001", index { _ in "[]\n" })
        try assertRule("CKA-IDX-001", index { String($0.dropLast(3)) })
    }

    func testUnknownMembers014() throws {
        try assertRule("CKA-GEN-014", replacing(",\"indexOffset\"", ",\"vendor\":true,\"indexOffset\""),
                       variant: replacing(",\"indexOffset\"", ",\"x-vendor\":true,\"indexOffset\""))
        let outcome = try V2Check.run({ () -> V2TestArchive in
            var a = V2TestArchive()
            replacing(",\"indexOffset\"", ",\"x-vendor\":[{\"a\":null}],\"indexOffset\"")(&a)
            return a
        }())
        XCTAssertEqual(outcome.diagnostics, [], "x- members are ignored: " + V2Check.describe(outcome))
        try assertRule("CKA-GEN-014", replacing("\"entries\":2,", "\"entries\":2,\"files\":1,"))
    }

    func testCanonical054() throws {
        try assertRule("CKA-V2-054", replacing("{\"format\":", "{ \"format\":"))
        try assertRule("CKA-V2-054", replacing("\"cka-header.json\"", "\"cka-header.js\\u006fn\""))
    }

    func testHeaderSpan002() throws {
        try assertRule("CKA-IDX-002", replacing("\"start\":0,\"end\":2048", "\"start\":0,\"end\":2560"))
        try assertRule("CKA-IDX-002", replacing("\"start\":0,\"end\":2048", "\"start\":512,\"end\":2048"))
        let zeros = String(repeating: "0", count: 64)
        try assertRule("CKA-IDX-002", replacing("28d2ea2888feae846c20887868bb7786f601cab6139538a967cfced0ad712df3", zeros))
        var unverified = V2TestArchive()
        replacing("28d2ea2888feae846c20887868bb7786f601cab6139538a967cfced0ad712df3", zeros)(&unverified)
        XCTAssertEqual(try V2Check.run(unverified, options: noDigests).diagnostics, [])
    }

    func testSections003() throws {
        try assertRule("CKA-IDX-003", replacing("\"path\":\"metadata/\"", "\"path\":\"meta/\""))
        try assertRule("CKA-IDX-003", replacing("{\"kind\":\"checkpoint\",\"critical\":true", "{\"kind\":\"checkpoint\",\"critical\":false"))
        try assertRule("CKA-IDX-003", replacing("\"start\":5632,\"end\":8192", "\"start\":5120,\"end\":8192"))
        try assertRule("CKA-IDX-003", index { text in
            let r = text.range(of: ",{\"kind\":\"rootfs\"")!
            let end = text.range(of: "}]", range: r.upperBound..<text.endIndex)!
            return String(text[..<r.lowerBound]) + String(text[end.lowerBound...].dropFirst())
        })
    }

    func testSectionDigestsAndCounts004() throws {
        try assertRule("CKA-IDX-004", replacing("\"entries\":3,", "\"entries\":4,"))
        try assertRule("CKA-IDX-004", replacing("b8593a9eb4a57c34d4a5e6d5185194ae800a62db1e4e3d57dff7e43b06ecfa21", String(repeating: "a", count: 64)))
        // A changed header byte in a section (not file content) changes its span digest.
        let outcome = try outcome { bytes, layout in
            V2Patch.header(&bytes, at: layout.block("checkpoint/inventory.img")) { $0[300] = 0x61 }
        }
        XCTAssertTrue(outcome.ids.contains("CKA-IDX-004"), V2Check.describe(outcome))
        XCTAssertFalse(outcome.ids.contains("CKA-IDX-005"), "file content is not in the span")
    }

    func testFiles005() throws {
        try assertRule("CKA-IDX-005", replacing("\"size\":48,", "\"size\":49,"))
        try assertRule("CKA-IDX-005", replacing("\"offset\":4096,", "\"offset\":4608,"))
        try assertRule("CKA-IDX-005", replacing("{\"path\":\"metadata/config.dump\"", "{\"path\":\"metadata/x\",\"size\":1,\"offset\":1,\"sha256\":\"\(String(repeating: "0", count: 64))\"},{\"path\":\"metadata/config.dump\""))
        // Changed content: the file's digest differs, the spans do not.
        let flipped = try outcome { bytes, layout in bytes[Int(layout.entry("rootfs/tree/etc/app.conf").dataOffset)] ^= 1 }
        XCTAssertEqual(flipped.ids, ["CKA-IDX-005"], V2Check.describe(flipped))
        XCTAssertEqual(flipped.diagnostics.first?.path, "rootfs/tree/etc/app.conf")
        let unchecked = try outcome(options: noDigests) { bytes, layout in
            bytes[Int(layout.entry("rootfs/tree/etc/app.conf").dataOffset)] ^= 1
        }
        XCTAssertEqual(unchecked.diagnostics, [], "digests are not computed without verifyDigests")
        XCTAssertFalse(unchecked.checked.contains("CKA-IDX-014"))
    }

    func testIndexOffset006() throws {
        try assertRule("CKA-IDX-006", replacing("0000000000003800", "00000000000003800"))
        try assertRule("CKA-IDX-006", replacing("0000000000003800", "0000000000003a00"))
        try assertRule("CKA-IDX-006", replacing("\"indexOffset\":\"0000000000003800\"", "\"indexOffset\":\"000000000000380G\""))
    }

    func testCompressedStart007() throws {
        try assertRule("CKA-IDX-007", replacing("\"end\":5632,", "\"end\":5632,\"compressedStart\":1,"))
        for compression in [CompressionFormat.gzip, .zstd] {
            var framed = V2TestArchive()
            framed.compression = compression
            framed.framed = true
            var missing = framed
            missing.indexText = { $0.replacingOccurrences(of: #""compressedStart":[0-9]+,"#, with: "", options: .regularExpression) }
            XCTAssertTrue(try V2Check.run(missing).ids.contains("CKA-IDX-007"))
            var decreasing = framed
            decreasing.indexText = { text in
                let r = text.range(of: #""kind":"checkpoint".*?"compressedStart":[0-9]+"#, options: .regularExpression)!
                return text.replacingCharacters(in: r, with: text[r].replacingOccurrences(of: #"[0-9]+$"#, with: "1", options: .regularExpression))
            }
            XCTAssertTrue(try V2Check.run(decreasing).ids.contains("CKA-IDX-007"), "\(compression)")
            XCTAssertTrue(try V2Check.run(decreasing.build().file, frames: false).ids.contains("CKA-IDX-007"),
                          "\(compression): decreasing without the member starts")
            // With the members' boundaries every value is checked exactly.
            var shifted = framed
            shifted.indexText = { text in
                let r = text.range(of: #""kind":"rootfs".*?"compressedStart":[0-9]+"#, options: .regularExpression)!
                let value = Int(text[r].split(separator: ":").last!)!
                return text.replacingCharacters(in: r, with: text[r].replacingOccurrences(of: #"[0-9]+$"#, with: String(value + 1), options: .regularExpression))
            }
            let built = try shifted.build()
            let outcome = try V2Check.run(built.file)
            XCTAssertEqual(outcome.ids, ["CKA-IDX-007"], V2Check.describe(outcome))
            XCTAssertFalse(try V2Check.run(built.file, frames: false).ids.contains("CKA-IDX-007"),
                           "still increasing without the member starts")
        }
    }

    func testExpectedIndexDigest010() throws {
        let built = try V2TestArchive().build()
        var options = ValidatorOptions()
        // The index digest of the worked example with a CRIU inventory image (part 10 has 05bd21c5... for its placeholder).
        options.expectedIndexDigest = "sha256:760baec2cdfc36990eee93e439132fb4cd95a83d6b8ab6690c76a64bd04a5113"
        XCTAssertEqual(try V2Check.run(built.file, options: options).diagnostics, [])
        options.expectedIndexDigest = "sha256:" + String(repeating: "1", count: 64)
        XCTAssertEqual(try V2Check.run(built.file, options: options).ids, ["CKA-IDX-010"])
        options.verifyDigests = false
        XCTAssertEqual(try V2Check.run(built.file, options: options).ids, ["CKA-IDX-010"], "the index digest is always computed")
    }
}
