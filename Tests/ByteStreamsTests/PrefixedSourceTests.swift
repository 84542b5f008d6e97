import ByteStreams
import XCTest

/// `PrefixedSource` replays bytes already read from its inner source, then reads on from it; a peek
/// (`init(peeking:from:)`) reads them itself, with no copy in between.
final class PrefixedSourceTests: XCTestCase {
    private func drain(_ source: ByteSource, chunk: Int) throws -> [UInt8] {
        var out: [UInt8] = []
        while true {
            let c = try source.read(upTo: chunk)
            if c.isEmpty { return out }
            out += c
        }
    }

    func testAPeekReplaysEveryByteWhateverTheInnerLength() throws {
        for length in [0, 1, 17, 4096, 65_535, 65_536, 65_537, 200_000] {
            let bytes = (0..<length).map { UInt8(truncatingIfNeeded: $0 &* 13 &+ 7) }
            let source = try PrefixedSource(peeking: 65_536, from: MemorySource(bytes))
            XCTAssertEqual(Array(source.prefixBytes), Array(bytes.prefix(65_536)), "length \(length)")
            XCTAssertEqual(source.remainingPrefixCount, min(length, 65_536))
            XCTAssertEqual(source.position, 0, "nothing consumed yet")
            XCTAssertEqual(try drain(source, chunk: 1000), bytes, "length \(length)")
            XCTAssertEqual(source.position, Int64(length))
        }
    }

    func testSkipCrossesFromThePrefixIntoTheInnerSource() throws {
        let bytes = (0..<100_000).map { UInt8(truncatingIfNeeded: $0) }
        let source = try PrefixedSource(peeking: 4096, from: MemorySource(bytes))
        XCTAssertEqual(try source.skip(4000), 4000)
        XCTAssertEqual(try source.skip(10_000), 10_000)
        XCTAssertEqual(source.position, 14_000)
        XCTAssertEqual(try drain(source, chunk: 777), Array(bytes[14_000...]))
    }

    func testAPeekThatFailsThrows() throws {
        struct Broken: Error {}
        final class Failing: ByteSource {
            var position: Int64 { 0 }
            func read(upTo maxCount: Int) throws -> UnsafeRawBufferPointer { throw Broken() }
            func skip(_ count: Int64) throws -> Int64 { throw Broken() }
        }
        XCTAssertThrowsError(try PrefixedSource(peeking: 10, from: Failing())) { XCTAssertTrue($0 is Broken) }
    }
}
