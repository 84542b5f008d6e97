import TarFormat
import XCTest

final class PathTableTests: XCTestCase {
    private func bytes(_ s: String) -> [UInt8] { Array(s.utf8) }

    func testPrefixesShareNodes() {
        var table = PathTable()
        let abc = table.intern(bytes("a/b/c"))
        XCTAssertEqual(abc.map(\.end), [1, 3, 5])
        let abd = table.intern(bytes("a/b/d"))
        XCTAssertEqual(abd.prefix(2).map(\.node), abc.prefix(2).map(\.node), "a and a/b are the same nodes")
        XCTAssertNotEqual(abd[2].node, abc[2].node)
        XCTAssertEqual(table.count, 4)
        XCTAssertEqual(table.find(bytes("a/b")), abc[1].node)
        XCTAssertEqual(table.find(bytes("a/b/c/")), abc[2].node, "a trailing slash names the same node")
        XCTAssertNil(table.find(bytes("a/x")))
        XCTAssertNil(table.find(bytes("")))
        XCTAssertEqual(table.count, 4, "find records nothing")
    }

    /// Components are compared as bytes under their parent only: `b` under `a` and `b` at the top differ.
    func testSameComponentUnderDifferentParents() {
        var table = PathTable()
        let ab = table.intern(bytes("a/b"))
        let b = table.intern(bytes("b"))
        XCTAssertNotEqual(ab[1].node, b[0].node)
        XCTAssertEqual(table.intern(bytes("a//b/")).map(\.node), ab.map(\.node))
    }

    /// The regression the table exists for: a 61,000-byte name 1,000 components deep, with parents shared by 16
    /// names, costs the names' length, not depth times length (each parent was a 30 KB string on average).
    func testDeepNamesCostTheirLength() {
        var table = PathTable()
        for top in 0..<16 {
            let name = bytes("t\(top)/" + String(repeating: String(repeating: "c", count: 60) + "/", count: 999))
            XCTAssertEqual(table.intern(name).count, 1000)
        }
        XCTAssertEqual(table.count, 16 * 1000)
    }
}
