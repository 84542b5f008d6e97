import ByteStreams
import CZstd

/// Compresses what is written to it as Zstandard into an inner `ByteSink`.
///
/// Frames carry a content checksum by default and no content size (the size is not known in advance).
/// Each `endFrame()` closes a frame; see `FramedCompressionSink`. With `workers == 0` (the default) the
/// output is deterministic for given input, level and `endFrame()` calls.
public final class ZstdEncodingSink: FramedCompressionSink {
    /// The levels libzstd accepts (negative levels are the fast modes; above 19 needs more memory).
    public static let levels = Int(ZSTD_minCLevel())...Int(ZSTD_maxCLevel())
    /// zstd's default level.
    public static let defaultLevel = 3

    /// The sink compressed bytes go to.
    public let inner: ByteSink
    /// The compression level.
    public let level: Int
    public var format: CompressionFormat { .zstd }
    /// Uncompressed bytes accepted so far.
    public private(set) var position: Int64 = 0
    public private(set) var frameCount = 0
    public var compressedPosition: Int64 { inner.position }

    private let context: OpaquePointer
    private let outStorage: UnsafeMutableRawBufferPointer
    private var frameOpen = false
    private var unflushed = false
    private var finished = false
    private var failure: Error?

    /// Creates an encoder writing into `inner`.
    /// - Parameters:
    ///   - inner: where compressed bytes go.
    ///   - level: `ZstdEncodingSink.levels` (default 3).
    ///   - checksum: whether each frame ends with a content checksum (XXH64), as `zstd` writes by default.
    ///   - workers: libzstd worker threads; 0 compresses on the calling thread.
    ///   - outputBufferSize: how much compressed output is gathered before writing it to `inner`.
    /// - Throws: `CompressionError.invalidLevel`, or `.library` if libzstd rejects a parameter.
    public init(inner: ByteSink, level: Int = defaultLevel, checksum: Bool = true, workers: Int = 0,
                outputBufferSize: Int = 256 * 1024) throws {
        guard Self.levels.contains(level) else {
            throw CompressionError.invalidLevel(.zstd, level: level, range: Self.levels)
        }
        guard let context = ZSTD_createCCtx() else {
            throw CompressionError.library(.zstd, code: 64, message: "ZSTD_createCCtx failed")
        }
        for (parameter, value) in [(ZSTD_c_compressionLevel, level), (ZSTD_c_checksumFlag, checksum ? 1 : 0),
                                   (ZSTD_c_nbWorkers, max(workers, 0))] {
            let rc = ZSTD_CCtx_setParameter(context, parameter, Int32(clamping: value))
            if ZSTD_isError(rc) != 0 {
                ZSTD_freeCCtx(context)
                throw CompressionError.library(.zstd, code: zstdErrorCode(rc),
                                               message: String(cString: ZSTD_getErrorName(rc)))
            }
        }
        self.context = context
        self.inner = inner
        self.level = level
        outStorage = .allocate(byteCount: max(outputBufferSize, 4096), alignment: 64)
    }

    deinit {
        ZSTD_freeCCtx(context)
        outStorage.deallocate()
    }

    public func write(_ bytes: UnsafeRawBufferPointer) throws {
        if let failure { throw failure }
        if finished { throw CompressionError.writeAfterFinish(.zstd) }
        guard let base = bytes.baseAddress, !bytes.isEmpty else { return }
        frameOpen = true
        unflushed = true
        var input = ZSTD_inBuffer(src: base, size: bytes.count, pos: 0)
        while input.pos < input.size {
            let before = input.pos
            _ = try compress(&input, ZSTD_e_continue)
            position += Int64(input.pos - before)
        }
    }

    public func flush() throws {
        if let failure { throw failure }
        if frameOpen && unflushed && !finished {
            try drain(ZSTD_e_flush)
            unflushed = false
        }
        try inner.flush()
    }

    public func endFrame() throws {
        if let failure { throw failure }
        if frameOpen && !finished { try endCurrentFrame() }
    }

    public func finish() throws {
        if finished { return }
        if let failure { throw failure }
        if frameOpen || frameCount == 0 { try endCurrentFrame() }
        try inner.flush()
        finished = true
    }

    private func endCurrentFrame() throws {
        try drain(ZSTD_e_end)
        frameOpen = false
        unflushed = false
        frameCount += 1
    }

    /// Calls ZSTD_compressStream2 with no new input until libzstd reports nothing left to flush.
    private func drain(_ directive: ZSTD_EndDirective) throws {
        var empty = ZSTD_inBuffer(src: nil, size: 0, pos: 0)
        while try compress(&empty, directive) != 0 {}
    }

    /// One ZSTD_compressStream2 call into the output buffer, whose contents then go to `inner`.
    /// - Returns: libzstd's hint: for flush and end, how many bytes are still to be flushed.
    private func compress(_ input: inout ZSTD_inBuffer, _ directive: ZSTD_EndDirective) throws -> Int {
        var output = ZSTD_outBuffer(dst: outStorage.baseAddress, size: outStorage.count, pos: 0)
        let rc = ZSTD_compressStream2(context, &output, &input, directive)
        if ZSTD_isError(rc) != 0 {
            throw fail(CompressionError.library(.zstd, code: zstdErrorCode(rc),
                                                message: String(cString: ZSTD_getErrorName(rc))))
        }
        if output.pos > 0 {
            do {
                try inner.write(UnsafeRawBufferPointer(rebasing: outStorage[0..<output.pos]))
            } catch {
                throw fail(error)
            }
        }
        return rc
    }

    /// Records an error after which the encoder's state is unknown; every later call rethrows it.
    private func fail(_ error: Error) -> Error {
        failure = error
        return error
    }
}
