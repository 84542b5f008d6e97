import ByteStreams
import CheckpointArchive
import Compression
@testable import Conformance
import TarFormat
import XCTest

/// How the checker reads: one pass, file data skipped without digests, malformed streams, the hooks.
final class V2EngineTests: XCTestCase {
    /// A source that counts what is read and what is skipped.
    final class CountingSource: ByteSource {
        let inner: ByteSource
        var read = 0
        var skipped: Int64 = 0
        init(_ inner: ByteSource) { self.inner = inner }
        var position: Int64 { inner.position }
        func read(upTo maxCount: Int) throws -> UnsafeRawBufferPointer {
            let chunk = try inner.read(upTo: maxCount)
            read += chunk.count
            return chunk
        }
        func skip(_ count: Int64) throws -> Int64 {
            let n = try inner.skip(count)
            skipped += n
            return n
        }
    }

    final class CountingObserver: TarReaderObserver {
        var blocks = 0
        var bodies = 0
        func tarReader(_ reader: TarReader, readHeaderBlock block: UnsafeRawBufferPointer, at offset: Int64) { blocks += 1 }
        func tarReader(_ reader: TarReader, readExtendedHeaderBody body: [UInt8], at offset: Int64) { bodies += 1 }
        func tarReader(_ reader: TarReader, sawNonZeroPaddingAt offset: Int64) {}
    }

    private func bigArchive() throws -> V2Built {
        var a = V2TestArchive()
        a.entries += [.bytes("rootfs/tree/etc/zz-big", (0..<3_000_000).map { UInt8(truncatingIfNeeded: $0) }, mode: 0o644)]
        return try a.build()
    }

    func testWithoutDigestsFileDataIsSkipped() throws {
        let built = try bigArchive()
        for verify in [false, true] {
            var options = ValidatorOptions()
            options.verifyDigests = verify
            let source = CountingSource(MemorySource(built.tar))
            let collector = DiagnosticCollector()
            let checker = V2Checker(collector: collector, options: options, compression: .none, tail: nil,
                                    tarObserver: nil, entryHook: nil)
            let result = checker.check(stream: source) { XCTFail("malformed: \($0)") }
            XCTAssertEqual(collector.diagnostics, [])
            XCTAssertEqual(result.indexDigest != nil, verify, "--no-digests computes no digest")
            if verify {
                XCTAssertEqual(source.read, built.tar.count, "every byte read once")
            } else {
                XCTAssertLessThan(source.read, 40_000, "only headers, small metadata files and the index are read")
                XCTAssertGreaterThan(source.skipped, 2_900_000)
            }
        }
    }

    func testMalformedStreamEndsTheCheck() throws {
        var a = V2TestArchive()
        a.entries.update("metadata/spec.dump") { $0.header.mode = 0o644 }
        let built = try a.build()
        let cut = Array(built.tar[..<(Int(built.layout.entry("rootfs/tree/etc/app.conf").dataOffset) + 2)])
        for verify in [true, false] {
            var options = ValidatorOptions()
            options.verifyDigests = verify
            let outcome = try V2Check.run(cut, options: options)
            XCTAssertNotNil(outcome.malformed as? TarError)
            XCTAssertEqual(outcome.ids, ["CKA-V2-044"], "findings before the error are kept, none after it")
        }
        var garbled = built.tar
        garbled[Int(built.layout.block("checkpoint/inventory.img")) + 150] ^= 1  // header checksum
        let outcome = try V2Check.run(garbled)
        XCTAssertEqual((outcome.malformed as? TarError)?.code, "bad-checksum")
    }

    /// How the stream ended is handed to the tar-layer rules (CKA-TAR-001, 002), not reported here.
    func testEndOfArchiveIsReturned() throws {
        let built = try V2TestArchive().build()
        let noEOA = try V2Check.run(Array(built.tar.dropLast(1024)))
        XCTAssertEqual(noEOA.diagnostics, [], V2Check.describe(noEOA))
        XCTAssertEqual(noEOA.result.tarEnd?.marker, TarEnd.Marker.none)
        var padded = V2TestArchive()
        padded.trailing = Array(repeating: 0, count: 512)
        let outcome = try V2Check.run(padded)
        XCTAssertEqual(outcome.diagnostics, [])
        XCTAssertEqual(outcome.result.tarEnd?.marker, .twoZeroBlocks)
        XCTAssertEqual(outcome.result.tarEnd?.trailingBytes, 512)
    }

    func testHooksSeeEveryEntryAndBlock() throws {
        let built = try V2TestArchive().build()
        let observer = CountingObserver()
        var entries: [String] = []
        let checker = V2Checker(collector: DiagnosticCollector(), options: ValidatorOptions(), compression: .none,
                                tail: nil, tarObserver: observer, entryHook: { entries.append($0.path) })
        _ = checker.check(stream: MemorySource(built.tar)) { XCTFail("\($0)") }
        XCTAssertEqual(entries.count, 14)
        XCTAssertEqual(entries.first, "cka-header.json")
        XCTAssertEqual(entries.last, "cka-index.json")
        XCTAssertEqual(observer.blocks, 19, "14 entries and 5 pax headers (table of part 10)")
        XCTAssertEqual(observer.bodies, 5)
    }

    func testUnknownAncillarySectionIsCountedAndDigested() throws {
        var a = V2TestArchive()
        a.entries += [.marker("future", critical: "0"), .file("future/data.bin", "opaque")]
        var wrongCount = a
        wrongCount.indexText = { $0.replacingOccurrences(of: "\"entries\":2,\"sha256\":\"", with: "\"entries\":3,\"sha256\":\"") }
        let wrong = try V2Check.run(wrongCount)
        XCTAssertTrue(wrong.ids.contains("CKA-IDX-004"), V2Check.describe(wrong))
        let built = try a.build()
        var bytes = built.file
        bytes[Int(built.layout.entry("future/data.bin").dataOffset)] ^= 1
        XCTAssertEqual(try V2Check.run(bytes).ids, ["CKA-IDX-005"])
    }
}
