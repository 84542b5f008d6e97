import ByteStreams
import CheckpointArchive
import Compression
@testable import Conformance
import Foundation
import TarFormat
import TestSupport
import XCTest

/// Framed compression (5.7) and alignment (5.8).
final class V2FramingRuleTests: XCTestCase {
    private func framed(_ compression: CompressionFormat) throws -> V2Built {
        var a = V2TestArchive()
        a.compression = compression
        a.framed = true
        return try a.build()
    }

    private func check(_ file: [UInt8], frames: Bool = true) throws -> V2Outcome {
        try V2Check.run(file, frames: frames)
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
            XCTAssertEqual(try check(member).ids, ["CKA-FRM-005"], "\(compression)")
            // Without member starts the index member's offset is only known to follow the sections' members.
            XCTAssertTrue(try check(member, frames: false).ids.contains("CKA-FRM-005"), "\(compression)")
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
        for compression in [CompressionFormat.gzip, .zstd] {
            XCTAssertEqual(try check(try framed(compression).file).diagnostics, [], "\(compression)")
            // The checkpoint section (at 5632) continues the metadata section's member.
            var a = V2TestArchive()
            a.compression = compression
            a.framed = true
            a.continuedSection = 1
            let outcome = try check(try a.build().file)
            XCTAssertTrue(outcome.ids.contains("CKA-FRM-001"), V2Check.describe(outcome))
            XCTAssertEqual(outcome.diagnostics.first { $0.id == "CKA-FRM-001" }?.offset, 5632)
            XCTAssertEqual(outcome.diagnostics.first { $0.id == "CKA-FRM-001" }?.path, "checkpoint/")
            XCTAssertFalse(try check(try a.build().file, frames: false).ids.contains("CKA-FRM-001"))
        }
    }

    /// A diagnostic of a framed archive names the member or frame holding its offset; the engine drops that for an
    /// archive of one member (whole-stream compression), where it says nothing.
    func testDiagnosticsCarryTheirMembersOffset() throws {
        let dir = try TestTools.temporaryDirectory(self)
        for compression in [CompressionFormat.gzip, .zstd] {
            for framed in [true, false] {
                var a = V2TestArchive()
                a.compression = compression
                a.framed = framed
                a.entries.insert([.file("checkpoint/pstree.img", "not an image")], after: "checkpoint/inventory.img")
                a.entries.update("rootfs/tree/etc/app.conf") { $0.header.mode = 0o4644 }  // fine in rootfs
                a.entries.update("metadata/spec.dump") { $0.header.mode = 0o644 }  // CKA-V2-044
                let built = try a.build()
                let file = dir.appendingPathComponent("f-\(compression)-\(framed)")
                try Data(built.file).write(to: file)
                let report = Validator().validate(file: "f", source: try FileSource(path: file.path))
                let byID = Dictionary(report.diagnostics.map { ($0.id, $0) }, uniquingKeysWith: { a, _ in a })
                XCTAssertEqual(Set(byID.keys), ["CKA-V2-055", "CKA-V2-044"], "\(report.diagnostics)")
                // Members begin at 0, at each section (metadata, checkpoint, rootfs) and at the index.
                XCTAssertEqual(byID["CKA-V2-044"]?.compressedOffset, framed ? built.boundaries[1].compressedOffset : nil)
                XCTAssertEqual(byID["CKA-V2-055"]?.compressedOffset, framed ? built.boundaries[2].compressedOffset : nil)
                XCTAssertEqual(byID["CKA-V2-055"]?.offset, built.layout.entry("checkpoint/pstree.img").headerOffset)
            }
        }
        // Where decoding failed is an archive offset whatever the framing.
        var a = V2TestArchive()
        a.compression = .gzip
        var bytes = try a.build().file
        bytes[bytes.count / 2] ^= 0xFF
        let file = dir.appendingPathComponent("corrupt.gz")
        try Data(bytes).write(to: file)
        let report = Validator().validate(file: "c", source: try FileSource(path: file.path))
        let failure = try XCTUnwrap(report.diagnostics.first { $0.id == "CKA-CMP-006" }, "\(report.diagnostics)")
        XCTAssertNotNil(failure.compressedOffset)
        XCTAssertLessThanOrEqual(failure.compressedOffset ?? .max, Int64(bytes.count))
    }

    /// The decoders report every member or frame where the builder began one (FrameTracker's input).
    func testDecoderReportsMemberStarts() throws {
        for compression in [CompressionFormat.gzip, .zstd] {
            let built = try framed(compression)
            let decoded = try openDecompressed(MemorySource(built.file))
            var seen: [V2TestMember] = []
            decoded.decoder?.onMemberStart = { seen.append(V2TestMember(compressedOffset: $0, tarOffset: $1)) }
            while try !decoded.source.read(upTo: 1000).isEmpty {}
            // gzip's locator is an empty member of its own after the end-of-archive blocks; zstd's is skippable.
            let expected = built.boundaries + (compression == .gzip
                ? [V2TestMember(compressedOffset: Int64(built.file.count - 58), tarOffset: Int64(built.tar.count))] : [])
            XCTAssertEqual(seen, expected, "\(compression)")
        }
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
