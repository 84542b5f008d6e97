import ByteStreams
import CZlib

/// Streams the decompressed bytes of a gzip stream (RFC 1952) read from an inner `ByteSource`.
///
/// - Several members one after another (`cat a.gz b.gz`, pigz output, framed archives) decode as one
///   stream; `memberCount` tells how many were seen.
/// - Each member's CRC-32 and length are checked by zlib.
/// - Bytes after a member that do not start another gzip member throw `CompressionError.trailingGarbage`
///   (unlike `gzip -d`, which warns and ignores them).
/// - Input that ends inside a member (or is empty) throws `CompressionError.truncated`.
/// - `DecompressionLimits.maxOutputBytes` and `maxExpansionRatio` are enforced.
///
/// Memory use is fixed: about 256 KiB of input buffer, 1 MiB of output buffer and zlib's ~44 KiB.
public final class GzipDecodingSource: DecompressingSource, BufferedDecoding {
    /// The default size of the compressed read-ahead buffer.
    public static let defaultInputBufferSize = 256 * 1024
    /// The default size of the decompressed output buffer.
    public static let defaultOutputBufferSize = 1 << 20

    public let limits: DecompressionLimits
    public var format: CompressionFormat { .gzip }
    /// Decompressed bytes consumed (read or skipped) so far.
    public internal(set) var position: Int64 = 0
    /// The number of gzip members decoded completely so far.
    public private(set) var memberCount = 0
    public var onMemberStart: ((_ compressedOffset: Int64, _ decompressedOffset: Int64) -> Void)?

    let input: CompressedInput
    var output: DecodedBuffer
    private let stream: UnsafeMutablePointer<z_stream>
    var limiter: OutputLimiter
    var pendingError: Error?
    private(set) var finished = false
    /// True between members (and before the first): the next bytes must be a gzip magic number or EOF.
    private var atMemberStart = true
    /// The output space offered to zlib by the current `fill()`.
    private var fillCapacity = 0

    /// Starts decoding at `inner`'s current position.
    /// - Throws: `CompressionError.library` if zlib cannot be initialised.
    public init(_ inner: ByteSource, limits: DecompressionLimits = .default,
                inputBufferSize: Int = defaultInputBufferSize,
                outputBufferSize: Int = defaultOutputBufferSize) throws {
        self.limits = limits
        // zlib counts in 32 bits: keep the buffers well below 4 GiB.
        input = CompressedInput(source: inner, capacity: min(inputBufferSize, 1 << 30))
        output = DecodedBuffer(capacity: min(outputBufferSize, 1 << 30))
        limiter = OutputLimiter(limits: limits, format: .gzip)
        stream = .allocate(capacity: 1)
        stream.initialize(to: z_stream())
        // 15 + 16: a 32 KiB window, gzip wrapper only (no zlib or raw deflate).
        let rc = inflateInit2_(stream, 15 + 16, ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size))
        guard rc == Z_OK else {
            let message = stream.pointee.msg.map { String(cString: $0) } ?? "inflateInit2 failed"
            stream.deinitialize(count: 1)
            stream.deallocate()
            output.deallocate()
            throw CompressionError.library(.gzip, code: Int(rc), message: message)
        }
    }

    deinit {
        inflateEnd(stream)
        stream.deinitialize(count: 1)
        stream.deallocate()
        output.deallocate()
    }

    /// The inner source being decoded.
    public var inner: ByteSource { input.source }

    public var compressedPosition: Int64 { input.offset }

    public func read(upTo maxCount: Int) throws -> UnsafeRawBufferPointer { try readBuffered(upTo: maxCount) }

    public func skip(_ count: Int64) throws -> Int64 { try skipBuffered(count) }

    var producedInFill: Int { fillCapacity - Int(stream.pointee.avail_out) }

    func decode(capacity: Int) throws {
        fillCapacity = capacity
        stream.pointee.next_out = output.base.assumingMemoryBound(to: Bytef.self)
        stream.pointee.avail_out = uInt(capacity)
        try decodeLoop()
    }

    private func decodeLoop() throws {
        while stream.pointee.avail_out > 0 {
            if atMemberStart {
                guard try startMember() else {
                    finished = true
                    return
                }
            }
            if input.available == 0 {
                guard try input.refill() else { throw truncatedError() }
            }
            let bytes = input.bytes
            stream.pointee.next_in = UnsafeMutablePointer(
                mutating: bytes.baseAddress!.assumingMemoryBound(to: Bytef.self))
            stream.pointee.avail_in = uInt(bytes.count)
            let rc = inflate(stream, Z_NO_FLUSH)
            input.consume(bytes.count - Int(stream.pointee.avail_in))
            stream.pointee.next_in = nil
            stream.pointee.avail_in = 0
            switch rc {
            case Z_OK:
                continue
            case Z_STREAM_END:
                memberCount += 1
                atMemberStart = true
            case Z_DATA_ERROR:
                throw CompressionError.corrupt(.gzip, compressedOffset: input.offset, message: zlibMessage())
            case Z_NEED_DICT:
                throw CompressionError.corrupt(.gzip, compressedOffset: input.offset,
                                               message: "member needs a preset dictionary")
            case Z_BUF_ERROR:
                // No progress although input and output space were given: cannot happen with valid zlib.
                throw CompressionError.library(.gzip, code: Int(rc), message: "inflate made no progress")
            default:
                throw CompressionError.library(.gzip, code: Int(rc), message: zlibMessage())
            }
        }
    }

    /// At a member boundary: checks for the gzip magic number and resets zlib for the new member.
    /// - Returns: false at a clean end of stream (after at least one member).
    private func startMember() throws -> Bool {
        let haveMagic = try input.ensure(2)
        let bytes = input.bytes
        if !haveMagic {
            if bytes.isEmpty && memberCount > 0 { return false }
            if bytes.isEmpty || bytes[0] == 0x1F { throw truncatedError() }
        }
        guard bytes.count >= 2, bytes[0] == 0x1F, bytes[1] == 0x8B else {
            if memberCount == 0 {
                throw CompressionError.corrupt(.gzip, compressedOffset: input.offset,
                                               message: "not a gzip stream (no 1f 8b magic number)")
            }
            throw CompressionError.trailingGarbage(.gzip, compressedOffset: input.offset)
        }
        if memberCount > 0 {
            let rc = inflateReset(stream)
            guard rc == Z_OK else { throw CompressionError.library(.gzip, code: Int(rc), message: zlibMessage()) }
        }
        atMemberStart = false
        onMemberStart?(input.offset, limiter.produced + Int64(fillCapacity) - Int64(stream.pointee.avail_out))
        return true
    }

    private func truncatedError() -> CompressionError {
        let produced = limiter.produced + Int64(fillCapacity) - Int64(stream.pointee.avail_out)
        return .truncated(.gzip, compressedOffset: input.source.position, decompressedOffset: produced)
    }

    private func zlibMessage() -> String {
        stream.pointee.msg.map { String(cString: $0) } ?? "invalid data"
    }
}
