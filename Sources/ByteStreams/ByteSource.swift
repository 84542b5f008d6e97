/// A forward-only stream of bytes handed out in chunks without copying.
///
/// Readers in this package (the tar reader, the decompressors) pull from a `ByteSource` and never
/// need to know whether the bytes come from a file, a pipe, memory or another decoder.
public protocol ByteSource: AnyObject {
    /// The number of bytes consumed so far: the offset of the next byte in this stream.
    var position: Int64 { get }

    /// Returns between 1 and `maxCount` bytes and consumes them, or an empty buffer at end of stream.
    ///
    /// The returned buffer is owned by the source and stays valid only until the next call on it.
    func read(upTo maxCount: Int) throws -> UnsafeRawBufferPointer

    /// Consumes `count` bytes without handing them out, seeking where the source allows it.
    /// - Returns: the number of bytes skipped, smaller than `count` only at end of stream.
    func skip(_ count: Int64) throws -> Int64
}

extension ByteSource {
    /// Fills `buffer` completely unless the stream ends first.
    /// - Returns: the number of bytes stored, smaller than `buffer.count` only at end of stream.
    public func readFully(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        var filled = 0
        while filled < buffer.count {
            let chunk = try read(upTo: buffer.count - filled)
            if chunk.isEmpty { break }
            UnsafeMutableRawBufferPointer(rebasing: buffer[filled..<(filled + chunk.count)])
                .copyMemory(from: chunk)
            filled += chunk.count
        }
        return filled
    }

    /// Reads up to `count` bytes into a new array (shorter only at end of stream).
    public func readBytes(_ count: Int) throws -> [UInt8] {
        try [UInt8](unsafeUninitializedCapacity: count) { buffer, initialized in
            initialized = try readFully(into: UnsafeMutableRawBufferPointer(buffer))
        }
    }

    /// Skips by reading and discarding: the fallback for sources that cannot seek.
    public func skipByReading(_ count: Int64) throws -> Int64 {
        var left = count
        while left > 0 {
            let chunk = try read(upTo: Int(min(left, 1 << 20)))
            if chunk.isEmpty { break }
            left -= Int64(chunk.count)
        }
        return count - left
    }

    /// Reads everything that is left, up to `limit` bytes.
    /// - Throws: `ByteStreamError.limitExceeded` when more than `limit` bytes remain.
    public func readAll(limit: Int = 1 << 30) throws -> [UInt8] {
        var out: [UInt8] = []
        while true {
            let chunk = try read(upTo: 1 << 16)
            if chunk.isEmpty { return out }
            if out.count + chunk.count > limit {
                throw ByteStreamError.limitExceeded(limit: Int64(limit))
            }
            out.append(contentsOf: chunk)
        }
    }
}
