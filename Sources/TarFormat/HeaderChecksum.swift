/// The sums a tar header block's checksum field records: every byte of the 512-byte block added up, the
/// checksum field's own eight bytes read as spaces. POSIX takes the bytes as unsigned; some old tars (Sun's) took
/// them as signed, which counts each byte of 0x80 or more 256 lower.
///
/// The one implementation of these sums: the reader verifies with it, the writer fills the field with it, and the
/// validator and the v2 decoder tell the two sums apart with it (CKA-TAR-004).
public enum TarHeaderChecksum {
    /// The bytes of the checksum field in a header block.
    public static let field = HeaderBlock.checksum

    /// The unsigned sum of `block` (512 bytes): sixteen bytes at a time, the even and the odd bytes added in eight
    /// 16-bit lanes each (32 loads of at most 255 per lane do not overflow them), then the lanes folded.
    public static func unsigned(_ block: UnsafeRawBufferPointer) -> Int64 {
        precondition(block.count == 512, "a tar header block is 512 bytes")
        let low = SIMD8<UInt16>(repeating: 0x00FF)
        var even = SIMD8<UInt16>.zero, odd = SIMD8<UInt16>.zero
        for i in stride(from: 0, to: 512, by: 16) {
            let bytes = block.loadUnaligned(fromByteOffset: i, as: SIMD16<UInt8>.self)
            let v = unsafeBitCast(bytes, to: SIMD8<UInt16>.self)
            even &+= v & low
            odd &+= v &>> 8
        }
        // At most 32 x 255 x 2 per lane: the eight lanes add up in 32 bits without overflow.
        let lanes = SIMD8<UInt32>(truncatingIfNeeded: even &+ odd)
        let halves = lanes.lowHalf &+ lanes.highHalf
        var sum = Int64(halves[0]) + Int64(halves[1]) + Int64(halves[2]) + Int64(halves[3])
        for i in field { sum += 0x20 - Int64(block[i]) }
        return sum
    }

    /// Whether the checksum field of `block`, parsed as the reader parses it, records the unsigned sum: how the
    /// reader's test passes on every block but those of old writers that used the signed sum.
    public static func recordsUnsignedSum(_ block: UnsafeRawBufferPointer) -> Bool {
        guard let recorded = NumericFields.parseOctal(UnsafeRawBufferPointer(rebasing: block[field])) else { return false }
        return recorded == unsigned(block)
    }

    /// The unsigned and the signed sums of `block`. The signed one is the unsigned one less 256 for each byte of
    /// 0x80 or more outside the checksum field; those are counted a word at a time (the top bits gathered into byte
    /// lanes of at most 64, then folded into 16-bit lanes).
    public static func sums(_ block: UnsafeRawBufferPointer) -> (unsigned: Int64, signed: Int64) {
        let unsigned = unsigned(block)
        var tops: UInt64 = 0
        for i in stride(from: 0, to: 512, by: 8) {
            tops &+= (block.loadUnaligned(fromByteOffset: i, as: UInt64.self) >> 7) & 0x0101_0101_0101_0101
        }
        let m: UInt64 = 0x00FF_00FF_00FF_00FF
        let folded = (tops & m) &+ ((tops >> 8) & m)
        var high = Int64(folded & 0xFFFF) + Int64(folded >> 16 & 0xFFFF) + Int64(folded >> 32 & 0xFFFF) + Int64(folded >> 48)
        for i in field { high -= Int64(block[i] >> 7) }
        return (unsigned, unsigned - 256 * high)
    }
}
