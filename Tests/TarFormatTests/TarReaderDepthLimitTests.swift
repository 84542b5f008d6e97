import ByteStreams
import TarFormat
import XCTest

/// The path depth limit (table 2.9 lists directory depth; CKA-TAR-043): found while measuring resource bounds (a
/// directory 32,000 components deep, a 64,000-byte name within the name length limit, made `ckpt extract` use
/// 1.3 GiB for minutes and `ckpt-validate` 4 GiB, since every parent holds the whole path so far).
final class TarReaderDepthLimitTests: XCTestCase {
    private func archive(_ names: [(String, TarEntryType, String)]) throws -> [UInt8] {
        let sink = MemorySink()
        let writer = try TarWriter(sink: sink)
        for (name, type, link) in names {
            var h = TarHeader(path: name, type: type, mode: 0o755)
            h.linkName = link
            try writer.writeEntry(h)
        }
        try writer.finish()
        return sink.bytes
    }

    private func read(_ bytes: [UInt8], limits: TarLimits = .default) throws -> [String] {
        let reader = TarReader(source: MemorySource(bytes), limits: limits)
        var names: [String] = []
        while let h = try reader.next() { names.append(h.path) }
        return names
    }

    func testDefaultDepthIsTheSpecificationsMinimumAndMore() {
        XCTAssertEqual(TarLimits.default.maxPathDepth, 1024)
        XCTAssertGreaterThanOrEqual(TarLimits.default.maxPathDepth, 256, "table 2.9: decoders MUST accept depth 256")
    }

    func testNamesUpToTheLimitAreRead() throws {
        let deepest = String(repeating: "d/", count: 1024)
        XCTAssertEqual(try read(try archive([(deepest, .directory, "")])), [deepest])
        // Empty and `.` components (`a//b`, `./a`) do not count.
        let padded = "./" + String(repeating: "d//", count: 1024)
        XCTAssertEqual(try read(try archive([(padded, .directory, "")])).count, 1)
    }

    func testDeeperNamesAreRefusedWithTheirOffset() throws {
        let bytes = try archive([("ok/", .directory, ""), (String(repeating: "d/", count: 1025), .directory, "")])
        XCTAssertThrowsError(try read(bytes)) { error in
            guard let e = error as? TarError, case let .limitExceeded(limit, value, maximum) = e.kind else {
                return XCTFail("expected a limit error, got \(error)")
            }
            XCTAssertEqual(limit, "path depth")
            XCTAssertEqual(value, 1025)
            XCTAssertEqual(maximum, 1024)
            // Like the name length limit: the offset of the entry's own header block, after its pax header.
            XCTAssertEqual(e.offset, 3584)
        }
        var lenient = TarLimits()
        lenient.maxPathDepth = 2000
        XCTAssertEqual(try read(bytes, limits: lenient).count, 2)
    }

    /// The reader scans only names long enough to be too deep (more than 2 x maxPathDepth bytes): at the boundary,
    /// the shortest name one component too deep is refused and the longest name of exactly the limit is read.
    func testTheShortestNameTooDeepIsRefused() throws {
        for depth in 1...6 {
            var limits = TarLimits()
            limits.maxPathDepth = depth
            let tooDeep = Array(repeating: "d", count: depth + 1).joined(separator: "/")  // 2 x depth + 1 bytes
            XCTAssertEqual(tooDeep.utf8.count, 2 * depth + 1)
            XCTAssertThrowsError(try read(try archive([(tooDeep, .regular, "")]), limits: limits), "depth \(depth)") { error in
                guard case let .limitExceeded(limit, value, _)? = (error as? TarError)?.kind else { return XCTFail("\(error)") }
                XCTAssertEqual(limit, "path depth")
                XCTAssertEqual(value, Int64(depth + 1))
            }
            // As long, but one component is empty or `.`: not too deep.
            let dotted = "./" + Array(repeating: "d", count: depth).joined(separator: "/")
            XCTAssertEqual(try read(try archive([(dotted, .regular, "")]), limits: limits), [dotted])
            let atLimit = String(repeating: "d/", count: depth)  // 2 x depth bytes, a directory
            XCTAssertEqual(try read(try archive([(atLimit, .directory, "")]), limits: limits), [atLimit])
        }
    }

    func testHardLinkTargetsAreNamesToo() throws {
        let bytes = try archive([("f", .regular, ""), ("l", .hardLink, String(repeating: "d/", count: 1100) + "f")])
        XCTAssertThrowsError(try read(bytes)) { error in
            guard case let .limitExceeded(limit, _, _)? = (error as? TarError)?.kind else { return XCTFail("\(error)") }
            XCTAssertEqual(limit, "link path depth")
        }
        // Symbolic link targets are not resolved by decoders: any depth within the name length limit.
        let symlink = try archive([("s", .symbolicLink, String(repeating: "../", count: 1100))])
        XCTAssertEqual(try read(symlink), ["s"])
    }
}
