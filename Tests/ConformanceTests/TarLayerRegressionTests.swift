import ByteStreams
import CheckpointArchive
import Compression
@testable import Conformance
import Foundation
import TarFormat
import TestSupport
import XCTest

/// Validator gaps found while writing the tar-layer, compression and hostile vectors: each test failed before its
/// fix.
final class TarLayerRegressionTests: XCTestCase {
    /// A header whose checksum is the sum of its bytes taken as signed values (old Sun tar). The reader accepts
    /// it, as GNU tar and Go do; CKA-TAR-004 does not.
    func testSignedChecksumIsCKATAR004() {
        var h = TarTestHeader("a")
        h.uname = "zoé"
        var block = h.block(dataSize: 1)
        let signed = block.indices.reduce(0) { $0 + ((148..<156).contains($1) ? 0x20 : Int(Int8(bitPattern: block[$1]))) }
        block.replaceSubrange(148..<156, with: Array(TarTestHeader.octal(signed, digits: 6).utf8) + [0, 0x20])
        let stream = block + TarTestStream.padded([0x61]) + TarTestStream.end
        assertTarFindings(stream, .v1, ["CKA-TAR-004"])
        let c = TarTestCheck.run(stream, format: .v1)
        XCTAssertTrue(c.diagnostics.first?.message.hasPrefix("malformed") ?? false, "\(c.diagnostics)")
        // The same header with its unsigned sum is clean.
        assertTarFindings(h.block(dataSize: 1) + TarTestStream.padded([0x61]) + TarTestStream.end, .v1, [])
    }

    /// Octal fields and pax values that do not parse are malformed (CKA-GEN-011): the message says so.
    func testFieldAndRecordErrorsAreLabelledMalformed() {
        var h = TarTestHeader("a")
        h.mode = "0000648\0"
        let octal = TarTestCheck.run(TarTestStream.entry(h, "x") + TarTestStream.end, format: .v1)
        XCTAssertEqual(octal.diagnostics.map(\.id), ["CKA-TAR-012"])
        XCTAssertTrue(octal.diagnostics[0].message.hasPrefix("malformed"), octal.diagnostics[0].message)
        let pax = TarTestCheck.run(TarTestStream.pax([("mtime", "1e9")]) + TarTestStream.file("a", "x") + TarTestStream.end,
                                   format: .v1)
        XCTAssertEqual(Set(pax.diagnostics.map(\.id)), ["CKA-TAR-024"])
        XCTAssertTrue(pax.diagnostics[0].message.hasPrefix("malformed"), pax.diagnostics[0].message)
    }

    /// An uncompressed archive whose first bytes are the gzip (or zstd) magic: readers that try tar first read
    /// it, magic-first readers fail; the validator reports CKA-CMP-002, not a corrupt stream.
    func testCompressionMagicOnATarIsCKACMP002() throws {
        let dir = try TestTools.temporaryDirectory(self)
        func validate(_ bytes: [UInt8], _ name: String) throws -> [String] {
            let url = dir.appendingPathComponent(name)
            try Data(bytes).write(to: url)
            let r = Validator().validate(file: name, source: try FileSource(path: url.path))
            XCTAssertNil(r.ioError)
            return r.diagnostics.map(\.id)
        }
        for magic: [UInt8] in [[0x1F, 0x8B, 0x08, 0x00, 0, 0, 0, 0, 0, 0xFF, 0x07], [0x28, 0xB5, 0x2F, 0xFD, 0x00, 0x00]] {
            var h = TarTestHeader("x")
            h.nameBytes = magic
            let tar = TarTestStream.entry(h, "data") + TarTestStream.end
            XCTAssertEqual(try validate(tar, "ambiguous.tar"), ["CKA-CMP-002"])
            // Not a tar header (checksum broken): a corrupt compressed stream as before.
            var broken = tar
            broken[150] ^= 0x01
            XCTAssertNotEqual(try validate(broken, "corrupt.tar"), ["CKA-CMP-002"])
            XCTAssertEqual(try validate(broken, "corrupt.tar").count, 1)
        }
    }

    /// A sparse map with more segments than the reader keeps is CKA-TAR-010 in v1 as in v2 (it was CKA-SEC-014 in
    /// v1).
    func testSparseSegmentLimitIsCKATAR010InV1() throws {
        let map = Array(repeating: "0,0", count: 69_999).joined(separator: ",") + ",0,4"
        let sparse = TarTestStream.pax([("GNU.sparse.map", map), ("GNU.sparse.name", "checkpoint/pages-1.img"),
                                        ("GNU.sparse.size", "4")]) + TarTestStream.file("checkpoint/pages-1.img", "abcd")
        let base = try V1TestArchive.podman()
        let archive = Array(base.dropLast(1024)) + sparse + TarTestStream.end
        assertV1Findings(archive, ["CKA-TAR-010"])
        assertTarFindings(TarTestStream.dir("checkpoint/") + sparse + TarTestStream.end, .v2, ["CKA-TAR-010"])
    }
}
