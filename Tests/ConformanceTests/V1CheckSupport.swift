import ByteStreams
import CheckpointArchive
import Compression
@testable import Conformance
import Foundation
import TarFormat
import TestSupport
import XCTest

/// Builds v1 archives entry by entry with this package's tar writer, and runs `V1Checker` on archive bytes.
enum V1TestArchive {
    typealias Entry = (TarHeader, [UInt8])

    static func file(_ name: String, _ content: String, mode: Int64 = 0o600) -> Entry {
        (TarHeader(path: name, type: .regular, mode: mode), Array(content.utf8))
    }

    static func file(_ name: String, bytes: [UInt8], mode: Int64 = 0o600) -> Entry {
        (TarHeader(path: name, type: .regular, mode: mode), bytes)
    }

    static func dir(_ name: String, mode: Int64 = 0o755) -> Entry { (TarHeader(path: name, type: .directory, mode: mode), []) }

    static func link(_ name: String, to target: String, type: TarEntryType = .symbolicLink) -> Entry {
        var h = TarHeader(path: name, type: type, mode: 0o777)
        h.linkName = target
        return (h, [])
    }

    /// A tar stream of the entries.
    static func tar(_ entries: [Entry]) throws -> [UInt8] {
        let sink = MemorySink()
        let w = try TarWriter(sink: sink)
        for (h, data) in entries { try w.writeEntry(h, data: data) }
        try w.finish()
        return sink.bytes
    }

    static func gzip(_ bytes: [UInt8]) throws -> [UInt8] { try compress(bytes, .gzip) }

    static func compress(_ bytes: [UInt8], _ format: CompressionFormat) throws -> [UInt8] {
        let sink = MemorySink()
        let encoder = try format.makeEncoder(sink)
        try bytes.withUnsafeBytes { try encoder.write($0) }
        try encoder.finish()
        return sink.bytes
    }

    /// A CRIU `stats-dump` with an empty payload.
    static let statsDump: [UInt8] = [0x40, 0x59, 0x10, 0x55, 0x06, 0x33, 0x09, 0x57, 0, 0, 0, 0]
    /// The start of a CRIU inventory image.
    static let inventory: [UInt8] = [0x16, 0x31, 0x31, 0x58, 0x24, 0, 0, 0]

    static let podmanConfig = #"{"id":"0123abcd","name":"demo","rootfsImageID":"abc"}"#
    static let podmanSpec = #"{"ociVersion":"1.2.0","annotations":{"io.container.manager":"libpod"}}"#
    static let crioConfig = """
    {
      "id": "c0ffee",
      "name": "counter",
      "checkpointedTime": "2024-01-01T00:01:00Z"
    }
    """
    static let crioSpec = #"{"ociVersion":"1.2.0","annotations":{"io.container.manager":"cri-o","io.kubernetes.cri-o.Metadata":"{}","io.kubernetes.cri-o.Annotations":"{\"a\":\"b\"}"}}"#
    static let containerdConfig = #"{"id":"c0ffee","name":"ctr","checkpointedTime":"2024-01-01T00:01:00Z"}"#
    static let containerdSpec = #"{"ociVersion":"1.1.0","annotations":{"io.kubernetes.cri.container-name":"ctr"}}"#

    static let podmanOrder = ["artifacts", "devshm-checkpoint.tar", "config.dump", "spec.dump", "network.status",
                              "stats-dump", "ctr.log", "pre-checkpoint", "checkpoint", "rootfs-diff.tar", "deleted.files",
                              "volumes"]
    static let crioOrder = ["stats-dump", "dump.log", "checkpoint", "config.dump", "spec.dump", "bind.mounts",
                            "rootfs-diff.tar", "deleted.files", "io.kubernetes.cri-o.LogPath"]

    /// The entries in an engine's order of top-level names (stable; names the list lacks go last).
    static func ordered(_ entries: [Entry], by order: [String]) -> [Entry] {
        func rank(_ e: Entry) -> Int {
            let top = e.0.path.split(separator: "/").first.map(String.init) ?? ""
            return order.firstIndex(of: top) ?? order.count
        }
        return entries.enumerated().sorted { (rank($0.element), $0.offset) < (rank($1.element), $1.offset) }
            .map(\.element)
    }

    /// A valid Podman archive with `extra` entries, in Podman's include-list order.
    static func podman(_ extra: [Entry] = [], spec: String = podmanSpec, config: String = podmanConfig) throws -> [UInt8] {
        try tar(ordered([file("config.dump", config), file("spec.dump", spec), dir("checkpoint/"),
                         file("checkpoint/inventory.img", bytes: inventory)] + extra, by: podmanOrder))
    }

    /// A valid CRI-O archive with `extra` entries, in CRI-O's order.
    static func crio(_ extra: [Entry] = [], spec: String = crioSpec) throws -> [UInt8] {
        try tar(ordered([dir("checkpoint/"), file("checkpoint/inventory.img", bytes: inventory), file("config.dump", crioConfig),
                         file("spec.dump", spec)] + extra, by: crioOrder))
    }

    /// A gzip OCI layer holding `entries`.
    static func layer(_ entries: [Entry]) throws -> [UInt8] { try gzip(try tar(entries)) }

    /// A valid containerd archive (lexical order); `rootfs` nil leaves out rootfs-diff.tar.
    static func containerd(rootfs: [UInt8]? = nil, extra: [Entry] = [], statusDump: Bool = true) throws -> [UInt8] {
        var entries: [Entry] = [dir("checkpoint/"), file("checkpoint/inventory.img", bytes: inventory),
                                file("config.dump", containerdConfig)]
        if let rootfs { entries.append(file("rootfs-diff.tar", bytes: rootfs, mode: 0o644)) }
        entries.append(file("spec.dump", containerdSpec))
        if statusDump { entries.append(file("status.dump", #"{"id":"c0ffee"}"#)) }
        return try tar(entries + extra)
    }

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
