import ByteStreams
@testable import CheckpointArchive
import Compression
import Foundation
import TarFormat
import TestSupport
import XCTest

/// What `V1Writer` refuses (CKA-CNV-008 and friends), its options, and the exact bytes of what it makes.
final class V1WriterTests: XCTestCase {
    /// A minimal unpacked directory for `profile`.
    func minimal(_ profile: CheckpointProfile) throws -> (URL, V1DirBuilder) {
        let url = try TestTools.temporaryDirectory(self).appendingPathComponent("unpacked")
        let b = V1DirBuilder(url)
        b.dir("")
        b.dir("metadata")
        b.file("metadata/config.dump", #"{"id":"0123","name":"demo"}"#)
        switch profile {
        case .podman: b.file("metadata/spec.dump", V1Test.podmanSpec)
        case .crio: b.file("metadata/spec.dump", V1Test.crioSpec)
        case .containerd:
            b.file("metadata/spec.dump", "{}")
            b.file("metadata/status.dump", "{}")
        case .generic: b.file("metadata/spec.dump", "{}")
        }
        b.dir("checkpoint")
        b.file("checkpoint/inventory.img", "i")
        return (url, b)
    }

    func refuse(_ requirement: String, _ dir: URL, _ profile: CheckpointProfile, options: V1WriterOptions = V1Test.deterministicOptions,
                file: StaticString = #filePath, line: UInt = #line) -> CheckpointError? {
        let sink = MemorySink()
        let e = V1Test.expectError(requirement, file: file, line: line) {
            try V1Writer(options: options).write(directory: dir.path, profile: profile, to: sink)
        }
        XCTAssertEqual(sink.bytes.count, 0, "nothing is written before the checks", file: file, line: line)
        return e
    }

    func testMinimalArchivesOfEveryProfile() throws {
        for profile in CheckpointProfile.allCases {
            let (dir, _) = try minimal(profile)
            let (bytes, summary) = try V1Test.write(dir, profile)
            let (sink, read) = try V1Test.read(bytes)
            XCTAssertEqual(read.profile, profile)
            XCTAssertEqual(read.sections, summary.sections)
            V1Test.assertSameTree(sink.nodes, try V1Test.snapshot(dir.path))
        }
    }

    /// A rootfs section with nothing in it is written as nothing (Podman) or an empty layer (containerd), and
    /// reads back as no rootfs section (table 5.11); the writer's summary says so.
    func testEmptyRootfsIsNoSection() throws {
        for profile in [CheckpointProfile.podman, .containerd] {
            let (dir, b) = try minimal(profile)
            b.dir("rootfs/tree")
            b.file("rootfs/deleted.files", "[]")
            let (bytes, summary) = try V1Test.write(dir, profile)
            XCTAssertFalse(summary.sections.contains(Section(.rootfs)))
            XCTAssertFalse(summary.entryNames.contains("deleted.files"))
            XCTAssertEqual(try V1Test.read(bytes).summary.sections, summary.sections)
        }
    }

    func testSectionsTheProfileLacks() throws {
        for profile in [CheckpointProfile.crio, .containerd] {
            for extra in ["devshm", "volumes/data", "artifacts"] {
                let (dir, b) = try minimal(profile)
                b.dir(extra)
                _ = refuse("CKA-CNV-008", dir, profile)
            }
            let (dir, _) = try minimal(profile)
            try FileManager.default.moveItem(at: dir.appendingPathComponent("checkpoint"),
                                             to: dir.appendingPathComponent("pre-checkpoint"))
            _ = refuse("CKA-CNV-008", dir, profile)
        }
        let (dir, b) = try minimal(.podman)
        b.dir("ext/other")
        _ = refuse("CKA-CNV-008", dir, .podman)
    }

    func testFilesTheEngineNeverWrites() throws {
        let (dir, b) = try minimal(.podman)
        b.file("metadata/bind.mounts", "[]")
        _ = refuse("CKA-CNV-008", dir, .podman)
        var options = V1Test.deterministicOptions
        options.strictLayout = false
        let (bytes, summary) = try V1Test.write(dir, .podman, options: options)
        XCTAssertEqual(summary.entryNames.last, "bind.mounts")
        let (sink, read) = try V1Test.read(bytes)
        XCTAssertEqual(read.profile, .podman)
        XCTAssertTrue(read.warnings.contains { $0.requirement == "CKA-V1-020" })
        V1Test.assertSameTree(sink.nodes, try V1Test.snapshot(dir.path))

        let (dir2, b2) = try minimal(.crio)
        b2.file("logs/ctr.log", "x")
        _ = refuse("CKA-CNV-008", dir2, .crio)
        let (dir3, b3) = try minimal(.podman)
        b3.file("metadata/notes.txt", "x")
        _ = refuse("CKA-CNV-008", dir3, .podman)
        let (dir4, b4) = try minimal(.podman)
        b4.file("ext/v1/config.dump", "{}")
        _ = refuse("CKA-CNV-008", dir4, .podman)
    }

    func testSpecDumpMustNameTheEngine() throws {
        let (dir, _) = try minimal(.crio)
        _ = refuse("CKA-POD-002", dir, .podman)
        _ = refuse("CKA-V1-019", dir, .containerd)
        _ = refuse("CKA-V1-019", dir, .generic)
        let (pod, _) = try minimal(.podman)
        _ = refuse("CKA-CRIO-003", pod, .crio)
        let (generic, _) = try minimal(.generic)
        _ = refuse("CKA-CTRD-001", generic, .containerd)
        let (ctrd, _) = try minimal(.containerd)
        _ = refuse("CKA-V1-019", ctrd, .generic)
    }

    func testDeletionsThatV1RestoreWouldUndo() throws {
        for profile in [CheckpointProfile.podman, .crio, .generic] {
            let (dir, b) = try minimal(profile)
            b.file("rootfs/deleted.files", V1Test.goList(["/etc"]))
            b.file("rootfs/implied.dirs", V1Test.goList(["/etc"]))
            b.file("rootfs/tree/etc/motd", "new", mode: 0o644)
            _ = refuse("CKA-CNV-008", dir, profile)
        }
        // containerd applies whiteouts first: the same directory is fine there.
        let (dir, b) = try minimal(.containerd)
        b.file("rootfs/deleted.files", V1Test.goList(["/etc"]))
        b.file("rootfs/implied.dirs", V1Test.goList(["/etc"]))
        b.file("rootfs/tree/etc/motd", "new", mode: 0o644)
        let (bytes, _) = try V1Test.write(dir, .containerd)
        let (sink, read) = try V1Test.read(bytes)
        XCTAssertEqual(read.deletedFiles, ["/etc"])
        V1Test.assertSameTree(sink.nodes, try V1Test.snapshot(dir.path))
    }

    func testBadUnpackedDirectories() throws {
        let (dir, b) = try minimal(.podman)
        b.file("rootfs/deleted.files", #"["../../etc/passwd"]"#)
        _ = refuse("CKA-SEC-010", dir, .podman)
        let (dir2, b2) = try minimal(.podman)
        b2.file("stray.txt", "x")
        _ = refuse("CKA-DIR-009", dir2, .podman)
        let (dir3, b3) = try minimal(.podman)
        b3.file("rootfs/implied.dirs", V1Test.goList(["/nope"]))
        b3.dir("rootfs/tree")
        _ = refuse("CKA-V2-029", dir3, .podman)
        let (dir4, b4) = try minimal(.podman)
        b4.file("rootfs/tree/etc/.wh.motd", "")
        _ = refuse("CKA-V1-015", dir4, .podman)
        let (dir5, b5) = try minimal(.containerd)
        b5.file("rootfs/tree/etc/.wh.motd", "")
        _ = refuse("CKA-CNV-008", dir5, .containerd)
        let (dir6, b6) = try minimal(.containerd)
        b6.file("checkpoint/sub/x.img", "x")
        _ = refuse("CKA-CTRD-007", dir6, .containerd)
        let (dir7, _) = try minimal(.podman)
        try FileManager.default.removeItem(at: dir7.appendingPathComponent("metadata/spec.dump"))
        _ = refuse("CKA-DIR-001", dir7, .podman)
        let (dir8, b8) = try minimal(.podman)
        b8.dir("pre-checkpoint")
        _ = refuse("CKA-DIR-001", dir8, .podman)
    }

    func testDeletedFilesBytesVerbatimOrAsTheEngineWritesThem() throws {
        let (dir, b) = try minimal(.podman)
        let compact = #"["/etc/motd","/a<b"]"#
        b.file("rootfs/deleted.files", compact)
        let (bytes, _) = try V1Test.write(dir, .podman)
        XCTAssertEqual(try V1Test.read(bytes).sink.data("rootfs/deleted.files"), Array(compact.utf8))
        var options = V1Test.deterministicOptions
        options.reformatDeletedFiles = true
        let (reformatted, _) = try V1Test.write(dir, .podman, options: options)
        XCTAssertEqual(String(decoding: try V1Test.read(reformatted).sink.data("rootfs/deleted.files") ?? [], as: UTF8.self),
                       "[\n  \"/etc/motd\",\n  \"/a\\u003cb\"\n]")
    }

    func testGoMarshalIndentEncoding() {
        XCTAssertEqual(V1Test.goList([]), "[]")
        XCTAssertEqual(V1Test.goList(["/a"]), "[\n  \"/a\"\n]")
        XCTAssertEqual(String(decoding: V1JSON.goQuoted("/t\tn\nb\u{8}f\u{C}q\"\\\u{1}\u{7F}/é<>&\u{2028}"), as: UTF8.self),
                       #""/t\tn\nb\bf\fq\"\\\u0001"# + "\u{7F}" + #"/é\u003c\u003e\u0026\u2028""#)
        XCTAssertEqual(try V1JSON.parse(Array(#" {"a":[1,-2.5e3,true,null,"\u00e9\ud83d\ude00"]} "#.utf8)),
                       .object([V1JSON.Member(key: "a", value: .array([.number("1"), .number("-2.5e3"), .bool(true), .null,
                                                                       .string("é😀")]))]))
        for bad in ["[1,]", "{\"a\"}", "01", "\"\\x\"", "[", "\"\u{1}\"", "1 2"] {
            XCTAssertThrowsError(try V1JSON.parse(Array(bad.utf8)), bad)
        }
        XCTAssertThrowsError(try V1JSON.parse([0x22, 0xFF, 0x22]))
    }

    /// The nested tar sizes computed in advance are exact: every entry's data ends where the next begins.
    func testNestedTarSizesAreExact() throws {
        let (dir, b) = try minimal(.podman)
        b.file("rootfs/tree/" + String(repeating: "long-name-", count: 15) + "/file", "x", mode: 0o644)
        b.file("rootfs/implied.dirs", V1Test.goList(["/" + String(repeating: "long-name-", count: 15)]))
        b.file("rootfs/tree/empty", "", mode: 0o644)
        b.file("rootfs/tree/é-ünïcode", [UInt8](repeating: 1, count: 513), mode: 0o644)
        _ = b.xattr("rootfs/tree/empty", "user.k", String(repeating: "v", count: 600))
        b.dir("volumes/v")
        b.file("volumes/v/f", [UInt8](repeating: 2, count: 1024), mode: 0o644)
        b.file("metadata/config.dump", #"{"id":"0123","name":"demo","namedVolumes":[{"volumeName":"v"}]}"#)
        let (bytes, _) = try V1Test.write(dir, .podman)
        let outer = TarReader(source: MemorySource(bytes))
        var nestedCount = 0
        while let h = try outer.next() {
            guard h.path.hasSuffix(".tar") else { continue }
            let nested = try outer.readData()
            XCTAssertEqual(Int64(nested.count), h.size)
            let r = TarReader(source: MemorySource(nested))
            while try r.next() != nil {}
            let end = try r.finish()
            XCTAssertEqual(end.marker, .twoZeroBlocks)
            XCTAssertEqual(end.offset + 1024, h.size, "\(h.path) ends exactly with its two zero blocks")
            nestedCount += 1
        }
        XCTAssertEqual(nestedCount, 2)
        let (sink, _) = try V1Test.read(bytes)
        V1Test.assertSameTree(sink.nodes, try V1Test.snapshot(dir.path))
    }
}
