import Foundation
import XCTest

/// The result of running an external program.
public struct ProcessResult {
    public var status: Int32
    public var stdout: Data
    public var stderr: Data
    public var stdoutText: String { String(decoding: stdout, as: UTF8.self) }
    public var stderrText: String { String(decoding: stderr, as: UTF8.self) }
}

/// Helpers for tests that compare against real tools (GNU tar, bsdtar, Python, Go, gzip, zstd).
public enum TestTools {
    /// Runs `arguments[0]` (looked up in PATH) with the rest as arguments.
    /// - Parameters:
    ///   - stdin: bytes fed to standard input, or nil for /dev/null.
    ///   - stdinFile: a file connected to standard input instead.
    ///   - directory: the working directory.
    @discardableResult
    public static func run(_ arguments: [String], stdin: Data? = nil, stdinFile: URL? = nil,
                           directory: URL? = nil, environment: [String: String]? = nil) throws -> ProcessResult {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = arguments
        if let directory { process.currentDirectoryURL = directory }
        if let environment {
            process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        }
        let outFile = FileManager.default.temporaryDirectory.appendingPathComponent("out-\(UUID().uuidString)")
        let errFile = FileManager.default.temporaryDirectory.appendingPathComponent("err-\(UUID().uuidString)")
        FileManager.default.createFile(atPath: outFile.path, contents: nil)
        FileManager.default.createFile(atPath: errFile.path, contents: nil)
        defer {
            try? FileManager.default.removeItem(at: outFile)
            try? FileManager.default.removeItem(at: errFile)
        }
        let out = try FileHandle(forWritingTo: outFile)
        let err = try FileHandle(forWritingTo: errFile)
        process.standardOutput = out
        process.standardError = err
        var inputFile: URL?
        if let stdinFile {
            process.standardInput = try FileHandle(forReadingFrom: stdinFile)
        } else if let stdin {
            let f = FileManager.default.temporaryDirectory.appendingPathComponent("in-\(UUID().uuidString)")
            try stdin.write(to: f)
            inputFile = f
            process.standardInput = try FileHandle(forReadingFrom: f)
        } else {
            process.standardInput = FileHandle.nullDevice
        }
        defer { if let inputFile { try? FileManager.default.removeItem(at: inputFile) } }
        try process.run()
        process.waitUntilExit()
        try out.close()
        try err.close()
        return ProcessResult(status: process.terminationStatus, stdout: try Data(contentsOf: outFile),
                             stderr: try Data(contentsOf: errFile))
    }

    /// Fails the test (it does not skip) when a tool CI installs is missing.
    public static func require(_ tool: String, file: StaticString = #filePath, line: UInt = #line) throws {
        let r = try run(["sh", "-c", "command -v \(tool)"])
        if r.status != 0 {
            XCTFail("\(tool) is not installed; .ci/run installs it", file: file, line: line)
            throw XCTSkip("missing \(tool)")
        }
    }

    /// A new empty temporary directory, removed when the test ends.
    public static func temporaryDirectory(_ test: XCTestCase) throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("ckpt-test-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        test.addTeardownBlock { try? FileManager.default.removeItem(at: url) }
        return url
    }

    /// The directory holding the built products (`ckpt`, `ckpt-validate`, `ckpt-vectors`).
    public static var productsDirectory: URL {
        for bundle in Bundle.allBundles where bundle.bundlePath.hasSuffix(".xctest") {
            return bundle.bundleURL.deletingLastPathComponent()
        }
        return Bundle.main.bundleURL
    }

    /// The path of a built executable product.
    public static func product(_ name: String) -> String {
        productsDirectory.appendingPathComponent(name).path
    }

    /// The repository root, found from this source file's location.
    public static var repositoryRoot: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
    }
}
