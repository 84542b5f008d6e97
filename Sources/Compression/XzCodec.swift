import CLzma

/// liblzma's `.xz` decoder with `LZMA_CONCATENATED`: it decodes every concatenated stream and the stream padding
/// between them itself, verifies each block's check (CRC-32, CRC-64 or SHA-256) and the indexes, and reports a
/// truncated input when finished early. Memory is the dictionary size plus a little; a stream asking for more
/// than `memoryLimit` fails with `CodecFailure.memoryLimit`.
final class XzCodec: StreamCodec {
    let format = CompressionFormat.xz
    let decodesConcatenatedStreams = true
    let streamMagic: [UInt8] = [0xFD, 0x37, 0x7A, 0x58, 0x5A, 0x00]
    let memoryLimit: UInt64
    private let stream: UnsafeMutablePointer<lzma_stream>

    init(memoryLimit: UInt64) throws {
        self.memoryLimit = memoryLimit
        stream = .allocate(capacity: 1)
        stream.initialize(to: lzma_stream())
        let rc = lzma_stream_decoder(stream, memoryLimit, ckpt_lzma_concatenated)
        guard rc == LZMA_OK else {
            stream.deinitialize(count: 1)
            stream.deallocate()
            throw CompressionError.library(.xz, code: Int(rc.rawValue), message: "lzma_stream_decoder failed")
        }
    }

    deinit {
        lzma_end(stream)
        stream.deinitialize(count: 1)
        stream.deallocate()
    }

    func step(input: UnsafeRawBufferPointer, output: UnsafeMutableRawPointer, capacity: Int,
              finishing: Bool) throws -> StreamCodecStep {
        stream.pointee.next_in = input.baseAddress?.assumingMemoryBound(to: UInt8.self)
        stream.pointee.avail_in = input.count
        stream.pointee.next_out = output.assumingMemoryBound(to: UInt8.self)
        stream.pointee.avail_out = capacity
        let rc = lzma_code(stream, finishing ? LZMA_FINISH : LZMA_RUN)
        let step = StreamCodecStep(consumed: input.count - stream.pointee.avail_in,
                                   produced: capacity - stream.pointee.avail_out, streamEnded: rc == LZMA_STREAM_END)
        stream.pointee.next_in = nil
        stream.pointee.next_out = nil
        switch rc {
        case LZMA_OK, LZMA_STREAM_END: return step
        case LZMA_BUF_ERROR:
            // No progress possible: with LZMA_FINISH that is input cut inside a stream.
            if finishing { throw CodecFailure.truncated }
            return step
        case LZMA_MEMLIMIT_ERROR: throw CodecFailure.memoryLimit(needed: lzma_memusage(stream), limit: memoryLimit)
        case LZMA_FORMAT_ERROR:
            throw CodecFailure.corrupt("not an xz stream (bad magic number)", consumed: step.consumed, produced: step.produced)
        case LZMA_OPTIONS_ERROR:
            throw CodecFailure.corrupt("unsupported stream or filter options", consumed: step.consumed,
                                       produced: step.produced)
        case LZMA_DATA_ERROR:
            throw CodecFailure.corrupt("corrupt data, check or index mismatch, or bytes after the last stream",
                                       consumed: step.consumed, produced: step.produced)
        case LZMA_MEM_ERROR: throw CodecFailure.library(code: Int(rc.rawValue), message: "out of memory")
        default: throw CodecFailure.library(code: Int(rc.rawValue), message: "lzma_code failed")
        }
    }

    func restart() throws {
        throw CodecFailure.library(code: 0, message: "liblzma decodes concatenated streams itself")
    }
}
