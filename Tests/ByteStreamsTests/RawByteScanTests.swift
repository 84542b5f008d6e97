import ByteStreams
import XCTest

/// The raw byte scans of the hot paths against the collection operations they replace.
final class RawByteScanTests: XCTestCase {
    private var generator = SystemRandomNumberGenerator()

    private func randomBytes(_ count: ClosedRange<Int>, from alphabet: [UInt8]) -> [UInt8] {
        (0..<Int.random(in: count, using: &generator)).map { _ in alphabet.randomElement(using: &generator)! }
    }

    func testCommonPrefixLengthOfTwoNames() {
        for _ in 0..<20_000 {
            let shared = randomBytes(0...40, from: [0x61, 0x62])
            let a = shared + randomBytes(0...20, from: [0x61, 0x62])
            let b = shared + randomBytes(0...20, from: [0x61, 0x62])
            let expected = zip(a, b).prefix(while: { $0 == $1 }).count
            let length = a.withUnsafeBytes { a in b.withUnsafeBytes { a.commonPrefixLength(with: $0) } }
            XCTAssertEqual(length, expected)
        }
    }

    /// The runs between separators are those of `split` keeping empty pieces; `firstOffset` is `firstIndex`.
    func testRunsAndOffsetsAgreeWithTheCollectionOperations() {
        for _ in 0..<20_000 {
            let bytes = randomBytes(0...30, from: Array("//ab.".utf8))
            var runs: [[UInt8]] = []
            bytes.withUnsafeBytes { p in
                p.forEachRun(separatedBy: 0x2F) { r in
                    runs.append(Array(p[r]))
                    return true
                }
            }
            XCTAssertEqual(runs, bytes.split(separator: 0x2F, omittingEmptySubsequences: false).map(Array.init))
            let lower = Int.random(in: 0...bytes.count, using: &generator)
            let range = lower..<Int.random(in: lower...bytes.count, using: &generator)
            XCTAssertEqual(bytes.withUnsafeBytes { $0.firstOffset(of: 0x2E, in: range) },
                           bytes[range].firstIndex(of: 0x2E))
        }
        // `body` returning false stops the walk.
        var seen = 0
        Array("a/b/c".utf8).withUnsafeBytes { p in p.forEachRun(separatedBy: 0x2F) { _ in seen += 1; return seen < 2 } }
        XCTAssertEqual(seen, 2)
    }

    func testLiteralComparisons() {
        Array("mtime".utf8).withUnsafeBytes { p in
            XCTAssertTrue(p.equals("mtime"))
            XCTAssertFalse(p.equals("mtim"))
            XCTAssertFalse(p.equals("mtimes"))
            XCTAssertTrue(p.hasPrefix("mt"))
            XCTAssertTrue(p.hasPrefix(""))
            XCTAssertFalse(p.hasPrefix("mtimes"))
        }
        [UInt8]().withUnsafeBytes { XCTAssertTrue($0.equals("")) }
    }
}
