import ByteStreams
import Compression
import XCTest

/// Our encoders against the gzip, pigz and zstd command-line tools, and their output against our decoders.
final class InteropTests: XCTestCase {
    private var samples: [(String, [UInt8])] {
        [("empty", []), ("one byte", [0x42]), ("1 MiB random", TestData.random(1 << 20, seed: 11)),
         ("compressible", TestData.compressible(700_000, seed: 12))]
    }

    // MARK: ours -> CLI

    func testOurGzipPassesGzipAndPigz() throws {
        let dir = try TempDir()
        for (name, data) in samples {
            for level in [1, 6, 9] {
                let compressed = try Codec.encode(.gzip, data, level: level)
                let path = try dir.write("ours.gz", compressed)
                let test = try Tool.run("gzip", ["-t", path])
                XCTAssertEqual(test.status, 0, "gzip -t on \(name) level \(level): \(test.stderr)")
                XCTAssertEqual(try Tool.filter("gzip", ["-dc"], compressed), data, "\(name) level \(level)")
                XCTAssertEqual(try Tool.filter("pigz", ["-dc"], compressed), data, "\(name) level \(level)")
            }
        }
    }

    func testOurZstdPassesZstd() throws {
        let dir = try TempDir()
        for (name, data) in samples {
            for level in [1, 3, 19] {
                let compressed = try Codec.encode(.zstd, data, level: level)
                let path = try dir.write("ours.zst", compressed)
                let test = try Tool.run("zstd", ["-q", "-t", path])
                XCTAssertEqual(test.status, 0, "zstd -t on \(name) level \(level): \(test.stderr)")
                XCTAssertEqual(try Tool.filter("zstd", ["-q", "-dc"], compressed), data, "\(name) level \(level)")
            }
        }
    }

    // MARK: CLI -> ours

    func testGzipCLIOutputAtSeveralLevels() throws {
        for (name, data) in samples {
            for level in ["-1", "-6", "-9"] {
                let compressed = try Tool.filter("gzip", ["-c", "-n", level], data)
                XCTAssertEqual(try Codec.decode(compressed).1, data, "\(name) gzip \(level)")
            }
        }
    }

    func testGzipWithFileNameAndTimestampInHeader() throws {
        let dir = try TempDir()
        let data = TestData.compressible(50_000)
        let path = try dir.write("named-file.txt", data)
        let compressed = try Tool.filter("gzip", ["-c", "-N", path], [])
        XCTAssertNotEqual(compressed[3] & 0x08, 0, "FNAME flag expected")
        XCTAssertEqual(try Codec.decode(compressed).1, data)
    }

    func testConcatenatedGzipMembers() throws {
        let a = TestData.compressible(300_000, seed: 1)
        let b = TestData.random(100_000, seed: 2)
        let c = TestData.compressible(10, seed: 3)
        let joined = try Tool.filter("gzip", ["-c"], a) + Tool.filter("gzip", ["-c"], b)
            + Codec.encode(.gzip, c) + Tool.filter("gzip", ["-c"], [])
        let decoder = try GzipDecodingSource(MemorySource(joined))
        XCTAssertEqual(try decoder.readAll(), a + b + c)
        XCTAssertEqual(decoder.memberCount, 4)
    }

    func testPigzOutput() throws {
        let data = TestData.compressible(3 << 20, seed: 21) + TestData.random(1 << 20, seed: 22)
        let variants = [["-c", "-p", "2"], ["-c", "-p", "2", "-b", "128"], ["-c", "-i", "-p", "2"],
                        ["-c", "-9", "-p", "1"]]
        for arguments in variants {
            let compressed = try Tool.filter("pigz", arguments, data)
            XCTAssertEqual(try Codec.decode(compressed).1, data, "pigz \(arguments)")
        }
    }

    func testZstdCLIOutputAtSeveralLevels() throws {
        for (name, data) in samples {
            for arguments in [["-1"], ["-3"], ["-19"], ["--ultra", "-22"], ["--fast=5"], ["-T2", "-3"]] {
                let compressed = try Tool.filter("zstd", ["-q", "-c"] + arguments, data)
                XCTAssertEqual(try Codec.decode(compressed).1, data, "\(name) zstd \(arguments)")
            }
        }
    }

    func testZstdWithAndWithoutContentSize() throws {
        let dir = try TempDir()
        let data = TestData.compressible(1_300_000)
        let path = try dir.write("input", data)
        for arguments in [["--no-content-size"], ["--content-size"], ["--no-check"]] {
            let compressed = try Tool.filter("zstd", ["-q", "-c"] + arguments + [path], [])
            XCTAssertEqual(try Codec.decode(compressed).1, data, "zstd \(arguments)")
        }
        // Piped input: the CLI cannot know the size.
        XCTAssertEqual(try Codec.decode(Tool.filter("zstd", ["-q", "-c"], data)).1, data)
    }

    func testZstdMultiFrameConcatenation() throws {
        let parts = [TestData.compressible(200_000, seed: 31), TestData.random(70_000, seed: 32), [], [7]]
        var joined: [UInt8] = []
        for part in parts { joined += try Tool.filter("zstd", ["-q", "-c"], part) }
        let decoder = try ZstdDecodingSource(MemorySource(joined))
        XCTAssertEqual(try decoder.readAll(), parts.flatMap { $0 })
        XCTAssertEqual(decoder.frameCount, parts.count)
        // And the CLI agrees about the frame count.
        let dir = try TempDir()
        let listing = try Tool.run("zstd", ["-lv", try dir.write("joined.zst", joined)])
        XCTAssertTrue(listing.stdout.containsText("# Zstandard Frames: \(parts.count)"),
                      String(decoding: listing.stdout, as: UTF8.self))
    }

    func testZstdSkippableFrames() throws {
        let data = TestData.compressible(100_000)
        let frame = try Tool.filter("zstd", ["-q", "-c"], data)
        let first = Self.skippableFrame(magicLow: 0x50, payload: Array("checkpoint index".utf8))
        let middle = Self.skippableFrame(magicLow: 0x5F, payload: [UInt8](repeating: 0xAB, count: 300_000))
        let empty = Self.skippableFrame(magicLow: 0x57, payload: [])
        let stream = first + frame + middle + frame + empty
        let decoder = try ZstdDecodingSource(MemorySource(stream))
        XCTAssertEqual(try decoder.readAll(), data + data)
        XCTAssertEqual(decoder.frameCount, 2)
        XCTAssertEqual(decoder.skippableFrameCount, 3)
        // Detection works on a stream that starts with a skippable frame, and the CLI agrees on content.
        XCTAssertEqual(try Codec.decode(stream).1, data + data)
        XCTAssertEqual(try Tool.filter("zstd", ["-q", "-dc"], stream), data + data)
        // A stream of only a skippable frame decodes to nothing.
        XCTAssertEqual(try Codec.decode(first).1, [])
    }

    func testGzipAndZstdViaFiles() throws {
        // Decoding from a FileSource, as the tools will.
        let dir = try TempDir()
        let data = TestData.compressible(3 << 20)
        for (tool, args) in [("gzip", ["-c"]), ("zstd", ["-q", "-c"])] {
            let path = try dir.write("f.\(tool)", try Tool.filter(tool, args, data))
            let stream = try openDecompressed(try FileSource(path: path, bufferSize: 4096))
            XCTAssertEqual(try stream.source.readAll(), data)
        }
    }

    /// A zstd skippable frame: magic 0x184D2A5?, 4-byte little-endian length, payload.
    static func skippableFrame(magicLow: UInt8, payload: [UInt8]) -> [UInt8] {
        let n = UInt32(payload.count)
        return [magicLow, 0x2A, 0x4D, 0x18, UInt8(n & 0xFF), UInt8((n >> 8) & 0xFF), UInt8((n >> 16) & 0xFF),
                UInt8(n >> 24)] + payload
    }
}

extension Array where Element == UInt8 {
    func containsText(_ text: String) -> Bool {
        String(decoding: self, as: UTF8.self).contains(text)
    }
}
