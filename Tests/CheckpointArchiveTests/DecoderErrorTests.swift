import Foundation
import TestSupport
import XCTest

/// Found while measuring resource bounds: `ckpt extract` of a damaged v2 archive printed the tar reader's or the
/// decompressor's own error (`ckpt: tar: archive is truncated at byte offset 30000 (entry 'devshm/segment')`), with
/// no requirement ID, where the v1 reader names one (`[CKA-TAR-001] ...`). Errors of a v1 archive also repeated
/// their offset and entry (`... at byte offset 6144 (entry 'x') (entry 'x') at byte offset 6144`).
final class DecoderErrorTests: XCTestCase {
    /// A v2 source directory whose archives decompress to well over the 64 KiB the opener peeks at, so that damage
    /// near the end is found by the decoder itself.
    private func source() throws -> URL {
        let dir = try TestTools.temporaryDirectory(self).appendingPathComponent("src")
        let fm = FileManager.default
        for sub in ["metadata", "checkpoint", "rootfs/tree/data"] {
            try fm.createDirectory(at: dir.appendingPathComponent(sub), withIntermediateDirectories: true)
        }
        try Data(#"{"id":"e","name":"errors"}"#.utf8).write(to: dir.appendingPathComponent("metadata/config.dump"))
        try Data(#"{"annotations":{"io.container.manager":"libpod"}}"#.utf8)
            .write(to: dir.appendingPathComponent("metadata/spec.dump"))
        try Data([0x16, 0x31, 0x31, 0x58] + [UInt8](repeating: 1, count: 28))
            .write(to: dir.appendingPathComponent("checkpoint/inventory.img"))
        var state: UInt64 = 42
        let noise = (0..<300_000).map { _ -> UInt8 in
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return UInt8(truncatingIfNeeded: state >> 33)
        }
        try Data(noise).write(to: dir.appendingPathComponent("rootfs/tree/data/blob.bin"))
        return dir
    }

    private func extractCut(_ archive: URL, keeping fraction: Double) throws -> String {
        let bytes = try Data(contentsOf: archive)
        let cut = archive.deletingLastPathComponent().appendingPathComponent("cut-" + archive.lastPathComponent)
        try bytes.prefix(Int(Double(bytes.count) * fraction)).write(to: cut)
        let out = archive.deletingLastPathComponent().appendingPathComponent("out-" + archive.lastPathComponent)
        let r = try CLI.run(["extract", "--quiet", cut.path, out.path], status: 1)
        XCTAssertFalse(FileManager.default.fileExists(atPath: out.path))
        return r.stderrText
    }

    private func assertOnce(_ text: String, _ part: String, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(text.components(separatedBy: part).count - 1, 1, "'\(part)' not exactly once in: \(text)",
                       file: file, line: line)
    }

    func testDamagedV2ArchivesNameTheRequirement() throws {
        let src = try source()
        let work = src.deletingLastPathComponent()
        let plain = work.appendingPathComponent("a.tar")
        try CLI.create(src, plain, ["--compress", "none"])
        let message = try extractCut(plain, keeping: 0.9)
        XCTAssertTrue(message.hasPrefix("ckpt: [CKA-TAR-001] "), message)
        assertOnce(message, "at byte offset")
        assertOnce(message, "(entry 'rootfs/tree/data/blob.bin')")

        let zstd = work.appendingPathComponent("a.tar.zst")
        try CLI.create(src, zstd, ["--compress", "zstd"])
        let zmessage = try extractCut(zstd, keeping: 0.9)
        XCTAssertTrue(zmessage.hasPrefix("ckpt: [CKA-CMP-010] "), zmessage)
        XCTAssertTrue(zmessage.contains("compressed offset"), zmessage)
    }

    func testV1ErrorsGiveOffsetAndEntryOnce() throws {
        let src = try source()
        let plain = src.deletingLastPathComponent().appendingPathComponent("v1.tar")
        try CLI.create(src, plain, ["--format", "v1", "--profile", "podman", "--compress", "none"])
        let message = try extractCut(plain, keeping: 0.9)
        XCTAssertTrue(message.hasPrefix("ckpt: [CKA-TAR-001] "), message)
        assertOnce(message, "at byte offset")
    }
}
