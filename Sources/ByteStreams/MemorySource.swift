/// A `ByteSource` over bytes held in memory.
public final class MemorySource: ByteSource {
    private let storage: UnsafeMutableRawBufferPointer
    private var offset = 0

    /// Copies `bytes` into storage owned by the source.
    public init<C: Collection>(_ bytes: C) where C.Element == UInt8 {
        storage = .allocate(byteCount: bytes.count, alignment: 16)
        storage.copyBytes(of: bytes)
    }

    deinit { storage.deallocate() }

    public var position: Int64 { Int64(offset) }

    public func read(upTo maxCount: Int) throws -> UnsafeRawBufferPointer {
        let n = min(maxCount, storage.count - offset)
        defer { offset += n }
        return UnsafeRawBufferPointer(rebasing: storage[offset..<(offset + n)])
    }

    public func skip(_ count: Int64) throws -> Int64 {
        let n = Int(min(count, Int64(storage.count - offset)))
        offset += n
        return Int64(n)
    }
}

extension UnsafeMutableRawBufferPointer {
    /// Copies a byte collection to the start of the buffer (with one `memcpy` when it is contiguous).
    func copyBytes<C: Collection>(of bytes: C) where C.Element == UInt8 {
        if bytes.withContiguousStorageIfAvailable({ copyMemory(from: UnsafeRawBufferPointer($0)) }) == nil {
            _ = initializeMemory(as: UInt8.self, from: bytes)
        }
    }
}
