import ByteStreams
import CheckpointArchive
import Compression
@testable import Conformance
import Foundation
import TarFormat
import TestSupport
import XCTest
#if canImport(Glibc)
import Glibc
#endif

/// Running the checker on bytes.
struct V2Outcome {
    var diagnostics: [Diagnostic]
    var checked: [String]
    var result: V2CheckResult
    var malformed: Error?

    var ids: Set<String> { Set(diagnostics.map(\.id)) }
}

enum V2Check {
    /// Runs the v2 checker alone (no tar-layer rules) on archive bytes.
    /// - Parameter frames: whether the decoder's member starts are given to the checker (as the engine does);
    ///   without them CKA-FRM-001 is not checked and compressedStart only for consistency.
    static func run(_ file: [UInt8], options: ValidatorOptions = ValidatorOptions(), tail: Bool = true,
                    frames: Bool = true) throws -> V2Outcome {
        let decoded = try openDecompressed(MemorySource(file))
        let tracker = FrameTracker()
        decoded.decoder?.onMemberStart = { tracker.memberStarted(compressedOffset: $0, tarOffset: $1) }
        let collector = DiagnosticCollector(capPerRule: 50)
        let checker = V2Checker(collector: collector, options: options, compression: decoded.format,
                                tail: tail ? Array(file.suffix(64)) : nil, tarObserver: nil, entryHook: nil,
                                frames: frames && decoded.decoder != nil ? tracker : nil)
        var failure: Error?
        let result = checker.check(stream: decoded.source) { failure = $0 }
        return V2Outcome(diagnostics: collector.diagnostics, checked: collector.checked, result: result,
                         malformed: failure)
    }

    static func run(_ archive: V2TestArchive, options: ValidatorOptions = ValidatorOptions()) throws -> V2Outcome {
        try run(archive.build().file, options: options)
    }

    static func describe(_ o: V2Outcome) -> String {
        o.diagnostics.map { "\($0.id) \($0.path ?? "-")@\($0.offset.map(String.init) ?? "-"): \($0.message)" }
            .joined(separator: "\n") + (o.malformed.map { "\nmalformed: \($0)" } ?? "")
    }
}

/// An unpacked checkpoint directory with every section kind, for `V2Encoder`.
enum V2Fixture {
    /// The shared rich tree (TestSupport's `CheckpointTrees`).
    static func make(_ root: URL) throws { try CheckpointTrees.makeRich(root) }

    /// `V2Encoder` output (what `ckpt create` writes) for a directory.
    static func encode(_ dir: URL, compression: CompressionFormat = .none, framed: Bool = false, alignment: Int = 0,
                       deterministic: Bool = true) throws -> [UInt8] {
        var options = V2EncoderOptions()
        options.compression = compression
        options.framed = framed
        options.alignment = alignment
        options.deterministic = deterministic
        let sink = MemorySink()
        _ = try V2Encoder(directory: dir.path, options: options).encode(to: sink)
        return sink.bytes
    }
}

extension XCTestCase {
    /// The mutated worked example has a finding of `id`; the variant (the worked example itself when nil) has
    /// none. Returns the findings of the mutated archive.
    @discardableResult
    func assertRule(_ id: String, options: ValidatorOptions = ValidatorOptions(), file: StaticString = #filePath,
                    line: UInt = #line, _ mutate: (inout V2TestArchive) -> Void,
                    variant: ((inout V2TestArchive) -> Void)? = nil) throws -> V2Outcome {
        var bad = V2TestArchive()
        mutate(&bad)
        let found = try V2Check.run(bad, options: options)
        XCTAssertTrue(found.ids.contains(id), "no \(id) in:\n\(V2Check.describe(found))", file: file, line: line)
        XCTAssertNil(found.malformed, file: file, line: line)
        var good = V2TestArchive()
        variant?(&good)
        let clean = try V2Check.run(good, options: options)
        XCTAssertFalse(clean.ids.contains(id), "\(id) in the variant:\n\(V2Check.describe(clean))", file: file, line: line)
        if variant == nil { XCTAssertEqual(clean.diagnostics, [], file: file, line: line) }
        return found
    }

    /// The findings of a tar stream (uncompressed) changed after the builder made it.
    func outcome(_ archive: V2TestArchive = V2TestArchive(), options: ValidatorOptions = ValidatorOptions(),
                 _ change: (inout [UInt8], V2TestLayout) throws -> Void) throws -> V2Outcome {
        let built = try archive.build()
        var bytes = built.file
        try change(&bytes, built.layout)
        return try V2Check.run(bytes, options: options)
    }
}
