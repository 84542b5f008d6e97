import ByteStreams

/// Streams the decompressed bytes of a bzip2 or xz stream read from an inner `ByteSource`: the decoders that let
/// a reader tell a tolerated v1 archive (CKA-CMP-004) from a refused v2 archive (CKA-CMP-005) inside them.
///
/// - Several streams one after another (`pbzip2`, `cat a.xz b.xz`) decode as one stream.
/// - Every block and stream check is verified by the library (bzip2 block and combined CRCs; xz block checks
///   and indexes); a mismatch throws `CompressionError.corrupt`.
/// - Input that ends inside a stream (or is empty) throws `CompressionError.truncated`; bytes after a bzip2
///   stream that do not start another throw `CompressionError.trailingGarbage` (xz: `corrupt`, as liblzma does
///   not tell them apart).
/// - `DecompressionLimits.maxOutputBytes` and `maxExpansionRatio` are enforced; an xz stream whose dictionary
///   needs more than `2^maxWindowLog` bytes plus 16 MiB fails with `CompressionError.memoryLimitExceeded`.
///
/// Memory use is fixed: 256 KiB of input buffer, 1 MiB of output buffer and the library's state (bzip2 about
/// 3.6 MiB; xz the dictionary, 8 MiB for `xz -6`).
public final class CodecDecodingSource: DecompressingSource, BufferedDecoding {
    public let limits: DecompressionLimits
    public var format: CompressionFormat { codec.format }
    public internal(set) var position: Int64 = 0
    /// The number of streams decoded completely so far (xz: 1 once all are decoded).
    public private(set) var streamCount = 0
    public var onMemberStart: ((_ compressedOffset: Int64, _ decompressedOffset: Int64) -> Void)?

    private let codec: StreamCodec
    let input: CompressedInput
    var output: DecodedBuffer
    var limiter: OutputLimiter
    var pendingError: Error?
    private(set) var finished = false
    private var atStreamStart = true
    private var filled = 0

    /// A bzip2 decoder starting at `inner`'s current position.
    public static func bzip2(_ inner: ByteSource, limits: DecompressionLimits = .default) throws -> CodecDecodingSource {
        CodecDecodingSource(codec: try Bzip2Codec(), inner: inner, limits: limits)
    }

    /// An xz decoder starting at `inner`'s current position, its memory limited by `limits.maxWindowLog`.
    public static func xz(_ inner: ByteSource, limits: DecompressionLimits = .default) throws -> CodecDecodingSource {
        let memory = (UInt64(1) << UInt64(limits.effectiveWindowLog)) + (16 << 20)
        return CodecDecodingSource(codec: try XzCodec(memoryLimit: memory), inner: inner, limits: limits)
    }

    init(codec: StreamCodec, inner: ByteSource, limits: DecompressionLimits,
         inputBufferSize: Int = 256 * 1024, outputBufferSize: Int = 1 << 20) {
        self.codec = codec
        self.limits = limits
        input = CompressedInput(source: inner, capacity: inputBufferSize)
        output = DecodedBuffer(capacity: outputBufferSize)
        limiter = OutputLimiter(limits: limits, format: codec.format)
    }

    deinit { output.deallocate() }

    /// The inner source being decoded.
    public var inner: ByteSource { input.source }

    public var compressedPosition: Int64 { input.offset }

    public func read(upTo maxCount: Int) throws -> UnsafeRawBufferPointer { try readBuffered(upTo: maxCount) }

    public func skip(_ count: Int64) throws -> Int64 { try skipBuffered(count) }

    var producedInFill: Int { filled }

    func decode(capacity: Int) throws {
        filled = 0
        do {
            try decodeLoop(capacity: capacity)
        } catch let failure as CodecFailure {
            throw compressionError(failure)
        }
    }

    private func decodeLoop(capacity: Int) throws {
        var stalls = 0
        while filled < capacity {
            if atStreamStart {
                guard try startStream() else {
                    finished = true
                    return
                }
            }
            if input.available == 0 { try input.refill() }
            let finishing = input.available == 0 && input.atEOF
            let step: StreamCodecStep
            do {
                step = try codec.step(input: input.bytes, output: output.base + filled, capacity: capacity - filled,
                                      finishing: finishing)
            } catch let CodecFailure.corrupt(message, consumed, produced) {
                // What the library wrote before it found the damage is handed out before the error, as it is when
                // the input comes in smaller pieces and those bytes leave in an earlier step (fuzz finding 7).
                filled += produced
                throw CodecFailure.corrupt(message, consumed: consumed)
            }
            input.consume(step.consumed)
            filled += step.produced
            if step.streamEnded {
                streamCount += 1
                if codec.decodesConcatenatedStreams {
                    finished = true
                    return
                }
                atStreamStart = true
            } else if step.consumed == 0 && step.produced == 0 {
                // No progress: more input, or the stream was cut short (a library that stalls with input and
                // output space is a library failure, never a loop).
                if finishing { throw CodecFailure.truncated }
                stalls += 1
                if stalls > 2 { throw CodecFailure.library(code: 0, message: "the decoder made no progress") }
                if !(try input.refill()) && input.available == 0 { throw CodecFailure.truncated }
            } else {
                stalls = 0
            }
        }
    }

    /// At a stream boundary: the next bytes must start a stream, or end the input after at least one stream.
    private func startStream() throws -> Bool {
        let magic = codec.streamMagic
        let complete = try input.ensure(magic.count)
        let bytes = input.bytes
        if bytes.isEmpty && streamCount > 0 { return false }
        guard complete, bytes.prefix(magic.count).elementsEqual(magic) else {
            if streamCount == 0 {
                if !complete && magic.starts(with: bytes) { throw CodecFailure.truncated }
                throw CodecFailure.corrupt("not a \(codec.format) stream (no magic number)", consumed: 0)
            }
            throw CompressionError.trailingGarbage(codec.format, compressedOffset: input.offset)
        }
        if streamCount > 0 { try codec.restart() }
        atStreamStart = false
        onMemberStart?(input.offset, limiter.produced + Int64(filled))
        return true
    }

    private func compressionError(_ failure: CodecFailure) -> CompressionError {
        switch failure {
        case let .corrupt(message, consumed, _):
            // Where the library stopped reading: at or just after the damage (libbz2 checks a block's CRC once
            // it has read the whole block).
            return .corrupt(codec.format, compressedOffset: input.offset + Int64(consumed), message: message)
        case .truncated:
            return .truncated(codec.format, compressedOffset: input.source.position,
                              decompressedOffset: limiter.produced + Int64(filled))
        case let .memoryLimit(needed, limit):
            return .memoryLimitExceeded(codec.format, needed: needed, limit: limit, compressedOffset: input.offset)
        case let .library(code, message):
            return .library(codec.format, code: code, message: message)
        }
    }
}
