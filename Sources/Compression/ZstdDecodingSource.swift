import ByteStreams
import CZstd

/// Streams the decompressed bytes of a Zstandard stream (RFC 8878) read from an inner `ByteSource`.
///
/// - Several frames one after another decode as one stream; skippable frames are skipped. `frameCount`
///   and `skippableFrameCount` tell how many of each were seen.
/// - Content checksums are verified by libzstd; recorded content sizes are checked here at the end of each
///   frame (libzstd misses a short frame when streaming ends on an empty last block).
/// - A compressed block of size 0 throws `CompressionError.corrupt` however the input arrives: libzstd rejects
///   it when it decodes a whole frame at once but, streaming, takes it for an empty block (`ZstdBlockWalker`).
/// - A frame that needs a dictionary throws `CompressionError.dictionaryRequired` (dictionaries are not
///   supported; a Dictionary_ID field holding 0 is fine).
/// - A frame whose window exceeds `DecompressionLimits.maxWindowLog` throws
///   `CompressionError.windowTooLarge` naming the window, before any memory is allocated for it.
/// - Bytes after a frame that do not start another frame throw `CompressionError.trailingGarbage`.
/// - Input that ends inside a frame (or is empty) throws `CompressionError.truncated`.
/// - `DecompressionLimits.maxOutputBytes` and `maxExpansionRatio` are enforced.
///
/// Memory use is about 256 KiB of input buffer, 1 MiB of output buffer and libzstd's context, which holds
/// at most one window of `2^maxWindowLog` bytes.
public final class ZstdDecodingSource: DecompressingSource, BufferedDecoding {
    /// The default size of the compressed read-ahead buffer.
    public static let defaultInputBufferSize = 256 * 1024
    /// The default size of the decompressed output buffer.
    public static let defaultOutputBufferSize = 1 << 20

    public let limits: DecompressionLimits
    public var format: CompressionFormat { .zstd }
    /// Decompressed bytes consumed (read or skipped) so far.
    public internal(set) var position: Int64 = 0
    /// The number of data frames decoded completely so far.
    public private(set) var frameCount = 0
    /// The number of skippable frames passed over so far.
    public private(set) var skippableFrameCount = 0
    public var onMemberStart: ((_ compressedOffset: Int64, _ decompressedOffset: Int64) -> Void)?

    let input: CompressedInput
    var output: DecodedBuffer
    private let context: OpaquePointer
    var limiter: OutputLimiter
    var pendingError: Error?
    private(set) var finished = false
    /// True between frames (and before the first): the next bytes must start a frame or be EOF.
    private var atFrameStart = true
    private var currentFrame = ZstdFrameHeader(kind: .frame, windowSize: 0, contentSize: nil)
    private var currentFrameOffset: Int64 = 0
    /// Bytes the current frame has decoded to so far, checked against its recorded content size at its end.
    private var currentFrameDecoded: UInt64 = 0
    /// Follows the current data frame's blocks through the bytes libzstd consumes; nil in a skippable frame.
    private var blockWalker: ZstdBlockWalker?
    private var outBuffer = ZSTD_outBuffer(dst: nil, size: 0, pos: 0)

    /// Starts decoding at `inner`'s current position.
    /// - Throws: `CompressionError.library` if libzstd cannot create or configure a context.
    public init(_ inner: ByteSource, limits: DecompressionLimits = .default,
                inputBufferSize: Int = defaultInputBufferSize,
                outputBufferSize: Int = defaultOutputBufferSize) throws {
        guard let context = ZSTD_createDCtx() else {
            throw CompressionError.library(.zstd, code: 64, message: "ZSTD_createDCtx failed")
        }
        let rc = ZSTD_DCtx_setParameter(context, ZSTD_d_windowLogMax, Int32(limits.effectiveWindowLog))
        if ZSTD_isError(rc) != 0 {
            let message = String(cString: ZSTD_getErrorName(rc))
            ZSTD_freeDCtx(context)
            throw CompressionError.library(.zstd, code: zstdErrorCode(rc), message: message)
        }
        self.context = context
        self.limits = limits
        input = CompressedInput(source: inner, capacity: min(inputBufferSize, 1 << 30))
        output = DecodedBuffer(capacity: min(outputBufferSize, 1 << 30))
        limiter = OutputLimiter(limits: limits, format: .zstd)
    }

    deinit {
        ZSTD_freeDCtx(context)
        output.deallocate()
    }

    /// The inner source being decoded.
    public var inner: ByteSource { input.source }

    public var compressedPosition: Int64 { input.offset }

    public func read(upTo maxCount: Int) throws -> UnsafeRawBufferPointer { try readBuffered(upTo: maxCount) }

    public func skip(_ count: Int64) throws -> Int64 { try skipBuffered(count) }

    var producedInFill: Int { outBuffer.pos }

    func decode(capacity: Int) throws {
        outBuffer = ZSTD_outBuffer(dst: output.base, size: capacity, pos: 0)
        try decodeLoop()
    }

    private func decodeLoop() throws {
        while outBuffer.pos < outBuffer.size {
            if atFrameStart {
                guard try startFrame() else {
                    finished = true
                    return
                }
            }
            var rc: Int
            let outputBefore = outBuffer.pos
            if input.available == 0, !(try input.refill()) {
                // End of input inside a frame: flush what libzstd still holds, then it is truncated.
                var empty = ZSTD_inBuffer(src: nil, size: 0, pos: 0)
                let before = outBuffer.pos
                rc = ZSTD_decompressStream(context, &outBuffer, &empty)
                try check(rc)
                if rc != 0 && outBuffer.pos == before { throw truncatedError() }
            } else {
                let bytes = input.bytes
                var inBuffer = ZSTD_inBuffer(src: bytes.baseAddress, size: bytes.count, pos: 0)
                rc = ZSTD_decompressStream(context, &outBuffer, &inBuffer)
                let consumedFrom = input.offset
                input.consume(inBuffer.pos)
                try check(rc)
                if let problem = blockWalker?.walk(UnsafeRawBufferPointer(rebasing: bytes[0..<inBuffer.pos])) {
                    throw CompressionError.corrupt(.zstd, compressedOffset: consumedFrom + Int64(problem.offset),
                                                   message: problem.reason)
                }
            }
            currentFrameDecoded += UInt64(outBuffer.pos - outputBefore)
            if rc == 0 {
                // The frame is complete and fully flushed. libzstd checks a recorded content size in its one-shot
                // path but not when streaming ends on an empty last block: check it here, whatever the chunking.
                if let recorded = currentFrame.contentSize, currentFrame.kind == .frame, currentFrameDecoded != recorded {
                    throw CompressionError.corrupt(.zstd, compressedOffset: input.offset, message:
                        "the frame records \(recorded) content bytes but holds \(currentFrameDecoded)")
                }
                if currentFrame.kind == .frame { frameCount += 1 } else { skippableFrameCount += 1 }
                atFrameStart = true
            }
        }
    }

    /// At a frame boundary: reads the next frame header and checks it against the limits.
    /// - Returns: false at a clean end of stream (after at least one frame).
    private func startFrame() throws -> Bool {
        currentFrameOffset = input.offset
        let haveMagic = try input.ensure(4)
        if !haveMagic && input.available == 0 && frameCount + skippableFrameCount > 0 { return false }
        guard ZstdFrameHeader.couldStartFrame(input.bytes) else {
            if frameCount + skippableFrameCount == 0 {
                throw CompressionError.corrupt(.zstd, compressedOffset: input.offset,
                                               message: "not a zstd stream (unknown frame magic number)")
            }
            throw CompressionError.trailingGarbage(.zstd, compressedOffset: input.offset)
        }
        if !haveMagic { throw truncatedError() }
        _ = try input.ensure(5)
        guard let size = ZstdFrameHeader.size(of: input.bytes), try input.ensure(size),
              let header = ZstdFrameHeader.parse(input.bytes)
        else { throw truncatedError() }
        if header.dictionaryID != 0 {
            throw CompressionError.dictionaryRequired(dictionaryID: header.dictionaryID,
                                                      compressedOffset: input.offset)
        }
        let maxWindow = UInt64(1) << UInt64(limits.effectiveWindowLog)
        if header.kind == .frame && header.windowSize > maxWindow {
            throw CompressionError.windowTooLarge(windowSize: header.windowSize,
                                                  maxWindowLog: limits.effectiveWindowLog,
                                                  compressedOffset: input.offset)
        }
        currentFrame = header
        currentFrameDecoded = 0
        blockWalker = header.kind == .frame
            ? ZstdBlockWalker(headerSize: size, hasChecksum: input.bytes[4] & 0x04 != 0,
                              blockMaximum: header.blockMaximumSize) : nil
        atFrameStart = false
        if header.kind == .frame { onMemberStart?(input.offset, limiter.produced + Int64(outBuffer.pos)) }
        return true
    }

    /// Turns a libzstd error result into a `CompressionError`.
    private func check(_ rc: Int) throws {
        guard ZSTD_isError(rc) != 0 else { return }
        let code = zstdErrorCode(rc)
        let name = String(cString: ZSTD_getErrorName(rc))
        switch code {
        case 16:  // frameParameter_windowTooLarge (only if our own header check missed it)
            throw CompressionError.windowTooLarge(windowSize: currentFrame.windowSize,
                                                  maxWindowLog: limits.effectiveWindowLog,
                                                  compressedOffset: currentFrameOffset)
        case 1, 40, 41, 42, 60, 62, 64, 66:  // generic, parameter, stage and memory errors
            throw CompressionError.library(.zstd, code: code, message: name)
        default:
            throw CompressionError.corrupt(.zstd, compressedOffset: input.offset, message: name)
        }
    }

    private func truncatedError() -> CompressionError {
        .truncated(.zstd, compressedOffset: input.source.position,
                   decompressedOffset: limiter.produced + Int64(outBuffer.pos))
    }
}

/// libzstd's `ZSTD_getErrorCode` (declared only in zstd_errors.h): error results are negated codes.
func zstdErrorCode(_ result: Int) -> Int {
    Int(truncatingIfNeeded: 0 &- UInt(bitPattern: result))
}
