/// The start of a zstd frame (RFC 8878 section 3.1), parsed without libzstd's static-only API so the
/// decoder can check the window size itself and name it in errors.
struct ZstdFrameHeader: Equatable {
    /// The magic number of a zstd data frame.
    static let frameMagic: UInt32 = 0xFD2F_B528
    /// The largest frame header: magic 4 + descriptor 1 + window 1 + dictionary ID 4 + content size 8.
    static let maxSize = 18

    enum Kind: Equatable {
        /// A data frame.
        case frame
        /// A skippable frame (magic 0x184D2A50...0x184D2A5F); the payload length follows the magic.
        case skippable
    }

    let kind: Kind
    /// The window the decoder must keep, in bytes (at least 1 KiB as libzstd rounds it); 0 for skippable frames.
    let windowSize: UInt64
    /// The decompressed size if the frame records it.
    let contentSize: UInt64?
    /// The dictionary the frame needs, 0 for none.
    var dictionaryID: UInt32 = 0
    /// Block_Maximum_Size (RFC 8878 section 3.1.1.2.3): the smaller of the window (not rounded up: a single-segment
    /// frame's window is its content size, possibly 0) and 128 KiB. A block's Block_Size and its content may not
    /// exceed it.
    var blockMaximumSize: UInt64 = 128 << 10

    /// The largest block any frame may hold.
    static let largestBlock: UInt64 = 128 << 10

    /// The 4-byte little-endian magic number at the start of `bytes`, if there are 4 bytes.
    static func magic(_ bytes: UnsafeRawBufferPointer) -> UInt32? {
        guard bytes.count >= 4 else { return nil }
        return UInt32(bytes[0]) | UInt32(bytes[1]) << 8 | UInt32(bytes[2]) << 16 | UInt32(bytes[3]) << 24
    }

    static func isSkippableMagic(_ magic: UInt32) -> Bool { magic & 0xFFFF_FFF0 == 0x184D_2A50 }

    /// Whether `bytes` (up to 4 of them are looked at) begin a frame or skippable frame magic number;
    /// true for an empty buffer.
    static func couldStartFrame(_ bytes: UnsafeRawBufferPointer) -> Bool {
        let frame: [UInt8] = [0x28, 0xB5, 0x2F, 0xFD]
        let skippable: [UInt8] = [0x50, 0x2A, 0x4D, 0x18]
        let n = min(bytes.count, 4)
        let isFrame = (0..<n).allSatisfy { bytes[$0] == frame[$0] }
        let isSkippable = (0..<n).allSatisfy { $0 == 0 ? bytes[0] & 0xF0 == 0x50 : bytes[$0] == skippable[$0] }
        return isFrame || isSkippable
    }

    /// How many bytes the header at the start of `bytes` occupies, once its first 5 bytes are known.
    /// - Returns: nil if fewer than 5 bytes are given; 8 for a skippable frame's magic and length.
    static func size(of bytes: UnsafeRawBufferPointer) -> Int? {
        guard let magic = magic(bytes) else { return nil }
        if isSkippableMagic(magic) { return 8 }
        guard bytes.count >= 5 else { return nil }
        let descriptor = bytes[4]
        let singleSegment = descriptor & 0x20 != 0
        let dictionaryIDSize = [0, 1, 2, 4][Int(descriptor & 3)]
        let contentSizeSize = [singleSegment ? 1 : 0, 2, 4, 8][Int(descriptor >> 6)]
        return 5 + (singleSegment ? 0 : 1) + dictionaryIDSize + contentSizeSize
    }

    /// Parses the header at the start of `bytes`.
    /// - Returns: nil if the bytes do not start a zstd frame or skippable frame, or the header is incomplete.
    static func parse(_ bytes: UnsafeRawBufferPointer) -> ZstdFrameHeader? {
        guard let magic = magic(bytes) else { return nil }
        if isSkippableMagic(magic) { return ZstdFrameHeader(kind: .skippable, windowSize: 0, contentSize: nil) }
        guard magic == frameMagic, let size = size(of: bytes), bytes.count >= size else { return nil }
        let descriptor = bytes[4]
        let singleSegment = descriptor & 0x20 != 0
        var offset = 5
        var windowSize: UInt64 = 0
        if !singleSegment {
            let window = bytes[offset]
            offset += 1
            let windowLog = 10 + UInt64(window >> 3)
            let base = UInt64(1) << windowLog
            windowSize = base + (base / 8) * UInt64(window & 7)
        }
        let dictionaryIDSize = [0, 1, 2, 4][Int(descriptor & 3)]
        var dictionaryID: UInt32 = 0
        for i in 0..<dictionaryIDSize { dictionaryID |= UInt32(bytes[offset + i]) << (8 * UInt32(i)) }
        offset += dictionaryIDSize
        let contentSizeSize = [singleSegment ? 1 : 0, 2, 4, 8][Int(descriptor >> 6)]
        var contentSize: UInt64?
        if contentSizeSize > 0 {
            var value: UInt64 = 0
            for i in 0..<contentSizeSize { value |= UInt64(bytes[offset + i]) << (8 * UInt64(i)) }
            if contentSizeSize == 2 { value += 256 }
            contentSize = value
        }
        if singleSegment { windowSize = contentSize ?? 0 }
        return ZstdFrameHeader(kind: .frame, windowSize: max(windowSize, 1 << 10), contentSize: contentSize,
                               dictionaryID: dictionaryID, blockMaximumSize: min(windowSize, largestBlock))
    }
}
