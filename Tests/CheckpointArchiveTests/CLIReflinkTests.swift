import Foundation
import TestSupport
import XCTest
#if canImport(Glibc)
import Glibc
#endif

/// `ckpt create --align 4096` then `ckpt extract` on an XFS file system with reflink (a loop-mounted image):
/// the aligned archive's file data starts at multiples of 4096 (CKA-ALN-002), and the extracted big files share
/// their extents with the archive (CKA-ALN-006). Skipped, with the reason, when not root or when mkfs.xfs or
/// mount is refused.
final class CLIReflinkTests: XCTestCase {
    static let shared: UInt32 = 0x2000

    /// A 1 GiB sparse image formatted XFS with reflink, mounted; unmounted in teardown.
    func mountXFS() throws -> String {
        guard geteuid() == 0 else { throw XCTSkip("mounting an XFS loop image needs root") }
        for tool in ["mkfs.xfs", "mount", "umount", "xfs_io"] {
            if try TestTools.spawn(["sh", "-c", "command -v \(tool)"]).status != 0 {
                throw XCTSkip("\(tool) is not installed (apt-get install xfsprogs)")
            }
        }
        let dir = try TestTools.temporaryDirectory(self).path
        let image = dir + "/xfs.img", mountPoint = dir + "/mnt"
        XCTAssertTrue(FileManager.default.createFile(atPath: image, contents: nil))
        XCTAssertEqual(truncate(image, 1 << 30), 0)
        try FileManager.default.createDirectory(atPath: mountPoint, withIntermediateDirectories: false)
        let mkfs = try TestTools.spawn(["mkfs.xfs", "-q", "-m", "reflink=1", image])
        if mkfs.status != 0 { throw XCTSkip("mkfs.xfs refused: \(mkfs.stderrText)") }
        let mount = try TestTools.spawn(["mount", "-o", "loop", image, mountPoint])
        if mount.status != 0 { throw XCTSkip("mount -o loop refused: \(mount.stderrText)") }
        // Teardown blocks run last-registered first: unmount before the temporary directory is removed.
        addTeardownBlock {
            if (try? TestTools.spawn(["umount", mountPoint]))?.status != 0 {
                _ = try? TestTools.spawn(["umount", "-l", mountPoint])
            }
        }
        return mountPoint
    }

    /// The flags of each extent `xfs_io -c 'fiemap -v'` reports (holes have none).
    func extentFlags(_ path: String, file: StaticString = #filePath, line: UInt = #line) throws -> [UInt32] {
        let r = try TestTools.spawn(["xfs_io", "-r", "-c", "fiemap -v", path])
        XCTAssertEqual(r.status, 0, "xfs_io fiemap \(path): \(r.stderrText)", file: file, line: line)
        return r.stdoutText.split(separator: "\n").dropFirst(2).compactMap { row in
            guard let last = row.split(separator: " ").last, last.hasPrefix("0x") else { return nil }
            return UInt32(last.dropFirst(2), radix: 16)
        }
    }

    func testAlignedArchiveIsExtractedWithSharedExtents() throws {
        let mnt = try mountXFS()
        let source = URL(fileURLWithPath: mnt + "/src")
        let b = V1DirBuilder(source)
        b.dir("")
        b.file("metadata/config.dump", #"{"id":"0123abcd","name":"reflink","runtime":"crun"}"#)
        b.file("metadata/spec.dump", #"{"ociVersion":"1.2.0","annotations":{"io.container.manager":"libpod"}}"#)
        b.file("checkpoint/inventory.img", "criu-inventory\n")
        let big: [String: Int] = [
            "checkpoint/pages-1.img": 3 << 20,                        // a multiple of the block size
            "checkpoint/pages-2.img": (2 << 20) + 777,                // a partial last block
            "rootfs/tree/usr/lib/libbig.so": (1 << 20) + 3 * 4096 + 5,
            "volumes/data/blob.bin": 4096,                            // exactly one block
        ]
        for (i, (path, size)) in big.sorted(by: { $0.key < $1.key }).enumerated() {
            b.file(path, pseudoRandomBytes(size, seed: UInt64(100 + i)), mode: 0o644)
        }
        b.file("checkpoint/small.img", pseudoRandomBytes(4095, seed: 7))
        b.file("rootfs/tree/etc/app.conf", "x=1\n", mode: 0o644)
        let archive = URL(fileURLWithPath: mnt + "/aligned.tar")
        let digest = try CLI.create(source, archive, ["--align", "4096"])
        XCTAssertNotNil(digest)

        // CKA-ALN-002, checked independently: v2check.py, and every file's data offset from Python's tarfile.
        let check = try TestTools.spawn([CLI.pythonPath, WorkedExampleTests.v2check, archive.path])
        XCTAssertEqual(check.status, 0, check.stdoutText)
        XCTAssertEqual(check.stdoutText.trimmingCharacters(in: .whitespacesAndNewlines), digest)
        let offsets = try CLI.python("""
            import json, sys, tarfile
            with tarfile.open(sys.argv[1]) as t:
                print(json.dumps({m.name: [m.size, m.offset_data] for m in t if m.isreg()}))
            """, [archive.path])
        let files = try XCTUnwrap(JSONSerialization.jsonObject(with: offsets.stdout) as? [String: [Int]])
        for (path, sizeAndOffset) in files where sizeAndOffset[0] >= 4096 {
            XCTAssertEqual(sizeAndOffset[1] % 4096, 0, "\(path): data at \(sizeAndOffset[1])")
        }
        let aligned = Set(files.filter { $0.value[0] >= 4096 }.keys)
        XCTAssertTrue(aligned.isSuperset(of: big.keys), "\(aligned)")

        // Extract on the same file system: the big files share extents with the archive.
        let out = mnt + "/out"
        try CLI.extract(archive, URL(fileURLWithPath: out))
        CLI.assertEqual(try CLI.unpacked(source), try CLI.unpacked(URL(fileURLWithPath: out)), "reflink extraction",
                        headers: false)
        for (path, size) in big {
            XCTAssertEqual(fileBytes(out + "/" + path), fileBytes(source.path + "/" + path), path)
            let flags = try extentFlags(out + "/" + path)
            XCTAssertFalse(flags.isEmpty, path)
            XCTAssertTrue(flags.contains { $0 & Self.shared != 0 },
                          "\(path): no shared extent, flags \(flags.map { String($0, radix: 16) })")
            if size % 4096 == 0 {
                XCTAssertTrue(flags.allSatisfy { $0 & Self.shared != 0 },
                              "\(path): every extent is shared, flags \(flags.map { String($0, radix: 16) })")
            }
        }
        XCTAssertTrue(try extentFlags(archive.path).contains { $0 & Self.shared != 0 }, "the archive shares its extents")

        // --no-reflink copies: identical content, nothing shared.
        let copied = mnt + "/copied"
        try CLI.extract(archive, URL(fileURLWithPath: copied), ["--no-reflink"])
        for path in big.keys {
            XCTAssertEqual(fileBytes(copied + "/" + path), fileBytes(source.path + "/" + path), path)
            XCTAssertFalse(try extentFlags(copied + "/" + path).contains { $0 & Self.shared != 0 }, "\(path) --no-reflink")
        }
    }
}
