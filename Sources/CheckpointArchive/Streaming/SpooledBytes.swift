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
    public func source() -> ByteSource {
        let reader = spool.makeReader()
        return ChunkedSource {
            guard var r = reader.next() else { return nil }
            return r.data()
        }
    }
}
