@testable import CheckpointArchive
import XCTest

/// `RecordSpool` (the validator's file and section records until the index is read): records come back in the
/// order they went in, whether they stayed in memory, went to the temporary file, or both; a buffer that grows
/// past `growthStep` is given its full capacity at once, and the in-memory part is read where it lies.
final class RecordSpoolTests: XCTestCase {
    /// Records of mixed sizes: tiny ones, names like a rootfs's, and a few larger than `growthStep`.
    private func records() -> [[UInt8]] {
        (0..<6000).map { i -> [UInt8] in
            if i % 997 == 0 { return (0..<(RecordSpool.growthStep + 300)).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ i) } }
            if i % 10 == 0 { return [] }
            return Array("rootfs/tree/usr/share/small/\(i / 100)/f-\(i).txt".utf8)
        }
    }

    private func fill(_ spool: RecordSpool, _ input: [[UInt8]]) {
        for (i, r) in input.enumerated() {
            spool.append { w in
                w.int(Int64(i))
                w.data(r)
            }
        }
    }

    func testRecordsComeBackInOrderWhereverTheyWereKept() throws {
        let input = records()
        let total = input.reduce(0) { $0 + $1.count }
        for limit in [1, 4096, 100_000, total / 2, 1 << 30] {
            let spool = RecordSpool(memoryLimit: limit)
            fill(spool, input)
            XCTAssertEqual(spool.count, input.count)
            XCTAssertNil(spool.ioError)
            XCTAssertEqual(spool.isOnDisk, limit < total, "limit \(limit)")
            let reader = spool.makeReader()
            var i = 0
            while var r = reader.next() {
                XCTAssertEqual(r.int(), Int64(i), "limit \(limit)")
                XCTAssertEqual(r.data(), input[i], "limit \(limit), record \(i)")
                i += 1
            }
            XCTAssertEqual(i, input.count, "limit \(limit)")
            XCTAssertNil(reader.next(), "limit \(limit): nothing after the last record")
        }
    }

    func testNextIfConsumesOnlyWhatItAccepts() throws {
        let input = records()
        for limit in [4096, 1 << 30] {
            let spool = RecordSpool(memoryLimit: limit)
            fill(spool, input)
            let reader = spool.makeReader()
            for (i, expected) in input.enumerated() {
                // Declined first: the same record is shown again.
                XCTAssertEqual(reader.nextIf { _ in false }, false)
                var seen: [UInt8] = []
                XCTAssertEqual(reader.nextIf { bytes in
                    seen = Array(bytes)
                    return true
                }, true)
                var w = RecordWriter()
                w.int(Int64(i))
                w.data(expected)
                XCTAssertEqual(seen, w.bytes, "limit \(limit), record \(i)")
            }
            XCTAssertNil(reader.nextIf { _ in true })
        }
    }

    func testAGrowingBufferIsReservedOnce() throws {
        // Past `growthStep` the buffer takes `memoryLimit` (and a step) of capacity in one go.
        let limit = 1 << 20
        let spool = RecordSpool(memoryLimit: limit)
        var capacities: Set<Int> = []
        for i in 0..<20_000 {
            spool.append { w in w.data(Array("rootfs/tree/file-\(i)".utf8)) }
            if spool.bufferedBytes >= RecordSpool.growthStep * 2 { capacities.insert(spool.bufferCapacity) }
            if spool.isOnDisk { break }
        }
        XCTAssertEqual(capacities.count, 1, "capacities seen: \(capacities.sorted())")
        XCTAssertGreaterThanOrEqual(capacities.first ?? 0, limit)
    }
}
