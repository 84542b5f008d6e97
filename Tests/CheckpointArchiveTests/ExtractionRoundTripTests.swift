import ByteStreams
@testable import CheckpointArchive
import Foundation
import TarFormat
import TestSupport
import XCTest
#if canImport(Glibc)
import Glibc
#endif

/// Every entry type written by `SafeExtractor` and read back from disk.
final class ExtractionRoundTripTests: XCTestCase {
    func testEveryEntryTypeRoundTrips() throws {
        let box = try Sandbox(self)
        let options = SafeExtractor.Options(restoreOwnership: isRoot, allowDeviceNodes: isRoot)
        let extractor = try SafeExtractor(destination: box.destination, options: options)
        let inventory = pseudoRandomBytes(3000)
        let big = pseudoRandomBytes(3 * 1024 * 1024 + 17, seed: 7)
        var entries: [TestEntry] = [
            .dir("metadata/", Sections.metadata, mode: 0o700),
            .file("metadata/config.dump", Sections.metadata, text: "{}", mode: 0o600),
            .file("metadata/spec.dump", Sections.metadata, text: "{\"ociVersion\":\"1.0\"}", mode: 0o600),
            .dir("checkpoint/", Sections.checkpoint),
            .file("checkpoint/inventory.img", Sections.checkpoint, inventory, mode: 0o600),
            .symlink("checkpoint/parent", Sections.checkpoint, to: "../pre-checkpoint"),
        ]
        entries += rootfsPrelude
        entries += [
            .dir("rootfs/tree/etc/", Sections.rootfs).with { $0.mtime = TarTime(seconds: 1000) },
            .file("rootfs/tree/etc/motd", Sections.rootfs, text: "hello\n", mode: 0o640).with {
                $0.uid = 1234
                $0.gid = 5678
                $0.mtime = TarTime(seconds: 1_600_000_000, nanoseconds: 123_456_789)
                $0.xattrs = [TarXattr(name: "user.test", value: Array("value".utf8)),
                             TarXattr(name: "user.empty", value: [])]
            },
            .hardLink("rootfs/tree/etc/motd.link", Sections.rootfs, to: "rootfs/tree/etc/motd"),
            .symlink("rootfs/tree/etc/localtime", Sections.rootfs, to: "/usr/share/zoneinfo/UTC").with {
                $0.mtime = TarTime(seconds: 2000)
            },
            .symlink("rootfs/tree/etc/up", Sections.rootfs, to: "../../../../../etc"),
            .dir("rootfs/tree/bin/", Sections.rootfs),
            .file("rootfs/tree/bin/su", Sections.rootfs, text: "#!", mode: 0o4755),
            .dir("rootfs/tree/tmp/", Sections.rootfs, mode: 0o1777),
            .dir("rootfs/tree/ro/", Sections.rootfs, mode: 0o555).with { $0.mtime = TarTime(seconds: 12345) },
            .file("rootfs/tree/ro/file", Sections.rootfs, text: "read only", mode: 0o444),
            .dir("rootfs/tree/ro/inner/", Sections.rootfs, mode: 0o500),
            .file("rootfs/tree/ro/inner/deep", Sections.rootfs, text: "deep", mode: 0o400),
            .special("rootfs/tree/fifo", Sections.rootfs, .fifo, mode: 0o640),
            .file("rootfs/tree/big.bin", Sections.rootfs, big),
            .file("rootfs/tree/empty", Sections.rootfs, []),
            .dir("devshm/", Sections.devshm, mode: 0o1777),
            .file("devshm/seg", Sections.devshm, text: "shm"),
            .dir("volumes/a/", Sections.volumeA),
            .file("volumes/a/data", Sections.volumeA, text: "volume"),
            .hardLink("volumes/a/data2", Sections.volumeA, to: "volumes/a/data"),
            .dir("logs/", Sections.logs),
            .file("logs/dump.log", Sections.logs, text: "log"),
            .dir("artifacts/", Sections.artifacts),
            .file("artifacts/file", Sections.artifacts, text: "artifact"),
            .dir("artifacts/sub/", Sections.artifacts),
            .symlink("artifacts/sub/link", Sections.artifacts, to: "../file"),
            .symlink("artifacts/self", Sections.artifacts, to: "."),
            .dir("ext/x/", Sections.ext),
            .dir("ext/x/deeper/", Sections.ext),
            .file("ext/x/deeper/blob", Sections.ext, text: "opaque"),
        ]
        if isRoot {
            entries += [
                .dir("rootfs/tree/dev/", Sections.rootfs),
                .special("rootfs/tree/dev/null", Sections.rootfs, .characterDevice, major: 1, minor: 3, mode: 0o666),
                .special("rootfs/tree/dev/loop-ish", Sections.rootfs, .blockDevice, major: 7, minor: 200, mode: 0o660),
            ]
        }
        try feed(extractor, entries)
        try extractor.addFile("cka-header.json", contents: Array("{}\n".utf8))
        XCTAssertNil(lstatOf(box.destination), "nothing at the destination before commit")
        XCTAssertEqual(extractor.implicitDirectories, ["volumes/", "ext/"])
        try extractor.commit()
        XCTAssertEqual(box.workEntries(), ["dest"], "the staging directory was renamed")

        let d = box.destination
        func mode(_ p: String) -> UInt32? { lstatOf(d + "/" + p).map { UInt32($0.st_mode & 0o7777) } }
        func type(_ p: String) -> UInt32? { lstatOf(d + "/" + p).map { UInt32($0.st_mode & S_IFMT) } }
        XCTAssertEqual(mode(""), 0o700)
        XCTAssertEqual(fileBytes(d + "/metadata/config.dump"), Array("{}".utf8))
        XCTAssertEqual(mode("metadata/config.dump"), 0o600)
        XCTAssertEqual(mode("metadata"), 0o700)
        XCTAssertEqual(fileBytes(d + "/checkpoint/inventory.img"), inventory)
        XCTAssertEqual(readLink(d + "/checkpoint/parent"), "../pre-checkpoint")
        XCTAssertEqual(fileBytes(d + "/cka-header.json"), Array("{}\n".utf8))

        // Regular file: content, mode, mtime with nanoseconds, xattrs, ownership when root.
        let motd = try XCTUnwrap(lstatOf(d + "/rootfs/tree/etc/motd"))
        XCTAssertEqual(fileBytes(d + "/rootfs/tree/etc/motd"), Array("hello\n".utf8))
        XCTAssertEqual(motd.st_mode & 0o7777, 0o640)
        XCTAssertEqual(motd.st_mtim.tv_sec, 1_600_000_000)
        XCTAssertEqual(motd.st_mtim.tv_nsec, 123_456_789)
        XCTAssertEqual(xattr(d + "/rootfs/tree/etc/motd", "user.test"), Array("value".utf8))
        XCTAssertEqual(xattr(d + "/rootfs/tree/etc/motd", "user.empty"), [])
        if isRoot {
            XCTAssertEqual(motd.st_uid, 1234)
            XCTAssertEqual(motd.st_gid, 5678)
        } else {
            XCTAssertEqual(motd.st_uid, geteuid())
        }
        // Hard link: the same inode.
        let link = try XCTUnwrap(lstatOf(d + "/rootfs/tree/etc/motd.link"))
        XCTAssertEqual(link.st_ino, motd.st_ino)
        XCTAssertEqual(link.st_nlink, 2)
        let volumeLink = try XCTUnwrap(lstatOf(d + "/volumes/a/data2"))
        XCTAssertEqual(volumeLink.st_ino, lstatOf(d + "/volumes/a/data")?.st_ino)
        // Symbolic links: targets verbatim, absolute and with `..`, never followed.
        XCTAssertEqual(type("rootfs/tree/etc/localtime"), UInt32(S_IFLNK))
        XCTAssertEqual(readLink(d + "/rootfs/tree/etc/localtime"), "/usr/share/zoneinfo/UTC")
        XCTAssertEqual(lstatOf(d + "/rootfs/tree/etc/localtime")?.st_mtim.tv_sec, 2000)
        XCTAssertEqual(readLink(d + "/rootfs/tree/etc/up"), "../../../../../etc")
        XCTAssertEqual(readLink(d + "/artifacts/sub/link"), "../file")
        XCTAssertEqual(readLink(d + "/artifacts/self"), ".")
        // Special mode bits are kept in rootfs and devshm.
        XCTAssertEqual(mode("rootfs/tree/bin/su"), 0o4755)
        XCTAssertEqual(mode("rootfs/tree/tmp"), 0o1777)
        XCTAssertEqual(mode("devshm"), 0o1777)
        // Directory metadata is applied after the children are written.
        XCTAssertEqual(lstatOf(d + "/rootfs/tree/etc")?.st_mtim.tv_sec, 1000)
        XCTAssertEqual(mode("rootfs/tree/ro"), 0o555)
        XCTAssertEqual(lstatOf(d + "/rootfs/tree/ro")?.st_mtim.tv_sec, 12345)
        XCTAssertEqual(mode("rootfs/tree/ro/inner"), 0o500)
        XCTAssertEqual(fileBytes(d + "/rootfs/tree/ro/inner/deep"), Array("deep".utf8))
        XCTAssertEqual(mode("rootfs/tree/ro/file"), 0o444)
        // FIFO and devices.
        XCTAssertEqual(type("rootfs/tree/fifo"), UInt32(S_IFIFO))
        XCTAssertEqual(mode("rootfs/tree/fifo"), 0o640)
        if isRoot {
            let null = try XCTUnwrap(lstatOf(d + "/rootfs/tree/dev/null"))
            XCTAssertEqual(null.st_mode & S_IFMT, S_IFCHR)
            XCTAssertEqual(UInt64(null.st_rdev), csysMakedev(1, 3))
            XCTAssertEqual(null.st_mode & 0o7777, 0o666)
            let block = try XCTUnwrap(lstatOf(d + "/rootfs/tree/dev/loop-ish"))
            XCTAssertEqual(block.st_mode & S_IFMT, S_IFBLK)
            XCTAssertEqual(UInt64(block.st_rdev), csysMakedev(7, 200))
        }
        // Large file in several chunks, and an empty file.
        XCTAssertEqual(fileBytes(d + "/rootfs/tree/big.bin"), big)
        XCTAssertEqual(lstatOf(d + "/rootfs/tree/empty")?.st_size, 0)
        // Implicit parents (volumes/, ext/) are 0755.
        XCTAssertEqual(mode("volumes"), 0o755)
        XCTAssertEqual(mode("ext"), 0o755)
        XCTAssertEqual(fileBytes(d + "/ext/x/deeper/blob"), Array("opaque".utf8))

        let stats = extractor.statistics
        XCTAssertEqual(stats.hardLinks, 2)
        XCTAssertEqual(stats.bytesWritten, Int64(entries.reduce(0) { $0 + $1.data.count }) + 3)
        XCTAssertTrue(extractor.warnings.isEmpty, "\(extractor.warnings)")
    }

    /// The `makedev` encoding of glibc (the shim is not imported by the tests).
    func csysMakedev(_ major: UInt64, _ minor: UInt64) -> UInt64 {
        ((major & 0xFFF) << 8) | ((major & ~0xFFF) << 32) | (minor & 0xFF) | ((minor & ~0xFF) << 12)
    }

    func testImplicitParentsAreCreatedAndReported() throws {
        let box = try Sandbox(self)
        let extractor = try SafeExtractor(destination: box.destination)
        // A v1 rootfs-diff.tar omits parents: the extractor creates them (0755) and reports them.
        try feed(extractor, [.file("rootfs/tree/usr/lib/libx.so", Sections.rootfs, text: "elf"),
                             .dir("rootfs/tree/usr/", Sections.rootfs, mode: 0o750),
                             .file("rootfs/tree/usr/lib/liby.so", Sections.rootfs, text: "elf2")])
        XCTAssertEqual(extractor.implicitDirectories, ["rootfs/", "rootfs/tree/", "rootfs/tree/usr/lib/"])
        try extractor.commit()
        XCTAssertEqual(lstatOf(box.destination + "/rootfs/tree/usr/lib")?.st_mode, S_IFDIR | 0o755)
        XCTAssertEqual((lstatOf(box.destination + "/rootfs/tree/usr")?.st_mode ?? 0) & 0o7777, 0o750)
    }

    /// Decoders deliver a directory again to give it its real metadata (v1 markers met after a synthesised
    /// one) and deliver `cka-header.json` with the metadata section.
    func testDirectoryNamedAgainAndTopLevelFiles() throws {
        let box = try Sandbox(self)
        let extractor = try SafeExtractor(destination: box.destination)
        try feed(extractor, [
            .file("cka-header.json", Sections.metadata, text: "{\"version\":2}", mode: 0o4600),
            .dir("metadata/", Sections.metadata),
            .file("metadata/config.dump", Sections.metadata, text: "{}"),
            .dir("metadata/", Sections.metadata, mode: 0o700).with { $0.mtime = TarTime(seconds: 99) },
            .dir("rootfs/", Sections.rootfs),
            .dir("rootfs/tree/", Sections.rootfs),
            .file("rootfs/tree/x", Sections.rootfs, text: "x"),
            .dir("rootfs/tree/", Sections.rootfs, mode: 0o711),
            .file("cka-index.json", Sections.metadata, text: "{}"),
        ])
        try extractor.commit()
        let d = box.destination
        XCTAssertEqual(fileBytes(d + "/cka-header.json"), Array("{\"version\":2}".utf8))
        XCTAssertEqual((lstatOf(d + "/cka-header.json")?.st_mode ?? 0) & 0o7777, 0o600)
        XCTAssertEqual((lstatOf(d + "/metadata")?.st_mode ?? 0) & 0o7777, 0o700)
        XCTAssertEqual(lstatOf(d + "/metadata")?.st_mtim.tv_sec, 99)
        XCTAssertEqual(fileBytes(d + "/metadata/config.dump"), Array("{}".utf8))
        XCTAssertEqual((lstatOf(d + "/rootfs/tree")?.st_mode ?? 0) & 0o7777, 0o711)
        XCTAssertEqual(fileBytes(d + "/rootfs/tree/x"), Array("x".utf8))
    }

    func testSetuidBitsClearedOutsideFileSystemSections() throws {
        let box = try Sandbox(self)
        let extractor = try SafeExtractor(destination: box.destination,
                                          options: SafeExtractor.Options(restoreOwnership: isRoot))
        try feed(extractor, [
            .dir("checkpoint/", Sections.checkpoint, mode: 0o1755),
            .file("checkpoint/inventory.img", Sections.checkpoint, text: "img", mode: 0o6755).with {
                $0.uid = 4321
                $0.gid = 4321
            },
            .dir("ext/x/", Sections.ext),
            .dir("ext/x/sticky/", Sections.ext, mode: 0o1777),
            .dir("rootfs/", Sections.rootfs),
            .file("rootfs/deleted.files", Sections.rootfs, text: "[\"/x\"]", mode: 0o4644),
        ])
        try extractor.commit()
        let d = box.destination
        XCTAssertEqual((lstatOf(d + "/checkpoint/inventory.img")?.st_mode ?? 0) & 0o7777, 0o755)
        XCTAssertEqual((lstatOf(d + "/checkpoint")?.st_mode ?? 0) & 0o7777, 0o755)
        XCTAssertEqual((lstatOf(d + "/ext/x/sticky")?.st_mode ?? 0) & 0o7777, 0o777)
        // The rootfs section keeps them.
        XCTAssertEqual((lstatOf(d + "/rootfs/deleted.files")?.st_mode ?? 0) & 0o7777, 0o4644)
        // Ownership is never set outside rootfs, devshm and volumes (CKA-SEC-007).
        XCTAssertEqual(lstatOf(d + "/checkpoint/inventory.img")?.st_uid, geteuid())
        let warned = extractor.warnings.filter { $0.requirement == "CKA-SEC-007" }.compactMap(\.entry)
        XCTAssertEqual(warned, ["checkpoint/", "checkpoint/inventory.img", "ext/x/sticky/"])
    }

    func testTrustedAndSELinuxXattrsAreNotApplied() throws {
        let box = try Sandbox(self)
        let extractor = try SafeExtractor(destination: box.destination)
        try feed(extractor, rootfsPrelude + [
            .file("rootfs/tree/f", Sections.rootfs, text: "x").with {
                $0.xattrs = [TarXattr(name: "trusted.overlay.opaque", value: Array("y".utf8)),
                             TarXattr(name: "security.selinux", value: Array("system_u:object_r:etc_t:s0".utf8)),
                             TarXattr(name: "user.kept", value: Array("1".utf8))]
            },
            .file("metadata/config.dump", Sections.metadata, text: "{}").with {
                $0.xattrs = [TarXattr(name: "user.notInMetadata", value: Array("1".utf8))]
            },
        ])
        try extractor.commit()
        let f = box.destination + "/rootfs/tree/f"
        XCTAssertEqual(xattr(f, "user.kept"), Array("1".utf8))
        XCTAssertNil(xattr(f, "trusted.overlay.opaque"), "trusted.* must never be applied (CKA-SEC-008)")
        XCTAssertNotEqual(xattr(f, "security.selinux"), Array("system_u:object_r:etc_t:s0".utf8))
        XCTAssertNil(xattr(box.destination + "/metadata/config.dump", "user.notInMetadata"))
        let warned = extractor.warnings.filter { $0.requirement == "CKA-SEC-008" }.map(\.message)
        XCTAssertEqual(warned.count, 2, "\(warned)")
    }

    func testExistingDirectoryFromImplicitParentGetsMetadata() throws {
        let box = try Sandbox(self)
        let extractor = try SafeExtractor(destination: box.destination)
        try feed(extractor, [
            .file("volumes/a/sub/file", Sections.volumeA, text: "1"),
            .dir("volumes/a/sub/", Sections.volumeA, mode: 0o711).with { $0.mtime = TarTime(seconds: 777) },
            .dir("volumes/a/", Sections.volumeA, mode: 0o750),
        ])
        XCTAssertEqual(extractor.implicitDirectories, ["volumes/"])
        try extractor.commit()
        let sub = try XCTUnwrap(lstatOf(box.destination + "/volumes/a/sub"))
        XCTAssertEqual(sub.st_mode & 0o7777, 0o711)
        XCTAssertEqual(sub.st_mtim.tv_sec, 777)
        XCTAssertEqual((lstatOf(box.destination + "/volumes/a")?.st_mode ?? 0) & 0o7777, 0o750)
    }

    /// The extractor consumes exactly each entry's data, so a tar reader stays in step.
    func testTarReaderStaysInSync() throws {
        let box = try Sandbox(self)
        let sink = MemorySink()
        let writer = try TarWriter(sink: sink)
        let files: [(String, [UInt8])] = [("metadata/config.dump", pseudoRandomBytes(1000)),
                                          ("metadata/spec.dump", pseudoRandomBytes(70000, seed: 3)),
                                          ("metadata/stats-dump", [])]
        try writer.writeEntry(TarHeader(path: "metadata/", type: .directory, mode: 0o700), data: [])
        for (p, data) in files {
            try writer.writeEntry(TarHeader(path: p, type: .regular, size: Int64(data.count), mode: 0o600), data: data)
        }
        try writer.finish()
        let reader = TarReader(source: MemorySource(sink.bytes))
        let extractor = try SafeExtractor(destination: box.destination)
        var count = 0
        while let h = try reader.next() {
            try extractor.add(h, section: Sections.metadata, data: TarEntrySource(reader), reflink: nil)
            count += 1
        }
        XCTAssertEqual(count, 4)
        try extractor.commit()
        for (p, data) in files { XCTAssertEqual(fileBytes(box.destination + "/" + p), data, p) }
    }

    /// With a `ReflinkSource` on a file system without reflink, the content is still identical (in-kernel
    /// copy or plain copy), and the data stream is still consumed.
    func testReflinkSourceFallsBackToCopying() throws {
        let box = try Sandbox(self)
        let archivePath = box.base.path + "/archive.tar"
        let content = pseudoRandomBytes(5 * 4096 + 100, seed: 11)
        let sink = MemorySink()
        let writer = try TarWriter(sink: sink, options: TarWriterOptions(alignment: 4096))
        try writer.writeEntry(TarHeader(path: "checkpoint/", type: .directory, mode: 0o755), data: [])
        try writer.writeEntry(TarHeader(path: "checkpoint/pages-1.img", type: .regular, size: Int64(content.count)),
                              data: content)
        try writer.writeEntry(TarHeader(path: "checkpoint/after", type: .regular, size: 3), data: [1, 2, 3])
        try writer.finish()
        try Data(sink.bytes).write(to: URL(fileURLWithPath: archivePath))
        let fd = open(archivePath, O_RDONLY | O_CLOEXEC)
        XCTAssertGreaterThanOrEqual(fd, 0)
        defer { close(fd) }

        for useReflink in [true, false] {
            let dest = box.work + "/dest-\(useReflink)"
            let reader = TarReader(source: MemorySource(sink.bytes))
            let extractor = try SafeExtractor(destination: dest, options: SafeExtractor.Options(useReflink: useReflink))
            while let h = try reader.next() {
                let reflink = h.type == .regular ? ReflinkSource(descriptor: fd, offset: h.dataOffset) : nil
                try extractor.add(h, section: Sections.checkpoint, data: TarEntrySource(reader), reflink: reflink)
            }
            try extractor.commit()
            XCTAssertEqual(fileBytes(dest + "/checkpoint/pages-1.img"), content)
            XCTAssertEqual(fileBytes(dest + "/checkpoint/after"), [1, 2, 3])
            let s = extractor.statistics
            XCTAssertEqual(s.bytesWritten + s.bytesCloned + s.bytesCopiedInKernel, Int64(content.count + 3))
            if !useReflink { XCTAssertEqual(s.bytesWritten, Int64(content.count + 3)) }
        }
        // A descriptor that cannot be used falls back to the data stream.
        let extractor = try SafeExtractor(destination: box.work + "/dest-bad")
        try extractor.add(TarHeader(path: "checkpoint/x", type: .regular, size: 5), section: Sections.checkpoint,
                          data: MemorySource([9, 8, 7, 6, 5]), reflink: ReflinkSource(descriptor: 987_654, offset: 0))
        try extractor.commit()
        XCTAssertEqual(fileBytes(box.work + "/dest-bad/checkpoint/x"), [9, 8, 7, 6, 5])
    }

    /// Xattrs on objects that cannot be opened for writing (symbolic links, FIFOs) go through the parent's
    /// descriptor without following the link; one the kernel refuses is a warning, or an error when strict.
    func testXattrsOnSymlinksAndStrictMode() throws {
        let box = try Sandbox(self)
        let entries = rootfsPrelude + [
            .special("rootfs/tree/p", Sections.rootfs, .fifo).with {
                $0.xattrs = isRoot ? [TarXattr(name: "security.ckpttest", value: Array("fifo".utf8))] : []
            },
            .symlink("rootfs/tree/l", Sections.rootfs, to: box.victim).with {
                $0.xattrs = [TarXattr(name: "user.refused", value: Array("1".utf8))]
                    + (isRoot ? [TarXattr(name: "security.ckpttest", value: Array("on the link".utf8))] : [])
            },
        ]
        let extractor = try SafeExtractor(destination: box.destination, options: SafeExtractor.Options(fsync: true))
        try feed(extractor, entries)
        try extractor.commit()
        let link = box.destination + "/rootfs/tree/l"
        XCTAssertEqual(readLink(link), box.victim)
        // user.* cannot be set on a symbolic link (EPERM): a warning, and nothing set on the target.
        XCTAssertEqual(extractor.warnings.map(\.requirement), ["IO"], "\(extractor.warnings)")
        XCTAssertNil(xattr(box.victim, "user.refused"))
        if isRoot {
            XCTAssertEqual(xattr(link, "security.ckpttest"), Array("on the link".utf8))
            XCTAssertNil(xattr(box.victim, "security.ckpttest"), "never set through the link")
            XCTAssertEqual(xattr(box.destination + "/rootfs/tree/p", "security.ckpttest"), Array("fifo".utf8))
        }
        try expectRefusal("IO", entries, options: SafeExtractor.Options(strictXattrs: true))
    }

    func testAbortAndDeinitRemoveStaging() throws {
        let box = try Sandbox(self)
        do {
            let extractor = try SafeExtractor(destination: box.destination)
            try feed(extractor, rootfsPrelude + [.dir("rootfs/tree/ro/", Sections.rootfs, mode: 0o500),
                                                 .file("rootfs/tree/ro/f", Sections.rootfs, text: "x", mode: 0o400)])
            XCTAssertEqual(box.workEntries().count, 1)
            XCTAssertTrue(box.workEntries()[0].hasPrefix(".dest.ckpt-"), "\(box.workEntries())")
            XCTAssertEqual((lstatOf(extractor.stagingPath)?.st_mode ?? 0) & 0o7777, 0o700)
        }
        XCTAssertEqual(box.workEntries(), [], "released without commit: staging removed")
        let extractor = try SafeExtractor(destination: box.destination)
        try feed(extractor, [.file("metadata/config.dump", Sections.metadata, text: "{}")])
        extractor.abort()
        XCTAssertEqual(box.workEntries(), [])
        XCTAssertThrowsError(try extractor.commit())
        XCTAssertNil(lstatOf(box.destination))
    }
}
