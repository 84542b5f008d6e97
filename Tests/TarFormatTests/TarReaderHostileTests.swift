import ByteStreams
import Foundation
import TarFormat
import XCTest

/// Damaged and hostile input: each gives its own error kind, never a crash, a hang or a clean read.
final class TarReaderHostileTests: XCTestCase {
    private func sample() throws -> [UInt8] {
        var long = TarHeader(path: String(repeating: "d/", count: 80) + "file.txt")
        long.xattrs = [TarXattr(name: "user.k", value: Array("v".utf8))]
        var link = TarHeader(path: "link", type: .symbolicLink)
        link.linkName = "/etc/passwd"
        return try Archives.make([
            (TarHeader(path: "a.txt"), Array("hello world\n".utf8)),
            (long, Array(repeating: 0x41, count: 700)),
            (link, []),
            (TarHeader(path: "dir", type: .directory, mode: 0o755), []),
        ])
    }

    func testTruncationAtEveryOffsetIsReported() throws {
        let full = try sample()
        let entries = try Archives.read(full)
        XCTAssertEqual(entries.count, 4)
        // Cutting exactly where an entry's headers start leaves a shorter archive without an end marker:
        // not an error for the reader, but it must not claim a complete archive.
        let boundaries = Set(entries.map { Int($0.0.headerOffset) })
        let endStart = full.count - 1024
        var truncations = 0
        for cut in 0..<full.count {
            let reader = TarReader(source: MemorySource(full[0..<cut]))
            do {
                while let _ = try reader.next() { while try !reader.read(upTo: 4096).isEmpty {} }
                let end = try reader.finish()
                XCTAssertNotEqual(end.marker, .twoZeroBlocks, "cut at \(cut) claims a complete archive")
                XCTAssertTrue(boundaries.contains(cut) || cut == endStart || cut >= endStart + 512,
                              "cut at \(cut) read without error")
                if cut < endStart { XCTAssertEqual(end.marker, .none, "cut at \(cut)") }
            } catch let e as TarError {
                truncations += 1
                XCTAssertEqual(e.kind, .truncated, "cut at \(cut): \(e)")
                XCTAssertLessThanOrEqual(e.offset, Int64(cut))
            }
        }
        // Every other cut before the second end block is a truncation error.
        XCTAssertEqual(truncations, endStart + 512 - boundaries.count - 1)
    }

    func testCorruptedChecksum() throws {
        var bytes = try sample()
        bytes[10] ^= 0x01  // a name byte of the first header: the stored checksum no longer matches
        guard case .badChecksum = Archives.error(reading: bytes)?.kind else {
            return XCTFail("corrupted header read without checksum error")
        }
        var unparsable = try sample()
        for i in 148..<156 { unparsable[i] = 0x78 }
        XCTAssertEqual(Archives.error(reading: unparsable)?.kind, .invalidNumericField(field: "chksum"))
    }

    func testSignedChecksumIsAccepted() throws {
        // A header with bytes >= 0x80 whose checksum was computed with signed chars (old Sun/HP tars).
        var b = Archives.block(name: "caf\u{e9}")
        let signed = b.enumerated().reduce(0) { acc, p in acc + (148..<156 ~= p.offset ? 32 : Int(Int8(bitPattern: p.element))) }
        let text = Array(String(signed, radix: 8).utf8)
        for i in 148..<156 { b[i] = 0 }
        for (i, c) in ([UInt8](repeating: 0x30, count: 6 - text.count) + text).enumerated() { b[148 + i] = c }
        b[155] = 0x20
        let headers = try Archives.read(b + Archives.endBlocks)
        XCTAssertEqual(headers.count, 1)
    }

    func testNegativeAndOverflowingSizes() {
        var negative = Archives.block(name: "neg")
        for i in 124..<136 { negative[i] = 0xFF }
        Archives.fixChecksum(&negative)
        XCTAssertEqual(Archives.error(reading: negative + Archives.endBlocks)?.kind, .negativeValue(field: "size"))

        var overflow = Archives.block(name: "big")
        overflow[124] = 0x80
        for i in 125..<136 { overflow[i] = 0xFF }
        Archives.fixChecksum(&overflow)
        XCTAssertEqual(Archives.error(reading: overflow + Archives.endBlocks)?.kind,
                       .invalidNumericField(field: "size"))

        // A size that parses but runs past the end of the stream is a truncation, found without allocating it.
        let huge = Archives.block(name: "huge", size: "77777777777")
        let reader = TarReader(source: MemorySource(huge + Archives.endBlocks))
        XCTAssertEqual(try reader.next()?.size, 0o77777777777)
        XCTAssertThrowsError(try reader.next()) { XCTAssertEqual(($0 as? TarError)?.kind, .truncated) }
    }

    func testNonOctalFields() {
        let cases: [(String, Int)] = [("mode", 100), ("uid", 108), ("gid", 116), ("size", 124), ("mtime", 136)]
        for (field, at) in cases {
            var b = Archives.block(name: "f")
            b[at + 2] = 0x39  // '9'
            Archives.fixChecksum(&b)
            XCTAssertEqual(Archives.error(reading: b + Archives.endBlocks)?.kind, .invalidNumericField(field: field))
        }
    }

    func testPaxRecordWhoseLengthLies() {
        let body = Array("30 path=short\n".utf8)
        let x = Archives.block(name: "PaxHeaders/f", type: 0x78, size: String(format: "%011o", body.count))
        let bytes = x + Archives.padded(body) + Archives.block(name: "f") + Archives.endBlocks
        guard case .invalidPaxRecord = Archives.error(reading: bytes)?.kind else {
            return XCTFail("lying pax length accepted")
        }
    }

    func testPaxHeaderOverTheLimit() {
        var limits = TarLimits()
        limits.maxPaxHeaderSize = 4096
        let record = PaxRecord(key: "comment", value: [UInt8](repeating: 0x61, count: 5000)).encoded
        let x = Archives.block(name: "PaxHeaders/f", type: 0x78, size: String(format: "%011o", record.count))
        let bytes = x + Archives.padded(record) + Archives.block(name: "f") + Archives.endBlocks
        XCTAssertEqual(Archives.error(reading: bytes, limits: limits)?.kind,
                       .limitExceeded(limit: "pax header", value: Int64(record.count), maximum: 4096))
        XCTAssertNil(Archives.error(reading: bytes), "the default limit allows 5000 bytes")
        // A header claiming a terabyte is refused before anything is allocated.
        let tb = Archives.block(name: "PaxHeaders/f", type: 0x78, size: "17777777777777")
        guard case .limitExceeded = Archives.error(reading: tb + Archives.endBlocks)?.kind else {
            return XCTFail("1 TB pax header not refused by the limit")
        }
    }

    func testGarbageAfterOneZeroBlock() throws {
        let one = Archives.block(name: "f") + [UInt8](repeating: 0, count: 512)
        let garbage = one + Array(repeating: Array("garbage ".utf8), count: 64).flatMap { $0 }
        let e = Archives.error(reading: garbage)
        XCTAssertEqual(e?.kind, .garbageAfterZeroBlock)
        XCTAssertEqual(e?.offset, 1024)
        // Garbage after two zero blocks is not an error but is reported.
        let reader = TarReader(source: MemorySource(one + [UInt8](repeating: 0, count: 512) + Array("junk".utf8)))
        while try reader.next() != nil {}
        let end = try reader.finish()
        XCTAssertEqual(end.marker, .twoZeroBlocks)
        XCTAssertEqual(end.firstTrailingGarbageOffset, 1536)
        XCTAssertEqual(end.trailingBytes, 4)
    }

    func testLongNameLimitAndEntryCount() throws {
        var limits = TarLimits()
        limits.maxNameLength = 200
        let long = TarHeader(path: String(repeating: "n", count: 300))
        let bytes = try Archives.make([(long, [])])
        guard case .limitExceeded(limit: "name length", _, _) = Archives.error(reading: bytes, limits: limits)?.kind else {
            return XCTFail("long name not refused")
        }
        limits = TarLimits()
        limits.maxEntryCount = 2
        let three = try Archives.make((0..<3).map { (TarHeader(path: "f\($0)"), []) })
        guard case .limitExceeded(limit: "entry count", _, _) = Archives.error(reading: three, limits: limits)?.kind else {
            return XCTFail("entry count not refused")
        }
    }

    func testGNULongNameOverTheLimit() {
        let l = Archives.block(name: "././@LongLink", type: 0x4C, size: "00100000000", magic: "ustar  \0")
        guard case .limitExceeded = Archives.error(reading: l + Archives.endBlocks)?.kind else {
            return XCTFail("16 MiB GNU long name accepted")
        }
    }

    func testSparseMapAbuse() {
        // pax 0.1 map whose segments overlap.
        let records = [PaxRecord(key: "GNU.sparse.map", value: "0,10,5,10"), PaxRecord(key: "GNU.sparse.size", value: "100")]
        let body = records.flatMap(\.encoded)
        let x = Archives.block(name: "PaxHeaders/s", type: 0x78, size: String(format: "%011o", body.count))
        let bytes = x + Archives.padded(body) + Archives.block(name: "s", size: "00000000024")
            + Archives.padded([UInt8](repeating: 1, count: 20)) + Archives.endBlocks
        guard case .invalidSparseMap = Archives.error(reading: bytes)?.kind else {
            return XCTFail("overlapping sparse map accepted")
        }
        // A pax 1.0 map claiming a billion segments is refused by the segment limit, not allocated.
        let r10 = [PaxRecord(key: "GNU.sparse.major", value: "1"), PaxRecord(key: "GNU.sparse.minor", value: "0"),
                   PaxRecord(key: "GNU.sparse.realsize", value: "100")]
        let body10 = r10.flatMap(\.encoded)
        let x10 = Archives.block(name: "PaxHeaders/s", type: 0x78, size: String(format: "%011o", body10.count))
        let map = Archives.padded(Array("1000000000\n".utf8))
        let bytes10 = x10 + Archives.padded(body10) + Archives.block(name: "s", size: "00000001000") + map
            + Archives.endBlocks
        guard case .limitExceeded(limit: "sparse segments", _, _) = Archives.error(reading: bytes10)?.kind else {
            return XCTFail("huge sparse map accepted: \(String(describing: Archives.error(reading: bytes10)))")
        }
    }

    func testZeroLengthHeaderDoesNotLoop() {
        // CVE-2019-20907: a header with an empty pax body must make progress, not loop.
        let x = Archives.block(name: "PaxHeaders/f", type: 0x78, size: "00000000000")
        let bytes = Array(repeating: x, count: 1000).flatMap { $0 } + Archives.endBlocks
        let reader = TarReader(source: MemorySource(bytes))
        XCTAssertThrowsError(try reader.next()) { error in
            XCTAssertEqual((error as? TarError)?.kind, .invalidHeader(reason: "extended header not followed by an entry"))
            XCTAssertEqual((error as? TarError)?.offset, 512 * 1000)
        }
    }
}
