import ByteStreams
import Compression
import XCTest

/// `DecompressionLimits`: zstd window size, output size and expansion ratio.
final class LimitsTests: XCTestCase {
    /// `count` zero bytes compressed by our encoder, streamed (never held uncompressed in memory).
    private func zeros(_ format: CompressionFormat, _ count: Int) throws -> [UInt8] {
        let sink = MemorySink()
        let encoder = try format.makeEncoder(sink, level: 1)
        try encoder.writeZeros(count)
        try encoder.finish()
        return sink.bytes
    }

    // MARK: window

    func testZstdWindowAboveTheLimitIsRefused() throws {
        let data = TestData.compressible(200_000)
        let compressed = try Codec.encode(.zstd, data)  // streamed: level 3 uses a 2 MiB window
        let error = assertCompressionError(try Codec.decode(compressed, limits: .init(maxWindowLog: 20)))
        XCTAssertEqual(error, .windowTooLarge(windowSize: 2 << 20, maxWindowLog: 20, compressedOffset: 0))
        XCTAssertEqual(error?.description,
                       "zstd: frame at compressed offset 0 needs a 2 MiB window, "
                           + "more than the limit of 1 MiB (window log 20)")
        XCTAssertEqual(try Codec.decode(compressed, limits: .init(maxWindowLog: 21)).1, data)

        // A very low limit on a CLI stream with a known size (a single-segment frame: window = content size).
        let dir = try TempDir()
        let cli = try Tool.filter("zstd", ["-q", "-c", try dir.write("in", data)], [])
        let low = assertCompressionError(try Codec.decode(cli, limits: .init(maxWindowLog: 10)))
        XCTAssertEqual(low, .windowTooLarge(windowSize: 200_000, maxWindowLog: 10, compressedOffset: 0))
        XCTAssertEqual(try Codec.decode(cli).1, data)
    }

    /// `zstd --long=28` on piped input writes a 256 MiB window: refused by default, as the CLI does.
    func testLongModeWindowRefusedByDefault() throws {
        let data = TestData.compressible(100_000)
        let compressed = try Tool.filter("zstd", ["-q", "-c", "--long=28"], data)
        XCTAssertEqual(assertCompressionError(try Codec.decode(compressed)),
                       .windowTooLarge(windowSize: 1 << 28, maxWindowLog: 27, compressedOffset: 0))
        XCTAssertNotEqual(try Tool.run("zstd", ["-q", "-dc"], stdin: compressed).status, 0,
                          "the CLI refuses it too without --memory")
        XCTAssertEqual(try Codec.decode(compressed, limits: .init(maxWindowLog: 28)).1, data)
    }

    func testLargeWindowInALaterFrame() throws {
        let first = TestData.compressible(50_000, seed: 1)
        let second = TestData.compressible(50_000, seed: 2)
        let head = try Tool.filter("zstd", ["-q", "-c"], first)
        let stream = head + (try Tool.filter("zstd", ["-q", "-c", "--long=28"], second))
        let decoder = try ZstdDecodingSource(MemorySource(stream))
        XCTAssertEqual(try decoder.readBytes(first.count), first, "the good frame is delivered first")
        XCTAssertEqual(assertCompressionError(try decoder.readAll()),
                       .windowTooLarge(windowSize: 1 << 28, maxWindowLog: 27, compressedOffset: Int64(head.count)))
    }

    func testGzipIgnoresTheWindowLimit() throws {
        let data = TestData.compressible(100_000)
        XCTAssertEqual(try Codec.decode(Codec.encode(.gzip, data), limits: .init(maxWindowLog: 10)).1, data)
    }

    // MARK: output size and expansion ratio

    func testOutputLimitStopsABomb() throws {
        for format in [CompressionFormat.gzip, .zstd] {
            let bomb = try zeros(format, 64 << 20)
            XCTAssertLessThan(bomb.count, 512 << 10, "\(format) bomb is small")
            let limits = DecompressionLimits(maxOutputBytes: 16 << 20)
            let decoder = try format.makeDecoder(MemorySource(bomb), limits: limits)
            guard case let .outputLimitExceeded(f, limit, offset)? = assertCompressionError(try decoder.skip(1 << 40))
            else { XCTFail("\(format): expected outputLimitExceeded"); continue }
            XCTAssertEqual(f, format)
            XCTAssertEqual(limit, 16 << 20)
            XCTAssertLessThan(offset, Int64(bomb.count))
            XCTAssertLessThanOrEqual(decoder.position, 16 << 20)
        }
    }

    func testOutputLimitIsExact() throws {
        let data = TestData.compressible(3 << 20)
        for format in [CompressionFormat.gzip, .zstd] {
            let compressed = try Codec.encode(format, data)
            let n = Int64(data.count)
            XCTAssertEqual(try Codec.decode(compressed, limits: .init(maxOutputBytes: n)).1, data)
            let error = assertCompressionError(try Codec.decode(compressed, limits: .init(maxOutputBytes: n - 1)))
            guard case let .outputLimitExceeded(f, limit, offset)? = error else {
                XCTFail("\(format): expected outputLimitExceeded, got \(String(describing: error))")
                continue
            }
            XCTAssertEqual(f, format)
            XCTAssertEqual(limit, n - 1)
            XCTAssertTrue((0...Int64(compressed.count)).contains(offset))
            // An empty stream under a zero limit is fine.
            XCTAssertEqual(try Codec.decode(Codec.encode(format, []), limits: .init(maxOutputBytes: 0)).1, [])
        }
    }

    func testExpansionRatioStopsABombEarly() throws {
        for format in [CompressionFormat.gzip, .zstd] {
            let bomb = try zeros(format, 64 << 20)
            let limits = DecompressionLimits(maxExpansionRatio: 100)
            let decoder = try format.makeDecoder(MemorySource(bomb), limits: limits)
            guard case let .expansionRatioExceeded(f, ratio, limit, _, out)? =
                assertCompressionError(try decoder.skip(1 << 40))
            else { XCTFail("\(format): expected expansionRatioExceeded"); continue }
            XCTAssertEqual(f, format)
            XCTAssertGreaterThan(ratio, 100)
            XCTAssertEqual(limit, 100)
            XCTAssertLessThanOrEqual(out, 4 << 20, "stopped within the first few MiB")
        }
    }

    func testExpansionRatioAllowsOrdinaryData() throws {
        let data = TestData.compressible(4 << 20)
        let smallZeros = [UInt8](repeating: 0, count: 500_000)
        for format in [CompressionFormat.gzip, .zstd] {
            let limits = DecompressionLimits(maxExpansionRatio: 20)
            XCTAssertEqual(try Codec.decode(Codec.encode(format, data), limits: limits).1, data)
            // Highly repetitive but below the minimum output: not checked.
            XCTAssertEqual(try Codec.decode(Codec.encode(format, smallZeros), limits: limits).1, smallZeros)
        }
    }

    /// Decoding a 256 MiB stream of zeros keeps memory at the decoder's fixed buffers.
    func testMemoryStaysBounded() throws {
        for format in [CompressionFormat.gzip, .zstd] {
            let bomb = try zeros(format, 256 << 20)
            let before = peakResidentBytes()
            let decoder = try format.makeDecoder(MemorySource(bomb))
            XCTAssertEqual(try decoder.skip(1 << 40), 256 << 20)
            let growth = peakResidentBytes() - before
            XCTAssertLessThan(growth, 48 << 20, "\(format): peak RSS grew by \(growth) bytes")
        }
    }

    func testBudgetFromCompressedSize() throws {
        let data = TestData.compressible(1 << 20)
        let compressed = try Codec.encode(.zstd, data)
        let tight = DecompressionLimits.budget(compressedSize: Int64(compressed.count), ratio: 2)
        XCTAssertEqual(tight.maxOutputBytes, Int64(compressed.count) * 2)
        XCTAssertEqual(assertCompressionError(try Codec.decode(compressed, limits: tight))?.format, .zstd)
        XCTAssertEqual(try Codec.decode(compressed, limits: .budget(compressedSize: Int64(compressed.count))).1, data)
        // Saturates instead of overflowing, and a limit of Int64.max does not get in the way.
        let huge = DecompressionLimits.budget(compressedSize: .max, ratio: 1024)
        XCTAssertEqual(huge.maxOutputBytes, .max)
        XCTAssertEqual(try Codec.decode(compressed, limits: huge).1, data)
        XCTAssertEqual(try Codec.decode(Codec.encode(.gzip, data), limits: huge).1, data)
    }

    func testLimitDescriptions() {
        XCTAssertEqual(
            CompressionError.outputLimitExceeded(.gzip, limit: 1000, compressedOffset: 10).description,
            "gzip: decompressed data exceeds the limit of 1000 bytes (at compressed offset 10)")
        XCTAssertEqual(
            CompressionError.expansionRatioExceeded(.zstd, ratio: 5000.4, limit: 100, compressedOffset: 30,
                                                    decompressedOffset: 150_012).description,
            "zstd: expansion ratio 5000:1 exceeds the limit of 100:1 (150012 bytes from 30 compressed bytes)")
        XCTAssertEqual(DecompressionLimits().maxWindowLog, 27)
        XCTAssertNil(DecompressionLimits().maxOutputBytes)
    }
}
