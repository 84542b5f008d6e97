import ByteStreams

/// A `ByteSource` that yields the decompressed bytes of a compressed inner source.
///
/// `position` counts decompressed bytes consumed (read or skipped); `compressedPosition` is how far the
/// decoder has consumed its inner source, in the inner source's `position` terms, for error messages and
/// progress reports. `skip` decompresses and discards.
///
/// Decoders hand out data they have verified as far as the format allows; when an error is found, bytes
/// decoded before it are handed out first and the error is thrown by the next call, and from then on by
/// every call.
public protocol DecompressingSource: ByteSource {
    /// The format being decoded.
    var format: CompressionFormat { get }
    /// The offset in the inner source of the next compressed byte the decoder will consume.
    var compressedPosition: Int64 { get }
    /// The limits this decoder enforces.
    var limits: DecompressionLimits { get }
    /// Called when a gzip member or zstd data frame begins (skippable frames are not reported), with the inner
    /// source's offset of its first byte and the decompressed offset its output begins at. The decoder reads
    /// ahead, so the call comes before the consumer has read up to that decompressed offset.
    var onMemberStart: ((_ compressedOffset: Int64, _ decompressedOffset: Int64) -> Void)? { get set }
}

/// The decompressed bytes a decoder has produced and not yet handed out.
struct DecodedBuffer {
    let storage: UnsafeMutableRawBufferPointer
    var start = 0
    var end = 0

    init(capacity: Int) {
        storage = .allocate(byteCount: max(capacity, 64), alignment: 64)
    }

    func deallocate() { storage.deallocate() }

    var capacity: Int { storage.count }
    var isEmpty: Bool { start == end }
    var available: Int { end - start }

    /// Where the decoder writes next time; call `reset()` first.
    var base: UnsafeMutableRawPointer {
        storage.baseAddress!  // allocated with at least 64 bytes, so never nil
    }

    mutating func reset() { start = 0; end = 0 }

    /// Hands out up to `maxCount` bytes.
    mutating func take(_ maxCount: Int) -> UnsafeRawBufferPointer {
        let n = min(maxCount, end - start)
        defer { start += n }
        return UnsafeRawBufferPointer(rebasing: storage[start..<(start + n)])
    }

    /// Drops up to `count` bytes; returns how many were dropped.
    mutating func drop(_ count: Int64) -> Int {
        let n = Int(min(count, Int64(end - start)))
        start += n
        return n
    }
}

/// The empty buffer returned at end of stream.
var endOfStream: UnsafeRawBufferPointer { UnsafeRawBufferPointer(start: nil, count: 0) }

/// What the decoders (gzip, zstd, bzip2 and xz) share: an output buffer refilled by `fill()`, handed out by
/// `read` and dropped by `skip` (skipping still decodes), under the output limits. Each decoder supplies only
/// its library's step, `decode(capacity:)`.
protocol BufferedDecoding: AnyObject {
    var output: DecodedBuffer { get set }
    var position: Int64 { get set }
    /// The output budget: checked after every fill.
    var limiter: OutputLimiter { get set }
    /// The compressed bytes, for the offsets the limiter reports.
    var input: CompressedInput { get }
    /// A failure met after some output was produced: thrown once that output has been handed out.
    var pendingError: Error? { get set }
    /// Whether the stream has ended: `fill()` then produces nothing.
    var finished: Bool { get }
    /// Decodes into `output.base` until `capacity` bytes are produced, the stream ends (setting `finished`) or
    /// it fails; `producedInFill` says how far it got either way.
    func decode(capacity: Int) throws
    /// Bytes produced by the current `decode(capacity:)`.
    var producedInFill: Int { get }
}

extension BufferedDecoding {
    /// Decodes into the (empty) output buffer until it is full, the stream ends, or an error occurs; leaves it
    /// empty at the end of the stream. Bytes decoded before an error are handed out first.
    func fill() throws {
        if let error = pendingError { throw error }
        if finished { return }
        output.reset()
        do {
            try decode(capacity: limiter.allowance(capacity: output.capacity))
        } catch {
            pendingError = error
        }
        let produced = producedInFill
        output.end = produced
        do {
            try limiter.record(produced, compressedConsumed: input.consumed, compressedOffset: input.offset)
        } catch {
            output.reset()
            pendingError = error
            throw error
        }
        if output.isEmpty, let error = pendingError { throw error }
    }

    func readBuffered(upTo maxCount: Int) throws -> UnsafeRawBufferPointer {
        guard maxCount > 0 else { return endOfStream }
        if output.isEmpty {
            try fill()
            if output.isEmpty { return endOfStream }
        }
        let chunk = output.take(maxCount)
        position += Int64(chunk.count)
        return chunk
    }

    func skipBuffered(_ count: Int64) throws -> Int64 {
        var left = count
        while left > 0 {
            if output.isEmpty {
                try fill()
                if output.isEmpty { break }
            }
            let n = output.drop(left)
            left -= Int64(n)
            position += Int64(n)
        }
        return count - max(left, 0)
    }
}
