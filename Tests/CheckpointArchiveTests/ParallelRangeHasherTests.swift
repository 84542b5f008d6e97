@testable import CheckpointArchive
import Crypto
import Foundation
import TestSupport
import XCTest
#if canImport(Glibc)
import Glibc
#endif

/// The worker-thread digests the encoder and decoder use for kernel-copied file data.
final class ParallelRangeHasherTests: XCTestCase {
    private func file(_ bytes: [UInt8]) throws -> (path: String, fd: Int32) {
        let dir = try TestTools.temporaryDirectory(self)
        let path = dir.appendingPathComponent("data").path
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        let fd = open(path, O_RDONLY)
        XCTAssertGreaterThanOrEqual(fd, 0)
        return (path, fd)
    }

    func testDigestsOfManyRangesMatchSHA256() throws {
        var rng = SystemRandomNumberGenerator()
        let bytes = (0..<(3 << 20)).map { _ in UInt8.random(in: 0...255, using: &rng) }
        let (_, fd) = try file(bytes)
        defer { close(fd) }
        // Ranges of every size class, some overlapping, more jobs than the queue holds, a small byte budget.
        var ranges: [(Int, Int)] = [(0, 0), (0, 1), (1, 511), (4096, 1 << 20), (0, 3 << 20), (123_457, 2_000_001)]
        for i in 0..<600 { ranges.append(((i * 4099) % (2 << 20), (i * 37) % 9000)) }
        let hasher = ParallelRangeHasher(workers: 3, maxPendingBytes: 1 << 20)
        for (slot, r) in ranges.enumerated() {
            hasher.submit(.init(fd: fd, owned: false), offset: Int64(r.0), size: Int64(r.1), slot: slot, entry: "e\(slot)")
        }
        let digests = try hasher.finish()
        XCTAssertEqual(digests.count, ranges.count)
        for (slot, r) in ranges.enumerated() {
            let expected = Hex.string(SHA256.hash(data: bytes[r.0..<(r.0 + r.1)]))
            XCTAssertEqual(digests[slot], expected, "range \(r)")
        }
    }

    func testOwnedDescriptorsAreClosedAndAShortFileFails() throws {
        let (_, fd) = try file(Array(repeating: 7, count: 1000))
        defer { close(fd) }
        let owned = dup(fd)
        let hasher = ParallelRangeHasher(workers: 2)
        hasher.submit(.init(fd: owned, owned: true), offset: 0, size: 1000, slot: 0, entry: "whole")
        hasher.submit(.init(fd: fd, owned: false), offset: 500, size: 1000, slot: 1, entry: "past-the-end")
        XCTAssertThrowsError(try hasher.finish()) { error in
            let e = error as? CheckpointError
            XCTAssertEqual(e?.entry, "past-the-end")
            XCTAssertEqual(e?.offset, 1000, "the offset where the data ran out")
        }
        XCTAssertEqual(fcntl(owned, F_GETFD), -1, "the job closed its own descriptor")
        XCTAssertNotEqual(fcntl(fd, F_GETFD), -1, "a shared descriptor stays open")
    }

    func testShutdownWithoutFinishStopsTheWorkers() throws {
        let (_, fd) = try file(Array(repeating: 1, count: 4096))
        defer { close(fd) }
        weak var weakHasher: ParallelRangeHasher?
        do {
            let hasher = ParallelRangeHasher(workers: 2)
            weakHasher = hasher
            hasher.submit(.init(fd: fd, owned: false), offset: 0, size: 4096, slot: 0, entry: "a")
            hasher.shutdown()
        }
        // The workers hold the hasher until they have left their loop.
        let deadline = Date().addingTimeInterval(10)
        while weakHasher != nil && Date() < deadline { usleep(10_000) }
        XCTAssertNil(weakHasher, "workers still running after shutdown")
    }
}
