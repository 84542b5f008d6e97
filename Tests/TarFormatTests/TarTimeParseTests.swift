import TarFormat
import XCTest

/// `TarTime.parse` (pax `mtime`, `atime`, `ctime` values) against a plain reference that checks every digit for
/// overflow: the same time or the same refusal for edge cases and for random strings of digits, signs and dots.
final class TarTimeParseTests: XCTestCase {
    /// The grammar of POSIX pax times, one byte and one overflow check at a time.
    private func reference(_ text: String) -> TarTime? {
        var bytes = Array(text.utf8)[...]
        let negative = bytes.first == 0x2D
        if negative { bytes = bytes.dropFirst() }
        let whole = bytes.prefix { $0 != 0x2E }
        guard !whole.isEmpty, whole.allSatisfy({ (0x30...0x39).contains($0) }) else { return nil }
        var seconds: Int64 = 0
        for c in whole {
            let (m, o1) = seconds.multipliedReportingOverflow(by: 10)
            let (a, o2) = m.addingReportingOverflow(Int64(c - 0x30))
            if o1 || o2 { return nil }
            seconds = a
        }
        var nanos: Int64 = 0
        if whole.count < bytes.count {
            let fraction = bytes.dropFirst(whole.count + 1)
            guard !fraction.isEmpty, fraction.allSatisfy({ (0x30...0x39).contains($0) }) else { return nil }
            for c in (fraction.prefix(9) + Array(repeating: 0x30, count: max(0, 9 - fraction.count))) {
                nanos = nanos * 10 + Int64(c - 0x30)
            }
        }
        if negative {
            return nanos > 0 ? TarTime(seconds: -seconds - 1, nanoseconds: Int32(1_000_000_000 - nanos))
                : TarTime(seconds: -seconds)
        }
        return TarTime(seconds: seconds, nanoseconds: Int32(nanos))
    }

    private func parsed(_ text: String) -> TarTime? {
        Array(text.utf8).withUnsafeBytes { TarTime.parse($0) }
    }

    func testEdgeCasesMatchTheReference() {
        let cases = ["", "-", ".", "-.", "0", "-0", "1.", ".5", "1..2", "1.2.3", "1796012539.212304338",
                     "9223372036854775807", "9223372036854775808", "-9223372036854775807.5", "99999999999999999999",
                     "000000000000000000000000001", "123456789012345678", "1234567890123456789", "1.0000000001",
                     "1.1234567899", "-1.25", "1e5", " 1", "1 ", "+1", "1.-5", "12345678901234567890.1"]
        for text in cases {
            XCTAssertEqual(parsed(text), reference(text), text)
        }
        XCTAssertEqual(parsed("1796012539.212304338"), TarTime(seconds: 1_796_012_539, nanoseconds: 212_304_338))
        XCTAssertNil(parsed("9223372036854775808"))
    }

    func testRandomStringsMatchTheReference() {
        var rng = SystemRandomNumberGenerator()
        let alphabet = Array("0123456789999.-x")
        for _ in 0..<20_000 {
            let length = Int.random(in: 0...26, using: &rng)
            let text = String((0..<length).map { _ in alphabet[Int.random(in: 0..<alphabet.count, using: &rng)] })
            XCTAssertEqual(parsed(text), reference(text), text)
            // Well-formed times, long digit runs included.
            let digits = String((0..<Int.random(in: 1...21, using: &rng)).map { _ in alphabet[Int.random(in: 0..<10, using: &rng)] })
            let fraction = String((0..<Int.random(in: 1...12, using: &rng)).map { _ in alphabet[Int.random(in: 0..<10, using: &rng)] })
            for time in [digits, "-" + digits, digits + "." + fraction, "-" + digits + "." + fraction] {
                XCTAssertEqual(parsed(time), reference(time), time)
            }
        }
    }
}
