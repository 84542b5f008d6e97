import ByteStreams
import CZlib

/// Compresses what is written to it as gzip (zlib deflate, 32 KiB window) into an inner `ByteSink`.
///
/// Output is deterministic for given input, level and `endFrame()` calls. Every member header is the
/// 10 bytes `1f 8b 08 00 00 00 00 00 00 ff`: deflate, no flags (no file name, comment or header CRC),
/// modification time 0, extra flags 0 and OS 255 "unknown" (the deterministic header of CKA-CMP-011; zlib
/// would otherwise write its OS code and a level-dependent XFL). Each `endFrame()` closes a gzip member;
/// see `FramedCompressionSink`.
public final class GzipEncodingSink: FramedCompressionSink {
    /// The levels zlib accepts: 0 (stored) to 9 (best).
    public static let levels = 0...9
    /// gzip's default level.
    public static let defaultLevel = 6

    /// The sink compressed bytes go to.
    public let inner: ByteSink
    /// The compression level.
    public let level: Int
    public var format: CompressionFormat { .gzip }
    /// Uncompressed bytes accepted so far.
    public private(set) var position: Int64 = 0
    public private(set) var frameCount = 0
    public var compressedPosition: Int64 { inner.position }

    private let stream: UnsafeMutablePointer<z_stream>
    /// The header fields zlib writes (OS 255); zlib keeps a pointer to it until the header is written.
    private let header: UnsafeMutablePointer<gz_header>
    /// Compressed bytes of the current member produced so far (to find its XFL byte, offset 8).
    private var memberBytesOut = 0
    private let outBuffer: UnsafeMutableRawBufferPointer
    private var memberOpen = false
    private var unflushed = false
    private var finished = false
    private var failure: Error?

    /// Creates an encoder writing into `inner`.
    /// - Parameters:
    ///   - inner: where compressed bytes go.
    ///   - level: 0...9 (default 6).
    ///   - outputBufferSize: how much compressed output is gathered before writing it to `inner`.
    /// - Throws: `CompressionError.invalidLevel`, or `.library` if zlib cannot be initialised.
    public init(inner: ByteSink, level: Int = defaultLevel, outputBufferSize: Int = 256 * 1024) throws {
        guard Self.levels.contains(level) else {
            throw CompressionError.invalidLevel(.gzip, level: level, range: Self.levels)
        }
        self.inner = inner
        self.level = level
        stream = .allocate(capacity: 1)
        stream.initialize(to: z_stream())
        // 15 + 16: a 32 KiB window with a gzip header and trailer; memLevel 8 as gzip uses.
        let rc = deflateInit2_(stream, Int32(level), Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY,
                               ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size))
        guard rc == Z_OK else {
            let message = stream.pointee.msg.map { String(cString: $0) } ?? "deflateInit2 failed"
            stream.deinitialize(count: 1)
            stream.deallocate()
            throw CompressionError.library(.gzip, code: Int(rc), message: message)
        }
        header = .allocate(capacity: 1)
        header.initialize(to: gz_header())
        header.pointee.os = 255
        outBuffer = .allocate(byteCount: min(max(outputBufferSize, 4096), 1 << 30), alignment: 64)
        let headerRC = deflateSetHeader(stream, header)
        guard headerRC == Z_OK else {
            throw CompressionError.library(.gzip, code: Int(headerRC), message: "deflateSetHeader failed")
        }
    }

    deinit {
        deflateEnd(stream)
        stream.deinitialize(count: 1)
        stream.deallocate()
        header.deinitialize(count: 1)
        header.deallocate()
        outBuffer.deallocate()
    }

    public func write(_ bytes: UnsafeRawBufferPointer) throws {
        try checkUsable()
        guard let base = bytes.baseAddress, !bytes.isEmpty else { return }
        memberOpen = true
        unflushed = true
        // avail_in is 32 bits wide: feed very large writes in pieces.
        var offset = 0
        while offset < bytes.count {
            let n = min(bytes.count - offset, 1 << 30)
            stream.pointee.next_in = UnsafeMutablePointer(
                mutating: (base + offset).assumingMemoryBound(to: Bytef.self))
            stream.pointee.avail_in = uInt(n)
            try run(Z_NO_FLUSH)
            offset += n
            position += Int64(n)
        }
        stream.pointee.next_in = nil
    }

    public func flush() throws {
        if let failure { throw failure }
        if memberOpen && unflushed && !finished {
            try run(Z_SYNC_FLUSH)
            unflushed = false
        }
        try inner.flush()
    }

    public func endFrame() throws {
        if let failure { throw failure }
        if memberOpen && !finished { try endMember() }
    }

    public func finish() throws {
        if finished { return }
        try checkUsable()
        if memberOpen || frameCount == 0 { try endMember() }
        try inner.flush()
        finished = true
    }

    private func endMember() throws {
        try run(Z_FINISH)
        // deflateReset forgets the header fields: set them again for the next member.
        var rc = deflateReset(stream)
        if rc == Z_OK { rc = deflateSetHeader(stream, header) }
        guard rc == Z_OK else {
            throw fail(CompressionError.library(.gzip, code: Int(rc), message: "deflateReset failed"))
        }
        memberBytesOut = 0
        memberOpen = false
        unflushed = false
        frameCount += 1
    }

    /// Calls deflate until all input is consumed and, for a flush, all output is written.
    private func run(_ flush: Int32) throws {
        let capacity = outBuffer.count
        while true {
            stream.pointee.next_out = outBuffer.baseAddress!.assumingMemoryBound(to: Bytef.self)
            stream.pointee.avail_out = uInt(capacity)
            let rc = deflate(stream, flush)
            if rc != Z_OK && rc != Z_STREAM_END && rc != Z_BUF_ERROR {
                let message = stream.pointee.msg.map { String(cString: $0) } ?? "deflate failed"
                throw fail(CompressionError.library(.gzip, code: Int(rc), message: message))
            }
            let produced = capacity - Int(stream.pointee.avail_out)
            if memberBytesOut <= 8 && memberBytesOut + produced > 8 {
                outBuffer[8 - memberBytesOut] = 0  // XFL: zlib sets 2 or 4 depending on the level
            }
            memberBytesOut += produced
            if produced > 0 {
                do {
                    try inner.write(UnsafeRawBufferPointer(rebasing: outBuffer[0..<produced]))
                } catch {
                    throw fail(error)
                }
            }
            if flush == Z_FINISH {
                if rc == Z_STREAM_END { return }
            } else if stream.pointee.avail_out != 0 && stream.pointee.avail_in == 0 {
                return
            }
        }
    }

    private func checkUsable() throws {
        if let failure { throw failure }
        if finished { throw CompressionError.writeAfterFinish(.gzip) }
    }

    /// Records an error after which the encoder's state is unknown; every later call rethrows it.
    private func fail(_ error: Error) -> Error {
        failure = error
        return error
    }
}
