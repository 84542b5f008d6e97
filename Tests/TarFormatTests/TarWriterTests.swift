import ByteStreams
import Foundation
@testable import TarFormat
import XCTest

/// The pax writer, read back by our own reader: every field survives, output is deterministic, aligned.
final class TarWriterTests: XCTestCase {
    static func richEntries() -> [(TarHeader, [UInt8])] {
        var out: [(TarHeader, [UInt8])] = []
        out.append((TarHeader(path: "dir", type: .directory, mode: 0o755), []))
        out.append((TarHeader(path: "dir/small.txt"), Array("small\n".utf8)))
        out.append((TarHeader(path: "dir/" + String(repeating: "long", count: 30) + ".txt"), [1, 2, 3]))
        let deep = (0..<30).map { "level\($0)" }.joined(separator: "/") + "/deep.bin"
        out.append((TarHeader(path: deep), Array(repeating: 0x5A, count: 5000)))
        out.append((TarHeader(path: "dir/äöü-日本語.txt"), Array("utf8\n".utf8)))
        var hard = TarHeader(path: "dir/hardlink", type: .hardLink)
        hard.linkName = "dir/small.txt"
        out.append((hard, []))
        var sym = TarHeader(path: "dir/abs-symlink", type: .symbolicLink, mode: 0o777)
        sym.linkName = "/usr/lib/" + String(repeating: "x", count: 120)
        out.append((sym, []))
        out.append((TarHeader(path: "dir/fifo", type: .fifo), []))
        var chr = TarHeader(path: "dir/null", type: .characterDevice, mode: 0o666)
        chr.devMajor = 1
        chr.devMinor = 3
        out.append((chr, []))
        var blk = TarHeader(path: "dir/loop", type: .blockDevice, mode: 0o660)
        blk.devMajor = 7
        blk.devMinor = 0
        out.append((blk, []))
        var xa = TarHeader(path: "dir/xattrs", mode: 0o600)
        xa.xattrs = [TarXattr(name: "user.alpha", value: Array("one".utf8)),
                     TarXattr(name: "user.beta", value: Array("two=2\n".utf8))]
        out.append((xa, Array("x".utf8)))
        var owner = TarHeader(path: "dir/owned", mtime: TarTime(seconds: 1_700_000_000, nanoseconds: 250_000_000))
        owner.uid = 3_000_000
        owner.gid = 1000
        owner.uname = "a-very-long-user-name-beyond-32-bytes"
        owner.gname = "users"
        out.append((owner, []))
        return out
    }

    func testRoundTripKeepsEveryField() throws {
        let entries = Self.richEntries()
        let bytes = try Archives.make(entries)
        let back = try Archives.read(bytes)
        XCTAssertEqual(back.count, entries.count)
        for ((want, data), (got, gotData)) in zip(entries, back) {
            var expectedPath = want.path
            if want.type == .directory { expectedPath += "/" }
            XCTAssertEqual(got.path, expectedPath)
            XCTAssertEqual(got.type, want.type, want.path)
            XCTAssertEqual(got.linkName, want.linkName, want.path)
            XCTAssertEqual(got.mode, want.mode, want.path)
            XCTAssertEqual(got.uid, want.uid, want.path)
            XCTAssertEqual(got.gid, want.gid, want.path)
            XCTAssertEqual(got.uname, want.uname, want.path)
            XCTAssertEqual(got.gname, want.gname, want.path)
            XCTAssertEqual(got.mtime, want.mtime, want.path)
            XCTAssertEqual(got.devMajor, want.devMajor, want.path)
            XCTAssertEqual(got.devMinor, want.devMinor, want.path)
            XCTAssertEqual(got.xattrs, want.xattrs, want.path)
            XCTAssertEqual(gotData, data, want.path)
        }
    }

    func testDeterministicModeFixesMetadataAndBytes() throws {
        var options = TarWriterOptions()
        options.deterministic = .init(mtime: TarTime(seconds: 0), uid: 0, gid: 0, uname: "root", gname: "root")
        let a = try Archives.make(Self.richEntries(), options: options)
        let b = try Archives.make(Self.richEntries(), options: options)
        XCTAssertEqual(a, b)
        for (h, _) in try Archives.read(a) {
            XCTAssertEqual(h.mtime, TarTime(seconds: 0))
            XCTAssertEqual(h.uid, 0)
            XCTAssertEqual(h.uname, "root")
            XCTAssertNil(h.atime)
        }
    }

    func testLargeNumbersUsePaxRecords() throws {
        var h = TarHeader(path: "late", mtime: TarTime(seconds: 1 << 34))
        h.uid = 1 << 40
        let bytes = try Archives.make([(h, [])])
        let back = try XCTUnwrap(Archives.read(bytes).first?.0)
        XCTAssertEqual(back.mtime.seconds, 1 << 34)
        XCTAssertEqual(back.uid, 1 << 40)
        XCTAssertEqual(back.paxValue("uid"), String(1 << 40))
        // The ustar field holds 0, never base-256 (CKA-TAR-014, CKA-TAR-015).
        let header = Array(bytes[1024..<1536])  // after the x header and its one-block body
        XCTAssertEqual(Array(header[108..<116]), Array("0000000\0".utf8))
    }

    func testAlignmentPlacesEveryFileOnTheBoundary() throws {
        for alignment in [512, 4096, 65536] {
            var entries = Self.richEntries()
            entries.append((TarHeader(path: "empty"), []))
            for size in [1, 511, 512, 513, 4095, 4096, 70_000] {
                entries.append((TarHeader(path: "sized-\(size)"), [UInt8](repeating: 0x61, count: size)))
            }
            let bytes = try Archives.make(entries, options: TarWriterOptions(alignment: alignment))
            let back = try Archives.read(bytes)
            XCTAssertEqual(back.count, entries.count)
            for ((h, data), (_, want)) in zip(back, entries) {
                XCTAssertEqual(data, want, h.path)
                if h.type.isRegularFile, h.size >= alignment {
                    XCTAssertEqual(h.dataOffset % Int64(alignment), 0, "\(h.path) at \(h.dataOffset) / \(alignment)")
                    XCTAssertEqual(h.paxRecords.filter { $0.key == "CKA.pad" }.count, 1)
                    XCTAssertTrue(h.paxValue("CKA.pad")!.allSatisfy { $0 == "x" })
                } else {
                    XCTAssertNil(h.paxValue("CKA.pad"), "\(h.path) is smaller than the alignment")
                }
            }
        }
    }

    func testPaddingRecordExactSizes() {
        // Every entry offset and record length gives a record of exactly the computed length (including the
        // lengths where the record's length prefix gains a digit), and the data lands on the boundary.
        for other in [0, 30, 86, 87, 88, 400, 480, 985, 1000, 4090] {
            for blockIndex in 0..<16 {
                let at = Int64(blockIndex * 512)
                guard let pad = PaddingRecord.make(key: "CKA.pad", otherLength: other, headerAt: at, alignment: 4096)
                else { return XCTFail("no padding for \(other) at \(at)") }
                let size = other + pad.bytes.count
                XCTAssertEqual(size % 512, 0, "other \(other) at \(at)")
                XCTAssertEqual((at + 1024 + Int64(size)) % 4096, 0, "other \(other) at \(at)")
                XCTAssertGreaterThanOrEqual(pad.bytes.count, 13)
                XCTAssertEqual(try? PaxParser.parse(pad.bytes).first?.key, "CKA.pad", "record parses")
            }
        }
        // The specification's example: A = 4096, O = 20480, no other record: S = 3072.
        XCTAssertEqual(PaddingRecord.make(key: "CKA.pad", otherLength: 0, headerAt: 20480, alignment: 4096)?.bytes.count,
                       3072)
        // CKA-ALN-005: above 1 MiB of pax data the entry is not aligned.
        XCTAssertNil(PaddingRecord.make(key: "CKA.pad", otherLength: 1_048_000, headerAt: 0, alignment: 1 << 20))
    }

    func testInvalidAlignmentAndMisuseAreRefused() throws {
        for bad in [0, 256, 1000, 3 * 512, 2 << 20] {
            XCTAssertThrowsError(try TarWriter(sink: MemorySink(), options: TarWriterOptions(alignment: bad)))
        }
        let w = try TarWriter(sink: MemorySink())
        try w.writeHeader(TarHeader(path: "f", size: 4))
        XCTAssertThrowsError(try w.write([1, 2, 3, 4, 5]), "more data than declared")
        try w.write([1, 2])
        XCTAssertThrowsError(try w.finish(), "missing data")
        XCTAssertThrowsError(try TarWriter(sink: MemorySink()).writeHeader(TarHeader(path: "")), "empty name")
    }

    func testPaxHeaderNames() {
        XCTAssertEqual(String(decoding: PaxHeaderName.name(for: Array("a/b/c.txt".utf8)), as: UTF8.self),
                       "a/b/PaxHeaders/c.txt")
        XCTAssertEqual(String(decoding: PaxHeaderName.name(for: Array("dir/".utf8)), as: UTF8.self), "./PaxHeaders/dir")
        let long = PaxHeaderName.name(for: Array((String(repeating: "é", count: 80)).utf8))
        XCTAssertLessThanOrEqual(long.count, 100)
        XCTAssertNotNil(String(validating: long, as: UTF8.self), "cut on a character boundary")
    }
}
