import ByteStreams
import Compression
import Foundation
import XCTest

final class FormatDetectionTests: XCTestCase {
    func testMagicNumbers() {
        XCTAssertEqual(CompressionFormat.detect(prefix: [0x1F, 0x8B, 0x08, 0, 0, 0]), .gzip)
        XCTAssertEqual(CompressionFormat.detect(prefix: [0x1F, 0x8B]), .gzip)
        XCTAssertEqual(CompressionFormat.detect(prefix: [0x28, 0xB5, 0x2F, 0xFD, 0x24, 0x00]), .zstd)
        for low in UInt8(0x50)...0x5F {
            XCTAssertEqual(CompressionFormat.detect(prefix: [low, 0x2A, 0x4D, 0x18, 0, 0]), .zstd, "\(low)")
        }
        XCTAssertEqual(CompressionFormat.detect(prefix: [0x4F, 0x2A, 0x4D, 0x18, 0, 0]), .none)
        XCTAssertEqual(CompressionFormat.detect(prefix: [0x60, 0x2A, 0x4D, 0x18, 0, 0]), .none)
        for digit in UInt8(ascii: "1")...UInt8(ascii: "9") {
            XCTAssertEqual(CompressionFormat.detect(prefix: Array("BZh".utf8) + [digit, 0x31, 0x41]), .bzip2)
        }
        XCTAssertEqual(CompressionFormat.detect(prefix: Array("BZh0".utf8)), .none)
        XCTAssertEqual(CompressionFormat.detect(prefix: Array("BZh".utf8)), .none)
        XCTAssertEqual(CompressionFormat.detect(prefix: [0xFD, 0x37, 0x7A, 0x58, 0x5A, 0x00]), .xz)
        XCTAssertEqual(CompressionFormat.detect(prefix: [0xFD, 0x37, 0x7A, 0x58, 0x5A]), .none)
        XCTAssertEqual(CompressionFormat.detect(prefix: [0x04, 0x22, 0x4D, 0x18, 0x64, 0x40]), .lz4)
        XCTAssertEqual(CompressionFormat.detect(prefix: [0x02, 0x21, 0x4C, 0x18]), .lz4)
    }

    func testNotCompressed() {
        XCTAssertEqual(CompressionFormat.detect(prefix: [UInt8]()), .none)
        XCTAssertEqual(CompressionFormat.detect(prefix: [0x1F]), .none)
        XCTAssertEqual(CompressionFormat.detect(prefix: Array("ustar\0".utf8)), .none)
        XCTAssertEqual(CompressionFormat.detect(prefix: [UInt8](repeating: 0, count: 512)), .none)
        XCTAssertEqual(CompressionFormat.detect(prefix: [0x28, 0xB5, 0x2F]), .none)
    }

    func testDetectionOfRealStreams() throws {
        let data = TestData.compressible(10_000)
        XCTAssertEqual(try Codec.decode(Codec.encode(.gzip, data)).0, .gzip)
        XCTAssertEqual(try Codec.decode(Codec.encode(.zstd, data)).0, .zstd)
        XCTAssertEqual(try Codec.decode(data).0, .none)
        XCTAssertEqual(try Codec.decode(Tool.filter("gzip", ["-c"], data)).0, .gzip)
        XCTAssertEqual(try Codec.decode(Tool.filter("zstd", ["-q", "-c"], data)).0, .zstd)
    }

    func testUnsupportedFormatsAreRefusedByName() {
        // lz4 is neither decoded nor encoded; bzip2 and xz are decoded (CKA-CMP-004) but never written.
        let lz4: [UInt8] = [0x04, 0x22, 0x4D, 0x18, 0x64, 0x40, 0xA7]
        let error = assertCompressionError(try openDecompressed(MemorySource(lz4)))
        XCTAssertEqual(error, .unsupported(.lz4))
        XCTAssertEqual(error?.description, "unsupported compression: lz4")
        XCTAssertFalse(CompressionFormat.lz4.isDecodable)
        for format in [CompressionFormat.bzip2, .xz, .lz4] {
            XCTAssertEqual(assertCompressionError(try format.makeEncoder(MemorySink())), .unsupported(format))
            XCTAssertFalse(format.isSupported)
        }
        XCTAssertTrue(CompressionFormat.bzip2.isDecodable && CompressionFormat.xz.isDecodable)
    }

    func testUncompressedPassesThroughUnchanged() throws {
        for size in [0, 1, 3, 5, 6, 7, 100_000] {
            let data = TestData.random(size, seed: UInt64(size))
            let (format, out) = try Codec.decode(data, readSize: 7)
            XCTAssertEqual(format, .none)
            XCTAssertEqual(out, data, "size \(size)")
        }
    }

    func testFileNameExtensions() {
        XCTAssertEqual(CompressionFormat.fromFileName("a.tar.gz"), .gzip)
        XCTAssertEqual(CompressionFormat.fromFileName("a.TGZ"), .gzip)
        XCTAssertEqual(CompressionFormat.fromFileName("a.tar.zst"), .zstd)
        XCTAssertEqual(CompressionFormat.fromFileName("a.tar.xz"), .xz)
        XCTAssertEqual(CompressionFormat.fromFileName("a.tar"), .none)
        XCTAssertEqual(CompressionFormat.gzip.fileExtension, "gz")
        XCTAssertEqual(CompressionFormat.zstd.fileExtension, "zst")
    }

    // MARK: PrefixedSource

    func testPrefixedSourceReplaysThenDelegates() throws {
        let data = TestData.random(1000)
        let inner = MemorySource(data)
        let peeked = try inner.readBytes(10)
        let source = PrefixedSource(prefix: peeked, inner: inner)
        XCTAssertEqual(source.position, 0)
        XCTAssertEqual(try source.readBytes(4), Array(data[0..<4]))
        XCTAssertEqual(source.position, 4)
        XCTAssertEqual(try source.skip(10), 10)  // 6 from the prefix, 4 from the inner source
        XCTAssertEqual(source.position, 14)
        XCTAssertEqual(try source.readBytes(2), Array(data[14..<16]))
        XCTAssertEqual(try source.skip(10_000), 984)
        XCTAssertEqual(source.position, 1000)
        XCTAssertTrue(try source.read(upTo: 10).isEmpty)
    }

    /// An uncompressed file opened through detection still seeks: skipping does not read the data.
    func testUncompressedFileStillSeeksAfterDetection() throws {
        let dir = try TempDir()
        let data = TestData.random(8 << 20)
        let path = try dir.write("plain.bin", data)
        let file = try FileSource(path: path)
        let stream = try openDecompressed(file)
        XCTAssertEqual(stream.format, .none)
        XCTAssertEqual(try stream.source.readBytes(3), Array(data[0..<3]))
        XCTAssertEqual(try stream.source.skip(8_000_000), 8_000_000)
        XCTAssertEqual(try stream.source.readBytes(4), Array(data[8_000_003..<8_000_007]))
        XCTAssertEqual(stream.source.position, 8_000_007)
        XCTAssertEqual(stream.compressedPosition, 8_000_007)
        XCTAssertLessThan(file.storageBytesRead, 1 << 20, "skip should seek, not read")
    }
}
