import ByteStreams

/// A `ByteSink` that compresses what is written to it into an inner sink, in independently decodable
/// units: gzip members or zstd frames.
///
/// - `position` counts uncompressed bytes accepted; `compressedPosition` is the inner sink's position,
///   which after `endFrame()` is exactly where the next member/frame will start (compressed output is
///   written to the inner sink as it is produced, never held back across `endFrame()`).
/// - `endFrame()` closes the current member/frame; the next write starts a new one. It does nothing if
///   nothing was written since the last boundary, so no empty member/frame is ever emitted by it.
/// - `finish()` ends the final member/frame and flushes the inner sink. A stream to which nothing was
///   written at all still gets one empty member/frame, so that it is a valid compressed file. Calling it
///   again does nothing; writing after it throws `CompressionError.writeAfterFinish`.
/// - `flush()` makes every byte accepted so far decodable from the inner sink (zlib `Z_SYNC_FLUSH`, zstd
///   `ZSTD_e_flush`) and flushes the inner sink; each call costs a little compression ratio.
///
/// The whole output decodes as one stream with `gzip -d`, `zstd -d` or `openDecompressed`.
/// Encoders do not finish themselves when released: call `finish()`.
public protocol FramedCompressionSink: ByteSink {
    /// The format written.
    var format: CompressionFormat { get }
    /// The inner sink's position: compressed bytes written so far (in the inner sink's terms).
    var compressedPosition: Int64 { get }
    /// The number of members/frames completed so far.
    var frameCount: Int { get }
    /// Ends the current member/frame, if anything was written since the last boundary.
    func endFrame() throws
    /// Ends the stream and flushes the inner sink; idempotent.
    func finish() throws
}

/// The `FramedCompressionSink` for `CompressionFormat.none`: bytes pass through unchanged.
public final class PassthroughSink: FramedCompressionSink, DirectWriteSink {
    /// The sink written to.
    public let inner: ByteSink
    private let startPosition: Int64
    private var finished = false
    public private(set) var frameCount = 0
    private var frameOpen = false

    /// Passes writes through to `inner`.
    public init(inner: ByteSink) {
        self.inner = inner
        startPosition = inner.position
    }

    public var format: CompressionFormat { .none }
    /// Bytes passed through so far.
    public var position: Int64 { inner.position - startPosition }
    public var compressedPosition: Int64 { inner.position }

    public func write(_ bytes: UnsafeRawBufferPointer) throws {
        if finished { throw CompressionError.writeAfterFinish(.none) }
        guard !bytes.isEmpty else { return }
        frameOpen = true
        try inner.write(bytes)
    }

    public func flush() throws { try inner.flush() }

    public func beginDirectWrite() throws -> Int32? {
        guard !finished, let direct = inner as? DirectWriteSink else { return nil }
        frameOpen = true
        return try direct.beginDirectWrite()
    }

    public func endDirectWrite(_ count: Int64) { (inner as? DirectWriteSink)?.endDirectWrite(count) }

    public func endFrame() throws {
        if frameOpen { frameCount += 1 }
        frameOpen = false
    }

    public func finish() throws {
        if finished { return }
        try endFrame()
        try inner.flush()
        finished = true
    }
}

extension CompressionFormat {
    /// The compression levels an encoder for this format accepts (empty for unsupported formats).
    public var levelRange: ClosedRange<Int>? {
        switch self {
        case .none: return 0...0
        case .gzip: return GzipEncodingSink.levels
        case .zstd: return ZstdEncodingSink.levels
        case .bzip2, .xz, .lz4: return nil
        }
    }

    /// The level used when none is given: 6 for gzip and 3 for zstd, as their command-line tools do.
    public var defaultLevel: Int {
        switch self {
        case .gzip: return GzipEncodingSink.defaultLevel
        case .zstd: return ZstdEncodingSink.defaultLevel
        case .none, .bzip2, .xz, .lz4: return 0
        }
    }

    /// Creates an encoder for this format writing into `inner`.
    /// - Parameters:
    ///   - inner: where compressed bytes go.
    ///   - level: the compression level, or nil for `defaultLevel`; ignored for `.none`.
    /// - Throws: `CompressionError.unsupported` for bzip2, xz and lz4; `.invalidLevel`; `.library`.
    public func makeEncoder(_ inner: ByteSink, level: Int? = nil) throws -> FramedCompressionSink {
        switch self {
        case .none: return PassthroughSink(inner: inner)
        case .gzip: return try GzipEncodingSink(inner: inner, level: level ?? defaultLevel)
        case .zstd: return try ZstdEncodingSink(inner: inner, level: level ?? defaultLevel)
        case .bzip2, .xz, .lz4: throw CompressionError.unsupported(self)
        }
    }
}
