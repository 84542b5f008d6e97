import ByteStreams

/// Bytes kept in bounded memory until they can be handed on: appended in chunks to a `RecordSpool` (memory up
/// to its budget, then an unlinked temporary file) and read back as a `ByteSource`. The v2 decoder checks a
/// metadata file as it streams and gives it to the sink only afterwards, as a decoder that read it whole did.
public final class SpooledBytes {
    private let spool: RecordSpool
    /// Bytes appended.
    public private(set) var count: Int64 = 0

    /// - Parameter budget: the spool's memory.
    public init(budget: MemoryBudget) { spool = budget.makeSpool() }

    /// Why the temporary file failed, if it did (bytes were lost).
    public var ioError: String? { spool.ioError }

    /// Appends a chunk.
    public func append(_ bytes: UnsafeRawBufferPointer) {
        guard !bytes.isEmpty else { return }
        spool.append { $0.data(bytes) }
        count += Int64(bytes.count)
    }

    /// The bytes from the start (each source reads the spool again).
    public func source() -> ByteSource { Source(spool.makeReader()) }

    private final class Source: ByteSource {
        private let reader: RecordSpool.Reader
        private var storage = UnsafeMutableRawBufferPointer.allocate(byteCount: 64 << 10, alignment: 16)
        private var filled = 0
        private var at = 0
        private(set) var position: Int64 = 0

        init(_ reader: RecordSpool.Reader) { self.reader = reader }

        deinit { storage.deallocate() }

        func read(upTo maxCount: Int) throws -> UnsafeRawBufferPointer {
            while at == filled {
                guard var r = reader.next() else { return UnsafeRawBufferPointer(start: nil, count: 0) }
                let chunk = r.data()
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
}
