import ByteStreams
import Compression
import TestSupport
import XCTest

/// Truncated, corrupted and padded input: always a typed error, never success, a crash or a hang.
final class MalformedInputTests: XCTestCase {
    private let data = TestData.compressible(150_000, seed: 51) + TestData.random(30_000, seed: 52)

    /// Cut offsets: every one of the first and last 40 bytes and about 150 in between.
    private func cutOffsets(_ count: Int) -> [Int] {
        var offsets = Set(0..<min(40, count))
        offsets.formUnion(max(0, count - 40)..<count)
        for i in 0..<150 { offsets.insert(i * count / 150) }
        return offsets.sorted()
    }

    /// Reads `source` to the end, returning what it delivered before the error it must throw.
    private func drainExpectingError(_ source: ByteSource) -> ([UInt8], Error?) {
        var out: [UInt8] = []
        do {
            while true {
                let chunk = try source.read(upTo: 1 << 16)
                if chunk.isEmpty { return (out, nil) }
                out.append(contentsOf: chunk)
            }
        } catch {
            return (out, error)
        }
    }

    func testTruncationAtManyOffsets() throws {
        for format in [CompressionFormat.gzip, .zstd] {
            let compressed = try Codec.encode(format, data)
            for cut in cutOffsets(compressed.count) {
                let source = try format.makeDecoder(MemorySource(compressed[0..<cut]))
                let (delivered, error) = drainExpectingError(source)
                guard let error = error as? CompressionError else {
                    XCTFail("\(format) cut at \(cut) of \(compressed.count): \(error.map { "\($0)" } ?? "success")")
                    continue
                }
                XCTAssertEqual(error, .truncated(format, compressedOffset: Int64(cut),
                                                 decompressedOffset: error.decompressedOffsetForTests),
                               "\(format) cut at \(cut)")
                XCTAssertTrue(delivered == Array(data[0..<min(delivered.count, data.count)]), "\(format) cut at \(cut)")
                // The error sticks.
                XCTAssertEqual(assertCompressionError(try source.read(upTo: 10)), error)
                XCTAssertEqual(assertCompressionError(try source.skip(10)), error)
            }
        }
    }

    func testTruncationThroughDetection() throws {
        for format in [CompressionFormat.gzip, .zstd] {
            let compressed = try Codec.encode(format, data, frameSizes: [60_000])
            for cut in stride(from: 6, to: compressed.count, by: 997) {
                let stream = try openDecompressed(MemorySource(compressed[0..<cut]))
                XCTAssertEqual(stream.format, format)
                let error = assertCompressionError(try stream.source.readAll(), "\(format) cut \(cut)")
                XCTAssertEqual(error?.isTruncation, true, "\(format) cut \(cut): \(String(describing: error))")
            }
        }
    }

    func testTruncationOfCLIOutput() throws {
        let gz = try Tool.filter("gzip", ["-c"], data)
        let zst = try Tool.filter("zstd", ["-q", "-c"], data)
        for (format, compressed) in [(CompressionFormat.gzip, gz), (.zstd, zst)] {
            for cut in [compressed.count - 1, compressed.count - 4, compressed.count / 2, 20] {
                let error = assertCompressionError(try Codec.decodeDirect(format, Array(compressed[0..<cut])))
                XCTAssertEqual(error?.isTruncation, true, "\(format) cut \(cut)")
            }
        }
    }

    func testEmptyInputToADecoderIsTruncated() {
        XCTAssertEqual(assertCompressionError(try Codec.decodeDirect(.gzip, [])),
                       .truncated(.gzip, compressedOffset: 0, decompressedOffset: 0))
        XCTAssertEqual(assertCompressionError(try Codec.decodeDirect(.zstd, [])),
                       .truncated(.zstd, compressedOffset: 0, decompressedOffset: 0))
    }

    func testCorruptedBytesAreDetected() throws {
        for format in [CompressionFormat.gzip, .zstd] {
            let compressed = try Codec.encode(format, data)
            // Skip the headers, whose timestamp/OS (gzip) or window (zstd) bytes may legally change.
            let first = format == .gzip ? 10 : 6
            for offset in stride(from: first, to: compressed.count, by: max(1, compressed.count / 60))
                + [compressed.count - 1, compressed.count - 5] {
                var bad = compressed
                bad[offset] ^= 0xFF
                let error = assertCompressionError(try Codec.decodeDirect(format, bad), "\(format) byte \(offset)")
                XCTAssertEqual(error?.format, format)
            }
        }
        // A flipped byte in the middle of the deflate or zstd block data reads as corrupt data.
        for format in [CompressionFormat.gzip, .zstd] {
            var bad = try Codec.encode(format, TestData.random(100_000))
            bad[bad.count / 2] ^= 0x01
            guard case .corrupt? = assertCompressionError(try Codec.decodeDirect(format, bad)) else {
                XCTFail("\(format): expected corrupt")
                continue
            }
        }
    }

    func testGzipChecksumAndLengthMismatch() throws {
        var bad = try Codec.encode(.gzip, data)
        bad[bad.count - 6] ^= 0x10  // CRC-32
        let crc = assertCompressionError(try Codec.decodeDirect(.gzip, bad))
        XCTAssertEqual(crc, .corrupt(.gzip, compressedOffset: Int64(bad.count) - 4, message: "incorrect data check"))
        bad = try Codec.encode(.gzip, data)
        bad[bad.count - 2] ^= 0x10  // ISIZE
        let length = assertCompressionError(try Codec.decodeDirect(.gzip, bad))
        XCTAssertEqual(length, .corrupt(.gzip, compressedOffset: Int64(bad.count), message: "incorrect length check"))
    }

    func testZstdChecksumMismatch() throws {
        var bad = try Codec.encode(.zstd, data)
        bad[bad.count - 1] ^= 0x01
        guard case let .corrupt(format, _, message)? = assertCompressionError(try Codec.decodeDirect(.zstd, bad))
        else { return XCTFail("expected corrupt") }
        XCTAssertEqual(format, .zstd)
        XCTAssertTrue(message.lowercased().contains("checksum"), message)
    }

    func testTrailingGarbage() throws {
        for format in [CompressionFormat.gzip, .zstd] {
            let compressed = try Codec.encode(format, data)
            for tail in [Array("hello".utf8), [0x00], [UInt8](repeating: 0, count: 1024), [0x1F, 0x00], [0x28]] {
                let stream = try openDecompressed(MemorySource(compressed + tail))
                let (delivered, error) = drainExpectingError(stream.source)
                XCTAssertEqual(delivered, data, "everything before the garbage is delivered")
                let expected: CompressionError = .trailingGarbage(format, compressedOffset: Int64(compressed.count))
                if format == .gzip && tail == [0x1F, 0x00] || format == .zstd && tail == [0x28] {
                    // Could still be the start of another member/frame: the input ended too early or is bad.
                    XCTAssertNotNil(error as? CompressionError, "\(format) tail \(tail)")
                } else {
                    XCTAssertEqual(error as? CompressionError, expected, "\(format) tail \(tail)")
                }
            }
        }
        // A lone 0x1f after a gzip member is a truncated next member.
        let gz = try Codec.encode(.gzip, [1, 2, 3])
        XCTAssertEqual(assertCompressionError(try Codec.decodeDirect(.gzip, gz + [0x1F]))?.isTruncation, true)
    }

    func testNotTheExpectedFormat() throws {
        let random = TestData.random(1000)
        guard case .corrupt(.gzip, 0, _)? = assertCompressionError(try Codec.decodeDirect(.gzip, random)) else {
            return XCTFail("expected corrupt gzip at offset 0")
        }
        guard case .corrupt(.zstd, 0, _)? = assertCompressionError(try Codec.decodeDirect(.zstd, random)) else {
            return XCTFail("expected corrupt zstd at offset 0")
        }
        // gzip magic with an unknown compression method.
        var bad = try Codec.encode(.gzip, data)
        bad[2] = 7
        guard case let .corrupt(_, _, message)? = assertCompressionError(try Codec.decode(bad)) else {
            return XCTFail("expected corrupt")
        }
        XCTAssertEqual(message, "unknown compression method")
        // zstd frame header with the reserved bit set.
        var zst = try Codec.encode(.zstd, data)
        zst[4] |= 0x08
        XCTAssertNotNil(assertCompressionError(try Codec.decode(zst)))
    }

    /// CKA-CMP-008: a frame that needs a dictionary is refused by name; an explicit dictionary ID 0 is fine.
    func testZstdDictionaryIDs() throws {
        let plain = try Codec.encode(.zstd, data)
        XCTAssertEqual(plain[4], 0x04, "checksum flag only: no content size, no dictionary ID, windowed")
        func withDictionaryID(_ id: UInt8) -> [UInt8] {
            var frame = plain
            frame[4] |= 0x01  // Dictionary_ID_flag 1: a 1-byte ID after the window descriptor
            frame.insert(id, at: 6)
            return frame
        }
        XCTAssertEqual(try Codec.decode(withDictionaryID(0)).1, data)
        let error = assertCompressionError(try Codec.decode(withDictionaryID(7)))
        XCTAssertEqual(error, .dictionaryRequired(dictionaryID: 7, compressedOffset: 0))
        XCTAssertEqual(error?.description,
                       "zstd: frame at compressed offset 0 needs dictionary 7; dictionaries are not supported")
        // In a second frame, after the first one's data.
        let decoder = try ZstdDecodingSource(MemorySource(plain + withDictionaryID(200)))
        XCTAssertEqual(try decoder.readBytes(data.count), data)
        XCTAssertEqual(assertCompressionError(try decoder.read(upTo: 1)),
                       .dictionaryRequired(dictionaryID: 200, compressedOffset: Int64(plain.count)))
    }

    /// Random mutations of valid streams: any outcome but a crash or a hang; output stays bounded.
    func testRandomMutationsNeverCrash() throws {
        let small = TestData.compressible(20_000, seed: 61)
        let limits = DecompressionLimits(maxOutputBytes: 1 << 20)
        var rng = SeededRandom(seed: 62)
        for format in [CompressionFormat.gzip, .zstd] {
            let compressed = try Codec.encode(format, small, frameSizes: [5_000])
            for _ in 0..<300 {
                var bad = compressed
                for _ in 0..<(1 + rng.next() % 4) {
                    let offset = Int(rng.next() % UInt64(bad.count))
                    switch rng.next() % 3 {
                    case 0: bad[offset] = UInt8(truncatingIfNeeded: rng.next())
                    case 1: bad.removeSubrange(offset..<min(bad.count, offset + Int(rng.next() % 64)))
                    default: bad.insert(contentsOf: rng.bytes(Int(rng.next() % 16)), at: offset)
                    }
                    if bad.isEmpty { bad = [0] }
                }
                do {
                    let out = try Codec.decode(bad, limits: limits).1
                    XCTAssertLessThanOrEqual(out.count, 1 << 20)
                } catch is CompressionError {
                    // expected most of the time
                } catch {
                    XCTFail("unexpected error type: \(error)")
                }
            }
        }
    }

    func testErrorDescriptions() {
        XCTAssertEqual(CompressionError.truncated(.zstd, compressedOffset: 1234, decompressedOffset: 5678).description,
                       "zstd: truncated stream at compressed offset 1234 (after 5678 decompressed bytes)")
        XCTAssertEqual(CompressionError.trailingGarbage(.gzip, compressedOffset: 99).description,
                       "gzip: unexpected bytes after the end of the compressed data at compressed offset 99")
        XCTAssertEqual(CompressionError.corrupt(.gzip, compressedOffset: 7, message: "invalid block type").description,
                       "gzip: corrupt data at compressed offset 7: invalid block type")
        XCTAssertEqual(CompressionError.unsupported(.bzip2).description, "unsupported compression: bzip2")
        XCTAssertEqual(CompressionError.trailingGarbage(.gzip, compressedOffset: 5).compressedOffset, 5)
        XCTAssertNil(CompressionError.unsupported(.xz).compressedOffset)
    }
}

extension CompressionError {
    /// The decompressed offset of a `.truncated` error (so tests can compare the rest exactly).
    var decompressedOffsetForTests: Int64 {
        if case let .truncated(_, _, out) = self { return out }
        return -1
    }
}
