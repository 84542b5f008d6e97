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

/// Unpacked directory -> v1 archive of each profile -> entries: the mapping of table 9.1 both ways, and the
/// layouts checked with GNU tar and Python's tarfile.
final class V1RoundTripTests: XCTestCase {
    // MARK: - Podman

    func testPodmanRoundTripIsExact() throws {
        let (dir, special) = try V1Fixtures.podman(in: TestTools.temporaryDirectory(self))
        let (bytes, summary) = try V1Test.write(dir, .podman)
        XCTAssertEqual(summary.entryNames, [
            "artifacts/", "artifacts/README", "artifacts/latest", "devshm-checkpoint.tar", "config.dump", "spec.dump",
            "network.status", "stats-dump", "ctr.log", "checkpoint/", "checkpoint/core-1.img",
            "checkpoint/inventory.img", "checkpoint/pages-1.img", "rootfs-diff.tar", "deleted.files",
            "volumes/data.tar", "volumes/cache.tar", "restore-hint.txt",
        ])
        let (sink, read) = try V1Test.read(bytes)
        XCTAssertEqual(read.profile, .podman)
        XCTAssertEqual(read.compression, .none)
        XCTAssertEqual(read.impliedDirectories, ["/etc", "/srv", "/srv/data", "/tmp"])
        XCTAssertEqual(read.deletedFiles, ["/etc/motd", "/var/cache/apt"])
        XCTAssertEqual(read.deletionSource, .deletedFiles)
        XCTAssertEqual(read.sections.map(\.description), ["metadata", "checkpoint", "rootfs", "devshm", "volume 'cache'",
                                                          "volume 'data'", "logs", "artifacts", "ext 'v1'"])
        XCTAssertEqual(read.sections, summary.sections)
        XCTAssertEqual(read.detection.warnings, [], "\(read.detection.warnings)")
        XCTAssertEqual(read.warnings.map(\.requirement), ["CKA-V1-005"])
        V1Test.assertSameTree(sink.nodes, try V1Test.snapshot(dir.path))
        let nodes = sink.nodes
        XCTAssertTrue(special.xattrs, "user xattrs are supported in the temporary directory")
        XCTAssertEqual(nodes["rootfs/tree/opt/tool"]?.xattrs["user.origin"], Array("test".utf8))
        XCTAssertEqual(nodes["rootfs/tree/opt/tool"]?.mode, 0o4755)
        XCTAssertEqual(nodes["rootfs/tree/opt/"]?.uid, 1000)
        XCTAssertEqual(nodes["rootfs/tree/srv/data/state.txt"]?.gid, 100)
        XCTAssertEqual(nodes["rootfs/tree/tmp/fifo"]?.type, "fifo")
        XCTAssertEqual(nodes["rootfs/tree/etc/hard"]?.link, "rootfs/tree/etc/app.conf")
        XCTAssertEqual(nodes["rootfs/tree/etc/localtime"]?.link, "/usr/share/zoneinfo/UTC")
        if special.device { XCTAssertEqual(nodes["rootfs/tree/dev-null"]?.device, "1,3") }
        XCTAssertEqual(nodes["devshm/"]?.mode, 0o1777)
        XCTAssertEqual(nodes["volumes/data/"]?.uid, 1000)
        XCTAssertEqual(nodes["checkpoint/"]?.mode, 0o700)
        // Markers come first in their section; implied directories before their children.
        XCTAssertEqual(sink.section(of: "volumes/data/"), Section(.volume, name: "data"))
        XCTAssertEqual(sink.section(of: "ext/v1/restore-hint.txt"), Section(.ext, name: "v1", critical: false))
        XCTAssertLessThan(sink.paths.firstIndex(of: "rootfs/tree/srv/data/")!,
                          sink.paths.firstIndex(of: "rootfs/tree/srv/data/state.txt")!)
        XCTAssertEqual(sink.data("rootfs/implied.dirs"), Array(V1Test.goList(["/etc", "/srv", "/srv/data", "/tmp"]).utf8))
    }

    func testPodmanLayoutWithGNUTarAndPython() throws {
        let (dir, special) = try V1Fixtures.podman(in: TestTools.temporaryDirectory(self))
        let (bytes, _) = try V1Test.write(dir, .podman)
        let work = try TestTools.temporaryDirectory(self)
        let path = work.appendingPathComponent("podman.tar").path
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        try TestTools.require("tar")
        try TestTools.require("python3")
        let outer = try V1Test.gnuListing(path, in: work)
        XCTAssertEqual(outer, [
            "artifacts/", "artifacts/README", "artifacts/latest", "devshm-checkpoint.tar", "config.dump", "spec.dump",
            "network.status", "stats-dump", "ctr.log", "checkpoint/", "checkpoint/core-1.img",
            "checkpoint/inventory.img", "checkpoint/pages-1.img", "rootfs-diff.tar", "deleted.files",
            "volumes/data.tar", "volumes/cache.tar", "restore-hint.txt",
        ])
        let rootfs = (special.device ? ["dev-null"] : [])
            + ["etc/app.conf", "etc/hard", "etc/localtime", "opt/", "opt/tool", "srv/data/state.txt", "tmp/fifo"]
        XCTAssertEqual(try V1Test.gnuListing(path, nested: "rootfs-diff.tar", in: work), rootfs)
        XCTAssertEqual(try V1Test.gnuListing(path, nested: "devshm-checkpoint.tar", in: work), ["./", "./shmfile"])
        XCTAssertEqual(try V1Test.gnuListing(path, nested: "volumes/data.tar", in: work),
                       ["./", "./sub/", "./sub/file.txt", "./top.txt"])
        XCTAssertEqual(try V1Test.gnuListing(path, nested: "volumes/cache.tar", in: work), ["./"])
        let py = try V1Test.pythonListing(path)
        XCTAssertEqual(py["."], outer)
        XCTAssertEqual(py["rootfs-diff.tar"], rootfs)
        XCTAssertEqual(py["devshm-checkpoint.tar"], ["./", "./shmfile"])
        XCTAssertEqual(py["volumes/data.tar"], ["./", "./sub/", "./sub/file.txt", "./top.txt"])
        // Modes and the hard link as GNU tar sees them in the nested tar.
        let nested = try TestTools.run(["sh", "-c", "tar -xOf '\(path)' rootfs-diff.tar | tar -tvf -"])
        XCTAssertTrue(nested.stdoutText.contains("-rwsr-xr-x 0/0"), nested.stdoutText)
        XCTAssertTrue(nested.stdoutText.contains("etc/hard link to etc/app.conf"), nested.stdoutText)
        XCTAssertTrue(nested.stdoutText.contains("-rw-r----- 1000/100"), nested.stdoutText)
        let devshm = try TestTools.run(["sh", "-c", "tar -xOf '\(path)' devshm-checkpoint.tar | tar -tvf -"])
        XCTAssertTrue(devshm.stdoutText.hasPrefix("drwxrwxrwt"), devshm.stdoutText)
    }

    func testPodmanZstdArchiveThroughCompressingSink() throws {
        let (dir, _) = try V1Fixtures.podman(in: TestTools.temporaryDirectory(self))
        let work = try TestTools.temporaryDirectory(self)
        let path = work.appendingPathComponent("podman.tar.zst").path
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        XCTAssertGreaterThanOrEqual(fd, 0)
        let file = FileSink(descriptor: .init(rawValue: fd), closeOnDeinit: true)
        let zstd = try CompressionFormat.zstd.makeEncoder(file)
        let summary = try V1Writer(options: V1Test.deterministicOptions).write(directory: dir.path, profile: .podman, to: zstd)
        try zstd.finish()
        XCTAssertEqual(zstd.position, summary.tarSize)
        try TestTools.require("zstd")
        let r = try TestTools.run(["tar", "--zstd", "-tf", path])
        XCTAssertEqual(r.status, 0, r.stderrText)
        XCTAssertEqual(r.stdoutText.split(separator: "\n").first, "artifacts/")
        let sink = V1RecordingSink()
        let read = try V1Reader().read(archive: try FileSource(path: path), into: sink)
        XCTAssertEqual(read.compression, .zstd)
        XCTAssertEqual(read.profile, .podman)
        XCTAssertEqual(read.detection.warnings, [])
        V1Test.assertSameTree(sink.nodes, try V1Test.snapshot(dir.path))
    }

    func testDeterministicOutputIsStable() throws {
        let (dir, _) = try V1Fixtures.podman(in: TestTools.temporaryDirectory(self))
        let a = try V1Test.write(dir, .podman).bytes
        let b = try V1Test.write(dir, .podman).bytes
        XCTAssertEqual(a, b)
        var options = V1WriterOptions()
        options.creationTime = TarTime(seconds: 5)
        let (plain, _) = try V1Test.write(dir, .podman, options: options)
        let (sink, _) = try V1Test.read(plain)
        V1Test.assertSameTree(sink.nodes, try V1Test.snapshot(dir.path))
    }

    /// To an uncompressed file, file data (also inside nested tars) is copied by the kernel; the bytes are the
    /// same as through memory.
    func testWritingToAFileGivesTheSameBytes() throws {
        let (dir, _) = try V1Fixtures.podman(in: TestTools.temporaryDirectory(self))
        let (memory, _) = try V1Test.write(dir, .podman)
        let path = try TestTools.temporaryDirectory(self).appendingPathComponent("out.tar").path
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        XCTAssertGreaterThanOrEqual(fd, 0)
        let sink = FileSink(descriptor: .init(rawValue: fd), closeOnDeinit: true)
        let summary = try V1Writer(options: V1Test.deterministicOptions).write(directory: dir.path, profile: .podman, to: sink)
        try sink.flush()
        XCTAssertEqual(summary.tarSize, Int64(memory.count))
        XCTAssertEqual(try FileSource(path: path).readAll(), memory)
    }

    /// v1 -> unpacked directory (extracted by a test sink) -> v1 again: the same entries.
    func testPodmanArchiveExtractAndRewrite() throws {
        let (dir, _) = try V1Fixtures.podman(in: TestTools.temporaryDirectory(self))
        let (first, _) = try V1Test.write(dir, .podman)
        let extracted = try TestTools.temporaryDirectory(self).appendingPathComponent("extracted")
        try FileManager.default.createDirectory(at: extracted, withIntermediateDirectories: true)
        _ = try V1Reader().read(archive: MemorySource(first), into: V1DiskSink(root: extracted.path))
        V1Test.assertSameTree(try V1Test.snapshot(extracted.path), try V1Test.snapshot(dir.path))
        let (second, _) = try V1Test.write(extracted, .podman)
        XCTAssertEqual(second, first)
    }

    // MARK: - CRI-O

    func testCRIORoundTripAndLayout() throws {
        let dir = try V1Fixtures.crio(in: TestTools.temporaryDirectory(self))
        let (bytes, summary) = try V1Test.write(dir, .crio)
        let expected = ["stats-dump", "dump.log", "checkpoint/", "checkpoint/inventory.img", "config.dump", "spec.dump",
                        "bind.mounts", "rootfs-diff.tar", "deleted.files", "io.kubernetes.cri-o.LogPath"]
        XCTAssertEqual(summary.entryNames, expected)
        let work = try TestTools.temporaryDirectory(self)
        let path = work.appendingPathComponent("crio.tar").path
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        XCTAssertEqual(try V1Test.gnuListing(path, in: work), expected)
        XCTAssertEqual(try V1Test.gnuListing(path, nested: "rootfs-diff.tar", in: work), ["test.output"])
        let py = try V1Test.pythonListing(path)
        XCTAssertEqual(py["."], expected)
        XCTAssertEqual(py["rootfs-diff.tar"], ["test.output"])
        let (sink, read) = try V1Test.read(bytes)
        XCTAssertEqual(read.profile, .crio)
        XCTAssertEqual(read.detection.warnings, [])
        XCTAssertEqual(read.warnings, [])
        XCTAssertEqual(read.impliedDirectories, [])
        XCTAssertEqual(read.deletedFiles, ["/root"])
        XCTAssertEqual(sink.section(of: "logs/io.kubernetes.cri-o.LogPath"), Section(.logs))
        XCTAssertEqual(sink.nodes["logs/io.kubernetes.cri-o.LogPath"]?.mode, 0o644)
        XCTAssertNil(sink.nodes["rootfs/implied.dirs"])
        V1Test.assertSameTree(sink.nodes, try V1Test.snapshot(dir.path))
        // CRI-O's order interleaves sections: metadata, logs, checkpoint, metadata again, rootfs, logs again.
        let order = sink.entries.map(\.section.kind)
        XCTAssertEqual(order.first, .metadata)
        XCTAssertTrue(order.contains(.logs))
    }

    // MARK: - containerd

    func testContainerdRoundTripWithWhiteouts() throws {
        let dir = try V1Fixtures.containerd(in: TestTools.temporaryDirectory(self))
        let (bytes, summary) = try V1Test.write(dir, .containerd)
        let expected = ["checkpoint/", "checkpoint/inventory.img", "checkpoint/pages-1.img", "config.dump",
                        "container.log", "dump.log", "rootfs-diff.tar", "spec.dump", "stats-dump", "status", "status.dump"]
        XCTAssertEqual(summary.entryNames, expected)
        guard case .memory? = summary.layerBuffering else { return XCTFail("\(String(describing: summary.layerBuffering))") }
        let layer = [".wh.srv", "etc/.wh.motd", "srv/new.txt", "usr/lib/.wh.old", "usr/lib/new", "var/lib/cache/",
                     "var/lib/cache/.wh..wh..opq", "var/lib/cache/fresh"]
        let work = try TestTools.temporaryDirectory(self)
        let path = work.appendingPathComponent("containerd.tar").path
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        XCTAssertEqual(try V1Test.gnuListing(path, in: work), expected)
        XCTAssertEqual(try V1Test.gnuListing(path, nested: "rootfs-diff.tar", in: work), layer)
        let py = try V1Test.pythonListing(path)
        XCTAssertEqual(py["."], expected)
        XCTAssertEqual(py["rootfs-diff.tar"], layer)
        let gz = try TestTools.run(["sh", "-c", "tar -xOf '\(path)' rootfs-diff.tar | gzip -t"])
        XCTAssertEqual(gz.status, 0, gz.stderrText)

        let (sink, read) = try V1Test.read(bytes)
        XCTAssertEqual(read.profile, .containerd)
        XCTAssertEqual(read.signals.rootfsDiffCompression, .gzip)
        XCTAssertEqual(read.signals.configDumpShape, .reducedCompact)
        XCTAssertEqual(read.detection.warnings, [])
        XCTAssertEqual(read.deletionSource, .whiteouts)
        XCTAssertEqual(read.deletedFiles, ["/srv", "/etc/motd", "/usr/lib/old", "/var/lib/cache"])
        XCTAssertEqual(read.impliedDirectories, ["/srv", "/usr", "/usr/lib", "/var", "/var/lib"])
        XCTAssertFalse(sink.paths.contains { $0.contains(".wh.") }, "whiteouts must never become files")
        V1Test.assertSameTree(sink.nodes, try V1Test.snapshot(dir.path))
    }

    func testContainerdLargeLayerIsCompressedTwiceWithSameBytes() throws {
        let dir = try V1Fixtures.containerd(in: TestTools.temporaryDirectory(self))
        V1DirBuilder(dir).file("rootfs/tree/srv/big.bin", (0..<300_000).map { UInt8(truncatingIfNeeded: $0 &* 7919 >> 3) },
                               mode: 0o644)
        let (memory, s1) = try V1Test.write(dir, .containerd)
        var options = V1Test.deterministicOptions
        options.layerMemoryLimit = 1024
        let (twoPass, s2) = try V1Test.write(dir, .containerd, options: options)
        guard case let .memory(a)? = s1.layerBuffering, case let .twoPass(b)? = s2.layerBuffering else {
            return XCTFail("\(String(describing: s1.layerBuffering)) \(String(describing: s2.layerBuffering))")
        }
        XCTAssertEqual(a, b)
        XCTAssertEqual(memory, twoPass)
        let (sink, _) = try V1Test.read(twoPass)
        V1Test.assertSameTree(sink.nodes, try V1Test.snapshot(dir.path))
    }

    func testContainerdWithoutRootfsWritesAnEmptyLayer() throws {
        let dir = try V1Fixtures.containerd(in: TestTools.temporaryDirectory(self))
        try FileManager.default.removeItem(at: dir.appendingPathComponent("rootfs"))
        let (bytes, summary) = try V1Test.write(dir, .containerd)
        XCTAssertTrue(summary.entryNames.contains("rootfs-diff.tar"))
        let (sink, read) = try V1Test.read(bytes)
        XCTAssertFalse(read.sections.contains(Section(.rootfs)), "an empty layer equals no rootfs (table 5.11)")
        V1Test.assertSameTree(sink.nodes, try V1Test.snapshot(dir.path))
    }

    // MARK: - generic and conversions

    func testGenericProfile() throws {
        let (dir, _) = try V1Fixtures.podman(in: TestTools.temporaryDirectory(self))
        let b = V1DirBuilder(dir)
        b.file("metadata/spec.dump", #"{"ociVersion":"1.2.0"}"#)
        b.file("metadata/pod.options", #"{"version":1}"#)
        let (bytes, summary) = try V1Test.write(dir, .generic)
        XCTAssertEqual(Array(summary.entryNames.prefix(5)),
                       ["config.dump", "spec.dump", "network.status", "stats-dump", "pod.options"])
        let (sink, read) = try V1Test.read(bytes)
        XCTAssertEqual(read.profile, .generic)
        // Podman-only names, but no io.container.manager (as containerd): no single suggestion.
        XCTAssertNil(read.detection.suggestedProfile)
        XCTAssertTrue(read.detection.evidence.contains { $0.signal == "top-level name network.status" })
        V1Test.assertSameTree(sink.nodes, try V1Test.snapshot(dir.path))
    }

    /// Implied directories are left out of a plain rootfs-diff.tar and come back as implied.
    func testCRIOImpliedDirectories() throws {
        let dir = try V1Fixtures.crio(in: TestTools.temporaryDirectory(self))
        let b = V1DirBuilder(dir)
        b.file("rootfs/tree/usr/lib/new", "lib", mode: 0o755)
        b.file("rootfs/implied.dirs", V1Test.goList(["/usr", "/usr/lib"]))
        let (bytes, _) = try V1Test.write(dir, .crio)
        let (sink, read) = try V1Test.read(bytes)
        XCTAssertEqual(read.impliedDirectories, ["/usr", "/usr/lib"])
        V1Test.assertSameTree(sink.nodes, try V1Test.snapshot(dir.path))
    }
}
