/// One decompression library behind `CodecDecodingSource` (libbz2, liblzma): a state machine fed input and
/// output space, step by step.
protocol StreamCodec: AnyObject {
    /// The format decoded.
    var format: CompressionFormat { get }
    /// Whether the library itself decodes concatenated streams (liblzma with `LZMA_CONCATENATED`) and so ends
    /// only once, at the end of the input; otherwise the source restarts the codec at each stream's magic.
    var decodesConcatenatedStreams: Bool { get }
    /// The first bytes of every stream, for telling another concatenated stream from trailing garbage.
    var streamMagic: [UInt8] { get }
    /// Decodes from `input` into `output`.
    /// - Parameter finishing: no more input will come (liblzma needs to be told, to report truncation).
    /// - Returns: bytes consumed and produced, and whether a stream (all streams, for a concatenating codec) ended.
    /// - Throws: `CodecFailure`.
    func step(input: UnsafeRawBufferPointer, output: UnsafeMutableRawPointer, capacity: Int,
              finishing: Bool) throws -> StreamCodecStep
    /// Makes the codec ready for the next concatenated stream.
    func restart() throws
}

/// What one `StreamCodec.step` did.
struct StreamCodecStep {
    var consumed: Int
    var produced: Int
    var streamEnded: Bool
}

/// Why a codec step failed, before `CodecDecodingSource` adds the offsets of a `CompressionError`.
enum CodecFailure: Error {
    /// The data is invalid (bad magic, block or stream check mismatch, ...); `consumed` is how far into the
    /// input of the failing step the library had read, `produced` how many bytes it wrote before it found the damage
    /// (libbz2 writes a block out before its CRC is checked).
    case corrupt(String, consumed: Int, produced: Int = 0)
    /// The input ended inside a stream.
    case truncated
    /// The stream needs more memory than the limit allows.
    case memoryLimit(needed: UInt64, limit: UInt64)
    /// The library failed for a reason other than the data.
    case library(code: Int, message: String)
}
