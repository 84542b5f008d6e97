import ByteStreams
import Compression
import TestSupport
import XCTest

/// `endFrame()`: members and frames that decode as one stream and also each on their own.
final class FramingTests: XCTestCase {
    private let data = TestData.compressible(600_000, seed: 41) + TestData.random(200_000, seed: 42)
    private let frameSizes = [1, 100_000, 250_000, 4_095, 300_000]  // then the rest, 144_904 bytes

    private func countFrames(_ format: CompressionFormat, _ compressed: [UInt8]) throws -> (Int, [UInt8]) {
        switch format {
        case .gzip:
            let decoder = try GzipDecodingSource(MemorySource(compressed))
            let out = try decoder.readAll()
            return (decoder.memberCount, out)
        default:
            let decoder = try ZstdDecodingSource(MemorySource(compressed))
            let out = try decoder.readAll()
            return (decoder.frameCount, out)
        }
    }

    func testFramedOutputDecodesAsOneStreamWithTheCLIs() throws {
        for format in [CompressionFormat.gzip, .zstd] {
            let compressed = try Codec.encode(format, data, frameSizes: frameSizes)
            let (frames, out) = try countFrames(format, compressed)
            XCTAssertEqual(frames, frameSizes.count + 1, "\(format)")
            XCTAssertEqual(out, data)
            let tool = format == .gzip ? "gzip" : "zstd"
            XCTAssertEqual(try Tool.filter(tool, ["-q", "-dc"], compressed), data, "\(tool) -dc")
            if format == .gzip {
                XCTAssertEqual(try Tool.filter("pigz", ["-dc"], compressed), data, "pigz -dc")
            }
        }
    }

    func testZstdCLICountsOurFrames() throws {
        let compressed = try Codec.encode(.zstd, data, frameSizes: frameSizes)
        let dir = try TempDir()
        let path = try dir.write("framed.zst", compressed)
        XCTAssertEqual(try Tool.run("zstd", ["-q", "-t", path]).status, 0)
        let listing = try Tool.run("zstd", ["-lv", path])
        XCTAssertTrue(listing.stdout.containsText("# Zstandard Frames: \(frameSizes.count + 1)"),
                      String(decoding: listing.stdout, as: UTF8.self))
    }

    func testNoEmptyMembersOrFrames() throws {
        for format in [CompressionFormat.gzip, .zstd] {
            let sink = MemorySink()
            let encoder = try format.makeEncoder(sink)
            try encoder.endFrame()  // nothing written yet
            XCTAssertEqual(sink.bytes.count, 0)
            try encoder.write([1, 2, 3])
            try encoder.endFrame()
            let afterFirst = sink.bytes.count
            try encoder.endFrame()
            try encoder.write([UInt8]())  // an empty write does not open a frame
            try encoder.endFrame()
            try encoder.flush()
            XCTAssertEqual(sink.bytes.count, afterFirst)
            try encoder.write([4, 5])
            try encoder.endFrame()
            try encoder.finish()  // ends nothing: the last frame was already ended
            XCTAssertEqual(encoder.frameCount, 2)
            let (frames, out) = try countFrames(format, sink.bytes)
            XCTAssertEqual(frames, 2, "\(format)")
            XCTAssertEqual(out, [1, 2, 3, 4, 5])
        }
    }

    /// `compressedPosition` after `endFrame()` marks where each frame starts, and each frame decodes alone.
    func testEachFrameDecodesOnItsOwnFromItsOffset() throws {
        for format in [CompressionFormat.gzip, .zstd] {
            let sink = MemorySink()
            let encoder = try format.makeEncoder(sink, level: 1)
            var offsets: [Int] = [0]
            var uncompressed: [Int] = [0]
            var start = 0
            for size in frameSizes + [data.count - frameSizes.reduce(0, +)] {
                try encoder.write(Array(data[start..<(start + size)]))
                start += size
                try encoder.endFrame()
                offsets.append(Int(encoder.compressedPosition))
                uncompressed.append(start)
            }
            try encoder.finish()
            XCTAssertEqual(offsets.last, sink.bytes.count)
            for i in 0..<(offsets.count - 1) {
                let frame = Array(sink.bytes[offsets[i]..<offsets[i + 1]])
                XCTAssertEqual(CompressionFormat.detect(prefix: frame), format)
                XCTAssertEqual(try Codec.decode(frame).1, Array(data[uncompressed[i]..<uncompressed[i + 1]]),
                               "\(format) frame \(i)")
            }
            // Seeking a file to a frame's offset and decoding from there yields the rest of the data.
            let dir = try TempDir()
            let file = try FileSource(path: try dir.write("framed", sink.bytes))
            XCTAssertEqual(try file.skip(Int64(offsets[3])), Int64(offsets[3]))
            let stream = try openDecompressed(file)
            XCTAssertEqual(stream.format, format)
            XCTAssertEqual(try stream.source.readAll(), Array(data[uncompressed[3]...]))
            XCTAssertEqual(stream.compressedPosition, Int64(sink.bytes.count))
        }
    }

    func testSkipAcrossMemberAndFrameBoundaries() throws {
        var boundaries: [Int] = []
        var total = 0
        for size in frameSizes { total += size; boundaries.append(total) }
        for format in [CompressionFormat.gzip, .zstd] {
            let compressed = try Codec.encode(format, data, frameSizes: frameSizes)
            // Skip to just before each boundary, then read across it.
            let decoder = try format.makeDecoder(MemorySource(compressed))
            var here = 0
            for boundary in boundaries where boundary - 3 > here {
                XCTAssertEqual(try decoder.skip(Int64(boundary - 3 - here)), Int64(boundary - 3 - here))
                XCTAssertEqual(try decoder.readBytes(6), Array(data[(boundary - 3)..<(boundary + 3)]),
                               "\(format) across \(boundary)")
                here = boundary + 3
            }
            XCTAssertEqual(decoder.position, Int64(here))
            // One skip over several boundaries, then past the end.
            let left = Int64(data.count - here)
            XCTAssertEqual(try decoder.skip(left + 1000), left)
            XCTAssertEqual(decoder.position, Int64(data.count))

            // Random interleaving of skips and reads against the reference.
            var rng = SeededRandom(seed: 99)
            let other = try format.makeDecoder(MemorySource(compressed))
            var position = 0
            while position < data.count {
                let n = Int(rng.next() % 200_000)
                if rng.next() % 2 == 0 {
                    let skipped = Int(try other.skip(Int64(n)))
                    XCTAssertEqual(skipped, min(n, data.count - position))
                    position += skipped
                } else {
                    let got = try other.readBytes(n)
                    XCTAssertEqual(got, Array(data[position..<min(position + n, data.count)]))
                    position += got.count
                }
            }
        }
    }

    /// The locators of CKA-FRM-003/004, written straight to the inner sink after the last frame, read as an
    /// empty gzip member or a skippable zstd frame, by us and by the CLIs.
    func testLocatorAfterTheLastFrame() throws {
        let payload = Array("CKAINDEX".utf8) + [UInt8](repeating: 0x11, count: 24)
        let gzipLocator: [UInt8] = [0x1F, 0x8B, 0x08, 0x04, 0, 0, 0, 0, 0x00, 0xFF, 0x24, 0x00, 0x43, 0x4B, 0x20, 0x00]
            + payload + [0x03, 0x00, 0, 0, 0, 0, 0, 0, 0, 0]
        let zstdLocator: [UInt8] = [0x5E, 0x2A, 0x4D, 0x18, 0x20, 0, 0, 0] + payload
        XCTAssertEqual(gzipLocator.count, 58)
        XCTAssertEqual(zstdLocator.count, 40)
        for (format, locator) in [(CompressionFormat.gzip, gzipLocator), (.zstd, zstdLocator)] {
            let sink = MemorySink()
            let encoder = try format.makeEncoder(sink)
            try encoder.write(Array(data[0..<100_000]))
            try encoder.endFrame()
            try encoder.write(Array(data[100_000...]))
            try encoder.endFrame()
            let locatorOffset = encoder.compressedPosition
            try sink.write(locator)  // all compressed bytes are in the sink after endFrame()
            try encoder.finish()     // adds nothing: no frame is open
            XCTAssertEqual(sink.position, locatorOffset + Int64(locator.count))
            XCTAssertEqual(Array(sink.bytes.suffix(locator.count)), locator)

            if format == .gzip {
                let decoder = try GzipDecodingSource(MemorySource(sink.bytes))
                XCTAssertEqual(try decoder.readAll(), data)
                XCTAssertEqual(decoder.memberCount, 3)
                XCTAssertEqual(try Tool.filter("pigz", ["-dc"], sink.bytes), data)
            } else {
                let decoder = try ZstdDecodingSource(MemorySource(sink.bytes))
                XCTAssertEqual(try decoder.readAll(), data)
                XCTAssertEqual(decoder.frameCount, 2)
                XCTAssertEqual(decoder.skippableFrameCount, 1)
            }
            let tool = format == .gzip ? "gzip" : "zstd"
            XCTAssertEqual(try Tool.filter(tool, ["-q", "-dc"], sink.bytes), data, tool)
            // The locator alone is a valid (empty) stream.
            XCTAssertEqual(try Codec.decode(locator).1, [])
        }
    }
}
