@testable import Conformance
import XCTest

/// The word- and vector-at-a-time byte scans of the header checks (`Bytes`) against byte-by-byte references,
/// on every length from 0 to 160 (the header's fields are 8 to 155 bytes) and the patterns that matter: all
/// zero, a string then NULs, a non-zero byte after the NULs at each position, bytes of 0x80 and more; and the
/// octal value of a numeric field, whose usual form TarFormat parses a word at a time, against the grammar.
final class ByteScanTests: XCTestCase {
    private func referenceZeroAfterFirstZero(_ b: [UInt8]) -> Bool {
        guard let nul = b.firstIndex(of: 0) else { return true }
        return b[nul...].allSatisfy { $0 == 0 }
    }

    private func inputs(length n: Int) -> [[UInt8]] {
        var out: [[UInt8]] = [[UInt8](repeating: 0, count: n), [UInt8](repeating: 0x61, count: n)]
        for cut in stride(from: 0, through: n, by: max(1, n / 9)) {
            let string = (0..<n).map { $0 < cut ? UInt8(0x61 + $0 % 26) : 0 }
            out.append(string)
            // One stray byte after the NULs, at each place (the first and last lanes of a load included).
            for stray in Set([cut + 1, cut + 15, cut + 16, cut + 17, n - 1]) where stray > cut && stray < n {
                var bad = string
                bad[stray] = 0x20
                out.append(bad)
            }
            var high = string
            if cut > 0 { high[cut - 1] = 0xC3 }
            out.append(high)
        }
        var rng = SystemRandomNumberGenerator()
        for _ in 0..<8 { out.append((0..<n).map { _ in [0, 0, 0x41, 0x80, 0xFF][Int.random(in: 0..<5, using: &rng)] }) }
        return out
    }

    func testScansAgreeWithByteByByteReferences() {
        for n in 0...160 {
            for bytes in inputs(length: n) {
                // Between non-zero bytes: a scan that read outside the field would give a wrong answer.
                let padded: [UInt8] = [0xEE] + bytes + [0xEE]
                padded.withUnsafeBufferPointer { p in
                    let field = p.baseAddress! + 1
                    XCTAssertEqual(Bytes.allZero(field, n), bytes.allSatisfy { $0 == 0 }, "allZero \(bytes)")
                    XCTAssertEqual(Bytes.isASCII(field, n), bytes.allSatisfy { $0 < 0x80 }, "isASCII \(bytes)")
                    XCTAssertEqual(Bytes.zeroAfterFirstZero(field, n), referenceZeroAfterFirstZero(bytes),
                                   "zeroAfterFirstZero \(bytes)")
                }
            }
        }
    }

    func testOctalValueOfAFieldAgreesWithTheGrammar() {
        var rng = SystemRandomNumberGenerator()
        let alphabet: [UInt8] = Array("000001234567 8".utf8) + [0, 0]
        var fields: [[UInt8]] = [Array("0000644\u{0}".utf8), Array("0000644 ".utf8), Array("012345\u{0} ".utf8),
                                 Array("00000000036\u{0}".utf8), Array("77777777777 ".utf8), Array("   644\u{0}\u{0}\u{0}".utf8),
                                 Array("0000648\u{0}".utf8), Array("00000000036\u{0}".utf8).map { $0 == 0x36 ? 0x20 : $0 }]
        for width in [8, 12] {
            for _ in 0..<5000 {
                var f = (0..<width).map { _ in alphabet[Int.random(in: 0..<alphabet.count, using: &rng)] }
                // Half of them in the usual form with one byte changed, where the two parsers could part.
                if Bool.random(using: &rng) {
                    f = (0..<(width - 1)).map { _ in UInt8.random(in: 0x30...0x37, using: &rng) } + [0]
                    f[Int.random(in: 0..<width, using: &rng)] = alphabet[Int.random(in: 0..<alphabet.count, using: &rng)]
                }
                fields.append(f)
            }
        }
        for f in fields {
            let fast = f.withUnsafeBytes { TarRawBlock.octalValue($0) }
            XCTAssertEqual(fast, TarRawBlock.octalValue(f[...]), String(decoding: f, as: UTF8.self))
        }
    }
}
