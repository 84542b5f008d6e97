import ByteStreams

/// A stream opened by `openDecompressed`: the format found and a source of the decompressed bytes.
public struct DecodedStream {
    /// The format recognised by its magic bytes (`.none` for data that is not compressed).
    public let format: CompressionFormat
    /// The decompressed bytes. For `.none` this replays the peeked bytes and then reads (and seeks)
    /// the original source directly; otherwise a decoder (`DecompressingSource`).
    public let source: ByteSource

    /// The decoder, when the stream is compressed. (For `.none` the source is the caller's own, and no cast is
    /// made: the first cast of a type to a protocol makes the runtime search every conformance in the binary.)
    public var decoder: DecompressingSource? { format == .none ? nil : source as? DecompressingSource }

    /// How far the underlying (compressed) source has been consumed, in its `position` terms.
    public var compressedPosition: Int64 { decoder?.compressedPosition ?? source.position }
}

/// Recognises the compression of `source` from its first bytes and returns a source of its decompressed
/// bytes.
///
/// The first `CompressionFormat.detectionPrefixLength` bytes are read and replayed (see `PrefixedSource`),
/// so nothing is lost, and an uncompressed seekable file still seeks on `skip`. An empty source is
/// `.none` and yields no bytes.
///
/// - Parameters:
///   - source: the possibly compressed stream, positioned at its start.
///   - limits: bounds on the decoder (window size, output size, expansion ratio); they apply to
///     compressed streams only, as uncompressed data cannot expand.
/// - Throws: `CompressionError.unsupported` for lz4; read errors of `source`;
///   `CompressionError.library` if a decoder cannot be set up. Errors in the compressed data itself are
///   thrown later, by the returned source's `read` and `skip`.
public func openDecompressed(_ source: ByteSource, limits: DecompressionLimits = .default) throws -> DecodedStream {
    let prefix = try source.readBytes(CompressionFormat.detectionPrefixLength)
    let format = CompressionFormat.detect(prefix: prefix)
    let replaying = PrefixedSource(prefix: prefix, inner: source)
    return DecodedStream(format: format, source: try format.makeDecoder(replaying, limits: limits))
}

extension CompressionFormat {
    /// Wraps `source` in a decoder for this format, without looking at the data.
    /// - Returns: `source` itself for `.none`, otherwise a `GzipDecodingSource`, `ZstdDecodingSource` or (bzip2,
    ///   xz) `CodecDecodingSource`.
    /// - Throws: `CompressionError.unsupported` for lz4.
    public func makeDecoder(_ source: ByteSource, limits: DecompressionLimits = .default) throws -> ByteSource {
        switch self {
        case .none: return source
        case .gzip: return try GzipDecodingSource(source, limits: limits)
        case .zstd: return try ZstdDecodingSource(source, limits: limits)
        case .bzip2: return try CodecDecodingSource.bzip2(source, limits: limits)
        case .xz: return try CodecDecodingSource.xz(source, limits: limits)
        case .lz4: throw CompressionError.unsupported(self)
        }
    }
}
