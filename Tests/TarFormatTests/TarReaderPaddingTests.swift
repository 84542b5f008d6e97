import ByteStreams
import TarFormat
import XCTest

/// A reader with an observer looks at every entry's padding and reports its first non-zero byte, however the
/// source hands the padding out.
final class TarReaderPaddingTests: XCTestCase {
    /// Hands out at most `piece` bytes a read, as a pipe might.
    private final class PieceSource: ByteSource {
        private let inner: MemorySource
        private let piece: Int
        init(_ bytes: [UInt8], piece: Int) {
            inner = MemorySource(bytes)
            self.piece = piece
        }
        var position: Int64 { inner.position }
        func read(upTo maxCount: Int) throws -> UnsafeRawBufferPointer { try inner.read(upTo: min(maxCount, piece)) }
        func skip(_ count: Int64) throws -> Int64 { try inner.skip(count) }
    }

    private final class PaddingRecorder: TarReaderObserver {
        var offsets: [Int64] = []
        func tarReader(_ reader: TarReader, readHeaderBlock block: UnsafeRawBufferPointer, at offset: Int64) {}
        func tarReader(_ reader: TarReader, readExtendedHeaderBody body: [UInt8], at offset: Int64) {}
        func tarReader(_ reader: TarReader, sawNonZeroPaddingAt offset: Int64) { offsets.append(offset) }
    }

    /// Two files: "a" of 100 bytes (412 bytes of padding from 612) and "b" of 600 bytes (424 from 2,136).
    private func archive() throws -> [UInt8] {
        try Archives.make([(TarHeader(path: "a", size: 100), [UInt8](repeating: 1, count: 100)),
                           (TarHeader(path: "b", size: 600), [UInt8](repeating: 2, count: 600))])
    }

    private func reports(_ bytes: [UInt8], piece: Int) throws -> [Int64] {
        let reader = TarReader(source: PieceSource(bytes, piece: piece))
        let recorder = PaddingRecorder()
        reader.observer = recorder
        while try reader.next() != nil {}
        try reader.finish()
        return recorder.offsets
    }

    func testTheFirstNonZeroByteOfEachPaddingIsReportedInAnyPieces() throws {
        var bytes = try archive()
        XCTAssertEqual(bytes[612..<1024].allSatisfy { $0 == 0 }, true)
        XCTAssertEqual(bytes[2136..<2560].allSatisfy { $0 == 0 }, true)
        for piece in [1, 7, 100, 512, 1 << 16] {
            XCTAssertEqual(try reports(bytes, piece: piece), [], "clean, pieces of \(piece)")
        }
        // Two non-zero bytes in the first padding (the first is reported), one at the very end of the second.
        bytes[700] = 0x41
        bytes[1000] = 0x42
        bytes[2559] = 0x43
        for piece in [1, 7, 100, 512, 1 << 16] {
            XCTAssertEqual(try reports(bytes, piece: piece), [700, 2559], "pieces of \(piece)")
        }
    }

    func testThePaddingOfAPaxBodyIsLookedAtToo() throws {
        // A name past 100 bytes takes a pax header: its block at 0, its body from 512, padded to 1,024.
        let long = String(repeating: "d/", count: 60) + "f"
        var bytes = try Archives.make([(TarHeader(path: long, size: 3), [1, 2, 3])])
        XCTAssertEqual(bytes[156], UInt8(ascii: "x"))
        for piece in [1, 7, 1 << 16] {
            XCTAssertEqual(try reports(bytes, piece: piece), [], "clean, pieces of \(piece)")
        }
        bytes[1023] = 0x41
        for piece in [1, 7, 1 << 16] {
            XCTAssertEqual(try reports(bytes, piece: piece), [1023], "pieces of \(piece)")
        }
        let cut = Array(bytes[0..<1000])
        XCTAssertThrowsError(try reports(cut, piece: 7)) { error in
            XCTAssertEqual((error as? TarError)?.kind, .truncated)
        }
    }

    func testPaddingCutShortIsTruncation() throws {
        let bytes = Array(try archive()[0..<800])
        for piece in [1, 7, 1 << 16] {
            XCTAssertThrowsError(try reports(bytes, piece: piece)) { error in
                XCTAssertEqual((error as? TarError)?.kind, .truncated, "pieces of \(piece)")
            }
        }
    }
}
