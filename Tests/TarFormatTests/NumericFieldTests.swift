@testable import TarFormat
import XCTest

/// Octal and base-256 fields, with the edge cases of Go's strconv_test.go and GNU tar.
final class NumericFieldTests: XCTestCase {
    private func parse(_ bytes: [UInt8]) -> Int64? {
        bytes.withUnsafeBytes { NumericFields.parse($0) }
    }

    func testOctalForms() {
        XCTAssertEqual(parse(Array("0000644\0".utf8)), 0o644)
        XCTAssertEqual(parse(Array("   644 \0".utf8)), 0o644)
        XCTAssertEqual(parse(Array("0000644 ".utf8)), 0o644)
        XCTAssertEqual(parse([0, 0, 0, 0, 0, 0, 0, 0]), 0)
        XCTAssertEqual(parse(Array("        ".utf8)), 0)
        XCTAssertEqual(parse(Array("77777777777\0".utf8)), 0o77777777777)
        // Junk after the terminating NUL is ignored, as GNU tar does.
        XCTAssertEqual(parse(Array("0000012\0xy".utf8)), 0o12)
    }

    func testOctalRejectsNonDigits() {
        XCTAssertNil(parse(Array("0000849\0".utf8)))
        XCTAssertNil(parse(Array("00 0644\0".utf8)))
        XCTAssertNil(parse(Array("-000644\0".utf8)))
        XCTAssertNil(parse(Array("0x1234\0\0".utf8)))
    }

    func testOctalOverflow() {
        // 22 octal digits of 7 exceed Int64.
        XCTAssertNil(parse(Array(String(repeating: "7", count: 22).utf8)))
        XCTAssertEqual(parse(Array("777777777777777777777".utf8)), Int64.max)
    }

    func testBase256() {
        XCTAssertEqual(parse([0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]), 1)
        XCTAssertEqual(parse([0x80, 0, 0, 0, 0, 0, 0, 0x08, 0, 0, 0, 0]), 1 << 35)
        XCTAssertEqual(parse([0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF]), -1)
        XCTAssertEqual(parse([0x80, 0x7F, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF]), Int64.max)
        // One bit too many (Go: "\x80\x80\x00..." is not ok).
        XCTAssertNil(parse([0x80, 0x80, 0, 0, 0, 0, 0, 0, 0]))
        XCTAssertNil(parse([0x81, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]))
    }

    func testFormatRoundTrip() {
        for v: Int64 in [0, 1, 0o644, 0o7777777, 0o77777777777, 1 << 33, Int64.max, -1, -(1 << 40)] {
            var field = [UInt8](repeating: 0, count: 12)
            let fits = field.withUnsafeMutableBytes { NumericFields.formatOctal(v, into: $0) }
            if !fits { field.withUnsafeMutableBytes { NumericFields.formatBase256(v, into: $0) } }
            XCTAssertEqual(parse(field), v, "value \(v)")
            XCTAssertEqual(fits, v >= 0 && v <= 0o77777777777)
        }
    }
}
