import ByteStreams
import Foundation
import TarFormat
import XCTest

/// What `TarReader.finish()` records after the end-of-archive marker: how many bytes, and where the first non-zero
/// one is, wherever it falls relative to the reader's chunks and pages (zero padding is scanned a page at a time).
final class TrailingDataTests: XCTestCase {
    var archive: [UInt8] { (try? Archives.make([(TarHeader(path: "a"), [0x78])])) ?? [] }

    func end(_ trailing: [UInt8]) throws -> TarEnd {
        let reader = TarReader(source: MemorySource(archive + trailing))
        return try reader.finish()
    }

    func testZeroPaddingHasNoGarbage() throws {
        for size in [0, 1, 512, 4096, 4097, 10240, (1 << 20) + 3] {
            let e = try end([UInt8](repeating: 0, count: size))
            XCTAssertEqual(e.trailingBytes, Int64(size))
            XCTAssertNil(e.firstTrailingGarbageOffset, "\(size)")
        }
    }

    func testFirstNonZeroByteIsFoundAtEveryPosition() throws {
        let size = (1 << 20) + 5000
        for at in [0, 1, 4095, 4096, 4097, 8191, (1 << 20) - 1, 1 << 20, size - 1] {
            var trailing = [UInt8](repeating: 0, count: size)
            trailing[at] = 0x41
            if at + 1 < size { trailing[at + 1] = 0x42 }
            let e = try end(trailing)
            XCTAssertEqual(e.firstTrailingGarbageOffset, Int64(archive.count + at), "\(at)")
            XCTAssertEqual(e.trailingBytes, Int64(size))
        }
    }
}
