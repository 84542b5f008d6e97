import ByteStreams
import Compression
import XCTest

final class RoundTripTests: XCTestCase {
    private let sizes = [0, 1, 2, 1000, 65_537]

    func testGzipAllLevels() throws {
        for level in GzipEncodingSink.levels {
            for size in sizes {
                let data = TestData.compressible(size, seed: UInt64(size))
                let compressed = try Codec.encode(.gzip, data, level: level)
                let (format, out) = try Codec.decode(compressed)
                XCTAssertEqual(format, .gzip)
                XCTAssertEqual(out, data, "gzip level \(level) size \(size)")
            }
        }
    }

    func testZstdSeveralLevels() throws {
        for level in [-5, 1, 3, 9, 19] {
            for size in sizes {
                let data = TestData.compressible(size, seed: UInt64(size))
                let compressed = try Codec.encode(.zstd, data, level: level)
                let (format, out) = try Codec.decode(compressed)
                XCTAssertEqual(format, .zstd)
                XCTAssertEqual(out, data, "zstd level \(level) size \(size)")
            }
        }
    }

    func testOneMebibyteRandomAndCompressible() throws {
        for format in [CompressionFormat.gzip, .zstd, .none] {
            for data in [TestData.random(1 << 20, seed: 7), TestData.compressible(1 << 20, seed: 8)] {
                let compressed = try Codec.encode(format, data)
                XCTAssertEqual(try Codec.decode(compressed).1, data, "\(format)")
                XCTAssertEqual(try Codec.decode(compressed, readSize: 4093).1, data, "\(format)")
            }
        }
        // Compressible data gets smaller, random data not much bigger.
        let text = TestData.compressible(1 << 20)
        XCTAssertLessThan(try Codec.encode(.gzip, text).count, text.count / 2)
        XCTAssertLessThan(try Codec.encode(.zstd, text).count, text.count / 2)
        let noise = TestData.random(1 << 20)
        XCTAssertLessThan(try Codec.encode(.gzip, noise).count, noise.count + noise.count / 100)
        XCTAssertLessThan(try Codec.encode(.zstd, noise).count, noise.count + noise.count / 100)
    }

    func testSingleByteWritesAndReads() throws {
        let data = TestData.compressible(3000)
        for format in [CompressionFormat.gzip, .zstd] {
            let compressed = try Codec.encode(format, data, writeSize: 1)
            XCTAssertEqual(try Codec.decode(compressed, readSize: 1).1, data)
        }
    }

    func testTinyDecoderBuffers() throws {
        let data = TestData.compressible(200_000)
        let gz = try Codec.encode(.gzip, data, frameSizes: [50_000, 50_000])
        let zst = try Codec.encode(.zstd, data, frameSizes: [50_000, 50_000])
        let gzip = try GzipDecodingSource(MemorySource(gz), inputBufferSize: 1, outputBufferSize: 1)
        XCTAssertEqual(try gzip.readAll(), data)
        let zstd = try ZstdDecodingSource(MemorySource(zst), inputBufferSize: 1, outputBufferSize: 1)
        XCTAssertEqual(try zstd.readAll(), data)
    }

    func testOutputIsDeterministic() throws {
        let data = TestData.compressible(300_000)
        for format in [CompressionFormat.gzip, .zstd] {
            XCTAssertEqual(try Codec.encode(format, data), try Codec.encode(format, data, writeSize: 777))
        }
    }

    /// CKA-CMP-011: every member starts `1f 8b 08 00 | 00 00 00 00 | 00 ff` whatever the level.
    func testGzipMemberHeadersAreTheDeterministicOnes() throws {
        let expected: [UInt8] = [0x1F, 0x8B, 0x08, 0x00, 0, 0, 0, 0, 0x00, 0xFF]
        let data = TestData.compressible(100_000)
        for level in GzipEncodingSink.levels {
            let sink = MemorySink()
            let encoder = try GzipEncodingSink(inner: sink, level: level, outputBufferSize: 4096)
            var memberStarts: [Int] = []
            for part in [data, [], Array(data[0..<10]), []] + [data] {
                memberStarts.append(Int(encoder.compressedPosition))
                try encoder.write(part)
                try encoder.endFrame()
            }
            try encoder.finish()
            XCTAssertEqual(encoder.frameCount, 3)
            for start in Set(memberStarts) {
                XCTAssertEqual(Array(sink.bytes[start..<(start + 10)]), expected, "level \(level) member at \(start)")
            }
            XCTAssertEqual(try Codec.decode(sink.bytes).1, data + data[0..<10] + data)
        }
        XCTAssertEqual(Array(try Codec.encode(.gzip, []).prefix(10)), expected)
    }

    func testEmptyStreamIsOneValidMemberOrFrame() throws {
        for format in [CompressionFormat.gzip, .zstd] {
            let compressed = try Codec.encode(format, [])
            XCTAssertFalse(compressed.isEmpty)
            XCTAssertEqual(CompressionFormat.detect(prefix: compressed), format)
            XCTAssertEqual(try Codec.decode(compressed).1, [])
        }
        XCTAssertEqual(try Codec.encode(.none, []), [])
    }

    func testPositionsAndCompressedPositions() throws {
        let data = TestData.compressible(500_000)
        for format in [CompressionFormat.gzip, .zstd] {
            let sink = MemorySink()
            try sink.write([1, 2, 3])  // the encoder starts at inner position 3
            let encoder = try format.makeEncoder(sink)
            try encoder.write(Array(data[0..<1000]))
            XCTAssertEqual(encoder.position, 1000)
            try encoder.endFrame()
            XCTAssertEqual(encoder.compressedPosition, sink.position)
            try encoder.write(Array(data[1000...]))
            try encoder.finish()
            XCTAssertEqual(encoder.position, Int64(data.count))
            XCTAssertEqual(encoder.compressedPosition, Int64(sink.bytes.count))

            let compressed = Array(sink.bytes[3...])
            let decoder = try format.makeDecoder(MemorySource(compressed)) as! DecompressingSource
            XCTAssertEqual(decoder.position, 0)
            XCTAssertEqual(try decoder.readBytes(10), Array(data[0..<10]))
            XCTAssertEqual(decoder.position, 10)
            XCTAssertGreaterThan(decoder.compressedPosition, 0)
            XCTAssertEqual(try decoder.skip(Int64(data.count)), Int64(data.count - 10))
            XCTAssertEqual(decoder.position, Int64(data.count))
            XCTAssertEqual(decoder.compressedPosition, Int64(compressed.count))
            XCTAssertTrue(try decoder.read(upTo: 100).isEmpty)
            XCTAssertEqual(try decoder.skip(5), 0)
        }
    }

    func testFinishIsIdempotentAndWriteAfterFinishThrows() throws {
        for format in [CompressionFormat.gzip, .zstd, .none] {
            let sink = MemorySink()
            let encoder = try format.makeEncoder(sink)
            try encoder.write([1, 2, 3])
            try encoder.finish()
            let size = sink.bytes.count
            try encoder.finish()
            try encoder.endFrame()
            try encoder.flush()
            XCTAssertEqual(sink.bytes.count, size)
            XCTAssertEqual(assertCompressionError(try encoder.write([4])), .writeAfterFinish(format))
            // An empty write after finish is refused too.
            XCTAssertEqual(assertCompressionError(try encoder.write([UInt8]())), .writeAfterFinish(format))
        }
    }

    func testFlushMakesEverythingWrittenDecodable() throws {
        let data = TestData.compressible(10_000)
        for format in [CompressionFormat.gzip, .zstd] {
            let sink = MemorySink()
            let encoder = try format.makeEncoder(sink)
            try encoder.write(data)
            try encoder.flush()
            // The stream is not finished, so a decoder reports truncation, but only after all the data.
            let decoder = try format.makeDecoder(MemorySource(sink.bytes))
            XCTAssertEqual(try decoder.readBytes(data.count), data)
            XCTAssertEqual(assertCompressionError(try decoder.read(upTo: 1))?.isTruncation, true)
            let flushed = sink.bytes.count
            try encoder.flush()  // nothing new: nothing written
            XCTAssertEqual(sink.bytes.count, flushed)
            try encoder.finish()
            XCTAssertEqual(try Codec.decode(sink.bytes).1, data)
        }
    }

    func testInvalidLevels() {
        XCTAssertEqual(assertCompressionError(try GzipEncodingSink(inner: MemorySink(), level: 10)),
                       .invalidLevel(.gzip, level: 10, range: 0...9))
        XCTAssertEqual(assertCompressionError(try GzipEncodingSink(inner: MemorySink(), level: -1))?.format, .gzip)
        XCTAssertNotNil(assertCompressionError(try ZstdEncodingSink(inner: MemorySink(), level: 23)))
        XCTAssertEqual(CompressionFormat.gzip.defaultLevel, 6)
        XCTAssertEqual(CompressionFormat.zstd.defaultLevel, 3)
        XCTAssertEqual(CompressionFormat.zstd.levelRange?.upperBound, 22)
    }

    func testZstdWithoutChecksumAndWithWorkers() throws {
        let data = TestData.compressible(2 << 20)
        for (checksum, workers) in [(false, 0), (true, 2)] {
            let sink = MemorySink()
            let encoder = try ZstdEncodingSink(inner: sink, level: 3, checksum: checksum, workers: workers)
            try encoder.write(data)
            try encoder.finish()
            XCTAssertEqual(try Codec.decode(sink.bytes).1, data)
        }
    }
}

extension CompressionError {
    var isTruncation: Bool {
        if case .truncated = self { return true }
        return false
    }
}
