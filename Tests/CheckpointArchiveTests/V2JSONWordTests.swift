@testable import CheckpointArchive
import XCTest

/// The index's canonical file objects are read eight bytes at a time (`V2JSONCursor.plainWord` for the path,
/// `lowercaseHexWord` for the digest). These tests hold the word tests to the byte-by-byte definitions they replace,
/// and the fast reader of a file object to the general walk.
final class V2JSONWordTests: XCTestCase {
    /// A byte a canonical path holds unescaped: printable ASCII other than '"' and '\'.
    private func isPlain(_ c: UInt8) -> Bool { c >= 0x20 && c < 0x7F && c != 0x22 && c != 0x5C }
    private func isLowercaseHex(_ c: UInt8) -> Bool { (0x30...0x39).contains(c) || (0x61...0x66).contains(c) }

    private func word(_ bytes: [UInt8]) -> UInt64 { bytes.withUnsafeBytes { $0.loadUnaligned(as: UInt64.self) } }

    /// Every byte value at every position of a word that is otherwise valid, then random words over the values
    /// next to each boundary.
    func testWordTestsAgreeWithTheByteDefinitions() {
        for (fill, fast, slow) in [(UInt8(ascii: "a"), V2JSONCursor.plainWord, isPlain),
                                   (UInt8(ascii: "7"), V2JSONCursor.lowercaseHexWord, isLowercaseHex)] {
            for position in 0..<8 {
                for value in 0...255 {
                    var bytes = [UInt8](repeating: fill, count: 8)
                    bytes[position] = UInt8(value)
                    XCTAssertEqual(fast(word(bytes)), bytes.allSatisfy(slow), "byte \(value) at \(position)")
                }
            }
            let edges: [UInt8] = [0x00, 0x01, 0x1F, 0x20, 0x21, 0x22, 0x23, 0x2F, 0x30, 0x39, 0x3A, 0x40, 0x5B, 0x5C,
                                  0x5D, 0x60, 0x61, 0x66, 0x67, 0x7E, 0x7F, 0x80, 0xA2, 0xDC, 0xFF, fill, fill, fill]
            var generator = SystemRandomNumberGenerator()
            for _ in 0..<200_000 {
                let bytes = (0..<8).map { _ in edges.randomElement(using: &generator)! }
                XCTAssertEqual(fast(word(bytes)), bytes.allSatisfy(slow), "\(bytes)")
            }
        }
    }

    private func object(path: [UInt8], sha: [UInt8]) -> [UInt8] {
        Array(#"{"path":""#.utf8) + path + Array(#"","size":1602,"offset":2114786304,"sha256":""#.utf8) + sha
            + Array(#""}"#.utf8)
    }

    /// A path with one byte of each kind at each position relative to the words, and a digest with one bad byte
    /// at each of its 64 places: read by the fast reader exactly when the object is canonical, with the ranges
    /// of its path and digest.
    func testCanonicalFileObjectTakesExactlyTheCanonicalForm() throws {
        let digest = Array("0123456789abcdef".utf8) + Array("fedcba9876543210".utf8) + Array(repeating: 0x61, count: 32)
        for length in [1, 7, 8, 9, 45, 64, 65] {
            for position in 0..<length {
                for value: UInt8 in [0x1F, 0x20, 0x22, 0x2F, 0x5C, 0x7E, 0x7F, 0x80, 0xC3] {
                    var path = [UInt8](repeating: UInt8(ascii: "p"), count: length)
                    path[position] = value
                    let bytes = object(path: path, sha: digest)
                    var c = V2JSONCursor(bytes)
                    let f = try c.canonicalFileObject()
                    XCTAssertEqual(f != nil, path.allSatisfy(isPlain), "byte \(value) at \(position) of \(length)")
                    guard let f else { continue }
                    XCTAssertEqual(Array(bytes[f.path]), path)
                    XCTAssertEqual(Array(bytes[f.sha256]), digest)
                    XCTAssertEqual(f.size, 1602)
                    XCTAssertEqual(f.offset, 2_114_786_304)
                    XCTAssertEqual(c.at, bytes.count)
                    // The form that hands the fields over where they lie takes the same objects, the same fields.
                    var d = V2JSONCursor(bytes)
                    var seen: (path: [UInt8], size: Int64, offset: Int64, sha: [UInt8])?
                    XCTAssertTrue(try d.canonicalFileObject { seen = (Array($0), $1, $2, Array($3)) })
                    XCTAssertEqual(seen?.path, path)
                    XCTAssertEqual(seen?.sha, digest)
                    XCTAssertEqual(seen?.size, 1602)
                    XCTAssertEqual(seen?.offset, 2_114_786_304)
                    XCTAssertEqual(d.at, bytes.count)
                }
            }
        }
        for position in 0..<64 {
            for value: UInt8 in [0x2F, 0x3A, 0x41, 0x46, 0x60, 0x67, 0xE6] {
                var sha = digest
                sha[position] = value
                var c = V2JSONCursor(object(path: Array("rootfs/tree/a".utf8), sha: sha))
                XCTAssertNil(try c.canonicalFileObject(), "byte \(value) at \(position) of the digest")
                XCTAssertEqual(c.at, 0, "nothing consumed")
                XCTAssertFalse(try c.canonicalFileObject { _, _, _, _ in XCTFail("called for a non-canonical object") })
                XCTAssertEqual(c.at, 0, "nothing consumed")
            }
        }
    }

    /// The closure form reads no whitespace, a leading zero, a 19-digit number, a truncated object or a missing
    /// member: each is left, unconsumed, to the general walk (which notes what is not canonical).
    func testTheClosureFormLeavesAnythingElseUnconsumed() throws {
        let sha = String(repeating: "ab", count: 32)
        let good = #"{"path":"a/b","size":12,"offset":0,"sha256":"\#(sha)"}"#
        let others = [" " + good, "\n" + good, good.replacingOccurrences(of: ":12,", with: ":012,"),
                      good.replacingOccurrences(of: ":12,", with: ":1234567890123456789,"), String(good.dropLast()),
                      good.replacingOccurrences(of: #""size":12,"#, with: ""), #"{"path":"a/b"}"#, "[]", "{}", ""]
        for text in others {
            var c = V2JSONCursor(Array(text.utf8))
            XCTAssertFalse(try c.canonicalFileObject { _, _, _, _ in XCTFail("called for \(text)") }, text)
            XCTAssertEqual(c.at, 0, text)
        }
        var c = V2JSONCursor(Array((good + ",").utf8))
        XCTAssertTrue(try c.canonicalFileObject { path, size, offset, _ in
            XCTAssertEqual(Array(path), Array("a/b".utf8))
            XCTAssertEqual(size, 12)
            XCTAssertEqual(offset, 0)
        })
        XCTAssertEqual(c.at, good.utf8.count, "the comma after it is left")
    }
}
