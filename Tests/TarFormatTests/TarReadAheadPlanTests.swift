import ByteStreams
import Foundation
import TarFormat
import TestSupport
import XCTest

/// `TarReadAheadPlan` foresees what a listing reader wants of archives written by GNU tar in its three formats
/// (pax, GNU long names, GNU sparse): the listing through the read-ahead thread equals the plain one, and on the
/// formats it follows the reading thread reads nothing itself.
final class TarReadAheadPlanTests: XCTestCase {
    /// A tree of small files, files over `TarReadAheadPlan.wholeFile`, long names and a sparse file.
    private func tree() throws -> URL {
        let root = try TestTools.temporaryDirectory(self).appendingPathComponent("tree")
        let long = String(repeating: "d", count: 120)
        try FileManager.default.createDirectory(at: root.appendingPathComponent("a/\(long)"),
                                                withIntermediateDirectories: true)
        for i in 0..<300 {
            let size = [0, 100, 511, 512, 5_000, 70_000, 65_536, 300_000][i % 8]
            let bytes = (0..<size).map { UInt8(truncatingIfNeeded: $0 &+ i) }
            let dir = i % 3 == 0 ? "a/\(long)" : "a"
            try Data(bytes).write(to: root.appendingPathComponent("\(dir)/file-\(i)-\(String(repeating: "n", count: i % 90))"))
        }
        let sparsePath = root.appendingPathComponent("a/sparse").path
        XCTAssertTrue(FileManager.default.createFile(atPath: sparsePath, contents: nil))
        let sparse = try XCTUnwrap(FileHandle(forWritingAtPath: sparsePath))
        for k in 0..<40 {
            try sparse.seek(toOffset: UInt64(k) << 20)
            sparse.write(Data(repeating: UInt8(k), count: 1000))
        }
        try sparse.close()
        return root
    }

    /// Each header (path, type, size, offset) and the first 8 bytes of each regular file, read as the validator
    /// reads without digests: data skipped, heads read.
    private func listing(_ archive: URL, readAhead: Bool) throws -> (lines: [String], misses: Int) {
        let source = try FileSource(path: archive.path)
        // What the plan foresees, not how fast the thread is: a busy machine must not turn a late chunk into a miss.
        source.readAheadPatience = 60_000_000_000
        if readAhead { XCTAssertTrue(source.startReadAhead(TarReadAheadPlan())) }
        let reader = TarReader(source: source)
        var lines: [String] = []
        while let h = try reader.next() {
            var head: [UInt8] = []
            if h.type.isRegularFile, h.size > 0 { head = Array(try reader.read(upTo: 8)) }
            lines.append("\(String(decoding: h.pathBytes, as: UTF8.self)) \(h.type.rawValue) \(h.size) \(h.headerOffset) \(head)")
        }
        _ = try reader.finish()
        return (lines, source.readAheadMisses)
    }

    func testGNUTarArchivesAreForeseen() throws {
        try TestTools.require("tar")
        let root = try tree()
        let dir = root.deletingLastPathComponent()
        for (format, sparse, followed) in [("posix", false, true), ("gnu", false, true), ("posix", true, false),
                                           ("gnu", true, false)] {
            let archive = dir.appendingPathComponent("\(format)-\(sparse).tar")
            let r = try TestTools.run(["tar", "--format=\(format)"] + (sparse ? ["--sparse"] : []) +
                                      ["-cf", archive.path, "-C", root.path, "a"])
            XCTAssertEqual(r.status, 0, String(decoding: r.stderr, as: UTF8.self))
            let plain = try listing(archive, readAhead: false)
            let ahead = try listing(archive, readAhead: true)
            XCTAssertEqual(ahead.lines, plain.lines, "\(format) sparse \(sparse)")
            XCTAssertGreaterThan(plain.lines.count, 300)
            if followed {
                // The only reads of its own: at the end-of-archive blocks, where the plan stops.
                XCTAssertLessThanOrEqual(ahead.misses, 2, "\(format): the plan missed bytes the reader wanted")
            }
        }
    }

    func testAPaxSizeRecordOverridesTheHeaderField() throws {
        // An entry whose ustar size field says 0 and whose pax header says 70,000: the plan must skip 70,000.
        var bytes: [UInt8] = []
        let record = "14 size=70000\n"
        var x = Archives.block(name: "PaxHeaders/f", type: UInt8(ascii: "x"),
                               size: String(String(record.utf8.count, radix: 8)).leftPadded(to: 11))
        Archives.fixChecksum(&x)
        bytes += x + Archives.padded(Array(record.utf8))
        bytes += Archives.block(name: "f", size: "00000000000")
        bytes += Archives.padded((0..<70_000).map { UInt8(truncatingIfNeeded: $0) })
        for i in 0..<200 {
            bytes += Archives.block(name: "g\(i)", size: String(String(1000, radix: 8)).leftPadded(to: 11))
            bytes += Archives.padded([UInt8](repeating: UInt8(i), count: 1000))
        }
        bytes += [UInt8](repeating: 0, count: 1024)
        let url = try TestTools.temporaryDirectory(self).appendingPathComponent("pax-size.tar")
        try Data(bytes).write(to: url)
        let plain = try listing(url, readAhead: false)
        let ahead = try listing(url, readAhead: true)
        XCTAssertEqual(ahead.lines, plain.lines)
        XCTAssertEqual(plain.lines.count, 201)
        XCTAssertLessThanOrEqual(ahead.misses, 2)
    }

    func testFilesNamedToBeReadWholeAreForeseenWhole() throws {
        // Files over `wholeFile` whose data the reader reads to the end: without the predicate the plan foresees
        // only their heads and the reading thread reads the rest itself; with it, nothing is missed.
        var bytes: [UInt8] = []
        for i in 0..<12 {
            let size = i % 3 == 0 ? 300_000 : 2_000
            let name = i % 3 == 0 ? "whole-\(i)" : "small-\(i)"
            bytes += Archives.block(name: name, size: String(String(size, radix: 8)).leftPadded(to: 11))
            bytes += Archives.padded((0..<size).map { UInt8(truncatingIfNeeded: $0 &* 7 &+ i) })
        }
        bytes += [UInt8](repeating: 0, count: 1024)
        let url = try TestTools.temporaryDirectory(self).appendingPathComponent("whole.tar")
        try Data(bytes).write(to: url)
        func read(_ plan: TarReadAheadPlan?) throws -> (digest: [Int], misses: Int) {
            let source = try FileSource(path: url.path)
            source.readAheadPatience = 60_000_000_000
            if let plan { XCTAssertTrue(source.startReadAhead(plan)) }
            let reader = TarReader(source: source)
            var sums: [Int] = []
            while let h = try reader.next() {
                let whole = h.path.hasPrefix("whole-")
                var sum = 0
                for b in try reader.readData() where whole { sum = sum &* 31 &+ Int(b) }
                sums.append(whole ? sum : Int(h.size))
            }
            _ = try reader.finish()
            return (sums, source.readAheadMisses)
        }
        let isWhole: @Sendable (UnsafeRawBufferPointer) -> Bool = { field in field.starts(with: Array("whole-".utf8)) }
        let plain = try read(nil)
        let heads = try read(TarReadAheadPlan())
        let whole = try read(TarReadAheadPlan(readsWhole: isWhole))
        XCTAssertEqual(heads.digest, plain.digest)
        XCTAssertEqual(whole.digest, plain.digest)
        XCTAssertGreaterThanOrEqual(heads.misses, 4, "without the predicate the large files' data is not foreseen")
        XCTAssertLessThanOrEqual(whole.misses, 2, "the plan missed bytes of a file it was told to read whole")
    }
}

private extension String {
    func leftPadded(to width: Int) -> String { String(repeating: "0", count: max(0, width - count)) + self }
}
