import ByteStreams
import Foundation
import SystemPackage
import TestSupport
import XCTest

/// File and pipe sources: seeking over data on files, reading through it on pipes, bounded read-ahead.
final class FileSourceTests: XCTestCase {
    private func file(_ bytes: [UInt8]) throws -> URL {
        let dir = try TestTools.temporaryDirectory(self)
        let url = dir.appendingPathComponent("data")
        try Data(bytes).write(to: url)
        return url
    }

    func testSkipOnAFileSeeksInsteadOfReading() throws {
        let size = 64 << 20
        let url = try file([UInt8](repeating: 7, count: size))
        let source = try FileSource(path: url.path)
        XCTAssertTrue(source.isSeekable)
        XCTAssertEqual(try source.readBytes(512).count, 512)
        XCTAssertEqual(try source.skip(Int64(size - 1024)), Int64(size - 1024))
        XCTAssertEqual(try source.readBytes(1024).count, 512, "only 512 bytes were left")
        XCTAssertEqual(source.position, Int64(size))
        XCTAssertLessThan(source.storageBytesRead, 1 << 20, "skipped data was read")
        XCTAssertEqual(try source.skip(10), 0, "skipping past the end skips nothing")
    }

    func testPipeIsReadThrough() throws {
        var fds: [Int32] = [0, 0]
        XCTAssertEqual(pipe(&fds), 0)
        let payload = (0..<300_000).map { UInt8(truncatingIfNeeded: $0 &* 31) }
        let writeEnd = fds[1]
        let writer = Thread {
            payload.withUnsafeBytes { p in
                var off = 0
                while off < p.count { off += max(0, write(writeEnd, p.baseAddress! + off, p.count - off)) }
            }
            close(writeEnd)
        }
        writer.start()
        let source = FileSource(descriptor: FileDescriptor(rawValue: fds[0]), closeOnDeinit: true)
        XCTAssertFalse(source.isSeekable)
        XCTAssertEqual(try source.readBytes(1000), Array(payload[0..<1000]))
        XCTAssertEqual(try source.skip(200_000), 200_000)
        XCTAssertEqual(try source.readAll(), Array(payload[201_000...]))
        XCTAssertEqual(source.position, Int64(payload.count))
    }

    func testMemorySourceAndSink() throws {
        let source = MemorySource([1, 2, 3, 4, 5])
        XCTAssertEqual(Array(try source.read(upTo: 2)), [1, 2])
        XCTAssertEqual(try source.skip(10), 3)
        XCTAssertTrue(try source.read(upTo: 1).isEmpty)
        let sink = MemorySink()
        try sink.write([9, 8])
        try sink.writeZeros(3)
        XCTAssertEqual(sink.bytes, [9, 8, 0, 0, 0])
        XCTAssertEqual(sink.position, 5)
        XCTAssertThrowsError(try MemorySource([UInt8](repeating: 1, count: 100)).readAll(limit: 10))
    }

    func testFileSinkWritesEverything() throws {
        let dir = try TestTools.temporaryDirectory(self)
        let url = dir.appendingPathComponent("out")
        let fd = try FileDescriptor.open(FilePath(url.path), .writeOnly, options: [.create, .truncate],
                                         permissions: [.ownerReadWrite])
        do {
            let sink = FileSink(descriptor: fd, bufferSize: 4096, closeOnDeinit: true)
            let big = [UInt8](repeating: 0x41, count: 10_000)
            try sink.write([1, 2, 3])
            try sink.write(big)
            try sink.flush()
            XCTAssertEqual(sink.position, 10_003)
        }
        XCTAssertEqual(try Data(contentsOf: url).count, 10_003)
        XCTAssertThrowsError(try FileSource(path: dir.appendingPathComponent("missing").path)) { error in
            guard case .system(_, let errno) = error as? ByteStreamError else { return XCTFail("\(error)") }
            XCTAssertEqual(errno, .noSuchFileOrDirectory)
        }
    }
}
