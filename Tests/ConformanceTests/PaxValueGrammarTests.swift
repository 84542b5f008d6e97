@testable import Conformance
import XCTest

/// The value grammars of CKA-TAR-024 (`TarLayerRules.isDecimalInteger`, `isDecimalTime`) and the v2 test for a name
/// that needs a pax record (`V2EncodingRules.needsRecord`) against plain references, on edge cases and random
/// strings.
final class PaxValueGrammarTests: XCTestCase {
    private func referenceInteger(_ s: [UInt8]) -> Bool {
        !s.isEmpty && s.allSatisfy { (0x30...0x39).contains($0) } && Int64(String(decoding: s, as: UTF8.self)) != nil
    }

    private func referenceTime(_ s: [UInt8]) -> Bool {
        var rest = s[...]
        if rest.first == 0x2D { rest = rest.dropFirst() }
        guard let dot = rest.firstIndex(of: 0x2E) else { return referenceInteger(Array(rest)) }
        let fraction = rest[(dot + 1)...]
        return referenceInteger(Array(rest[..<dot])) && !fraction.isEmpty
            && fraction.allSatisfy { (0x30...0x39).contains($0) }
    }

    private func integer(_ s: [UInt8]) -> Bool { s.withUnsafeBytes { TarLayerRules.isDecimalInteger($0) } }
    private func time(_ s: [UInt8]) -> Bool { s.withUnsafeBytes { TarLayerRules.isDecimalTime($0) } }

    func testEdgeCases() {
        let cases = ["", "0", "00", "-1", "+1", "1a", "a1", "9223372036854775807", "9223372036854775808",
                     "09223372036854775807", "0000000000000000000000009223372036854775807", "99999999999999999999",
                     "18446744073709551615", "18446744073709551616", "1.5", "-1.5", "1.", ".5", "-", "-.5", "1.2.3",
                     "1796012539.212304338", "1 ", " 1"]
        for c in cases {
            let b = Array(c.utf8)
            XCTAssertEqual(integer(b), referenceInteger(b), "integer \(c)")
            XCTAssertEqual(time(b), referenceTime(b), "time \(c)")
        }
    }

    func testRandomValues() {
        var rng = SystemRandomNumberGenerator()
        let alphabet = Array("0000123456789.-x".utf8)
        for _ in 0..<30_000 {
            let s = (0..<Int.random(in: 0...25, using: &rng)).map { _ in alphabet[Int.random(in: 0..<alphabet.count, using: &rng)] }
            XCTAssertEqual(integer(s), referenceInteger(s), String(decoding: s, as: UTF8.self))
            XCTAssertEqual(time(s), referenceTime(s), String(decoding: s, as: UTF8.self))
        }
    }

    func testNeedsRecordIsLengthOrNonASCII() {
        var rng = SystemRandomNumberGenerator()
        for n in [0, 1, 15, 16, 17, 40, 99, 100, 101, 200] {
            for _ in 0..<50 {
                let high = Bool.random(using: &rng)
                let name = (0..<n).map { i -> UInt8 in high && i == n / 2 ? 0xC3 : UInt8.random(in: 0x20...0x7E, using: &rng) }
                XCTAssertEqual(V2EncodingRules.needsRecord(name), name.count > 100 || name.contains { $0 >= 0x80 }, "\(n)")
            }
        }
    }
}
