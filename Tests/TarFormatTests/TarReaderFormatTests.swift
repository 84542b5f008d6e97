import ByteStreams
import Foundation
import TarFormat
import XCTest

/// Header layouts read from hand-built blocks: v7, GNU long names, pax globals, prefix, base-256.
final class TarReaderFormatTests: XCTestCase {
    func testV7DirectoryByTrailingSlash() throws {
        let b = Archives.block(name: "olddir/", type: 0, magic: "\0\0\0\0\0\0\0\0")
        let headers = try Archives.read(b + Archives.endBlocks)
        XCTAssertEqual(headers.first?.0.type, .directory)
        XCTAssertEqual(headers.first?.0.format, .v7)
    }

    func testUstarPrefixIsJoined() throws {
        var b = Archives.block(name: "name.txt")
        for (i, c) in "some/prefix".utf8.enumerated() { b[345 + i] = c }
        Archives.fixChecksum(&b)
        XCTAssertEqual(try Archives.read(b + Archives.endBlocks).first?.0.path, "some/prefix/name.txt")
    }

    func testGNULongNameAndLink() throws {
        let name = String(repeating: "n", count: 300)
        let target = String(repeating: "t", count: 200)
        let l = Archives.block(name: "././@LongLink", type: 0x4C, size: String(format: "%011o", name.utf8.count + 1),
                               magic: "ustar  \0")
        let k = Archives.block(name: "././@LongLink", type: 0x4B, size: String(format: "%011o", target.utf8.count + 1),
                               magic: "ustar  \0")
        let entry = Archives.block(name: String(name.prefix(100)), type: 0x32, magic: "ustar  \0")
        let bytes = l + Archives.padded(Array(name.utf8) + [0]) + k + Archives.padded(Array(target.utf8) + [0]) + entry
            + Archives.endBlocks
        let h = try XCTUnwrap(Archives.read(bytes).first?.0)
        XCTAssertEqual(h.path, name)
        XCTAssertEqual(h.linkName, target)
        XCTAssertEqual(h.type, .symbolicLink)
        XCTAssertTrue(h.format.contains(.gnu))
    }

    func testGlobalRecordsApplyToLaterEntries() throws {
        let g = PaxRecord(key: "uname", value: "globaluser").encoded + PaxRecord(key: "comment", value: "c").encoded
        let gb = Archives.block(name: "pax_global_header", type: 0x67, size: String(format: "%011o", g.count))
        let bytes = gb + Archives.padded(g) + Archives.block(name: "a") + Archives.block(name: "b") + Archives.endBlocks
        let headers = try Archives.read(bytes)
        XCTAssertEqual(headers.map(\.0.path), ["a", "b"], "the global header is not an entry")
        XCTAssertEqual(headers.map(\.0.uname), ["globaluser", "globaluser"])
        let reader = TarReader(source: MemorySource(bytes))
        reader.yieldsGlobalHeaders = true
        XCTAssertEqual(try reader.next()?.type, .paxGlobal)
    }

    func testLaterPaxHeaderWins() throws {
        let x1 = PaxRecord(key: "path", value: "first").encoded
        let x2 = PaxRecord(key: "path", value: "second").encoded
        let b1 = Archives.block(name: "h1", type: 0x78, size: String(format: "%011o", x1.count))
        let b2 = Archives.block(name: "h2", type: 0x78, size: String(format: "%011o", x2.count))
        let bytes = b1 + Archives.padded(x1) + b2 + Archives.padded(x2) + Archives.block(name: "f") + Archives.endBlocks
        XCTAssertEqual(try Archives.read(bytes).first?.0.path, "second")
    }

    func testPaxSizeOverridesHeaderAndHeaderOnlyTypesHaveNoData() throws {
        let x = PaxRecord(key: "size", value: "999").encoded
        let xb = Archives.block(name: "h", type: 0x78, size: String(format: "%011o", x.count))
        let data = [UInt8](repeating: 0x42, count: 999)
        // A directory whose size field says 100: no data follows it (as Go and Python read it).
        let dir = Archives.block(name: "d/", type: 0x35, size: "00000000144")
        let bytes = xb + Archives.padded(x) + Archives.block(name: "f") + Archives.padded(data) + dir
            + Archives.block(name: "after") + Archives.endBlocks
        let entries = try Archives.read(bytes)
        XCTAssertEqual(entries.map(\.0.path), ["f", "d/", "after"])
        XCTAssertEqual(entries[0].1, data)
        XCTAssertEqual(entries[1].0.size, 100)
        XCTAssertEqual(entries[1].1, [])
    }

    func testOldGNUSparse() throws {
        // 'S' entry: two segments of 512 bytes at 0 and 4096, real size 8192.
        var b = Archives.block(name: "sparse", type: 0x53, size: "00000002000", magic: "ustar  \0")
        func put(_ s: String, _ at: Int) { for (i, c) in s.utf8.enumerated() { b[at + i] = c } }
        put("00000000000", 386); put("00000001000", 398)
        put("00000010000", 410); put("00000001000", 422)
        put("00000020000", 483)
        Archives.fixChecksum(&b)
        let data = [UInt8](repeating: 7, count: 1024)
        let bytes = b + data + Archives.block(name: "next") + Archives.endBlocks
        let entries = try Archives.read(bytes)
        XCTAssertEqual(entries.map(\.0.path), ["sparse", "next"])
        XCTAssertEqual(entries[0].0.size, 8192)
        XCTAssertEqual(entries[0].0.sparse?.segments, [SparseSegment(offset: 0, length: 512),
                                                       SparseSegment(offset: 4096, length: 512)])
        XCTAssertEqual(entries[0].1.count, 1024)
    }

    func testHeaderOffsetsAndDataOffsets() throws {
        var h = TarHeader(path: String(repeating: "p", count: 120))
        h.size = 10
        let bytes = try Archives.make([(TarHeader(path: "a"), [1, 2, 3]), (h, Array(repeating: 9, count: 10))])
        let entries = try Archives.read(bytes)
        XCTAssertEqual(entries[0].0.headerOffset, 0)
        XCTAssertEqual(entries[0].0.dataOffset, 512)
        XCTAssertEqual(entries[1].0.headerOffset, 1024)
        XCTAssertEqual(entries[1].0.dataOffset, 1024 + 512 + 512 + 512)
    }
}
