import ByteStreams

/// The data of a tar reader's current entry as a `ByteSource`, so a nested tar (v1's `rootfs-diff.tar`)
/// can be read by another `TarReader` straight from the outer stream, with no temporary file.
public final class TarEntrySource: ByteSource {
    private let reader: TarReader
    private var consumed: Int64 = 0

    /// Wraps the entry `reader` is positioned on; valid until `reader.next()` is called again.
    public init(_ reader: TarReader) { self.reader = reader }

    public var position: Int64 { consumed }

    public func read(upTo maxCount: Int) throws -> UnsafeRawBufferPointer {
        let chunk = try reader.read(upTo: maxCount)
        consumed += Int64(chunk.count)
        return chunk
    }

    /// Skips within the entry's data; seeks when the reader's source is a file.
    public func skip(_ count: Int64) throws -> Int64 {
        let n = try reader.skip(count)
        consumed += n
        return n
    }
}
