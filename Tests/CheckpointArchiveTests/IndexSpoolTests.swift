@testable import CheckpointArchive
import ByteStreams
import Crypto
import Foundation
import TarFormat
import XCTest
#if canImport(Glibc)
import Glibc
#endif

/// The spools behind the encoder's bounded memory: file records, digests by slot, and the index streamed
/// from them.
final class IndexSpoolTests: XCTestCase {
    private struct Row: Equatable {
        var path: [UInt8]
        var size: Int64
        var offset: Int64
    }

    private func rows(_ spool: FileRecordSpool) throws -> [Row] {
        var out: [Row] = []
        try spool.forEach { slot, path, size, offset in
            XCTAssertEqual(slot, out.count)
            out.append(Row(path: Array(path), size: size, offset: offset))
        }
        return out
    }

    func testRecordSpoolGivesBackWhatWasAppendedInMemoryAndSpooled() throws {
        var rng = SystemRandomNumberGenerator()
        var input: [Row] = []
        var offset: Int64 = 0
        for i in 0..<5000 {
            // Shared prefixes, a path that is a prefix of the previous, long and empty tails, odd bytes.
            var path = Array("rootfs/tree/usr/lib/d\(i / 100)/f\(i)".utf8)
            if i % 50 == 0 { path = Array(input.last?.path.prefix(7) ?? []) }
            if i % 777 == 0 { path += (0..<300_000).map { UInt8(1 + ($0 &* 7 &+ i) % 255) } }
            offset += Int64.random(in: 0...5_000_000_000, using: &rng)
            let size = i % 3 == 0 ? Int64.random(in: 0...Int64.max, using: &rng) : Int64(i)
            input.append(Row(path: path, size: size, offset: i == 4999 ? 3 : offset))  // and one going back
        }
        for budget in [1, 1000, 1 << 30] {
            let spool = FileRecordSpool(memoryBudget: budget)
            for r in input { try spool.append(path: r.path, size: r.size, offset: r.offset) }
            XCTAssertEqual(spool.count, input.count)
            XCTAssertEqual(spool.spilled, budget < 1 << 30, "budget \(budget)")
            XCTAssertEqual(try rows(spool), input, "budget \(budget)")
            XCTAssertEqual(try rows(spool), input, "budget \(budget), read twice")
        }
    }

    func testDigestStoreTakesSlotsInAnyOrderFromManyThreads() throws {
        let count = 20_000
        let digests = (0..<count).map { Array(SHA256.hash(data: Array("\($0)".utf8))) }
        @Sendable func digest(_ slot: Int) -> [UInt8] { digests[slot] }
        // Mostly increasing with stragglers far behind, some slots never set, from four threads at once.
        var order = Array(0..<count).filter { $0 % 101 != 5 }
        for i in stride(from: 0, to: order.count - 40, by: 37) { order.swapAt(i, i + 39) }
        let stragglers = order.enumerated().filter { $0.offset % 997 == 0 }.map(\.element)
        order.removeAll { stragglers.contains($0) }
        order += stragglers
        for budget in [1, 33 * 64, 1 << 30] {
            let store = SlotDigestStore(memoryBudget: budget)
            let parts = 4
            let order = order
            DispatchQueue.concurrentPerform(iterations: parts) { part in
                for (i, slot) in order.enumerated() where i % parts == part { store.set(slot, digest: digest(slot)) }
            }
            store.set(0, hex: Hex.string(digest(0)))  // set twice: the last one stays (the same here)
            XCTAssertEqual(store.spilled, budget < 1 << 30, "budget \(budget)")
            var reader = try store.reader()
            for slot in 0..<(count + 10) {
                let got = try reader.digest(slot).map(Array.init)
                XCTAssertEqual(got, slot < count && slot % 101 != 5 ? digest(slot) : nil, "budget \(budget) slot \(slot)")
            }
            // Random access after the sequential pass.
            XCTAssertEqual(try reader.digest(17).map(Array.init), digest(17))
            let all = try store.dictionary()
            XCTAssertEqual(all.count, order.count, "budget \(budget)")
            XCTAssertEqual(all[12_345], Hex.string(digest(12_345)))
        }
    }

    func testHasherLandsLateDigestsInASpooledStore() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("spool-\(UUID().uuidString)")
        try Data((0..<300_000).map { UInt8(truncatingIfNeeded: $0 &* 31) }).write(to: dir)
        defer { try? FileManager.default.removeItem(at: dir) }
        let bytes = [UInt8](try Data(contentsOf: dir))
        let fd = open(dir.path, O_RDONLY)
        defer { close(fd) }
        let store = SlotDigestStore(memoryBudget: 200)
        let hasher = ParallelRangeHasher(workers: 3, digests: store)
        for slot in 0..<3000 {
            hasher.submit(.init(fd: fd, owned: false), offset: Int64(slot * 97), size: Int64(slot % 400),
                          slot: slot, entry: "e\(slot)")
        }
        try hasher.complete()
        XCTAssertTrue(store.spilled)
        var reader = try store.reader()
        for slot in 0..<3000 {
            let expected = Array(SHA256.hash(data: bytes[(slot * 97)..<(slot * 97 + slot % 400)]))
            XCTAssertEqual(try reader.digest(slot).map(Array.init), expected, "slot \(slot)")
        }
    }

    func testIndexWriterNamesAFileWithoutDigest() throws {
        let records = FileRecordSpool(memoryBudget: 1)
        try records.append(path: Array("cka-header.json".utf8), size: 10, offset: 1536)
        try records.append(path: Array("rootfs/tree/lost".utf8), size: 3, offset: 4608)
        let digests = SlotDigestStore(memoryBudget: 1)
        digests.set(0, digest: [UInt8](repeating: 7, count: 32))
        let writer = IndexStreamWriter(header: ArchiveIndex.Span(start: 0, end: 2048, sha256: String(repeating: "a", count: 64)),
                                       sections: [], indexOffset: 9216, records: records, digests: digests)
        let tar = try TarWriter(sink: MemorySink())
        XCTAssertThrowsError(try writer.write(entry: TarHeader(path: "cka-index.json"), to: tar)) { error in
            let e = error as? CheckpointError
            XCTAssertEqual(e?.requirement, "IO")
            XCTAssertEqual(e?.entry, "rootfs/tree/lost")
            XCTAssertEqual(e?.offset, 4608)
        }
    }

    func testIndexWriterStreamsCanonicalBytes() throws {
        var files: [ArchiveIndex.FileRecord] = []
        let records = FileRecordSpool(memoryBudget: 10)
        let digests = SlotDigestStore(memoryBudget: 40)
        for i in 0..<3000 {
            let path = i % 10 == 0 ? "odd/\"\\\u{7}\u{e9}\(i)" : "rootfs/tree/a/b\(i)"
            let d = Array(SHA256.hash(data: Array("\(i)".utf8)))
            files.append(ArchiveIndex.FileRecord(path: path, size: Int64(i), offset: Int64(i) * 1024, sha256: Hex.string(d)))
            try records.append(path: path.utf8, size: Int64(i), offset: Int64(i) * 1024)
            digests.set(i, digest: d)
        }
        let span = ArchiveIndex.Span(start: 0, end: 1536, sha256: String(repeating: "b", count: 64))
        let sections = [ArchiveIndex.SectionRecord(section: Section(.metadata), span: span, compressedStart: 12, entries: 2)]
        let index = ArchiveIndex(header: span, sections: sections, files: files, indexOffset: 3_072_000)
        let sink = MemorySink()
        let tar = try TarWriter(sink: sink)
        let written = try IndexStreamWriter(header: span, sections: sections, indexOffset: 3_072_000,
                                            records: records, digests: digests)
            .write(entry: TarHeader(path: "cka-index.json"), to: tar)
        try tar.finish()
        let expected = index.canonicalBytes
        XCTAssertGreaterThan(expected.count, IndexStreamWriter.chunk)  // several chunks were streamed
        XCTAssertEqual(written.length, Int64(expected.count))
        XCTAssertEqual(written.digest, "sha256:" + Hex.string(SHA256.hash(data: expected)))
        XCTAssertTrue(sink.bytes.count > expected.count
                      && Array(sink.bytes[512..<(512 + expected.count)]) == expected, "streamed content differs")
        XCTAssertEqual(try ArchiveIndex.parse(expected), index)
    }

    /// Fuzz finding 5 (FuzzIndex): an indexOffset above Int64.max trapped in the conversion instead of being refused.
    func testIndexOffsetPastInt64IsRefused() throws {
        let span = ArchiveIndex.Span(start: 0, end: 512, sha256: String(repeating: "a", count: 64))
        let index = ArchiveIndex(header: span, sections: [], files: [], indexOffset: 0x6c00)
        let text = String(decoding: index.canonicalBytes, as: UTF8.self)
        for hex in ["8000000000006c00", "ffffffffffffffff"] {
            let bad = text.replacingOccurrences(of: "0000000000006c00", with: hex)
            XCTAssertNotEqual(bad, text)
            XCTAssertThrowsError(try ArchiveIndex.parse(Array(bad.utf8)), hex) { error in
                XCTAssertEqual((error as? CheckpointError)?.requirement, "CKA-IDX-001", "\(error)")
            }
        }
        XCTAssertEqual(try ArchiveIndex.parse(index.canonicalBytes).indexOffset, 0x6c00)
    }
}
