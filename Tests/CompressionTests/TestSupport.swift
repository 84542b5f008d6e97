import ByteStreams
import Compression
import Foundation
import TestSupport
import XCTest

enum TestData {
    /// Incompressible bytes.
    static func random(_ count: Int, seed: UInt64 = 1) -> [UInt8] {
        var rng = SeededRandom(seed: seed)
        return rng.bytes(count)
    }

    /// Text-like bytes that compress several times over but not trivially.
    static func compressible(_ count: Int, seed: UInt64 = 2) -> [UInt8] {
        let words = ["checkpoint", "tensor", "layer", "weight", "bias", "optimizer", "state", "step",
                     "0.125", "-3.5e-4", "shard", "\n", "{", "}", "\"name\":", "[", "]", ",", " ", "  "]
        var rng = SeededRandom(seed: seed)
        var out = [UInt8]()
        out.reserveCapacity(count + 32)
        while out.count < count {
            out.append(contentsOf: words[Int(rng.next() % UInt64(words.count))].utf8)
        }
        out.removeLast(out.count - count)
        return out
    }
}

enum Codec {
    /// Compresses `data` with our encoder, calling `endFrame()` after each of `frameSizes` bytes.
    static func encode(_ format: CompressionFormat, _ data: [UInt8], level: Int? = nil,
                       frameSizes: [Int]? = nil, writeSize: Int = 100_000) throws -> [UInt8] {
        let sink = MemorySink()
        let encoder = try format.makeEncoder(sink, level: level)
        var offset = 0
        func write(_ count: Int) throws {
            var left = count
            while left > 0 {
                let n = min(left, writeSize)
                try data.withUnsafeBytes {
                    try encoder.write(UnsafeRawBufferPointer(rebasing: $0[offset..<(offset + n)]))
                }
                offset += n
                left -= n
            }
        }
        for size in frameSizes ?? [] {
            try write(size)
            try encoder.endFrame()
        }
        try write(data.count - offset)
        try encoder.finish()
        XCTAssertEqual(encoder.position, Int64(data.count))
        XCTAssertEqual(encoder.compressedPosition, Int64(sink.bytes.count))
        return sink.bytes
    }

    /// Detects and decodes everything in `compressed`, reading in chunks of `readSize`.
    static func decode(_ compressed: [UInt8], limits: DecompressionLimits = .default,
                       readSize: Int = 1 << 16) throws -> (CompressionFormat, [UInt8]) {
        let stream = try openDecompressed(MemorySource(compressed), limits: limits)
        var out = [UInt8]()
        while true {
            let chunk = try stream.source.read(upTo: readSize)
            if chunk.isEmpty { break }
            out.append(contentsOf: chunk)
        }
        XCTAssertEqual(stream.source.position, Int64(out.count))
        return (stream.format, out)
    }

    /// Decodes with a specific decoder class, without detection.
    static func decodeDirect(_ format: CompressionFormat, _ compressed: [UInt8],
                             limits: DecompressionLimits = .default) throws -> [UInt8] {
        let source = try format.makeDecoder(MemorySource(compressed), limits: limits)
        return try source.readAll(limit: 1 << 30)
    }
}

/// External command-line tools, found on PATH. A missing tool fails the test (CI installs them).
enum Tool {
    static func path(_ name: String, file: StaticString = #filePath, line: UInt = #line) throws -> String {
        let dirs = (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin").split(separator: ":")
        for dir in dirs {
            let candidate = "\(dir)/\(name)"
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        }
        XCTFail("\(name) not found on PATH; install it (CI does)", file: file, line: line)
        throw ToolError.missing(name)
    }

    enum ToolError: Error { case missing(String) }

    struct Result {
        var status: Int32
        var stdout: [UInt8]
        var stderr: String
    }

    /// Runs `name` with `arguments`, feeding `stdin` from a file and collecting stdout and stderr through
    /// files (no pipe deadlocks whatever the sizes).
    static func run(_ name: String, _ arguments: [String], stdin: [UInt8]? = nil,
                    file: StaticString = #filePath, line: UInt = #line) throws -> Result {
        let executable = try path(name, file: file, line: line)
        let dir = try TempDir()
        let inURL = dir.url.appendingPathComponent("stdin")
        let outURL = dir.url.appendingPathComponent("stdout")
        let errURL = dir.url.appendingPathComponent("stderr")
        try Data(stdin ?? []).write(to: inURL)
        _ = FileManager.default.createFile(atPath: outURL.path, contents: nil)
        _ = FileManager.default.createFile(atPath: errURL.path, contents: nil)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        let inHandle = try FileHandle(forReadingFrom: inURL)
        let outHandle = try FileHandle(forWritingTo: outURL)
        let errHandle = try FileHandle(forWritingTo: errURL)
        process.standardInput = inHandle
        process.standardOutput = outHandle
        process.standardError = errHandle
        try process.run()
        process.waitUntilExit()
        try? inHandle.close()
        try? outHandle.close()
        try? errHandle.close()
        return Result(status: process.terminationStatus,
                      stdout: [UInt8](try Data(contentsOf: outURL)),
                      stderr: String(decoding: try Data(contentsOf: errURL), as: UTF8.self))
    }

    /// Runs a filter (stdin to stdout) and requires exit status 0.
    static func filter(_ name: String, _ arguments: [String], _ input: [UInt8],
                       file: StaticString = #filePath, line: UInt = #line) throws -> [UInt8] {
        let result = try run(name, arguments, stdin: input, file: file, line: line)
        XCTAssertEqual(result.status, 0, "\(name) \(arguments.joined(separator: " ")): \(result.stderr)",
                       file: file, line: line)
        return result.stdout
    }
}

/// A temporary directory removed when released.
final class TempDir {
    let url: URL

    init() throws {
        url = FileManager.default.temporaryDirectory
            .appendingPathComponent("compression-tests-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }

    deinit { try? FileManager.default.removeItem(at: url) }

    func write(_ name: String, _ bytes: [UInt8]) throws -> String {
        let file = url.appendingPathComponent(name)
        try Data(bytes).write(to: file)
        return file.path
    }
}

/// Asserts that `body` throws a `CompressionError` and returns it for further checks.
@discardableResult
func assertCompressionError<T>(_ body: @autoclosure () throws -> T, _ message: String = "",
                               file: StaticString = #filePath, line: UInt = #line) -> CompressionError? {
    do {
        _ = try body()
        XCTFail("expected a CompressionError, got success. \(message)", file: file, line: line)
    } catch let error as CompressionError {
        return error
    } catch {
        XCTFail("expected a CompressionError, got \(error). \(message)", file: file, line: line)
    }
    return nil
}

/// The peak resident set size of this process in bytes (Linux `ru_maxrss` is in KiB).
func peakResidentBytes() -> Int64 {
    var usage = rusage()
    getrusage(__rusage_who_t(RUSAGE_SELF.rawValue), &usage)
    return Int64(usage.ru_maxrss) * 1024
}
