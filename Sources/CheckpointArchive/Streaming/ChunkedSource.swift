import ByteStreams

/// A `ByteSource` over chunks of bytes made one at a time (records read back from a spool, pieces of a
/// canonical document), so that what they add up to is never held whole. Each chunk is copied into a buffer
/// the source owns, which the pointers it lends point into until the next read.
final class ChunkedSource: ByteSource {
    private let nextChunk: () throws -> [UInt8]?
    private var storage = UnsafeMutableRawBufferPointer.allocate(byteCount: 64 << 10, alignment: 16)
    private var filled = 0
    private var at = 0
    private(set) var position: Int64 = 0

    /// - Parameter next: the next chunk, nil at the end (an empty chunk is passed over).
    init(_ next: @escaping () throws -> [UInt8]?) { nextChunk = next }

    deinit { storage.deallocate() }

    func read(upTo maxCount: Int) throws -> UnsafeRawBufferPointer {
        while at == filled {
            guard let chunk = try nextChunk() else { return UnsafeRawBufferPointer(start: nil, count: 0) }
            if chunk.count > storage.count {
                storage.deallocate()
                storage = .allocate(byteCount: chunk.count, alignment: 16)
            }
            chunk.withUnsafeBytes { storage.copyMemory(from: $0) }
            filled = chunk.count
            at = 0
        }
        let n = min(maxCount, filled - at)
        defer {
            at += n
            position += Int64(n)
        }
        return UnsafeRawBufferPointer(rebasing: storage[at..<(at + n)])
    }

    func skip(_ count: Int64) throws -> Int64 { try skipByReading(count) }
}
