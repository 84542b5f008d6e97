import ByteStreams

/// Compressed bytes read ahead from a decoder's inner source into a buffer the decoder owns.
///
/// Owning the bytes (rather than borrowing the inner source's buffer) lets a decoder look at the next
/// few bytes across read boundaries, e.g. a gzip magic number or a whole zstd frame header.
final class CompressedInput {
    /// The source of compressed bytes.
    let source: ByteSource
    /// `source.position` when decoding started: offsets are reported relative to the source, consumption
    /// (for the expansion ratio) relative to this.
    let startPosition: Int64
    private let buffer: UnsafeMutableRawBufferPointer
    private(set) var start = 0
    private(set) var end = 0
    /// Whether the source has reported end of stream.
    private(set) var atEOF = false

    init(source: ByteSource, capacity: Int) {
        self.source = source
        startPosition = source.position
        buffer = .allocate(byteCount: max(capacity, 64), alignment: 64)
    }

    deinit { buffer.deallocate() }

    /// Bytes read ahead and not yet consumed.
    var available: Int { end - start }

    /// The unconsumed bytes; valid until the next `refill`/`ensure`.
    var bytes: UnsafeRawBufferPointer { UnsafeRawBufferPointer(rebasing: buffer[start..<end]) }

    /// The offset of the next unconsumed byte, in the inner source's `position` terms.
    var offset: Int64 { source.position - Int64(end - start) }

    /// Compressed bytes consumed since decoding started.
    var consumed: Int64 { offset - startPosition }

    /// Marks `count` bytes as consumed.
    func consume(_ count: Int) {
        start += min(count, end - start)
        if start == end { start = 0; end = 0 }
    }

    /// Reads one more chunk from the source, keeping unconsumed bytes.
    /// - Returns: false when the source is at end of stream (nothing was added).
    @discardableResult
    func refill() throws -> Bool {
        if atEOF { return false }
        if start > 0 && (start == end || end == buffer.count) {
            let n = end - start
            if n > 0, let base = buffer.baseAddress { base.copyMemory(from: base + start, byteCount: n) }
            start = 0
            end = n
        }
        guard end < buffer.count else { return true }
        let chunk = try source.read(upTo: buffer.count - end)
        if chunk.isEmpty {
            atEOF = true
            return false
        }
        UnsafeMutableRawBufferPointer(rebasing: buffer[end..<(end + chunk.count)]).copyMemory(from: chunk)
        end += chunk.count
        return true
    }

    /// Reads until at least `count` bytes are available or the source ends.
    /// - Parameter count: at most the buffer's capacity (callers ask for headers of a few bytes).
    /// - Returns: whether `count` bytes are available.
    func ensure(_ count: Int) throws -> Bool {
        if count > buffer.count { return false }
        while available < count {
            if !(try refill()) { return false }
        }
        return true
    }
}
