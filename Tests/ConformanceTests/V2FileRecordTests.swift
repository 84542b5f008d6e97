import CheckpointArchive
@testable import Conformance
import TarFormat
import XCTest

/// `V2FileRecord` (a regular file of the stream, spooled until the index arrives): its one-append encoding writes
/// the same bytes as `RecordWriter`'s field-by-field methods, and reads back to the same record.
final class V2FileRecordTests: XCTestCase {
    private func header(_ path: String, size: Int64) -> TarHeader {
        var h = TarHeader(path: path, size: size)
        h.headerOffset = 1536
        h.dataOffset = 2560
        return h
    }

    /// The encoding as it was written before `RecordWriter.fields`: one method a field.
    private func fieldByField(_ r: V2FileRecord) -> [UInt8] {
        var w = RecordWriter()
        w.data(r.path)
        w.int(r.size)
        w.int(r.offset)
        w.int(r.headerOffset)
        w.optionalInt(r.compressedOffset)
        w.bool(r.digest != nil)
        if let d = r.digest { withUnsafeBytes(of: d.bytes) { w.data($0) } }
        return w.bytes
    }

    func testEncodingMatchesFieldByFieldAndReadsBack() throws {
        let sha = String(repeating: "0123456789abcdef", count: 4)
        let cases: [(String, Int64, String?, Int64?)] = [
            ("rootfs/tree/usr/share/small/09/f-00952.txt", 98, nil, nil),
            ("checkpoint/pages-1.img", 1 << 33, sha, nil),
            ("", 0, nil, 7),
            ("metadata/spec.dump", 70, sha, Int64.max),
            (String(repeating: "d/", count: 200) + "leaf", -1, nil, -5),
        ]
        for (path, size, digest, compressed) in cases {
            let record = V2FileRecord(header(path, size: size), sha256: digest, compressedOffset: compressed)
            XCTAssertEqual(record.digest != nil, digest != nil, path)
            var w = RecordWriter()
            record.encode(into: &w)
            XCTAssertEqual(w.bytes, fieldByField(record), path)
            let back = V2FileRecord(RecordReader(w.bytes[...]))
            XCTAssertEqual(back.path, Array(path.utf8))
            XCTAssertEqual(back.size, size)
            XCTAssertEqual(back.offset, 2560)
            XCTAssertEqual(back.headerOffset, 1536)
            XCTAssertEqual(back.compressedOffset, compressed)
            XCTAssertEqual(back.digest, record.digest)
            // The index's comparison reads the same bytes where they lie.
            let matched = w.bytes.withUnsafeBytes { raw in
                Array(path.utf8).withUnsafeBytes { p in
                    V2FileRecord.matches(raw, path: p, size: size, offset: 2560, digest: { record.digest })
                }
            }
            XCTAssertTrue(matched, path)
        }
    }

    /// Appended after other bytes (the spool's buffer), the fields land after them, untouched before.
    func testFieldsAppendAfterExistingBytes() {
        var w = RecordWriter()
        w.int(-1)
        w.fields(3) { $0[0] = 1; $0[1] = 2; $0[2] = 3 }
        w.fields(0) { _ in }
        XCTAssertEqual(w.bytes, [0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 1, 2, 3])
    }
}
