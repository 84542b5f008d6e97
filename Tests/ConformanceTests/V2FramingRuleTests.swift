import ByteStreams
import CheckpointArchive
import Compression
@testable import Conformance
import TarFormat
import XCTest

/// Framed compression (5.7) and alignment (5.8).
final class V2FramingRuleTests: XCTestCase {
    private func framed(_ compression: CompressionFormat) throws -> V2Built {
        var a = V2TestArchive()
        a.compression = compression
        a.framed = true
        return try a.build()
    }

    private func check(_ file: [UInt8], boundaries: [V2FrameBoundary]? = nil) throws -> V2Outcome {
        try V2Check.run(file, boundaries: boundaries)
    }

    func testGzipLocator003() throws {
        let built = try framed(.gzip)
        XCTAssertEqual(try check(built.file).diagnostics, [])
        var bytes = built.file
        bytes[bytes.count - 58 + 4] = 1  // the locator member's MTIME
        let outcome = try check(bytes)
        XCTAssertEqual(outcome.ids, ["CKA-FRM-003", "CKA-V2-008"], V2Check.describe(outcome))
        XCTAssertEqual(try check(Array(built.file.dropLast(58))).ids, ["CKA-FRM-003", "CKA-V2-008"])
    }

    func testZstdLocator004() throws {
        let built = try framed(.zstd)
        XCTAssertEqual(try check(built.file).diagnostics, [])
        var bytes = built.file
        bytes[bytes.count - 40] = 0x50  // still a skippable frame, not the locator's magic
        XCTAssertEqual(try check(bytes).ids, ["CKA-FRM-004", "CKA-V2-008"])
    }

    func testLocatorPayload005() throws {
        for compression in [CompressionFormat.gzip, .zstd] {
            let built = try framed(compression)
            let payload = built.file.count - 32 - (compression == .gzip ? 10 : 0)
            var text = built.file
            text[payload + 7] = 0x59  // CKAINDEY
            XCTAssertEqual(try check(text).ids, ["CKA-FRM-005"], "\(compression)")
            var length = built.file
            length[payload + 24] ^= 0x02  // the tar stream's length
            XCTAssertEqual(try check(length).ids, ["CKA-FRM-005"], "\(compression)")
            var offset = built.file
            offset[payload + 16] ^= 0x02  // the index's tar offset
            XCTAssertEqual(try check(offset).ids, ["CKA-FRM-005"], "\(compression)")
            var member = built.file
            member[payload + 8] = 0  // the index member's archive offset
            member[payload + 9] = 0
            XCTAssertEqual(try check(member, boundaries: built.boundaries).ids, ["CKA-FRM-005"], "\(compression)")
        }
    }

    func testNoLocatorWithoutFraming006() throws {
        for compression in [CompressionFormat.gzip, .zstd] {
            var a = V2TestArchive()
            a.compression = compression
            let built = try a.build()
            XCTAssertEqual(try check(built.file).diagnostics, [])
            let tar = Int64(built.tar.count)
            let locator = FramedLocator.bytes(format: compression, indexCompressedOffset: Int64(built.file.count - 100),
                                              indexOffset: tar - 2560, tarLength: tar)
            XCTAssertEqual(try check(built.file + locator).ids, ["CKA-FRM-006", "CKA-V2-008"], "\(compression)")
        }
    }

    func testMemberBoundaries001() throws {
        let built = try framed(.zstd)
        XCTAssertEqual(try check(built.file, boundaries: built.boundaries).diagnostics, [])
        let merged = built.boundaries.filter { $0.tarOffset != 5632 }
        let outcome = try check(built.file, boundaries: merged)
        XCTAssertTrue(outcome.ids.contains("CKA-FRM-001"), V2Check.describe(outcome))
        XCTAssertEqual(outcome.diagnostics.first { $0.id == "CKA-FRM-001" }?.offset, 5632)
    }

    func testFramedClaimWithoutLocator008() throws {
        var a = V2TestArchive()
        a.compression = .gzip
        a.headerText = { $0.replacingOccurrences(of: "\"framed\":false", with: "\"framed\":true") }
        let outcome = try V2Check.run(a)
        XCTAssertTrue(outcome.ids.isSuperset(of: ["CKA-FRM-003", "CKA-V2-008"]), V2Check.describe(outcome))
        XCTAssertTrue(outcome.ids.contains("CKA-IDX-007"), "sections of a framed archive need compressedStart")
    }

    // MARK: - Alignment

    private static let pages = V2TestEntry.bytes("checkpoint/pages-1.img", Array(repeating: 7, count: 5000))

    private func aligned(_ a: inout V2TestArchive) {
        a.entries.insert([Self.pages, .bytes("checkpoint/pages-2.img", Array(repeating: 8, count: 9000))],
                         after: "checkpoint/inventory.img")
    }

    func testAlignedOffsets002() throws {
        try assertRule("CKA-ALN-002", { a in
            self.aligned(&a)
            a.alignment = 4096
            a.writerAlignment = 0
        }, variant: { a in
            self.aligned(&a)
            a.alignment = 4096
        })
    }

    func testPadRecords003() throws {
        try assertRule("CKA-ALN-003", { a in
            self.aligned(&a)
            a.writerAlignment = 512
        }, variant: { a in
            self.aligned(&a)
            a.alignment = 512
        })
        try assertRule("CKA-ALN-003") { a in
            self.aligned(&a)
            a.alignment = 512
            a.patch = { bytes, layout in
                let body = layout.paxBlock("checkpoint/pages-1.img") + 512
                let i = bytes[body..<(body + 512)].lastIndex(of: 0x78)!
                bytes[i] = 0x79
            }
        }
        try assertRule("CKA-ALN-003") { a in
            a.alignment = 512
            a.entries.update("metadata/config.dump") { $0 = $0.with(["CKA.pad": "x"]) }
        }
    }

    func testPadSize004() throws {
        try assertRule("CKA-ALN-004", { a in
            self.aligned(&a)
            a.alignment = 512
            a.writerAlignment = 4096
        }, variant: { a in
            self.aligned(&a)
            a.alignment = 4096
        })
    }

    /// With A = 1 MiB and a long name, the padding would exceed 1 MiB: the entry goes unaligned, without
    /// CKA.pad (CKA-ALN-005).
    func testPaddingLimit005() throws {
        let name = "checkpoint/" + ["k", "l", "m"].map { String(repeating: $0, count: 200) }.joined(separator: "/")
        func archive(filler: Int, pad: Bool) -> V2TestArchive {
            var a = V2TestArchive()
            a.alignment = 1 << 20
            a.writerAlignment = 0
            var big = V2TestEntry.bytes(name, Array(repeating: 9, count: 1 << 20))
            if pad { big = big.with(["CKA.pad": "x"]) }
            a.entries.insert([.bytes("checkpoint/j-filler", Array(repeating: 1, count: filler)), big],
                             after: "checkpoint/inventory.img")
            return a
        }
        let first = try archive(filler: 512, pad: true).build().layout.entry(name).headerOffset
        let target: Int64 = (1 << 20) - 1536  // (O + 1024) mod A = A - 512: s0 = 512 < L + 13
        let filler = 512 + Int((target - first + (1 << 20)) % (1 << 20))
        let withPad = try V2Check.run(archive(filler: filler, pad: true))
        XCTAssertTrue(withPad.ids.contains("CKA-ALN-005"), V2Check.describe(withPad))
        let without = try V2Check.run(archive(filler: filler, pad: false))
        XCTAssertEqual(without.diagnostics, [], V2Check.describe(without))
        XCTAssertTrue(without.checked.contains("CKA-ALN-005"))
    }
}
