import ByteStreams
#if canImport(Glibc)
import Glibc
#endif

/// Reads a range of a file with `pread`, leaving the descriptor's own offset alone (another reader may be
/// streaming the same descriptor). Used to decompress the index member a framed locator points at.
final class PositionedFileSource: ByteSource {
    private let descriptor: Int32
    private var offset: Int64
    private let end: Int64
    private let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 16, alignment: 16)
    private(set) var position: Int64 = 0

    /// The bytes `[start, end)` of the file open as `descriptor` (not closed by the source).
    init(descriptor: Int32, start: Int64, end: Int64) {
        self.descriptor = descriptor
        offset = start
        self.end = max(start, end)
    }

    deinit { buffer.deallocate() }

    func read(upTo maxCount: Int) throws -> UnsafeRawBufferPointer {
        let want = Int(min(Int64(min(maxCount, buffer.count)), end - offset))
        guard want > 0 else { return UnsafeRawBufferPointer(start: nil, count: 0) }
        let got = pread(descriptor, buffer.baseAddress, want, off_t(offset))
        guard got > 0 else {
            if got == 0 { return UnsafeRawBufferPointer(start: nil, count: 0) }
            throw CheckpointError("CKA-FRM-007", "cannot read the archive at offset \(offset): "
                                  + String(cString: strerror(errno)))
        }
        offset += Int64(got)
        position += Int64(got)
        return UnsafeRawBufferPointer(rebasing: buffer[0..<got])
    }

    func skip(_ count: Int64) throws -> Int64 {
        let n = min(max(count, 0), end - offset)
        offset += n
        position += n
        return n
    }
}
