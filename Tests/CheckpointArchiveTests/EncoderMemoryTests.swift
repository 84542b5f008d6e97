import Foundation
import TestSupport
import XCTest
#if canImport(Glibc)
import Glibc
#endif

/// `ckpt create`'s peak memory does not grow with the number of files (issues 4 and 7): the file records
/// and digests of the index are spooled, the tree is walked as it is written. Benchmarks/bounds.sh measures
/// 1,000,000 files (its million-v2 case); here a tenfold step in files must not move the peak RSS.
final class EncoderMemoryTests: XCTestCase {
    /// Peak RSS in KiB, measured by GNU time: `wait4`'s own figure would include this test process's peak, since
    /// Linux carries the spawning process's high-water mark over the child's exec.
    private func peakRSS(_ arguments: [String]) throws -> Int {
        let r = try TestTools.run(["/usr/bin/time", "-f", "%M"] + arguments)
        XCTAssertEqual(r.status, 0, "\(arguments) failed: \(r.stderrText)")
        let last = r.stderrText.split(separator: "\n").last.map(String.init) ?? ""
        return try XCTUnwrap(Int(last.trimmingCharacters(in: .whitespaces)), "GNU time printed \(r.stderrText)")
    }

    /// A checkpoint directory with `count` files of 1 to 64 bytes, 500 per directory.
    private func makeDirectory(_ root: URL, count: Int) throws {
        let fm = FileManager.default
        for d in ["metadata", "checkpoint"] {
            try fm.createDirectory(at: root.appendingPathComponent(d), withIntermediateDirectories: true)
        }
        try Data("{}".utf8).write(to: root.appendingPathComponent("metadata/config.dump"))
        try Data("criu\n".utf8).write(to: root.appendingPathComponent("checkpoint/inventory.img"))
        for i in 0..<count {
            let dir = root.appendingPathComponent("rootfs/tree/usr/lib/d\(i / 500)")
            if i % 500 == 0 { try fm.createDirectory(at: dir, withIntermediateDirectories: true) }
            let fd = open(dir.appendingPathComponent("file-\(i).txt").path, O_WRONLY | O_CREAT | O_EXCL, 0o644)
            XCTAssertGreaterThanOrEqual(fd, 0)
            var bytes = Array("\(i)".utf8) + Array(repeating: UInt8(i & 0x7F), count: i % 57)
            _ = write(fd, &bytes, bytes.count)
            close(fd)
        }
    }

    func testPeakMemoryOfCreateDoesNotGrowWithFiles() throws {
        // Under ASan the freed blocks wait in a 256 MiB quarantine, so the peak grows with the allocations made, not
        // with what is live (632 MiB at 20,000 files); TSan's shadow memory likewise. .ci/sanitizers runs this file.
        if let sanitizer = Sanitizer.current {
            throw XCTSkip("peak RSS of a \(sanitizer.rawValue)-sanitized ckpt measures the sanitizer, not the encoder")
        }
        let dir = try TestTools.temporaryDirectory(self)
        let ckpt = TestTools.product("ckpt")
        var peaks: [String: Int] = [:]
        for count in [2_000, 20_000] {
            let src = dir.appendingPathComponent("src-\(count)")
            try makeDirectory(src, count: count)
            for compression in ["none", "zstd"] {
                let out = dir.appendingPathComponent("a-\(count)-\(compression).tar").path
                peaks["\(count)-\(compression)"] = try peakRSS([ckpt, "create", "--quiet", "--compress", compression,
                                                                src.path, out])
                try FileManager.default.removeItem(atPath: out)
            }
        }
        // Before the spools, 18,000 more files cost about 20 MiB (1 KiB a file); now the index's memory is
        // one budget of records and one of digests (1 MiB each).
        for compression in ["none", "zstd"] {
            let small = try XCTUnwrap(peaks["2000-\(compression)"]), large = try XCTUnwrap(peaks["20000-\(compression)"])
            XCTAssertLessThan(large - small, 6 * 1024, "\(compression): \(small) KiB at 2,000 files, \(large) KiB at 20,000")
            XCTAssertLessThan(large, 64 * 1024, "\(compression): peak RSS \(large) KiB")
        }
    }
}
