import CBzip2

/// libbz2's streaming decompressor, one bzip2 stream at a time (`CodecDecodingSource` restarts it at each
/// concatenated stream, as `pbzip2` writes them). Memory: about 3.6 MiB for a 900 kB block size.
final class Bzip2Codec: StreamCodec {
    let format = CompressionFormat.bzip2
    let decodesConcatenatedStreams = false
    /// `BZh`; the block-size digit that follows is checked by libbz2.
    let streamMagic: [UInt8] = [0x42, 0x5A, 0x68]
    private let stream: UnsafeMutablePointer<bz_stream>

    init() throws {
        stream = .allocate(capacity: 1)
        stream.initialize(to: bz_stream())
        let rc = BZ2_bzDecompressInit(stream, 0, 0)
        guard rc == BZ_OK else {
            stream.deinitialize(count: 1)
            stream.deallocate()
            throw CompressionError.library(.bzip2, code: Int(rc), message: "BZ2_bzDecompressInit failed")
        }
    }

    deinit {
        BZ2_bzDecompressEnd(stream)
        stream.deinitialize(count: 1)
        stream.deallocate()
    }

    func step(input: UnsafeRawBufferPointer, output: UnsafeMutableRawPointer, capacity: Int,
              finishing: Bool) throws -> StreamCodecStep {
        guard let base = input.baseAddress, !input.isEmpty else {
            // libbz2 cannot end a stream without input: out of input inside a stream is a cut-off stream.
            throw CodecFailure.truncated
        }
        stream.pointee.next_in = UnsafeMutablePointer(mutating: base.assumingMemoryBound(to: CChar.self))
        stream.pointee.avail_in = UInt32(clamping: input.count)
        stream.pointee.next_out = output.assumingMemoryBound(to: CChar.self)
        stream.pointee.avail_out = UInt32(clamping: capacity)
        let offered = (Int(stream.pointee.avail_in), Int(stream.pointee.avail_out))
        let rc = BZ2_bzDecompress(stream)
        let step = StreamCodecStep(consumed: offered.0 - Int(stream.pointee.avail_in),
                                   produced: offered.1 - Int(stream.pointee.avail_out), streamEnded: rc == BZ_STREAM_END)
        stream.pointee.next_in = nil
        stream.pointee.next_out = nil
        switch rc {
        case BZ_OK, BZ_STREAM_END: return step
        case BZ_DATA_ERROR:
            throw CodecFailure.corrupt("block or stream CRC mismatch, or invalid block data", consumed: step.consumed,
                                       produced: step.produced)
        case BZ_DATA_ERROR_MAGIC: throw CodecFailure.corrupt("not a bzip2 stream (bad magic number)", consumed: 0)
        case BZ_MEM_ERROR: throw CodecFailure.library(code: Int(rc), message: "out of memory")
        default: throw CodecFailure.library(code: Int(rc), message: "BZ2_bzDecompress failed")
        }
    }

    func restart() throws {
        BZ2_bzDecompressEnd(stream)
        stream.pointee = bz_stream()
        let rc = BZ2_bzDecompressInit(stream, 0, 0)
        guard rc == BZ_OK else { throw CodecFailure.library(code: Int(rc), message: "BZ2_bzDecompressInit failed") }
    }
}
