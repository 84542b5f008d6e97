import Foundation
@testable import TarFormat
import XCTest

/// `HeaderScreen`: what the read-ahead thread records is exactly the blocks whose checksum the reader would accept
/// by the unsigned sum and which pass the caller's test, and the reader is told a block passed only at the same
/// offset with the same bytes.
final class HeaderScreenTests: XCTestCase {
    /// A ustar header block for `name` with a valid checksum (`Archives.block`).
    private func block(_ name: String, size: Int = 0) -> [UInt8] {
        Archives.block(name: name, size: String(format: "%011o", size))
    }

    private func screen(_ s: HeaderScreen, _ b: [UInt8], at offset: Int64) { b.withUnsafeBytes { s.screen($0, at: offset) } }
    private func passed(_ s: HeaderScreen, _ b: [UInt8], at offset: Int64) -> Bool { b.withUnsafeBytes { s.passed($0, at: offset) } }

    func testASoundBlockPassesAtItsOffsetWithItsBytesOnly() {
        let s = HeaderScreen { _ in true }
        let a = block("a"), b = block("b"), c = block("c")
        screen(s, a, at: 0)
        screen(s, b, at: 1024)
        screen(s, c, at: 4096)
        XCTAssertTrue(passed(s, a, at: 0))
        XCTAssertFalse(passed(s, a, at: 512), "no block was screened there")
        var changed = b
        changed[10] = 0x41
        XCTAssertFalse(passed(s, changed, at: 1024), "other bytes at a screened offset")
        XCTAssertTrue(passed(s, c, at: 4096))
        XCTAssertFalse(passed(s, block("d"), at: 8192), "beyond what was screened")
    }

    func testABlockThatFailsTheChecksumOrTheTestIsNotRecorded() {
        let s = HeaderScreen { $0[0] != UInt8(ascii: "x") }
        var badSum = block("a")
        badSum[0] = UInt8(ascii: "b")  // the checksum no longer matches
        let refused = block("x")
        // A checksum that matches only as the signed sum (a byte of 0x80 or more): left to the full checks.
        var signed = block("s")
        signed[5] = 0xE9
        let signedSum = signed.withUnsafeBytes { TarHeaderChecksum.sums($0).signed }
        for (k, c) in String(format: "%06o\0 ", signedSum).utf8.enumerated() { signed[148 + k] = c }
        let good = block("g")
        for (i, b) in [badSum, refused, signed, good].enumerated() { screen(s, b, at: Int64(i) * 512) }
        XCTAssertFalse(passed(s, badSum, at: 0))
        XCTAssertFalse(passed(s, refused, at: 512))
        XCTAssertFalse(passed(s, signed, at: 1024))
        XCTAssertTrue(passed(s, good, at: 1536))
    }

    func testAFullRingRecordsNothingMoreUntilTheReaderMovesOn() {
        let s = HeaderScreen { _ in true }
        let b = block("f")
        let n = HeaderScreen.capacity
        for i in 0..<(n + 10) { screen(s, b, at: Int64(i) * 512) }
        XCTAssertTrue(passed(s, b, at: Int64(n - 1) * 512), "the last block that found room")
        XCTAssertFalse(passed(s, b, at: Int64(n) * 512), "no room was left for it")
        // The reader is past every entry: the ring takes new ones again.
        for i in (n + 10)..<(n + 20) { screen(s, b, at: Int64(i) * 512) }
        XCTAssertTrue(passed(s, b, at: Int64(n + 15) * 512))
    }

    func testABodyPassesUnderItsHeadersOffsetWithItsBytesOnly() {
        let s = HeaderScreen(test: { _ in true }, bodyTest: { body, _ in body.first != UInt8(ascii: "9") })
        let header = block("a")
        let body = Array("30 mtime=1796067324.789787341\n".utf8), refused = Array("9 a=b\n".utf8)
        screen(s, header, at: 0)
        body.withUnsafeBytes { s.screenBody($0, at: 0) }
        refused.withUnsafeBytes { s.screenBody($0, at: 1024) }
        XCTAssertTrue(passed(s, header, at: 0))
        XCTAssertTrue(body.withUnsafeBytes { s.bodyPassed($0, at: 0) })
        XCTAssertFalse(refused.withUnsafeBytes { s.bodyPassed($0, at: 1024) }, "its test failed")
        // A screen without a body test records no body; a body is not taken for a block at the same offset.
        let t = HeaderScreen { _ in true }
        body.withUnsafeBytes { t.screenBody($0, at: 0) }
        XCTAssertFalse(body.withUnsafeBytes { t.bodyPassed($0, at: 0) })
        let u = HeaderScreen(test: { _ in true }, bodyTest: { _, _ in true })
        header.withUnsafeBytes { u.screenBody($0, at: 0) }
        XCTAssertFalse(passed(u, header, at: 0), "recorded as a body, asked as a block")
    }

    func testABodysRecordsAreHandedOverWithItsBytesOnly() throws {
        let s = HeaderScreen(test: { _ in true }, bodyTest: { body, _ in body.first != UInt8(ascii: "6") })
        let body = Array("30 mtime=1796067324.789787341\n".utf8), other = Array("6 a=b\n".utf8)
        let records = try PaxParser.parse(body), otherRecords = try PaxParser.parse(other)
        body.withUnsafeBytes { s.screenBody($0, at: 0, records: records) }
        other.withUnsafeBytes { s.screenBody($0, at: 1024, records: otherRecords) }
        body.withUnsafeBytes { s.screenBody($0, at: 2048, records: records) }
        XCTAssertTrue(body.withUnsafeBytes { s.bodyPassed($0, at: 0) })
        XCTAssertEqual(s.takeBodyRecords(), records)
        XCTAssertNil(s.takeBodyRecords(), "taken once")
        // Kept for its records although its test failed.
        XCTAssertFalse(other.withUnsafeBytes { s.bodyPassed($0, at: 1024) })
        XCTAssertEqual(s.takeBodyRecords(), otherRecords)
        // Other bytes at a recorded offset: no records.
        XCTAssertFalse(other.withUnsafeBytes { s.bodyPassed($0, at: 2048) })
        XCTAssertNil(s.takeBodyRecords())
    }

    func testTheFingerprintTellsLengthsApart() {
        let texts: [[UInt8]] = [[], [0], [0, 0], Array("ab".utf8), [0] + Array("ab".utf8), Array("abcdefgh".utf8),
                                [0] + Array("abcdefgh".utf8), Array(repeating: 0, count: 64), Array(repeating: 0, count: 72)]
        let prints = texts.map { t in t.withUnsafeBytes { HeaderScreen.fingerprint($0) } }
        XCTAssertEqual(Set(prints).count, texts.count)
    }

    func testTheFingerprintChangesWithAnyByte() {
        let b = block("rootfs/tree/usr/share/doc/readme.txt", size: 1234)
        let print = b.withUnsafeBytes { HeaderScreen.fingerprint($0) }
        for i in 0..<512 {
            for v: UInt8 in [0x00, 0x01, 0x20, 0x30, 0x7F, 0x80, 0xFF] where v != b[i] {
                var c = b
                c[i] = v
                XCTAssertNotEqual(c.withUnsafeBytes { HeaderScreen.fingerprint($0) }, print, "byte \(i) set to \(v)")
            }
        }
    }

    /// One thread records while another asks, as the read-ahead and the reader do (run under ThreadSanitizer by
    /// `.ci/sanitizers`). First the recorder is ahead: every block passes, and none with other bytes. Then the two
    /// run side by side, the asker overtaking the recorder now and then (a block it reaches first is checked in
    /// full): still no block passes with other bytes.
    func testARecorderAndAnAskerOnTwoThreads() {
        let s = HeaderScreen(test: { _ in true }, bodyTest: { _, _ in true })
        let blocks = (0..<20_000).map { block("f\($0 % 997)") }
        // Every tenth block has a body, with its records, handed over with it.
        let body = Array("30 mtime=1796067324.789787341\n".utf8)
        let records = try? PaxParser.parse(body)
        func record(_ range: Range<Int>) -> DispatchSemaphore {
            let done = DispatchSemaphore(value: 0)
            Thread {
                for i in range {
                    blocks[i].withUnsafeBytes { s.screen($0, at: Int64(i) * 512) }
                    if i % 10 == 0 { body.withUnsafeBytes { s.screenBody($0, at: Int64(i) * 512, records: records) } }
                }
                done.signal()
            }.start()
            return done
        }
        func ask(_ range: Range<Int>) -> Int {
            var passes = 0
            for i in range {
                var other = blocks[i]
                other[0] ^= 0x01
                XCTAssertFalse(other.withUnsafeBytes { s.passed($0, at: Int64(i) * 512) }, "block \(i) with other bytes")
                if blocks[i].withUnsafeBytes({ s.passed($0, at: Int64(i) * 512) }) { passes += 1 }
                if i % 10 == 0, body.withUnsafeBytes({ s.bodyPassed($0, at: Int64(i) * 512) }) {
                    XCTAssertEqual(s.takeBodyRecords(), records, "body \(i)")
                }
            }
            return passes
        }
        // 3,600 blocks and 360 bodies: within the ring's 4,096 entries.
        record(0..<3600).wait()
        XCTAssertEqual(ask(0..<3600), 3600)
        let done = record(3600..<20_000)
        _ = ask(3600..<20_000)
        done.wait()
    }
}
