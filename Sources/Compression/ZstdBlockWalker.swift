/// Follows a data frame's block structure (RFC 8878 section 3.1.1.2) through its bytes as libzstd consumes them,
/// in pieces of any size, to catch what libzstd's streaming path accepts: a compressed block of size 0, which its
/// one-shot path (the whole frame in one input buffer) rejects as corrupt but its streaming path (1.5.4) takes for
/// an empty block. A compressed block holds at least its literals and sequences section headers.
struct ZstdBlockWalker {
    private enum State {
        /// Inside the frame header, with this many bytes left.
        case frameHeader(Int)
        /// Inside a block header, with this many of its 3 bytes and their value so far.
        case blockHeader(Int, UInt32)
        /// Inside a block's content, with this many bytes left.
        case content(Int, last: Bool)
        /// Inside the content checksum, with this many bytes left.
        case checksum(Int)
        case done
    }

    private var state: State
    private let hasChecksum: Bool

    init(headerSize: Int, hasChecksum: Bool) {
        state = .frameHeader(headerSize)
        self.hasChecksum = hasChecksum
    }

    /// Walks the next bytes of the frame.
    /// - Returns: the index in `bytes` of the header of a compressed block of size 0, or nil.
    mutating func walk(_ bytes: UnsafeRawBufferPointer) -> Int? {
        var i = 0
        while i < bytes.count {
            switch state {
            case let .frameHeader(left):
                let n = min(left, bytes.count - i)
                i += n
                state = left == n ? .blockHeader(0, 0) : .frameHeader(left - n)
            case let .blockHeader(have, value):
                let value = value | UInt32(bytes[i]) << (8 * UInt32(have))
                i += 1
                guard have == 2 else {
                    state = .blockHeader(have + 1, value)
                    continue
                }
                let last = value & 1 != 0
                let type = (value >> 1) & 3
                let size = Int(value >> 3)
                if type == 2 && size == 0 { return i - 3 }
                let contentSize = type == 1 ? 1 : size  // an RLE block holds one byte
                state = contentSize > 0 ? .content(contentSize, last: last) : afterBlock(last: last)
            case let .content(left, last):
                let n = min(left, bytes.count - i)
                i += n
                state = left == n ? afterBlock(last: last) : .content(left - n, last: last)
            case let .checksum(left):
                let n = min(left, bytes.count - i)
                i += n
                state = left == n ? .done : .checksum(left - n)
            case .done:
                return nil
            }
        }
        return nil
    }

    private func afterBlock(last: Bool) -> State {
        last ? (hasChecksum ? .checksum(4) : .done) : .blockHeader(0, 0)
    }
}
