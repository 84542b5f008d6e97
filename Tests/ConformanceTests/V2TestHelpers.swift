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
    static func make(_ root: URL) throws {
        let fm = FileManager.default
        let tree = FixtureTree(root)
        var rng = SystemRandomNumberGenerator()
        let random = (0..<120_000).map { _ in UInt8.random(in: 0...255, using: &rng) }
        try tree.text("metadata/config.dump", #"{"id":"abc","name":"rich","runtime":"crun"}"#)
        try tree.text("metadata/spec.dump", #"{"ociVersion":"1.1.0","annotations":{"io.container.manager":"libpod"}}"#)
        try tree.text("metadata/network.status", "{}")
        try tree.file("checkpoint/inventory.img", [0x16, 0x31, 0x31, 0x58] + Array(repeating: 1, count: 40))
        try tree.file("checkpoint/pages-1.img", Array(random[0..<70_000]))
        try tree.text("rootfs/deleted.files", "[\n  \"/etc/motd\",\n  \"/var/cache\"\n]")
        try tree.text("rootfs/implied.dirs", "[\n  \"/usr\",\n  \"/usr/lib\"\n]")
        try tree.dir("rootfs/tree/usr/lib")
        try tree.dir("rootfs/tree/etc")
        try tree.text("rootfs/tree/etc/app.conf", "x=1\n", 0o644)
        try tree.file("rootfs/tree/usr/lib/big.bin", Array(random[0..<50_000]), 0o755)
        try tree.text("rootfs/tree/usr/lib/äöü-日本語.txt", "utf8\n", 0o644)
        try tree.text("rootfs/tree/usr/lib/" + String(repeating: "long", count: 40), "long\n", 0o644)
        try fm.createSymbolicLink(atPath: root.appendingPathComponent("rootfs/tree/etc/localtime").path,
                                  withDestinationPath: "/usr/share/zoneinfo/UTC")
        try fm.linkItem(at: root.appendingPathComponent("rootfs/tree/etc/app.conf"),
                        to: root.appendingPathComponent("rootfs/tree/etc/app.conf.hard"))
        XCTAssertEqual(mkfifo(root.appendingPathComponent("rootfs/tree/etc/fifo").path, 0o644), 0)
        try tree.text("rootfs/tree/etc/setuid-tool", "#!/bin/sh\n", 0o4755)
        try tree.dir("devshm", 0o1777)
        try tree.file("devshm/segment", Array(random[0..<5000]), 0o644)
        try tree.dir("volumes/data")
        try tree.text("volumes/data/db.sqlite", "sqlite", 0o644)
        try tree.dir("volumes/logs-vol/sub")
        try tree.text("volumes/logs-vol/sub/x.log", "log\n", 0o644)
        try tree.text("logs/ctr.log", "hello\n")
        try tree.text("artifacts/note.txt", "artifact\n", 0o644)
        try fm.createSymbolicLink(atPath: root.appendingPathComponent("artifacts/note-link").path,
                                  withDestinationPath: "note.txt")
        try tree.text("ext/vendor.example/data.json", "{}", 0o644)
    }

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
