import ByteStreams
@testable import CheckpointArchive
import Compression
import Foundation
import TarFormat
import TestSupport
import XCTest
#if canImport(Glibc)
import Glibc
#endif

/// The v1 reader driving the real extractor (`SafeExtractor`): a v1 archive of each profile extracts into
/// exactly the unpacked directory it was written from.
final class V1ExtractionTests: XCTestCase {
    func extract(_ archive: String, reflink: Bool, destination: URL? = nil) throws -> (URL, V1ReadSummary) {
        let destination = try destination ?? TestTools.temporaryDirectory(self).appendingPathComponent("extracted")
        var options = SafeExtractor.Options.forCurrentUser
        options.allowDeviceNodes = geteuid() == 0
        options.useReflink = reflink
        let extractor = try SafeExtractor(destination: destination.path, options: options)
        let file = try FileSource(path: archive)
        var readerOptions = V1ReaderOptions()
        let summary: V1ReadSummary
        do {
            let opened = try ArchiveOpener.open(file)
            XCTAssertEqual(opened.format, .v1)
            if reflink, opened.compression == .none { readerOptions.reflinkDescriptor = file.descriptor.rawValue }
            summary = try V1Reader(options: readerOptions).read(decompressed: opened.stream, compression: opened.compression,
                                                                into: extractor)
            try extractor.commit()
        } catch {
            extractor.abort()
            throw error
        }
        return (destination, summary)
    }

    func testEveryProfileExtractsToTheDirectoryItCameFrom() throws {
        let (podman, _) = try V1Fixtures.podman(in: TestTools.temporaryDirectory(self))
        let cases: [(URL, CheckpointProfile)] = [(podman, .podman),
                                                 (try V1Fixtures.crio(in: TestTools.temporaryDirectory(self)), .crio),
                                                 (try V1Fixtures.containerd(in: TestTools.temporaryDirectory(self)), .containerd)]
        for (dir, profile) in cases {
            for reflink in [false, true] {
                let (bytes, _) = try V1Test.write(dir, profile)
                let path = try TestTools.temporaryDirectory(self).appendingPathComponent("a.tar").path
                try Data(bytes).write(to: URL(fileURLWithPath: path))
                let (extracted, summary) = try extract(path, reflink: reflink)
                XCTAssertEqual(summary.profile, profile)
                var want = try V1Test.snapshot(dir.path)
                if geteuid() != 0 { want = want.filter { $0.value.type != "char" } }
                V1Test.assertSameTree(try V1Test.snapshot(extracted.path), want)
            }
        }
    }

    func testBundledPodmanSampleExtracts() throws {
        let path = TestTools.repositoryRoot.appendingPathComponent("Examples/podman-checkpoint.tar.zst").path
        let (extracted, summary) = try extract(path, reflink: true)
        XCTAssertEqual(summary.profile, .podman)
        let tree = try V1Test.snapshot(extracted.path)
        XCTAssertEqual(tree["rootfs/tree/srv/data/state.txt"]?.content, Array("state=42\n".utf8))
        XCTAssertEqual(tree["rootfs/implied.dirs"]?.content, Array(V1Test.goList(["/etc", "/srv", "/srv/data"]).utf8))
        XCTAssertEqual(tree["checkpoint/pages-1.img"]?.content.count, 8192)
    }

    func testHostileArchiveLeavesNothingBehind() throws {
        let nested = try V1Test.tar([V1Test.file("etc/ok", "ok"), V1Test.file("../../escape", "x")])
        let archive = try V1Test.podmanArchive([V1Test.file("rootfs-diff.tar", nested)])
        let work = try TestTools.temporaryDirectory(self)
        let path = work.appendingPathComponent("evil.tar").path
        try Data(archive).write(to: URL(fileURLWithPath: path))
        _ = V1Test.expectError("CKA-TAR-034") {
            _ = try self.extract(path, reflink: false, destination: work.appendingPathComponent("extracted"))
        }
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: work.path), ["evil.tar"])
        XCTAssertFalse(FileManager.default.fileExists(atPath: work.deletingLastPathComponent().appendingPathComponent("escape").path))
    }
}
