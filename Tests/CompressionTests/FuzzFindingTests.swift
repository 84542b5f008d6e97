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

    /// What decoding gives, comparable across ways of feeding the input: the bytes, or the error's kind (zstd error
    /// offsets depend on how the input arrived, finding 2).
    private func outcome(_ source: ByteSource, inputBufferSize: Int = ZstdDecodingSource.defaultInputBufferSize)
        -> String {
        do {
            let decoder = try ZstdDecodingSource(source, inputBufferSize: inputBufferSize)
            return "ok \(try decoder.readAll())"
        } catch {
            guard let error = error as? CompressionError else { return "error \(error)" }
            switch error {
            case .corrupt: return "error corrupt"
            case .truncated: return "error truncated"
            case .trailingGarbage: return "error trailingGarbage"
            default: return "error \(error)"
            }
        }
    }

    private static func hex(_ text: String) -> [UInt8] {
        let digits = Array(text.filter { !$0.isWhitespace })
        return stride(from: 0, to: digits.count, by: 2).map { UInt8(String(digits[$0...$0 + 1]), radix: 16)! }
    }

    /// Fuzz finding 4 (FuzzZstd round 3, crash-1906ca16): an empty frame with its checksum, then a frame whose only
    /// block is a compressed block of size 0. libzstd 1.5.4 rejects that block in its one-shot path (the whole frame
    /// in one input buffer, as a file read in chunks gives it) but its streaming path takes a block of size 0 of any
    /// type for an empty block, so fed one byte at a time the same bytes decoded to nothing without an error. The
    /// decoder now walks each frame's block headers itself and rejects a compressed block of size 0 either way.
    func testEmptyCompressedBlockIsCorruptHoweverTheInputArrives() {
        let input = Self.hex("28b52ffd24000100 0099e9d851 28b52ffd24000500 0099e9d851")
        for (how, source) in [("whole", MemorySource(input) as ByteSource), ("one byte at a time", TrickleSource(input))] {
            guard case let .failure(error) = decode(source) else {
                XCTFail("\(how): a compressed block of size 0 decoded without an error")
                continue
            }
            guard case .corrupt(.zstd, let offset, _)? = error as? CompressionError else {
                XCTFail("\(how): expected corrupt zstd data, got \(error)")
                continue
            }
            XCTAssertGreaterThanOrEqual(offset, 13, how)  // in the second frame (a lower bound, finding 2)
        }
    }

    /// Finding 4's neighbours: valid and corrupt frames in several orders, with and without a recorded content size
    /// (libzstd streams a frame without one even when it is whole), decode to the same bytes or the same kind of
    /// error whether the input arrives whole, one byte at a time, or through a small read-ahead buffer.
    func testFramesDecodeAlikeHoweverTheInputArrives() {
        let empty = "28b52ffd24000100 0099e9d851"  // no blocks' worth of content, checksum of nothing
        let emptyCompressed = "28b52ffd24000500 0099e9d851"  // finding 4: a compressed last block of size 0
        let abc = "28b52ffd2003 190000 616263"  // one raw block "abc", content size 3, no checksum
        let hello = "28b52ffd04686500003068656c6c6f200100a94b11874e200a"  // zstd -19 of "hello hello hello hello hello"
        let emptyThenAbc = "28b52ffd2003 040000 190000 616263"  // a compressed block of size 0, then "abc"
        let noSizeEmptyCompressed = "28b52ffd0400 050000 99e9d851"  // no content size: libzstd always streams it
        let cases: [(String, [String], String)] = [
            ("finding 4", [empty, emptyCompressed], "error corrupt"),
            ("three frames, the third corrupt", [empty, abc, emptyCompressed], "error corrupt"),
            ("corrupt first frame", [emptyCompressed, empty], "error corrupt"),
            ("corrupt frame alone", [emptyCompressed], "error corrupt"),
            ("empty compressed block before a raw one", [abc, emptyThenAbc], "error corrupt"),
            ("no content size", [noSizeEmptyCompressed], "error corrupt"),
            ("no content size, after valid frames", [hello, abc, noSizeEmptyCompressed], "error corrupt"),
            ("valid frames", [empty, abc, empty], "ok \(Array("abc".utf8))"),
            ("three valid frames", [hello, abc, hello],
             "ok \(Array("hello hello hello hello helloabchello hello hello hello hello".utf8))"),
        ]
        for (name, frames, expected) in cases {
            let input = Self.hex(frames.joined())
            XCTAssertEqual(outcome(MemorySource(input)), expected, "\(name), whole")
            XCTAssertEqual(outcome(TrickleSource(input)), expected, "\(name), one byte at a time")
            for size in [1, 2, 3, 5, 7, 12, 13] {
                XCTAssertEqual(outcome(MemorySource(input), inputBufferSize: size), expected,
                               "\(name), read-ahead of \(size)")
            }
        }
    }

    /// Fuzz finding 6 (FuzzZstd, crash-4fb52f9c): a single-segment frame of content size 0 whose only block is an RLE
    /// block, then bytes that are not a frame. Its window is its content size, 0, so no block may hold anything
    /// (Block_Maximum_Size, RFC 8878 section 3.1.1.2.3), not even an RLE block's one byte. libzstd 1.5.4 rejects it
    /// when the frame arrives in pieces (its incremental path checks the block size against the window) and decodes
    /// it when the whole frame is in one input buffer (its one-shot path does not), as does `zstd -d`: the same
    /// bytes were trailing garbage from a file and corrupt from a pipe. The same holds for any block over the
    /// window. The decoder's block walker now refuses them either way.
    func testBlocksOverTheWindowAreCorruptHoweverTheInputArrives() {
        let finding = "28b52ffd2000030000 00000000000000003d00000000b7"
        let rleInEmptyFrame = "28b52ffd2000 030000 00"
        let window1K = "28b52ffd40000003"  // a 1 KiB window, content size 1,024 (a 2-byte field holds size - 256)
        let window1KSize2K = "28b52ffd40000007"  // a 1 KiB window, content size 2,048
        let a = { (n: Int) in String(repeating: "61", count: n) }
        let cases: [(String, String, String)] = [
            ("finding 6", finding, "error corrupt"),
            ("an RLE block in a frame of content size 0", rleInEmptyFrame, "error corrupt"),
            ("a raw block of 2 KiB in a 1 KiB window", window1KSize2K + "014000" + a(2048), "error corrupt"),
            ("an RLE block of 2 KiB in a 1 KiB window", window1KSize2K + "034000 61", "error corrupt"),
            ("a raw block as large as the window", window1K + "012000" + a(1024), "ok \(Array(repeating: UInt8(0x61), count: 1024))"),
            ("an RLE block as large as the window", window1K + "032000 61", "ok \(Array(repeating: UInt8(0x61), count: 1024))"),
            ("an empty raw block in a frame of content size 0", "28b52ffd2000 010000", "ok []"),
        ]
        for (name, frames, expected) in cases {
            let input = Self.hex(frames)
            XCTAssertEqual(outcome(MemorySource(input)), expected, "\(name), whole")
            XCTAssertEqual(outcome(TrickleSource(input)), expected, "\(name), one byte at a time")
            for size in [2, 3, 5, 7, 12, 13] {
                XCTAssertEqual(outcome(MemorySource(input), inputBufferSize: size), expected, "\(name), read-ahead of \(size)")
            }
        }
    }
}
