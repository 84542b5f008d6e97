import ByteStreams
import Conformance
import Foundation
import TarFormat
import TestSupport
import VectorCorpus
import XCTest

/// Without digests the validator reads an uncompressed archive file ahead on a second thread; from a pipe it
/// cannot. Over every vector of the golden corpus the two give the same report, byte for byte: the read-ahead
/// changes where bytes come from, never what is found.
final class ReadAheadReportTests: XCTestCase {
    private func report(_ path: String, fromPipe: Bool) throws -> String {
        var options = ValidatorOptions()
        options.verifyDigests = false
        options.readAheadFrom = 0  // the vectors are small: read every file ahead
        let validator = Validator(options: options)
        guard fromPipe else { return JSONReport.render(validator.validate(file: "x", source: try FileSource(path: path))) }
        var fds: [Int32] = [0, 0]
        XCTAssertEqual(pipe(&fds), 0)
        let bytes = try Data(contentsOf: URL(fileURLWithPath: path))
        let writeEnd = fds[1]
        let writer = Thread {
            bytes.withUnsafeBytes { p in
                var off = 0
                while off < p.count {
                    let n = write(writeEnd, p.baseAddress! + off, p.count - off)
                    if n <= 0 { break }
                    off += n
                }
            }
            close(writeEnd)
        }
        writer.start()
        let source = FileSource(descriptor: .init(rawValue: fds[0]), closeOnDeinit: true)
        let text = JSONReport.render(validator.validate(file: "x", source: source))
        // The validator may stop reading early: drain the pipe so that the writer finishes.
        while try !source.read(upTo: 1 << 16).isEmpty {}
        return text
    }

    func testEveryVectorGivesTheSameReportReadAheadOrNot() throws {
        let root = TestTools.repositoryRoot.appendingPathComponent("Vectors")
        let files = (FileManager.default.enumerator(atPath: root.path)?.compactMap { $0 as? String } ?? [])
            .filter { $0.hasSuffix(".tar") }
            .sorted()
        XCTAssertGreaterThan(files.count, 300, "the golden corpus is missing")
        var v2 = 0
        for file in files {
            let path = root.appendingPathComponent(file).path
            let ahead = try report(path, fromPipe: false)
            if ahead.contains("\"format\":\"v2\"") || ahead.contains("\"format\" : \"v2\"") { v2 += 1 }
            XCTAssertEqual(ahead, try report(path, fromPipe: true), file)
        }
        XCTAssertGreaterThan(v2, 100, "few v2 archives were compared")
    }

    /// The vectors mostly fit in the opener's 64 KiB peek, which the read-ahead plan is shown before its thread
    /// starts. These archives go on well past it: files over the plan's whole-file size, whose data is skipped
    /// (each next header read by a short probe), runs of small files read in whole chunks, and damage past the
    /// peek: a bad checksum, non-zero padding, a truncated file.
    func testArchivesLargerThanThePeekGiveTheSameReportReadAheadOrNot() throws {
        // After the worked example's rootfs/tree/etc/, in the depth-first byte order of CKA-V2-048.
        var files: [V2TestEntry] = []
        for i in 0..<4 {
            let size = [150_000, 70_000, 300_000, 66_000][i]
            files.append(.bytes("rootfs/tree/f\(i)-big.bin", (0..<size).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ i) },
                                mode: 0o644))
            for k in 0..<40 {
                let file = V2TestEntry.file("rootfs/tree/f\(i)-small-\(k + 100).txt",
                                            String(repeating: "line \(k)\n", count: 1 + (k * 37) % 300), mode: 0o644)
                // Every fourth with a time in nanoseconds, so a pax extended header.
                files.append(k % 4 == 0 ? file.with { $0.mtime = TarTime(seconds: 1_796_067_324, nanoseconds: 5) } : file)
            }
        }
        files.sort { $0.header.pathBytes.lexicographicallyPrecedes($1.header.pathBytes) }
        let probe = V2TestArchive(entries: V2TestArchive.validExample + files)
        let layout = try probe.build().layout
        let late = layout.entries.filter { $0.regular && $0.headerOffset > 200_000 && $0.size % 512 != 0 }
        XCTAssertGreaterThan(late.count, 10)
        let (a, b, c) = (late[2], late[7], late[9])
        // Entries past the peek with a pax extended header (its block at `headerOffset`, its body after it).
        let withPax = layout.entries.filter { $0.headerOffset > 200_000 && $0.dataOffset - $0.headerOffset > 512 }
        XCTAssertGreaterThan(withPax.count, 4)
        let (p, q) = (withPax[1], withPax[3])
        /// Where `key=` begins in the body of `e`'s pax header.
        func record(_ bytes: [UInt8], _ e: (path: String, headerOffset: Int64, dataOffset: Int64, size: Int64, regular: Bool),
                    _ key: String) -> Int {
            let body = Int(e.headerOffset) + 512
            let text = Array(bytes[body..<(body + 512)])
            let k = Array((" " + key + "=").utf8)
            let i = (0...(text.count - k.count)).first { Array(text[$0..<($0 + k.count)]) == k }!
            return body + i + 1
        }
        let big = layout.entry("rootfs/tree/f2-big.bin")
        // Header blocks past the peek, changed and sealed again with a checksum the reader accepts (`V2Patch`): the
        // read-ahead thread's screen (`HeaderScreen`) must let each through to the full checks.
        let (ha, hb, hc) = (layout.block(a.path), layout.block(b.path), layout.block(c.path))
        let damage: [(String, ((inout [UInt8], V2TestLayout) -> Void)?)] = [
            ("none", nil),
            ("checksum", { bytes, _ in bytes[ha + 148] ^= 1 }),
            ("padding", { bytes, _ in bytes[Int(b.dataOffset + b.size)] = 0x41 }),
            ("truncated", nil),
            // CKA-TAR-014: the mode field with a leading space.
            ("mode field", { bytes, _ in V2Patch.header(&bytes, at: hc) { V2Patch.put(&$0, " 000644", at: 100, width: 8) } }),
            // CKA-TAR-042: a byte after the name's NUL.
            ("unused bytes", { bytes, _ in V2Patch.header(&bytes, at: ha) { $0[99] = 0x41 } }),
            // CKA-TAR-004: a checksum that is the signed sum, with a byte of 0x80 or more in the uname field.
            ("signed checksum", { bytes, _ in
                V2Patch.header(&bytes, at: hb) { $0[265] = 0xE9 }
                let signed = bytes[hb..<(hb + 512)].withUnsafeBytes { TarHeaderChecksum.sums($0).signed }
                V2Patch.put(&bytes, TarTestHeader.octal(Int(signed), digits: 6) + "\0 ", at: hb + 148, width: 8)
            }),
            // CKA-TAR-023: a pax key that is not UTF-8 (the body's length unchanged).
            ("pax key", { bytes, _ in bytes[record(bytes, p, "mtime") + 4] = 0xE9 }),
            // CKA-TAR-024: an mtime value that is not a decimal time.
            ("pax value", { bytes, _ in bytes[record(bytes, q, "mtime") + 6] = UInt8(ascii: "x") }),
        ]
        let dir = try TestTools.temporaryDirectory(self)
        for (name, patch) in damage {
            var archive = probe
            archive.patch = patch
            let url = dir.appendingPathComponent("\(name).tar")
            var file = try archive.build().file
            if name == "truncated" { file.removeSubrange(Int(big.dataOffset) + 1000..<file.count) }
            try Data(file).write(to: url)
            let ahead = try report(url.path, fromPipe: false)
            XCTAssertEqual(ahead, try report(url.path, fromPipe: true), name)
            let document = try JSONSerialization.jsonObject(with: Data(ahead.utf8)) as? [String: Any]
            let verdict = document?["verdict"] as? String
            XCTAssertEqual(verdict == "valid", name == "none", "\(name): \(ahead.prefix(1500))")
            let expected = ["mode field": "CKA-TAR-014", "unused bytes": "CKA-TAR-042", "signed checksum": "CKA-TAR-004",
                            "pax key": "CKA-TAR-023", "pax value": "CKA-TAR-024"]
            if let id = expected[name] { XCTAssertTrue(ahead.contains("\"\(id)\""), "\(name): \(ahead.prefix(1500))") }
        }
    }
}
