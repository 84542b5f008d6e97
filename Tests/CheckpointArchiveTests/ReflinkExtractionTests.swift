import ByteStreams
@testable import CheckpointArchive
import Foundation
import TarFormat
import TestSupport
import XCTest
#if canImport(Glibc)
import Glibc
#endif

/// Reflink extraction (CKA-ALN-006) on a real XFS file system with reflink, mounted from a loop image.
/// Skipped (with the reason) when not root or when mkfs.xfs or mount is refused.
final class ReflinkExtractionTests: XCTestCase {
    /// Makes a 512 MiB sparse image, formats it XFS with reflink and mounts it; unmounted in teardown.
    func mountXFS() throws -> String {
        guard geteuid() == 0 else { throw XCTSkip("mounting an XFS loop image needs root") }
        for tool in ["mkfs.xfs", "mount", "umount"] {
            let r = try TestTools.run(["sh", "-c", "command -v \(tool)"])
            if r.status != 0 { throw XCTSkip("\(tool) is not installed (apt-get install xfsprogs)") }
        }
        let dir = try TestTools.temporaryDirectory(self).path
        let image = dir + "/xfs.img"
        let mountPoint = dir + "/mnt"
        XCTAssertTrue(FileManager.default.createFile(atPath: image, contents: nil))
        XCTAssertEqual(truncate(image, 512 << 20), 0)
        try FileManager.default.createDirectory(atPath: mountPoint, withIntermediateDirectories: false)
        let mkfs = try TestTools.run(["mkfs.xfs", "-q", "-m", "reflink=1", image])
        if mkfs.status != 0 { throw XCTSkip("mkfs.xfs refused: \(mkfs.stderrText)") }
        let mount = try TestTools.run(["mount", "-o", "loop", image, mountPoint])
        if mount.status != 0 { throw XCTSkip("mount -o loop refused: \(mount.stderrText)") }
        // Teardown blocks run last-registered first: unmount before the temporary directory is removed.
        addTeardownBlock {
            if (try? TestTools.run(["umount", mountPoint]))?.status != 0 {
                _ = try? TestTools.run(["umount", "-l", mountPoint])
            }
        }
        return mountPoint
    }

    /// Extent flags of a file from the FS_IOC_FIEMAP ioctl (after syncing it).
    func extentFlags(_ path: String) throws -> [UInt32] {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw XCTSkip("cannot open \(path)") }
        defer { close(fd) }
        let maxExtents = 64
        let headerSize = 32, extentSize = 56
        let buffer = UnsafeMutableRawPointer.allocate(byteCount: headerSize + maxExtents * extentSize, alignment: 8)
        defer { buffer.deallocate() }
        memset(buffer, 0, headerSize + maxExtents * extentSize)
        buffer.storeBytes(of: 0, toByteOffset: 0, as: UInt64.self)               // fm_start
        buffer.storeBytes(of: UInt64.max, toByteOffset: 8, as: UInt64.self)      // fm_length
        buffer.storeBytes(of: 1, toByteOffset: 16, as: UInt32.self)              // fm_flags = FIEMAP_FLAG_SYNC
        buffer.storeBytes(of: UInt32(maxExtents), toByteOffset: 24, as: UInt32.self)  // fm_extent_count
        let fsIocFiemap: UInt = 0xC020_660B
        guard ioctl(fd, fsIocFiemap, buffer) == 0 else {
            throw XCTSkip("FS_IOC_FIEMAP failed: \(String(cString: strerror(errno)))")
        }
        let mapped = Int(buffer.load(fromByteOffset: 20, as: UInt32.self))
        return (0..<min(mapped, maxExtents)).map {
            buffer.load(fromByteOffset: headerSize + $0 * extentSize + 40, as: UInt32.self)
        }
    }

    static let fiemapExtentShared: UInt32 = 0x2000

    /// Whether `xfs_io -c 'fiemap -v'` reports a shared extent (flag 0x2000), as a cross-check; nil without xfs_io.
    func xfsIoReportsShared(_ path: String) throws -> Bool? {
        guard try TestTools.run(["sh", "-c", "command -v xfs_io"]).status == 0 else { return nil }
        let r = try TestTools.run(["xfs_io", "-r", "-c", "fiemap -v", path])
        guard r.status == 0 else { return nil }
        for line in r.stdoutText.split(separator: "\n") {
            guard let last = line.split(separator: " ").last, last.hasPrefix("0x"),
                  let flags = UInt32(last.dropFirst(2), radix: 16) else { continue }
            if flags & Self.fiemapExtentShared != 0 { return true }
        }
        return false
    }

    /// Writes a file whose entry data (`content`) starts at `dataOffset`, like an uncompressed aligned archive.
    func writeArchive(_ path: String, content: [UInt8], dataOffset: Int) throws {
        var bytes = pseudoRandomBytes(dataOffset, seed: 99)
        bytes += content
        bytes += [UInt8](repeating: 0, count: (512 - content.count % 512) % 512 + 1024)
        try Data(bytes).write(to: URL(fileURLWithPath: path))
    }

    func extract(_ content: [UInt8], archive: String, dataOffset: Int64, destination: String) throws
        -> SafeExtractor.Statistics
    {
        let fd = open(archive, O_RDONLY | O_CLOEXEC)
        XCTAssertGreaterThanOrEqual(fd, 0)
        defer { close(fd) }
        let extractor = try SafeExtractor(destination: destination)
        try extractor.add(TarHeader(path: "checkpoint/", type: .directory, mode: 0o755), section: Sections.checkpoint,
                          data: MemorySource([]), reflink: nil)
        var h = TarHeader(path: "checkpoint/pages-1.img", type: .regular, size: Int64(content.count), mode: 0o600)
        h.dataOffset = dataOffset
        let data = MemorySource(content)
        try extractor.add(h, section: Sections.checkpoint, data: data,
                          reflink: ReflinkSource(descriptor: fd, offset: dataOffset))
        XCTAssertEqual(data.position, Int64(content.count), "the data stream was consumed")
        try extractor.commit()
        return extractor.statistics
    }

    func testAlignedEntrySharesExtentsOnXFS() throws {
        let mnt = try mountXFS()
        let content = pseudoRandomBytes((1 << 20) + 3 * 4096 + 123, seed: 5)
        try writeArchive(mnt + "/archive.tar", content: content, dataOffset: 4096)
        let stats = try extract(content, archive: mnt + "/archive.tar", dataOffset: 4096, destination: mnt + "/dest")
        let file = mnt + "/dest/checkpoint/pages-1.img"
        XCTAssertEqual(fileBytes(file), content, "identical content")
        XCTAssertEqual(stats.bytesCloned, Int64((1 << 20) + 3 * 4096), "the block-aligned part was cloned")
        XCTAssertEqual(stats.bytesCloned + stats.bytesCopiedInKernel + stats.bytesWritten, Int64(content.count))
        let flags = try extentFlags(file)
        XCTAssertFalse(flags.isEmpty)
        XCTAssertTrue(flags.contains { $0 & Self.fiemapExtentShared != 0 },
                      "FIEMAP_EXTENT_SHARED expected, flags \(flags.map { String($0, radix: 16) })")
        XCTAssertEqual(flags.first.map { $0 & Self.fiemapExtentShared }, Self.fiemapExtentShared,
                       "the first extent (the cloned part) is shared")
        if let shared = try xfsIoReportsShared(file) { XCTAssertTrue(shared, "xfs_io fiemap -v shows 0x2000") }
        XCTAssertTrue(try extentFlags(mnt + "/archive.tar").contains { $0 & Self.fiemapExtentShared != 0 })
        print("reflink: cloned \(stats.bytesCloned), copy_file_range \(stats.bytesCopiedInKernel), written \(stats.bytesWritten); extent flags \(flags.map { "0x" + String($0, radix: 16) })")
    }

    func testMisalignedEntryIsCopiedWithIdenticalContent() throws {
        let mnt = try mountXFS()
        let content = pseudoRandomBytes(200_000, seed: 6)
        try writeArchive(mnt + "/archive.tar", content: content, dataOffset: 4096 + 512)
        let stats = try extract(content, archive: mnt + "/archive.tar", dataOffset: 4096 + 512,
                                destination: mnt + "/dest")
        XCTAssertEqual(fileBytes(mnt + "/dest/checkpoint/pages-1.img"), content)
        XCTAssertEqual(stats.bytesCloned, 0, "an unaligned entry cannot be cloned")
        XCTAssertEqual(stats.bytesCloned + stats.bytesCopiedInKernel + stats.bytesWritten, Int64(content.count))
    }

    /// An aligned archive written by `TarWriter`, read by `TarReader` from the file, extracted with reflink.
    func testAlignedTarArchiveEndToEnd() throws {
        let mnt = try mountXFS()
        let big = pseudoRandomBytes(300_000, seed: 8)
        let small = pseudoRandomBytes(1000, seed: 9)
        let sink = MemorySink()
        let writer = try TarWriter(sink: sink, options: TarWriterOptions(alignment: 4096))
        try writer.writeEntry(TarHeader(path: "checkpoint/", type: .directory, mode: 0o755), data: [])
        try writer.writeEntry(TarHeader(path: "checkpoint/pages-1.img", type: .regular, size: Int64(big.count)), data: big)
        try writer.writeEntry(TarHeader(path: "checkpoint/inventory.img", type: .regular, size: Int64(small.count)),
                              data: small)
        try writer.finish()
        let archive = mnt + "/aligned.tar"
        try Data(sink.bytes).write(to: URL(fileURLWithPath: archive))
        let source = try FileSource(path: archive)
        let fd = open(archive, O_RDONLY | O_CLOEXEC)
        defer { close(fd) }
        let reader = TarReader(source: source)
        let extractor = try SafeExtractor(destination: mnt + "/dest")
        var offsets: [String: Int64] = [:]
        while let h = try reader.next() {
            offsets[h.path] = h.dataOffset
            let reflink = h.type == .regular ? ReflinkSource(descriptor: fd, offset: h.dataOffset) : nil
            try extractor.add(h, section: Sections.checkpoint, data: TarEntrySource(reader), reflink: reflink)
        }
        try extractor.commit()
        XCTAssertEqual(offsets["checkpoint/pages-1.img"].map { $0 % 4096 }, 0, "the writer aligned the data")
        XCTAssertEqual(fileBytes(mnt + "/dest/checkpoint/pages-1.img"), big)
        XCTAssertEqual(fileBytes(mnt + "/dest/checkpoint/inventory.img"), small)
        XCTAssertEqual(extractor.statistics.bytesCloned, Int64(big.count / 4096 * 4096))
        XCTAssertTrue(try extentFlags(mnt + "/dest/checkpoint/pages-1.img").contains { $0 & Self.fiemapExtentShared != 0 })
    }
}
