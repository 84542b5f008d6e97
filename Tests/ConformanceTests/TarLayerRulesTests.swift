import ByteStreams
import CheckpointArchive
import Compression
@testable import Conformance
import Foundation
import TarFormat
import TestSupport
import XCTest

/// Each tar-layer rule: an archive that breaks exactly that requirement and a close variant that breaks nothing.
final class TarLayerRulesTests: XCTestCase {
    let end = TarTestStream.end

    // MARK: - Baselines

    func testHandMadeBaselineIsCleanInBothFormats() {
        let bytes = TarTestStream.dir("d/") + TarTestStream.file("d/a", "hello") + end
        assertTarFindings(bytes, .v2, [])
        assertTarFindings(bytes, .v1, [])
    }

    func testOurWriterIsCleanInV2() throws {
        let sink = MemorySink()
        let w = try TarWriter(sink: sink)
        var long = TarHeader(path: String(repeating: "n", count: 150) + "/é", type: .regular, size: 2)
        long.xattrs = [TarXattr(name: "user.origin", value: [0xFF, 0])]
        try w.writeEntry(TarHeader(path: "dir/", type: .directory, mode: 0o755), data: [])
        try w.writeEntry(long, data: [1, 2])
        var link = TarHeader(path: "dir/link", type: .symbolicLink, mode: 0o777)
        link.linkName = "/usr/share/zoneinfo/UTC"
        try w.writeEntry(link, data: [])
        var hard = TarHeader(path: "dir/hard", type: .hardLink)
        hard.linkName = long.path
        try w.writeEntry(hard, data: [])
        var big = TarHeader(path: "dir/owner", type: .regular, size: 0)
        big.uid = 3_000_000
        try w.writeEntry(big, data: [])
        try w.finish()
        assertTarFindings(sink.bytes, .v2, [])
    }

    // MARK: - End of archive (CKA-TAR-001, 002, 003, 005)

    func testMissingEndMarker() {
        assertTarFindings(TarTestStream.file("a", "x"), .v1, ["CKA-TAR-001"])
        assertTarFindings(TarTestStream.file("a", "x") + [UInt8](repeating: 0, count: 512), .v2, ["CKA-TAR-001"])
        assertTarFindings(TarTestStream.file("a", "x") + end, .v2, [])
    }

    func testStreamEndingInsideDataIsMalformed() {
        let bytes = Array(TarTestStream.file("a", String(repeating: "x", count: 600)).prefix(700))
        assertTarFindings(bytes, .v1, ["CKA-TAR-001"])
        assertTarFindings(Array(TarTestStream.file("a", "x").prefix(300)), .v1, ["CKA-TAR-001"])
    }

    func testRecordPaddingAfterEndMarker() {
        let padded = TarTestStream.file("a", "x") + end + [UInt8](repeating: 0, count: 8192)
        assertTarFindings(padded, .v2, ["CKA-TAR-002"])
        assertTarFindings(padded, .v1, [])
    }

    func testGarbageAfterEndMarker() {
        let garbage = TarTestStream.file("a", "x") + end + [0, 0, 7] + [UInt8](repeating: 0, count: 509)
        assertTarFindings(garbage, .v1, ["CKA-TAR-003"])
        assertTarFindings(garbage, .v2, ["CKA-TAR-002"])
        let d = TarTestCheck.run(garbage, format: .v1).diagnostics.first
        XCTAssertEqual(d?.offset, 2048 + 2)
    }

    func testLoneZeroBlock() {
        let bytes = TarTestStream.file("a", "x") + [UInt8](repeating: 0, count: 512) + TarTestStream.file("b") + end
        assertTarFindings(bytes, .v1, ["CKA-TAR-005"])
        assertTarFindings(TarTestStream.file("a", "x") + TarTestStream.file("b") + end, .v1, [])
    }

    // MARK: - Header checksum and formats (CKA-TAR-004, 006)

    func testBadChecksum() {
        var h = TarTestHeader("b")
        h.checksum = "0000000\0"
        assertTarFindings(TarTestStream.file("a") + TarTestStream.entry(h) + end, .v1, ["CKA-TAR-004"])
        // The same as the first block of an uncompressed archive: not a tar stream at all.
        assertTarFindings(TarTestStream.entry(h) + end, .v1, ["CKA-CMP-003"])
        let c = TarTestCheck.run(TarTestStream.file("a") + TarTestStream.entry(h) + end, format: .v1)
        XCTAssertEqual(c.diagnostics.first?.offset, 512)
    }

    func testV7HeaderInV1() {
        var v7 = TarTestHeader("a")
        v7.magic = ""
        assertTarFindings(TarTestStream.entry(v7, "x") + end, .v1, ["CKA-TAR-006"])
        var gnu = TarTestHeader("a")
        gnu.magic = "ustar  \0"
        assertTarFindings(TarTestStream.entry(gnu, "x") + end, .v1, [])
    }

    func testGNUTarArchiveWithLongNamesAndBase256IsAcceptedInV1() throws {
        try TestTools.require("tar")
        let dir = try TestTools.temporaryDirectory(self)
        let long = String(repeating: "long-name-", count: 15)
        XCTAssertTrue(FileManager.default.createFile(atPath: dir.appendingPathComponent(long).path, contents: Data("x".utf8)))
        let out = dir.appendingPathComponent("x.tar").path
        // GNU format: 'L' long names; a uid above 2097151 needs base-256.
        let r = try TestTools.run(["tar", "--format=gnu", "--owner=3000000", "--group=0", "-cf", out, "-C", dir.path, long])
        XCTAssertEqual(r.status, 0, r.stderrText)
        let bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: out)))
        XCTAssertEqual(bytes[1024 + 108], 0x80, "the entry's uid is base-256 (after the 'L' header and its name block)")
        assertTarFindings(bytes, .v1, [])
        // The same archive in v2: GNU headers and base-256 are not allowed.
        let v2 = TarTestCheck.ids(bytes, format: .v2)
        XCTAssertTrue(v2.isSuperset(of: ["CKA-TAR-008", "CKA-TAR-014"]), "\(v2)")
    }

    // MARK: - Typeflags (CKA-TAR-008, 009, 010, 011)

    func testDeviceOnlyInNestedTarsOfV1() {
        var dev = TarTestHeader("null", type: 0x33)
        dev.devmajor = "0000001\0"
        dev.devminor = "0000003\0"
        let bytes = TarTestStream.entry(dev) + end
        assertTarFindings(bytes, .v1, ["CKA-TAR-008"])
        assertTarFindings(bytes, .v1, [], nested: "rootfs-diff.tar")
        assertTarFindings(bytes, .v2, [])
    }

    func testContiguousFileIsNotAllowed() {
        assertTarFindings(TarTestStream.entry(TarTestHeader("a", type: 0x37), "x") + end, .v1, ["CKA-TAR-008"])
        assertTarFindings(TarTestStream.entry(TarTestHeader("a", type: 0x30), "x") + end, .v1, [])
    }

    func testOldRegularTypeOnlyInV1() {
        let bytes = TarTestStream.entry(TarTestHeader("a", type: 0), "x") + end
        assertTarFindings(bytes, .v2, ["CKA-TAR-008"])
        assertTarFindings(bytes, .v1, [])
    }

    func testGNULongNameOnlyInV1() {
        let name = String(repeating: "n", count: 120)
        var l = TarTestHeader("././@LongLink", type: 0x4C)
        l.magic = "ustar  \0"
        var file = TarTestHeader(String(name.prefix(100)))
        file.magic = "ustar  \0"
        let bytes = TarTestStream.entry(l, Array(name.utf8) + [0]) + TarTestStream.entry(file, "x") + end
        assertTarFindings(bytes, .v1, [])
        var v2 = TarTestCheck.ids(bytes, format: .v2)
        v2.remove("CKA-TAR-014")  // GNU writes the checksum its own way; only the typeflag matters here
        XCTAssertEqual(v2, ["CKA-TAR-008"])
    }

    func testGlobalHeader() {
        let g = TarTestStream.extended(TarTestStream.record("comment", "hello"), type: 0x67, name: "pax_global_header")
        assertTarFindings(g + TarTestStream.file("a", "x") + end, .v1, ["CKA-TAR-009"])
        assertTarFindings(g + TarTestStream.file("a", "x") + end, .v2, ["CKA-TAR-008"])
        assertTarFindings(TarTestStream.pax([("comment", "hello")]) + TarTestStream.file("a", "x") + end, .v1, [])
    }

    func testSparseRecords() {
        let bytes = TarTestStream.pax([("GNU.sparse.note", "1")]) + TarTestStream.file("a", "x") + end
        assertTarFindings(bytes, .v1, ["CKA-TAR-010"])
        assertTarFindings(TarTestStream.pax([("comment", "1")]) + TarTestStream.file("a", "x") + end, .v1, [])
    }

    func testGNUSparseFileMadeByGNUTar() throws {
        try TestTools.require("tar")
        let dir = try TestTools.temporaryDirectory(self)
        let sparse = dir.appendingPathComponent("sparse").path
        let r = try TestTools.run(["sh", "-c", "printf data > '\(sparse)' && truncate -s 1M '\(sparse)' "
                                   + "&& tar --format=gnu -S -cf '\(dir.path)/s.tar' -C '\(dir.path)' sparse"])
        XCTAssertEqual(r.status, 0, r.stderrText)
        let bytes = try [UInt8](Data(contentsOf: dir.appendingPathComponent("s.tar")))
        let ids = TarTestCheck.ids(bytes, format: .v1)
        XCTAssertTrue(ids.contains("CKA-TAR-010"), "\(ids)")
    }

    func testSizeOfHeaderOnlyTypes() {
        var d = TarTestHeader("d/", type: 0x35)
        d.size = "00000000005\0"
        assertTarFindings(TarTestStream.entry(d) + end, .v1, ["CKA-TAR-011"])
        d.size = "00000000000\0"
        assertTarFindings(TarTestStream.entry(d) + end, .v1, [])
    }

    // MARK: - Numeric fields (CKA-TAR-012, 013, 014, 015, 017, 018)

    func testNonOctalFieldIsMalformed() {
        var h = TarTestHeader("a")
        h.mode = "0006x4\0\0"
        let c = TarTestCheck.run(TarTestStream.file("first") + TarTestStream.entry(h, "x") + end, format: .v1)
        XCTAssertEqual(c.diagnostics.map(\.id), ["CKA-TAR-012"], "reported once, by the rule and the reader together")
        XCTAssertEqual(c.diagnostics.first?.offset, 512)
        var spaces = TarTestHeader("a")
        spaces.mode = "   644 \0"
        assertTarFindings(TarTestStream.entry(spaces, "x") + end, .v1, [])
    }

    func testJunkAfterTheFieldTerminator() {
        var h = TarTestHeader("a")
        h.uid = "00000\0zz"
        assertTarFindings(TarTestStream.entry(h, "x") + end, .v1, ["CKA-TAR-012"])
        h.uid = "00000\0\0 "
        assertTarFindings(TarTestStream.entry(h, "x") + end, .v1, [])
    }

    func testBase256InV1() {
        var positive = TarTestHeader("a")
        positive.patches = [(108, [0x80, 0, 0, 0, 0, 0x2D, 0xC6, 0xC0])]  // uid 3000000
        assertTarFindings(TarTestStream.entry(positive, "x") + end, .v1, [])
        var negative = TarTestHeader("a")
        negative.patches = [(108, [UInt8](repeating: 0xFF, count: 8))]  // uid -1
        assertTarFindings(TarTestStream.entry(negative, "x") + end, .v1, ["CKA-TAR-013"])
        var negativeSize = TarTestHeader("a")
        negativeSize.patches = [(124, [UInt8](repeating: 0xFF, count: 12))]
        assertTarFindings(TarTestStream.entry(negativeSize) + end, .v1, ["CKA-TAR-013"])
        assertTarFindings(TarTestStream.entry(positive, "x") + end, .v2, ["CKA-TAR-014"])
    }

    func testV2NumericEncoding() {
        var h = TarTestHeader("a")
        h.mode = "000644 \0"
        assertTarFindings(TarTestStream.entry(h, "x") + end, .v2, ["CKA-TAR-014"])
        assertTarFindings(TarTestStream.entry(h, "x") + end, .v1, [])
        var checksum = TarTestHeader("a")
        checksum.checksum = ""
        var block = checksum.block(dataSize: 1)
        // A correct sum written as 7 digits and NUL (what some writers do) is fine in v1 only.
        for i in 148..<156 { block[i] = 0x20 }
        let sum = block.reduce(0) { $0 + Int($1) }
        let digits = Array((TarTestHeader.octal(sum, digits: 7) + "\0").utf8)
        for i in 0..<8 { block[148 + i] = digits[i] }
        let bytes = block + TarTestStream.padded([0x78]) + end
        assertTarFindings(bytes, .v2, ["CKA-TAR-014"])
        assertTarFindings(bytes, .v1, [])
    }

    func testPaxCarriedValueLeavesUstarFieldZero() {
        var h = TarTestHeader("a")
        h.uid = "7777777\0"
        let bad = TarTestStream.pax([("uid", "3000000")]) + TarTestStream.entry(h, "x") + end
        assertTarFindings(bad, .v2, ["CKA-TAR-015"])
        let good = TarTestStream.pax([("uid", "3000000")]) + TarTestStream.file("a", "x") + end
        assertTarFindings(good, .v2, [])
    }

    func testModeBitsOutsidePermissions() {
        var h = TarTestHeader("a")
        h.mode = "0100644\0"
        assertTarFindings(TarTestStream.entry(h, "x") + end, .v2, ["CKA-TAR-017"])
        assertTarFindings(TarTestStream.entry(h, "x") + end, .v1, [])
    }

    func testDeviceNumbersOfNonDevices() {
        var h = TarTestHeader("a")
        h.devmajor = "0000001\0"
        assertTarFindings(TarTestStream.entry(h, "x") + end, .v2, ["CKA-TAR-018"])
        assertTarFindings(TarTestStream.entry(h, "x") + end, .v1, [])
        var dev = TarTestHeader("c", type: 0x33)
        dev.devmajor = "0000001\0"
        assertTarFindings(TarTestStream.entry(dev) + end, .v2, [])
    }

    // MARK: - pax records (CKA-TAR-020 .. 024, 027, 041)

    func testMalformedPaxRecord() {
        let body = Array("12 path=ab\n".utf8)  // the length says 12, the record has 11 bytes
        assertTarFindings(TarTestStream.extended(body) + TarTestStream.file("a", "x") + end, .v1, ["CKA-TAR-020"])
        let good = Array("11 path=ab\n".utf8)
        assertTarFindings(TarTestStream.extended(good) + TarTestStream.file("a", "x") + end, .v1, [])
    }

    func testDuplicatePaxKey() {
        let bytes = TarTestStream.pax([("path", "a"), ("path", "b")]) + TarTestStream.file("x", "x") + end
        assertTarFindings(bytes, .v1, ["CKA-TAR-021"])
        assertTarFindings(TarTestStream.pax([("path", "a")]) + TarTestStream.file("x", "x") + end, .v1, [])
    }

    func testEmptyPaxHeader() {
        assertTarFindings(TarTestStream.extended([]) + TarTestStream.file("a", "x") + end, .v1, ["CKA-TAR-022"])
    }

    func testPaxHeaderFollowedByAnotherExtendedHeader() {
        var l = TarTestHeader("././@LongLink", type: 0x4C)
        l.magic = "ustar  \0"
        let bytes = TarTestStream.pax([("mtime", "1")]) + TarTestStream.entry(l, Array("name\0".utf8)) + TarTestStream.file("a", "x") + end
        assertTarFindings(bytes, .v1, ["CKA-TAR-022"])
        let twice = TarTestStream.pax([("mtime", "1")]) + TarTestStream.pax([("uid", "1")]) + TarTestStream.file("a", "x") + end
        assertTarFindings(twice, .v1, ["CKA-TAR-022"])
    }

    func testPaxHeaderAtTheEndIsMalformed() {
        assertTarFindings(TarTestStream.file("a") + TarTestStream.pax([("mtime", "1")]) + end, .v1, ["CKA-TAR-022"])
    }

    func testPaxKeysAndValuesAreUTF8() {
        let badKey = TarTestStream.extended(TarTestStream.record("comment", "x").map { $0 == 0x63 ? 0xE9 : $0 })
        assertTarFindings(badKey + TarTestStream.file("a", "x") + end, .v1, ["CKA-TAR-023"])
        let badValue = TarTestStream.extended(TarTestStream.record("uname", [0xFF, 0xFE]))
        assertTarFindings(badValue + TarTestStream.file("a", "x") + end, .v2, ["CKA-TAR-023"])
        let binaryXattr = TarTestStream.extended(TarTestStream.record("SCHILY.xattr.user.bin", [0xFF, 0, 0xFE]))
        assertTarFindings(binaryXattr + TarTestStream.file("a", "x") + end, .v2, [])
    }

    func testNULInPathRecordIsMalformed() {
        let bytes = TarTestStream.extended(TarTestStream.record("path", [0x61, 0, 0x62])) + TarTestStream.file("x", "x") + end
        assertTarFindings(bytes, .v1, ["CKA-TAR-023"])
    }

    func testNonUTF8PathRecordInV1IsANameWarning() {
        let bytes = TarTestStream.extended(TarTestStream.record("path", [0x61, 0xFF])) + TarTestStream.file("x", "x") + end
        assertTarFindings(bytes, .v1, ["CKA-TAR-030"])
        assertTarFindings(bytes, .v2, ["CKA-TAR-023", "CKA-TAR-029"])
    }

    func testPaxNumericValues() {
        assertTarFindings(TarTestStream.pax([("size", "-0")]) + TarTestStream.file("a") + end, .v1, ["CKA-TAR-024"])
        assertTarFindings(TarTestStream.pax([("uid", "+5")]) + TarTestStream.file("a") + end, .v1, ["CKA-TAR-024"])
        assertTarFindings(TarTestStream.pax([("mtime", "1.")]) + TarTestStream.file("a") + end, .v1, ["CKA-TAR-024"])
        assertTarFindings(TarTestStream.pax([("mtime", "1700000000.25"), ("uid", "5")]) + TarTestStream.file("a") + end, .v1, [])
    }

    func testPaxHeaderOverOneMiB() {
        var h = TarTestHeader("PaxHeaders/a", type: 0x78)
        h.size = TarTestHeader.octal(1_048_577, digits: 11) + "\0"
        let bytes = h.block(dataSize: 0) + [UInt8](repeating: 0, count: 1024)
        let c = TarTestCheck.run(bytes, format: .v1)
        XCTAssertEqual(Set(c.diagnostics.map(\.id)), ["CKA-TAR-027", "CKA-SEC-015"])
        XCTAssertEqual(c.diagnostics.count, 2, "the reader's refusal is the same finding")
        // Exactly 1 MiB is accepted.
        let key = "comment"
        let total = 1_048_576
        let record = Array("\(total) \(key)=".utf8) + [UInt8](repeating: 0x61, count: total - 17) + [0x0A]
        XCTAssertEqual(record.count, total)
        assertTarFindings(TarTestStream.extended(record) + TarTestStream.file("a") + end, .v1, [])
    }

    func testXattrNamespacesInV2() {
        let trusted = TarTestStream.pax([("SCHILY.xattr.trusted.overlay.opaque", "y")]) + TarTestStream.file("a") + end
        assertTarFindings(trusted, .v2, ["CKA-TAR-041"])
        assertTarFindings(trusted, .v1, [])
        let ok = TarTestStream.pax([("SCHILY.xattr.user.x", "1"), ("SCHILY.xattr.system.posix_acl_access", "a")])
            + TarTestStream.file("a") + end
        assertTarFindings(ok, .v2, [])
    }

    // MARK: - GNU long names (CKA-TAR-028, CKA-SEC-015)

    func testGNULongNameOver64KiB() {
        func archive(_ size: Int) -> [UInt8] {
            var l = TarTestHeader("././@LongLink", type: 0x4C)
            l.magic = "ustar  \0"
            var file = TarTestHeader("a")
            file.magic = "ustar  \0"
            return TarTestStream.entry(l, [UInt8](repeating: 0x61, count: size - 1) + [0]) + TarTestStream.entry(file, "x") + end
        }
        assertTarFindings(archive(65537), .v1, ["CKA-TAR-028", "CKA-SEC-015"])
        assertTarFindings(archive(65536), .v1, [])
    }

    // MARK: - Names (CKA-TAR-029, 030, 034 .. 038)

    func testNonUTF8Names() {
        var h = TarTestHeader()
        h.nameBytes = [0x61, 0xFF]
        assertTarFindings(TarTestStream.entry(h, "x") + end, .v1, ["CKA-TAR-030"])
        assertTarFindings(TarTestStream.entry(h, "x") + end, .v2, ["CKA-TAR-029"])
        let c = TarTestCheck.run(TarTestStream.entry(h, "x") + end, format: .v1)
        XCTAssertEqual(c.diagnostics.first?.severity, .warning)
    }

    func testUnsafeNames() {
        for name in ["../x", "/etc/passwd", "a//b", "a/./b", "a/.."] {
            assertTarFindings(TarTestStream.file(name, "x") + end, .v1, ["CKA-TAR-034"])
            assertTarFindings(TarTestStream.file(name, "x") + end, .v2, ["CKA-TAR-034"])
        }
        assertTarFindings(TarTestStream.file("./a/b", "x") + end, .v1, [])
        assertTarFindings(TarTestStream.file("a/b", "x") + end, .v2, [])
    }

    func testRootEntryOfV1() {
        assertTarFindings(TarTestStream.dir("./") + TarTestStream.file("./a", "x") + end, .v1, [])
        assertTarFindings(TarTestStream.file("./", "x") + end, .v1, ["CKA-TAR-035"])
        assertTarFindings(TarTestStream.file(".", "x") + end, .v1, ["CKA-TAR-035"])
    }

    func testDuplicateNames() {
        assertTarFindings(TarTestStream.file("a", "1") + TarTestStream.file("a", "2") + end, .v2, ["CKA-TAR-037"])
        assertTarFindings(TarTestStream.file("./a", "1") + TarTestStream.file("a", "2") + end, .v1, ["CKA-TAR-037"])
        assertTarFindings(TarTestStream.dir("d/") + TarTestStream.dir("d") + end, .v1, ["CKA-TAR-037"])
        assertTarFindings(TarTestStream.file("a", "1") + TarTestStream.file("b", "2") + end, .v1, [])
    }

    /// CKA-SEC-024: names equal only after Unicode normalisation or case folding are distinct.
    func testNamesDifferingByCaseOrNormalisationAreDistinct() {
        let nfc = "caf\u{E9}", nfd = "cafe\u{301}"
        XCTAssertNotEqual(Array(nfc.utf8), Array(nfd.utf8))
        assertTarFindings(TarTestStream.file(nfc, "1") + TarTestStream.file(nfd, "2") + TarTestStream.file("A", "3") + TarTestStream.file("a", "4") + end,
                          .v2, [])
    }

    func testEntryBelowANonDirectory() {
        assertTarFindings(TarTestStream.file("a", "1") + TarTestStream.file("a/b", "2") + end, .v1, ["CKA-TAR-038"])
        var link = TarTestHeader("a", type: 0x32)
        link.linkname = "/tmp"
        link.mode = "0000777\0"
        assertTarFindings(TarTestStream.entry(link) + TarTestStream.file("a/b", "2") + end, .v2, ["CKA-TAR-038"])
        assertTarFindings(TarTestStream.dir("a/") + TarTestStream.file("a/b", "2") + end, .v1, [])
        // The other way round: a file named after the directory earlier entries are inside.
        assertTarFindings(TarTestStream.file("a/b", "2") + TarTestStream.file("a", "1") + end, .v1, ["CKA-TAR-038"])
        assertTarFindings(TarTestStream.file("a/b", "2") + TarTestStream.dir("a/") + end, .v1, [])
    }

    // MARK: - Links (CKA-TAR-039, 040)

    func testSymbolicLinkTargets() {
        var empty = TarTestHeader("l", type: 0x32)
        empty.mode = "0000777\0"
        assertTarFindings(TarTestStream.entry(empty) + end, .v1, ["CKA-TAR-039"])
        let target = String(repeating: "t", count: 4097)
        let long = TarTestStream.pax([("linkpath", target)]) + TarTestStream.entry({ var h = empty; h.linkname = "t"; return h }()) + end
        assertTarFindings(long, .v2, ["CKA-TAR-039"])
        assertTarFindings(long, .v1, [])
    }

    func testHardLinkTargets() {
        var link = TarTestHeader("h", type: 0x31)
        link.linkname = "a"
        assertTarFindings(TarTestStream.file("a", "x") + TarTestStream.entry(link) + end, .v1, [])
        assertTarFindings(TarTestStream.entry(link) + TarTestStream.file("a", "x") + end, .v1, ["CKA-TAR-040"])
        assertTarFindings(TarTestStream.dir("a/") + TarTestStream.entry(link) + end, .v1, ["CKA-TAR-040"])
        var escape = TarTestHeader("h", type: 0x31)
        escape.linkname = "../etc/passwd"
        assertTarFindings(TarTestStream.entry(escape) + end, .v2, ["CKA-TAR-040"])
        var dotSlash = TarTestHeader("./h", type: 0x31)
        dotSlash.linkname = "./a"
        assertTarFindings(TarTestStream.file("./a", "x") + TarTestStream.entry(dotSlash) + end, .v1, [])
    }

    // MARK: - Unused bytes (CKA-TAR-042)

    func testUnusedHeaderBytesAndPaddingInV2() {
        var h = TarTestHeader("a")
        h.patches = [(50, [0x78])]  // after the name's NUL
        assertTarFindings(TarTestStream.entry(h, "x") + end, .v2, ["CKA-TAR-042"])
        assertTarFindings(TarTestStream.entry(h, "x") + end, .v1, [])
        var padded = TarTestStream.file("a", "x")
        padded[512 + 10] = 1
        assertTarFindings(padded + end, .v2, ["CKA-TAR-042"])
        assertTarFindings(padded + end, .v1, [])
    }

    // MARK: - Offsets and paths of nested tars

    func testNestedFindingsUseOuterOffsetsAndNames() {
        let collector = DiagnosticCollector()
        let rules = TarLayerRules(collector: collector, format: .v1, nestedIn: "rootfs-diff.tar", baseOffset: 10240)
        let reader = TarReader(source: MemorySource(TarTestStream.file("a", "1") + TarTestStream.file("a", "2") + end))
        reader.observer = rules
        XCTAssertNoThrow(try { while let h = try reader.next() { rules.entry(h) }; rules.end(try reader.finish()) }())
        XCTAssertEqual(collector.diagnostics.map(\.id), ["CKA-TAR-037"])
        XCTAssertEqual(collector.diagnostics.first?.offset, 10240 + 1024)
        XCTAssertEqual(collector.diagnostics.first?.path, "rootfs-diff.tar: a")
    }

    func testRulesRecordWhatRan() {
        let c = TarTestCheck.run(TarTestStream.file("a") + end, format: .v2)
        XCTAssertFalse(c.checked.contains("CKA-SEC-024"), "a D rule: the validator meets it by not reporting")
        for id in ["CKA-TAR-001", "CKA-TAR-002", "CKA-TAR-014", "CKA-TAR-042", "CKA-TAR-037"] {
            XCTAssertTrue(c.checked.contains(id), id)
        }
        XCTAssertFalse(c.checked.contains("CKA-TAR-007"), "section-context rules are the v2 checker's")
        XCTAssertFalse(c.checked.contains("CKA-TAR-003"))
    }
}
