import ByteStreams
import Compression
import XCTest

/// Hands out its bytes one at a time, as a slow pipe might.
private final class TrickleSource: ByteSource {
    private let inner: MemorySource
    init(_ bytes: [UInt8]) { inner = MemorySource(bytes) }
    var position: Int64 { inner.position }
    func read(upTo maxCount: Int) throws -> UnsafeRawBufferPointer { try inner.read(upTo: min(maxCount, 1)) }
    func skip(_ count: Int64) throws -> Int64 { try inner.skip(count) }
}

/// Inputs the decoder fuzz targets (Fuzz/, FuzzGzip and FuzzZstd) found, turned into tests that need no fuzzer.
final class FuzzFindingTests: XCTestCase {
    /// Decodes everything; returns the bytes or the error.
    private func decode(_ source: ByteSource) -> Result<[UInt8], Error> {
        Result {
            let decoder = try ZstdDecodingSource(source)
            return try decoder.readAll()
        }
    }

    /// Fuzz finding (FuzzZstd, crash-71d5aa13): a frame that records a content size of 152 bytes but holds only an
    /// empty last block (with a valid checksum of nothing). libzstd checks the recorded size in its one-shot path,
    /// which it takes when the whole frame is in one input buffer, but not in its streaming path after an empty last
    /// block, so the same bytes were corrupt from a file and a valid empty stream from a pipe delivering them in
    /// pieces. The decoder now checks every recorded content size itself.
    func testRecordedContentSizeIsCheckedHoweverTheInputArrives() {
        let frame: [UInt8] = [0x28, 0xB5, 0x2F, 0xFD, 0x24, 0x98, 0x01, 0x00, 0x00, 0x99, 0xE9, 0xD8, 0x51]
        for (how, source) in [("whole", MemorySource(frame) as ByteSource), ("one byte at a time", TrickleSource(frame))] {
            guard case let .failure(error) = decode(source) else {
                XCTFail("\(how): a frame recording 152 bytes that holds none decoded without an error")
                continue
            }
            guard case .corrupt(.zstd, _, _)? = error as? CompressionError else {
                XCTFail("\(how): expected corrupt zstd data, got \(error)")
                continue
            }
        }
    }

    /// The same flaw without any chunking: a frame recording 2 MiB (more than the decoder's 1 MiB output buffer, so
    /// libzstd always streams it) that holds one 100-byte raw block and an empty last block, no checksum.
    func testFrameShorterThanItsRecordedSizeIsCorrupt() {
        var frame: [UInt8] = [0x28, 0xB5, 0x2F, 0xFD, 0xA0, 0x00, 0x00, 0x20, 0x00]  // single segment, 4-byte size
        frame += [0x20, 0x03, 0x00] + Array(repeating: 0x61, count: 100)  // raw block of 100 bytes, not last
        frame += [0x01, 0x00, 0x00]  // raw last block of 0 bytes
        guard case let .failure(error) = decode(MemorySource(frame)) else {
            return XCTFail("a frame recording 2 MiB that holds 100 bytes decoded without an error")
        }
        XCTAssertEqual(error as? CompressionError,
                       .corrupt(.zstd, compressedOffset: Int64(frame.count),
                                message: "the frame records 2097152 content bytes but holds 100"))
        // The same bytes with the right recorded size decode.
        var right = frame
        right.replaceSubrange(5..<9, with: [100, 0, 0, 0])
        XCTAssertEqual(try decode(MemorySource(right)).get(), Array(repeating: 0x61, count: 100))
    }
}
