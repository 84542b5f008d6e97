import ByteStreams
@testable import CheckpointArchive
import CSysShims
import Foundation
import TarFormat
import TestSupport
import XCTest
#if canImport(Glibc)
import Glibc
#endif

/// Sections used by the extraction tests.
enum Sections {
    static let metadata = Section(.metadata)
    static let checkpoint = Section(.checkpoint)
    static let preCheckpoint = Section(.preCheckpoint)
    static let rootfs = Section(.rootfs)
    static let devshm = Section(.devshm)
    static let volumeA = Section(.volume, name: "a")
    static let volumeB = Section(.volume, name: "b")
    static let logs = Section(.logs)
    static let artifacts = Section(.artifacts)
    static let ext = Section(.ext, name: "x")
}

/// One entry to feed an extractor: its header, section and data.
struct TestEntry {
    var header: TarHeader
    var section: Section
    var data: [UInt8]

    static func file(_ path: String, _ section: Section, _ content: [UInt8] = [], mode: Int64 = 0o644) -> TestEntry {
        TestEntry(header: TarHeader(path: path, type: .regular, size: Int64(content.count), mode: mode),
                  section: section, data: content)
    }

    static func file(_ path: String, _ section: Section, text: String, mode: Int64 = 0o644) -> TestEntry {
        file(path, section, Array(text.utf8), mode: mode)
    }

    static func dir(_ path: String, _ section: Section, mode: Int64 = 0o755) -> TestEntry {
        TestEntry(header: TarHeader(path: path, type: .directory, mode: mode), section: section, data: [])
    }

    static func symlink(_ path: String, _ section: Section, to target: String) -> TestEntry {
        var h = TarHeader(path: path, type: .symbolicLink, mode: 0o777)
        h.linkName = target
        return TestEntry(header: h, section: section, data: [])
    }

    static func hardLink(_ path: String, _ section: Section, to target: String) -> TestEntry {
        var h = TarHeader(path: path, type: .hardLink, mode: 0o644)
        h.linkName = target
        return TestEntry(header: h, section: section, data: [])
    }

    static func special(_ path: String, _ section: Section, _ type: TarEntryType, major: Int64 = 0,
                        minor: Int64 = 0, mode: Int64 = 0o644) -> TestEntry {
        var h = TarHeader(path: path, type: type, mode: mode)
        h.devMajor = major
        h.devMinor = minor
        return TestEntry(header: h, section: section, data: [])
    }

    func with(_ change: (inout TarHeader) -> Void) -> TestEntry {
        var copy = self
        change(&copy.header)
        return copy
    }
}

/// The minimal sections every rootfs test starts with.
let rootfsPrelude: [TestEntry] = [.dir("rootfs/", Sections.rootfs), .dir("rootfs/tree/", Sections.rootfs)]

/// A temporary tree: `outside/` holds things an archive must never touch, `work/` is the parent of the
/// destination `work/dest`.
struct Sandbox {
    let base: URL
    var outside: String { base.path + "/outside" }
    var victim: String { outside + "/victim.txt" }
    var work: String { base.path + "/work" }
    var destination: String { work + "/dest" }

    init(_ test: XCTestCase) throws {
        let base = try TestTools.temporaryDirectory(test)
        self.base = base
        // Runs before the directory is removed (teardown blocks run last-added first): read-only
        // directories extracted by an unprivileged run would otherwise stop the removal.
        test.addTeardownBlock { Sandbox.makeWritable(base.path) }
        try FileManager.default.createDirectory(atPath: base.path + "/outside/dir", withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: base.path + "/work", withIntermediateDirectories: true)
        try Data("precious".utf8).write(to: URL(fileURLWithPath: base.path + "/outside/victim.txt"))
        try Data("also precious".utf8).write(to: URL(fileURLWithPath: base.path + "/outside/dir/inner.txt"))
    }

    static func makeWritable(_ path: String) {
        guard let st = lstatOf(path), st.st_mode & S_IFMT == S_IFDIR else { return }
        _ = chmod(path, 0o700)
        for n in (try? FileManager.default.contentsOfDirectory(atPath: path)) ?? [] { makeWritable(path + "/" + n) }
    }

    /// Every object below `base`: type, permissions, owner, size, content digest or link target.
    func snapshot() -> [String: String] { FileTreeSnapshot.take(base.path) }

    /// Names in `work/` (to see leftover staging directories).
    func workEntries() -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: work)) ?? []).sorted()
    }
}

enum FileTreeSnapshot {
    static func take(_ root: String) -> [String: String] {
        var out: [String: String] = [:]
        walk(root, relative: ".", into: &out)
        return out
    }

    private static func walk(_ path: String, relative: String, into out: inout [String: String]) {
        var st = stat()
        guard lstat(path, &st) == 0 else { return }
        let perm = String(st.st_mode & 0o7777, radix: 8)
        switch st.st_mode & S_IFMT {
        case S_IFDIR:
            out[relative] = "dir \(perm) \(st.st_uid):\(st.st_gid)"
            let names = ((try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []).sorted()
            for n in names { walk(path + "/" + n, relative: relative + "/" + n, into: &out) }
        case S_IFREG:
            let bytes = (try? Data(contentsOf: URL(fileURLWithPath: path))) ?? Data()
            out[relative] = "file \(perm) \(st.st_uid):\(st.st_gid) \(bytes.count) \(fnv(bytes)) ino-links \(st.st_nlink)"
        case S_IFLNK:
            out[relative] = "link -> \(readLink(path) ?? "?")"
        default:
            out[relative] = "other \(st.st_mode)"
        }
    }

    static func fnv(_ d: Data) -> String {
        var h: UInt64 = 0xcbf29ce484222325
        for b in d { h = (h ^ UInt64(b)) &* 0x100000001b3 }
        return String(h, radix: 16)
    }
}

func readLink(_ path: String) -> String? {
    var buf = [CChar](repeating: 0, count: 4097)
    let n = readlink(path, &buf, 4096)
    guard n >= 0 else { return nil }
    return String(decoding: buf[0..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self)
}

func lstatOf(_ path: String) -> stat? {
    var st = stat()
    return lstat(path, &st) == 0 ? st : nil
}

func fileBytes(_ path: String) -> [UInt8]? {
    (try? Data(contentsOf: URL(fileURLWithPath: path))).map { [UInt8]($0) }
}

func xattr(_ path: String, _ name: String) -> [UInt8]? {
    let n = lgetxattr(path, name, nil, 0)
    guard n >= 0 else { return nil }
    var v = [UInt8](repeating: 0, count: n)
    let got = v.withUnsafeMutableBytes { lgetxattr(path, name, $0.baseAddress, n) }
    guard got >= 0 else { return nil }
    return Array(v[0..<got])
}

var isRoot: Bool { geteuid() == 0 }

/// Deterministic pseudo-random bytes.
func pseudoRandomBytes(_ count: Int, seed: UInt64 = 42) -> [UInt8] {
    var state = seed
    var out = [UInt8](repeating: 0, count: count)
    for i in 0..<count {
        state = state &* 6364136223846793005 &+ 1442695040888963407
        out[i] = UInt8(truncatingIfNeeded: state >> 33)
    }
    return out
}

extension XCTestCase {
    /// Feeds `entries` to `sink`, giving each header a distinct offset (1024 * index).
    func feed(_ sink: UnpackedEntrySink, _ entries: [TestEntry], firstOffset: Int64 = 0) throws {
        for (i, e) in entries.enumerated() {
            var h = e.header
            h.headerOffset = firstOffset + Int64(i) * 1024
            try sink.add(h, section: e.section, data: MemorySource(e.data), reflink: nil)
        }
    }

    /// Extracts `entries` into a sandbox and expects a refusal with `requirement` on the last entry, leaving
    /// the sandbox exactly as it was (no destination, no staging directory, nothing outside changed).
    @discardableResult
    func expectRefusal(_ requirement: String, _ entries: [TestEntry],
                       options: SafeExtractor.Options = SafeExtractor.Options(),
                       prepare: ((Sandbox) throws -> Void)? = nil,
                       file: StaticString = #filePath, line: UInt = #line) throws -> CheckpointError? {
        let box = try Sandbox(self)
        try prepare?(box)
        let before = box.snapshot()
        let extractor = try SafeExtractor(destination: box.destination, options: options)
        var caught: CheckpointError?
        do {
            try feed(extractor, entries)
            try extractor.commit()
            XCTFail("expected a refusal with \(requirement)", file: file, line: line)
        } catch let e as CheckpointError {
            caught = e
            XCTAssertEqual(e.requirement, requirement, "\(e)", file: file, line: line)
            XCTAssertEqual(e.entry, entries.last?.header.path, "\(e)", file: file, line: line)
            XCTAssertEqual(e.offset, Int64(entries.count - 1) * 1024, "\(e)", file: file, line: line)
        }
        XCTAssertNil(lstatOf(box.destination), "destination must not exist", file: file, line: line)
        XCTAssertEqual(box.snapshot(), before, "the sandbox changed", file: file, line: line)
        XCTAssertEqual(FileTreeSnapshot.fnv(Data(fileBytes(box.victim) ?? [])),
                       FileTreeSnapshot.fnv(Data("precious".utf8)), file: file, line: line)
        return caught
    }
}
