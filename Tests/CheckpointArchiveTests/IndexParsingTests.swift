@testable import CheckpointArchive
import Foundation
import XCTest

/// `ArchiveIndex.parse` reads the index without a JSON tree (IndexJSONReader). Found by Benchmarks/bounds.sh: a v2
/// archive of a million empty files made `ckpt extract` peak at 4150 MiB, 3.4 KB per file record of which went to
/// the Foundation tree of cka-index.json (336 MiB for 100,000 records).
final class IndexParsingTests: XCTestCase {
    private func index(files count: Int) -> ArchiveIndex {
        let span = ArchiveIndex.Span(start: 0, end: 1024, sha256: String(repeating: "a", count: 64))
        let sections = [ArchiveIndex.SectionRecord(section: Section(.metadata), span: span, compressedStart: 7, entries: 2),
                        ArchiveIndex.SectionRecord(section: Section(.volume, name: "data"), span: span, compressedStart: nil,
                                                   entries: 1)]
        let files = (0..<count).map { i in
            ArchiveIndex.FileRecord(path: "rootfs/tree/d\(i / 1000)/f\(i)", size: Int64(i), offset: Int64(i) * 512,
                                    sha256: String(repeating: "0123456789abcdef", count: 4))
        }
        return ArchiveIndex(header: span, sections: sections, files: files, indexOffset: 0x1234)
    }

    func testCanonicalIndexRoundTrips() throws {
        var i = index(files: 3)
        i.files[1].path = "rootfs/tree/äöü \"quoted\" back\\slash\u{1}\n日本"
        XCTAssertEqual(try ArchiveIndex.parse(i.canonicalBytes), i)
    }

    /// Any JSON text is read (whitespace, member order, unknown members, escapes), as JSONSerialization read it; the
    /// canonical form is checked by the comparison that follows (CKA-IDX-001).
    func testNonCanonicalJSONIsRead() throws {
        let text = """
        { "indexOffset" : "0000000000000010", "extra": [1, {"x": null}, "\\u00e9"], "version": 2,
          "format": "checkpoint-archive-index",
          "header": {"sha256": "h", "end": 5, "start": 0, "path": "cka-header.json"},
          "sections": [ {"kind": "checkpoint", "critical": true, "start": 5, "end": 9, "entries": 1, "sha256": "s",
                         "path": "checkpoint/"} ],
          "files": [ {"sha256": "\\ud83d\\ude00", "offset": 1, "size": 2, "path": "a\\/b"} ] }
        """
        let i = try ArchiveIndex.parse(Array(text.utf8))
        XCTAssertEqual(i.indexOffset, 16)
        XCTAssertEqual(i.header, ArchiveIndex.Span(start: 0, end: 5, sha256: "h"))
        XCTAssertEqual(i.sections.map(\.section), [Section(.checkpoint)])
        XCTAssertEqual(i.files, [ArchiveIndex.FileRecord(path: "a/b", size: 2, offset: 1, sha256: "😀")])
    }

    func testMalformedIndexesAreRefusedWithTheirReason() {
        let good = String(decoding: index(files: 1).canonicalBytes, as: UTF8.self)
        let cases: [(String, String)] = [
            ("[]", "not a JSON object"),
            (good + "x", "not a JSON object"),
            (String(good.dropLast(2)), "not a JSON object"),
            (good.replacingOccurrences(of: "\"version\":2", with: "\"version\":3"), "format or version is wrong"),
            (good.replacingOccurrences(of: "\"cka-header.json\",\"start\":0", with: "\"cka-header.json\",\"start\":\"0\""),
             "header is malformed"),
            (good.replacingOccurrences(of: "\"entries\":2", with: "\"entries\":true"), "a section is malformed"),
            (good.replacingOccurrences(of: "\"size\":0", with: "\"size\":\"0\""), "a file record is malformed"),
            (good.replacingOccurrences(of: "\"indexOffset\":\"0000000000001234\"", with: "\"indexOffset\":4660"),
             "indexOffset is not 16 hex digits"),
            (good.replacingOccurrences(of: "\"path\":\"rootfs", with: "\"path\":\"\\ud800rootfs"), "not a JSON object"),
            (good.replacingOccurrences(of: "\"size\":0", with: "\"size\":01"), "not a JSON object"),
            (String(repeating: "[", count: 100_000), "not a JSON object"),
        ]
        for (text, why) in cases {
            XCTAssertThrowsError(try ArchiveIndex.parse(Array(text.utf8)), why) { error in
                guard let e = error as? CheckpointError else { return XCTFail("\(error)") }
                XCTAssertEqual(e.requirement, "CKA-IDX-001")
                XCTAssertTrue(e.message.hasSuffix(why), "\(e.message) for \(text.prefix(80))")
            }
        }
    }

    /// 100,000 file records: what parsing keeps is the records (about 37 MiB), not a tree ten times that.
    func testParsingAHundredThousandRecordsCostsTheRecords() throws {
        let bytes = index(files: 100_000).canonicalBytes
        func rssKiB() -> Int {
            Int((try? String(contentsOfFile: "/proc/self/statm", encoding: .utf8))?.split(separator: " ")[1] ?? "0")! * 4
        }
        let before = rssKiB()
        let parsed = try ArchiveIndex.parse(bytes)
        let grown = rssKiB() - before
        XCTAssertEqual(parsed.files.count, 100_000)
        print("index parsing: \(bytes.count) bytes, 100000 records, resident set grew by \(grown / 1024) MiB")
        XCTAssertLessThan(grown, 96 * 1024, "parsing grew the resident set by \(grown) KiB")
    }
}
