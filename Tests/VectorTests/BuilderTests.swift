import Compression
import Foundation
import TestSupport
@testable import VectorCorpus
import XCTest

/// The hand-built compressed formats of the vectors are what the reference tools read: bzip2, xz and lz4 streams,
/// gzip and zstd bombs (small instances), and the checksums behind them.
final class BuilderTests: XCTestCase {
    /// `tool -dc` of `bytes`.
    func decompress(_ tool: String, _ bytes: [UInt8], file: StaticString = #filePath, line: UInt = #line) throws -> [UInt8] {
        try TestTools.require(tool)
        let r = try TestTools.run([tool, "-dc"], stdin: Data(bytes))
        XCTAssertEqual(r.status, 0, "\(tool): \(r.stderrText)", file: file, line: line)
        return [UInt8](r.stdout)
    }

    /// Runs of every length around bzip2's 4 and 255, all byte values, text.
    var samples: [[UInt8]] {
        var runs: [UInt8] = []
        for n in [1, 3, 4, 5, 254, 255, 256, 600] { runs += [UInt8](repeating: UInt8(n & 0xFF), count: n) }
        var mixed: [UInt8] = []
        var x: UInt32 = 12345
        for _ in 0..<12_000 {
            x = x &* 1_103_515_245 &+ 12345
            mixed.append(UInt8((x >> 16) & 0x0F) + 0x41)
        }
        return [[], [0x61], Array(0...255), runs, mixed, Array(repeating: 0x62, count: 70_000)]
    }

    func testBzip2WriterIsReadByBzip2() throws {
        for data in samples {
            XCTAssertEqual(try decompress("bzip2", Bzip2Writer.compress(data, blockSize: 5000)), data, "\(data.count) bytes")
        }
        let tar = try V2TestArchive().build().tar
        XCTAssertEqual(try decompress("bzip2", Bzip2Writer.compress(tar)), tar)
    }

    func testStoredXzAndLz4AreReadByTheirTools() throws {
        let big = (0..<150_000).map { UInt8($0 % 251) }
        for data in samples + [big] {
            XCTAssertEqual(try decompress("xz", StoredContainers.xz(data)), data, "xz, \(data.count) bytes")
            XCTAssertEqual(try decompress("lz4", StoredContainers.lz4(data)), data, "lz4, \(data.count) bytes")
        }
        XCTAssertEqual(CompressionFormat.detect(prefix: StoredContainers.xz([1])), .xz)
        XCTAssertEqual(CompressionFormat.detect(prefix: StoredContainers.lz4([1])), .lz4)
        XCTAssertEqual(CompressionFormat.detect(prefix: Bzip2Writer.compress([1])), .bzip2)
    }

    func testBombsExpandToWhatTheySay() throws {
        let gz = Bombs.gzipZeros(matches: 1000)
        XCTAssertEqual(try decompress("gzip", gz), [UInt8](repeating: 0, count: Int(Bombs.gzipZerosSize(matches: 1000))))
        // Member header, 105 bits of block header and the literal, two bits per match, end of block, trailer.
        XCTAssertEqual(gz.count, 10 + (105 + 2 * 1000 + 2 + 7) / 8 + 8)
        let zst = Bombs.zstdZeros(blocks: 3)
        XCTAssertEqual(try decompress("zstd", zst), [UInt8](repeating: 0, count: Int(Bombs.zstdZerosSize(blocks: 3))))
        XCTAssertEqual(zst.count, 6 + 3 * 4)
    }

    /// The committed bombs are small files that expand past the default budget (CKA-SEC-019: 1024 times the file,
    /// counted as at least 1 MiB).
    func testBombVectorsExceedTheDefaultBudget() throws {
        let (corpus, _) = try SharedVerification.result()
        for (id, expands, largest) in [("v1-hostile-zstd-bomb", Bombs.zstdZerosSize(blocks: HostileLegacy.zstdBombBlocks), 64 << 10),
                                       ("v1-hostile-gzip-bomb", Bombs.gzipZerosSize(matches: HostileLegacy.gzipBombMatches), 1_200_000)] {
            let v = try XCTUnwrap(corpus.vectors.first { $0.entry.id == id })
            XCTAssertLessThan(v.bytes.count, largest, id)
            let budget = try XCTUnwrap(DecompressionLimits.forInput(compressedSize: Int64(v.bytes.count)).maxOutputBytes)
            XCTAssertGreaterThan(expands, budget, id)
            XCTAssertNil(v.entry.streamSha256, id)
        }
    }

    func testChecksums() {
        for n in [0, 1, 7, 1000, 65536] {
            XCTAssertEqual(Checksums.crc32OfZeros(n), Checksums.crc32([UInt8](repeating: 0, count: n)), "\(n)")
        }
        XCTAssertEqual(Checksums.crc32(Array("123456789".utf8)), 0xCBF4_3926)
        XCTAssertEqual(Checksums.bzip2CRC(Array("123456789".utf8)), 0xFC89_1918)
        XCTAssertEqual(Checksums.xxh32([]), 0x02CC_5D05)
    }

    /// The v1 builder's tree is what `ckpt extract` makes (the valid v1 vectors check that); its bytes are a tar
    /// stream whose entries are in Podman's order.
    func testMiniArchiveLayout() throws {
        let a = V1MiniArchive()
        let tar = try a.tar()
        XCTAssertEqual(tar.count % 512, 0)
        XCTAssertEqual(try a.headerOffset("devshm-checkpoint.tar"), 0)
        XCTAssertEqual(a.tree().map(\.path), ["checkpoint", "checkpoint/inventory.img", "cka-header.json", "devshm",
                                              "devshm/shm-1", "metadata", "metadata/config.dump", "metadata/spec.dump",
                                              "rootfs", "rootfs/tree", "rootfs/tree/etc", "rootfs/tree/etc/app.conf"])
    }
}
