@testable import CheckpointArchive
import ByteStreams
import TarFormat
import XCTest

/// `ArchiveOpener` tells v2 from v1 by entry 0's pax records. It peeks at 64 KiB (read once, into the replaying
/// source), parses entry 0 from the first 4 KiB of it and from the whole peek only when that fails; the stream
/// it hands back replays every peeked byte, and a stream that fails within the peek fails the open.
final class ArchiveOpenerTests: XCTestCase {
    /// A two-entry archive whose entry 0 carries `records` (and a `comment` record of `padding` bytes).
    private func archive(records: [String: String], padding: Int) throws -> [UInt8] {
        let sink = MemorySink()
        let writer = try TarWriter(sink: sink)
        var h = TarHeader(path: "cka-header.json", size: 2)
        h.paxRecords = records.sorted { $0.key < $1.key }.map { PaxRecord(key: $0.key, value: Array($0.value.utf8)) }
        if padding > 0 { h.paxRecords.append(PaxRecord(key: "comment", value: [UInt8](repeating: 0x61, count: padding))) }
        try writer.writeEntry(h, data: Array("{}".utf8))
        try writer.writeEntry(TarHeader(path: "metadata/spec.dump", size: 3), data: Array("abc".utf8))
        try writer.finish()
        return sink.bytes
    }

    private func open(_ bytes: [UInt8]) throws -> (format: CheckpointFormat, replay: [UInt8]) {
        let opened = try ArchiveOpener.open(MemorySource(bytes))
        var replay: [UInt8] = []
        while true {
            let chunk = try opened.stream.read(upTo: 1 << 16)
            if chunk.isEmpty { break }
            replay += chunk
        }
        return (opened.format, replay)
    }

    func testEntryZeroWithinTheFirstPeekIsV2() throws {
        let bytes = try archive(records: ["CKA.version": "2"], padding: 0)
        XCTAssertLessThan(bytes.count, ArchiveOpener.firstPeekSize * 2)
        let (format, replay) = try open(bytes)
        XCTAssertEqual(format, .v2)
        XCTAssertEqual(replay, bytes)
    }

    func testEntryZeroLargerThanTheFirstPeekIsStillV2() throws {
        // The pax body alone is larger than the first look: only the widened one sees `CKA.version`.
        for padding in [ArchiveOpener.firstPeekSize, 3 * ArchiveOpener.firstPeekSize, 40_000] {
            let bytes = try archive(records: ["CKA.version": "2"], padding: padding)
            let (format, replay) = try open(bytes)
            XCTAssertEqual(format, .v2, "padding \(padding)")
            XCTAssertEqual(replay, bytes, "padding \(padding)")
        }
    }

    func testEntryZeroBeyondThePeekIsV1() throws {
        // What the opener documents: entry 0's headers must fit in `peekSize` for the archive to be v2.
        let bytes = try archive(records: ["CKA.version": "2"], padding: ArchiveOpener.peekSize)
        let (format, replay) = try open(bytes)
        XCTAssertEqual(format, .v1)
        XCTAssertEqual(replay, bytes)
    }

    func testWithoutTheVersionRecordIsV1() throws {
        for padding in [0, 10_000] {
            let bytes = try archive(records: ["mtime": "1"], padding: padding)
            let (format, replay) = try open(bytes)
            XCTAssertEqual(format, .v1, "padding \(padding)")
            XCTAssertEqual(replay, bytes, "padding \(padding)")
        }
    }

    private struct Broken: Error {}

    /// A stream that reads its bytes, then fails.
    private final class FailingSource: ByteSource {
        let bytes: [UInt8]
        var at = 0
        init(_ bytes: [UInt8]) { self.bytes = bytes }
        var position: Int64 { Int64(at) }
        func read(upTo maxCount: Int) throws -> UnsafeRawBufferPointer {
            guard at < bytes.count else { throw Broken() }
            let n = min(maxCount, bytes.count - at, 1000)
            defer { at += n }
            return bytes.withUnsafeBytes { UnsafeRawBufferPointer(rebasing: $0[at..<(at + n)]) }
        }
        func skip(_ count: Int64) throws -> Int64 { try skipByReading(count) }
    }

    func testAStreamFailingWithinThePeekFailsTheOpen() throws {
        // Entry 0 parses from the first 4 KiB, but the stream fails before 64 KiB: the open fails, as a decoder
        // error there is reported as the archive being unreadable (the committed bzip2 and xz vectors).
        let bytes = try archive(records: ["CKA.version": "2"], padding: 0)
        let stream = bytes + [UInt8](repeating: 0, count: 30_000)
        XCTAssertLessThan(stream.count, ArchiveOpener.peekSize)
        XCTAssertThrowsError(try ArchiveOpener.open(FailingSource(stream)))
        XCTAssertNoThrow(try ArchiveOpener.open(MemorySource(stream)))
    }

    func testAShortStreamIsReplayedWhole() throws {
        // Fewer bytes than the first peek and no tar header: v1 (the checks report it), every byte replayed.
        let bytes = Array("not a tar archive".utf8)
        let (format, replay) = try open(bytes)
        XCTAssertEqual(format, .v1)
        XCTAssertEqual(replay, bytes)
    }
}
