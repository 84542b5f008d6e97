import ByteStreams
import CheckpointArchive
import Compression
@testable import Conformance
import Foundation
import TarFormat
import TestSupport
import XCTest

/// The v1 archive builder (`VectorCorpus.V1TestArchive`, shared with the golden vectors) with `V1Checker` runs.
extension V1TestArchive {
    /// Checks archive bytes (compressed or not) as `ckpt-validate` does for v1.
    static func run(_ bytes: [UInt8], profile: ValidatorOptions.ProfileChoice = .auto)
        -> (collector: DiagnosticCollector, result: V1CheckResult) {
        let collector = DiagnosticCollector()
        var options = ValidatorOptions()
        options.profile = profile
        do {
            let decoded = try openDecompressed(MemorySource(bytes))
            MalformedInput.noteCompression(decoded.format, format: .v1, to: collector)
            let result = V1Checker(collector: collector, options: options, compression: decoded.format)
                .check(stream: decoded.source)
            return (collector, result)
        } catch {
            MalformedInput.report(error, to: collector, format: .v1)
            return (collector, V1CheckResult())
        }
    }

    static func run(file path: String, profile: ValidatorOptions.ProfileChoice = .auto) throws
        -> (collector: DiagnosticCollector, result: V1CheckResult) {
        run(try FileSource(path: path).readAll(limit: 1 << 30), profile: profile)
    }
}

extension XCTestCase {
    /// Asserts the set of requirement IDs `V1Checker` reports for `bytes`.
    @discardableResult
    func assertV1Findings(_ bytes: [UInt8], _ expected: Set<String>, profile: ValidatorOptions.ProfileChoice = .auto,
                          file: StaticString = #filePath, line: UInt = #line) -> (DiagnosticCollector, V1CheckResult) {
        let (c, result) = V1TestArchive.run(bytes, profile: profile)
        XCTAssertEqual(Set(c.diagnostics.map(\.id)), expected,
                       c.diagnostics.map { "\($0.id) [\($0.severity)] \($0.offset ?? -1) \($0.path ?? "-"): \($0.message)" }
                           .joined(separator: "\n"), file: file, line: line)
        return (c, result)
    }

    /// A directory tree on disk for GNU tar or `ckpt create`: paths ending in `/` are directories.
    func makeV1TestTree(_ files: [String: (String, Int)], dirs: [String] = []) throws -> URL {
        let root = try TestTools.temporaryDirectory(self).appendingPathComponent("tree")
        let fm = FileManager.default
        try fm.createDirectory(at: root, withIntermediateDirectories: true)
        for d in dirs {
            try fm.createDirectory(at: root.appendingPathComponent(d), withIntermediateDirectories: true)
        }
        for (path, (content, mode)) in files {
            let url = root.appendingPathComponent(path)
            try fm.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            XCTAssertTrue(fm.createFile(atPath: url.path, contents: Data(content.utf8)))
            try fm.setAttributes([.posixPermissions: mode], ofItemAtPath: url.path)
        }
        return root
    }
}
