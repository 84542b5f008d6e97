@testable import TarFormat
import XCTest

/// pax record syntax: the rejects of CPython's test_pax_header_bad_formats and Go's TestParsePAX.
final class PaxRecordTests: XCTestCase {
    private func parse(_ s: String) throws -> [PaxRecord] {
        do { return try PaxParser.parse(Array(s.utf8)) } catch { throw TarError(error, offset: 0) }
    }

    func testValidRecords() throws {
        let r = try parse("19 path=/etc/hosts\n13 uid=65534\n")
        XCTAssertEqual(r.map(\.key), ["path", "uid"])
        XCTAssertEqual(r[0].stringValue, "/etc/hosts")
        XCTAssertEqual(r[1].stringValue, "65534")
        // Values may contain '=' and newlines; only the length delimits a record.
        let tricky = try parse("15 comment=a=b\n17 comment=x\ny=z\n")
        XCTAssertEqual(tricky.map(\.stringValue), ["a=b", "x\ny=z"])
        XCTAssertEqual(try parse("").count, 0)
    }

    func testMalformedRecordsAreRejected() {
        let bad = [
            " foo=bar\n", "0 \n", "1 \n", "2 \n", "3 =\n", "4 =a\n", "1000000 foo=bar\n", "0 foo=bar\n",
            "-12 foo=bar\n", "000000000000000000000000036 foo=bar\n", "3 somelongkey=\n", "50 tooshort=\n",
            "13 nonewline", "12 noequal\n", "11 foo=bar\r", "6 =bar\n",
        ]
        for text in bad {
            XCTAssertThrowsError(try parse(text), "accepted \(text.debugDescription)") { error in
                guard case .invalidPaxRecord = (error as? TarError)?.kind else {
                    return XCTFail("wrong error \(error) for \(text.debugDescription)")
                }
            }
        }
    }

    func testNulInKeyOrPathIsRejected() {
        XCTAssertThrowsError(try parse("11 ke\0y=ab\n"))
        XCTAssertThrowsError(try parse("12 path=a\0b\n"))
        // NUL is allowed in xattr values (SELinux labels end in one).
        XCTAssertNoThrow(try parse("27 SCHILY.xattr.user.a=a\0b\n"))
    }

    func testEncodedLengthIsSelfConsistent() throws {
        // Lengths around the points where the prefix gains a digit.
        for n in [0, 1, 80, 85, 86, 87, 88, 89, 90, 985, 986, 987, 988, 9_990, 9_995] {
            let record = PaxRecord(key: "k", value: [UInt8](repeating: 0x61, count: n))
            let encoded = record.encoded
            let parsed = try PaxParser.parse(encoded)
            XCTAssertEqual(parsed, [record], "value length \(n)")
        }
    }

    func testTimeValues() {
        XCTAssertEqual(TarTime(paxString: "1700000000"), TarTime(seconds: 1_700_000_000))
        XCTAssertEqual(TarTime(paxString: "1.5"), TarTime(seconds: 1, nanoseconds: 500_000_000))
        XCTAssertEqual(TarTime(paxString: "1.1234567899"), TarTime(seconds: 1, nanoseconds: 123_456_789))
        XCTAssertEqual(TarTime(paxString: "-1.25"), TarTime(seconds: -2, nanoseconds: 750_000_000))
        XCTAssertEqual(TarTime(seconds: -2, nanoseconds: 750_000_000).paxString, "-1.25")
        XCTAssertEqual(TarTime(seconds: 3, nanoseconds: 100).paxString, "3.0000001")
        for bad in ["", "1.", ".5", "1e3", "--1", "1.2.3", "abc", "1 "] {
            XCTAssertNil(TarTime(paxString: bad), bad)
        }
    }
}
