import ByteStreams
import CheckpointArchive
@testable import Conformance
import Foundation
import TestSupport
import XCTest

/// The structures that keep the validator's memory fixed: the name table, the record spool, the frame tracker
/// and the streaming JSON input. Each is checked against a plain in-memory reference, with limits small enough
/// that the temporary files are used.
final class BoundedMemoryTests: XCTestCase {
    private func names(_ n: Int) -> [[UInt8]] {
        (0..<n).map { Array("rootfs/tree/usr/share/d\($0 % 97)/file-\($0)".utf8) }
    }

    func testNameTableMatchesADictionaryInMemoryAndOnDisk() {
        for limit in [Int.max, 16 << 10] {
            let table = NameTable(memoryLimit: limit)
            var reference: [[UInt8]: UInt8] = [:]
            var rng = SystemRandomNumberGenerator()
            let all = names(40_000)
            for (i, name) in all.enumerated() {
                let flag = UInt8(1) << UInt8(i % 8)
                let old = table.insert(NameTable.key(name), flags: flag)
                XCTAssertEqual(old, reference[name])
                reference[name, default: 0] |= flag
                // Re-insert some earlier names: flags accumulate.
                if i % 7 == 0, let earlier = all.prefix(i + 1).randomElement(using: &rng) {
                    XCTAssertEqual(table.insert(NameTable.key(earlier), flags: 0x80), reference[earlier])
                    reference[earlier, default: 0] |= 0x80
                }
            }
            XCTAssertEqual(table.count, reference.count)
            for (name, flags) in reference { XCTAssertEqual(table[NameTable.key(name)], flags) }
            XCTAssertNil(table[NameTable.key(Array("not/a/name".utf8))])
            XCTAssertEqual(table.isOnDisk, limit != Int.max, "limit \(limit)")
            XCTAssertNil(table.ioError)
        }
    }

    func testNameTableUpdateSetsExactFlags() {
        let table = NameTable(memoryLimit: 16 << 10)
        for name in names(5000) { table.insert(NameTable.key(name), flags: 3) }
        XCTAssertTrue(table.isOnDisk)
        let key = NameTable.key(names(1)[0])
        XCTAssertEqual(table.update(key) { ($0 ?? 0) & ~1 }, 3)
        XCTAssertEqual(table[key], 2)
        XCTAssertEqual(NameTable.key(Array("a".utf8)), NameTable.key("a".utf8), "one key for equal bytes")
        XCTAssertNotEqual(NameTable.key(Array("a".utf8)), NameTable.key(Array("b".utf8)))
    }

    func testRecordSpoolReadsBackInOrderFromMemoryAndFile() {
        for limit in [1 << 20, 100] {
            let spool = RecordSpool(memoryLimit: limit)
            for i in 0..<3000 {
                var w = RecordWriter()
                w.int(Int64(i))
                w.string(String(repeating: "x", count: i % 300))
                w.optionalInt(i % 3 == 0 ? nil : Int64(-i))
                spool.append(w)
            }
            XCTAssertEqual(spool.isOnDisk, limit == 100)
            let reader = spool.makeReader()
            var n = 0
            while var r = reader.next() {
                XCTAssertEqual(r.int(), Int64(n))
                XCTAssertEqual(r.string().count, n % 300)
                XCTAssertEqual(r.optionalInt(), n % 3 == 0 ? nil : Int64(-n))
                n += 1
            }
            XCTAssertEqual(n, 3000)
            XCTAssertNil(spool.ioError)
        }
    }

    func testFrameTrackerFindsMembersInItsWindow() {
        let t = FrameTracker(window: 4)
        XCTAssertNil(t.member(containing: 0))
        t.memberStarted(compressedOffset: 0, tarOffset: 0)
        t.memberStarted(compressedOffset: 100, tarOffset: 2048)
        t.memberStarted(compressedOffset: 120, tarOffset: 2048)  // an empty member and the real one
        t.memberStarted(compressedOffset: 300, tarOffset: 8192)
        XCTAssertEqual(t.memberCount, 4)
        XCTAssertEqual(t.members(at: 2048), .members(first: 100, last: 120))
        XCTAssertEqual(t.members(at: 4096), FrameTracker.Lookup.none)
        XCTAssertEqual(t.member(containing: 5000), 120)
        XCTAssertEqual(t.member(containing: 8192), 300)
        XCTAssertEqual(t.member(containing: 100), 0)
        t.memberStarted(compressedOffset: 400, tarOffset: 9000)
        t.memberStarted(compressedOffset: 500, tarOffset: 9500)  // 0 leaves the window
        XCTAssertEqual(t.members(at: 0), .unknown)
        XCTAssertEqual(t.members(at: 2048), .members(first: 100, last: 120))
        t.memberStarted(compressedOffset: 600, tarOffset: 9600)  // and 2048
        XCTAssertEqual(t.members(at: 2048), .unknown)
        XCTAssertEqual(t.members(at: 4096), FrameTracker.Lookup.none, "after every forgotten start")
        XCTAssertEqual(t.members(at: 8192), .members(first: 300, last: 300))
        XCTAssertNil(t.member(containing: 100), "older than the window")
        XCTAssertEqual(t.member(containing: 9400), 400)
    }

    /// A document read through a window in chunks of any size gives the same walk as the whole document.
    func testJSONInputInChunksWalksLikeTheWholeDocument() throws {
        let text = #"{"a":[1,2,{"b":"c\u00e9\n"}],"long":"\#(String(repeating: "y", count: 100_000))","n":-1.5e3,"t":true}"#
        let bytes = Array(text.utf8)
        func walk(_ input: V2JSONInput) throws -> (V2JSONValue, [String]) {
            var c = V2JSONCursor(input)
            let v = try c.value()
            XCTAssertFalse(try c.hasMore())
            return (v, c.nonCanonical)
        }
        let whole = try walk(V2JSONInput(bytes))
        for size in [1, 7, 4096] {
            var at = 0
            let chunked = try walk(V2JSONInput(next: {
                let n = min(size, bytes.count - at)
                defer { at += n }
                return bytes.withUnsafeBytes { UnsafeRawBufferPointer(rebasing: $0[at..<(at + n)]) }
            }))
            XCTAssertEqual(chunked.0, whole.0, "chunks of \(size)")
            XCTAssertEqual(chunked.1, whole.1, "chunks of \(size)")
        }
        // A token longer than the window's limit is a failure, not unbounded growth.
        var at = 0
        let limited = V2JSONInput(maxToken: 1000, next: {
            let n = min(64, bytes.count - at)
            defer { at += n }
            return bytes.withUnsafeBytes { UnsafeRawBufferPointer(rebasing: $0[at..<(at + n)]) }
        })
        XCTAssertThrowsError(try walk(limited)) { XCTAssertTrue("\($0)".contains("longer than 1000 bytes"), "\($0)") }
    }

    /// A v1 check (names of the outer stream, of rootfs-diff.tar and of the unpacked tree) finds the same when
    /// its name tables live in temporary files.
    func testV1CheckIsTheSameWithTinyMemoryLimits() throws {
        typealias C = V1TestArchive
        var nested: [C.Entry] = []
        for d in 0..<20 {
            for f in 0..<60 { nested.append(C.file(String(format: "usr/d%02d/f%02d", d, f), "\(d)-\(f)", mode: 0o644)) }
        }
        nested += [C.file("usr/d03/f07", "dup", mode: 0o644), C.link("usr/hard", to: "usr/d05/f05", type: .hardLink),
                   C.link("usr/dangling", to: "usr/none", type: .hardLink), C.file("usr/d07/f01/below", "x", mode: 0o644)]
        let archive = try C.podman([C.file("rootfs-diff.tar", bytes: try C.tar(nested), mode: 0o644)])
        let file = try TestTools.temporaryDirectory(self).appendingPathComponent("v1.tar")
        try Data(archive).write(to: file)
        var roomy = ValidatorOptions()
        roomy.maxDiagnosticsPerRule = 100
        var tiny = roomy
        tiny.nameTableMemory = 0
        let a = Validator(options: roomy).validate(file: "v1", source: try FileSource(path: file.path))
        let b = Validator(options: tiny).validate(file: "v1", source: try FileSource(path: file.path))
        let text = a.diagnostics.map { "\($0.id) \($0.path ?? "-"): \($0.message)" }.joined(separator: "\n")
        XCTAssertNil(b.ioError)
        XCTAssertEqual(a.diagnostics, b.diagnostics)
        XCTAssertEqual(Set(a.diagnostics.map(\.id)), ["CKA-TAR-037", "CKA-TAR-038", "CKA-TAR-040"], text)
        XCTAssertEqual(a.profile, "podman")
    }

    /// With memory limits that push every record, name and list to temporary files, a v2 check finds the same.
    func testV2CheckIsTheSameWithTinyMemoryLimits() throws {
        var archive = V2TestArchive()
        var extra: [V2TestEntry] = []
        func name(_ d: Int, _ f: Int) -> String { String(format: "rootfs/tree/etc/d%02d/f%02d", d, f) }
        for d in 0..<30 {
            extra.append(.dir(String(format: "rootfs/tree/etc/d%02d/", d)))
            for f in 0..<40 { extra.append(.file(name(d, f), "\(d)-\(f)", mode: 0o644)) }
        }
        archive.entries.insert(extra, after: "rootfs/tree/etc/app.conf")
        // Findings to keep: a duplicate name (out of order too), an index record with a wrong name, one with a wrong
        // size, a file the index does not list, a record for a file that is not there.
        archive.entries += [.file(name(3, 1), "again", mode: 0o644)]
        archive.indexText = { text in
            var t = text.replacingOccurrences(of: "{\"path\":\"\(name(5, 7))\",", with: #"{"path":"rootfs/tree/etc/nope","#)
                .replacingOccurrences(of: "{\"path\":\"\(name(9, 2))\",\"size\":3,", with: "{\"path\":\"\(name(9, 2))\",\"size\":4,")
            let dropped = t.range(of: "{\"path\":\"\(name(7, 3))\"")!
            let end = t.range(of: "},", range: dropped.upperBound..<t.endIndex)!
            t.removeSubrange(dropped.lowerBound..<end.upperBound)
            return t.replacingOccurrences(of: "],\"indexOffset\"", with: #",{"path":"x","size":1,"offset":1,"sha256":"\#(String(repeating: "0", count: 64))"}],"indexOffset""#)
        }
        let built = try archive.build()
        let file = try TestTools.temporaryDirectory(self).appendingPathComponent("many.tar")
        try Data(built.file).write(to: file)
        var roomy = ValidatorOptions()
        roomy.maxDiagnosticsPerRule = 100
        var tiny = roomy
        tiny.nameTableMemory = 0
        tiny.spoolMemory = 64
        let a = Validator(options: roomy).validate(file: "many.tar", source: try FileSource(path: file.path))
        let b = Validator(options: tiny).validate(file: "many.tar", source: try FileSource(path: file.path))
        let text = a.diagnostics.map { "\($0.id) \($0.path ?? "-"): \($0.message)" }.joined(separator: "\n")
        XCTAssertNil(a.ioError)
        XCTAssertNil(b.ioError)
        XCTAssertEqual(a.diagnostics, b.diagnostics)
        XCTAssertEqual(Set(a.diagnostics.map(\.id)), ["CKA-IDX-005", "CKA-V2-048", "CKA-TAR-037"], text)
        XCTAssertEqual(a.diagnostics.filter { $0.id == "CKA-IDX-005" }.map(\.path),
                       [name(5, 7), name(7, 3), name(9, 2), "cka-index.json"], text)
    }
}
