#if canImport(Glibc)
import Glibc
#endif
/// The 512-byte header block: field offsets, checksum and the raw decoding of one block.
///
/// Parsing here is pure: it sees one block and knows nothing of the stream around it.
enum HeaderBlock {
    static let size = 512

    // Field ranges shared by v7, ustar, GNU and star.
    static let name = 0..<100
    static let mode = 100..<108
    static let uid = 108..<116
    static let gid = 116..<124
    static let size_ = 124..<136
    static let mtime = 136..<148
    static let checksum = 148..<156
    static let typeflag = 156
    static let linkname = 157..<257
    static let magic = 257..<263
    static let version = 263..<265
    static let uname = 265..<297
    static let gname = 297..<329
    static let devmajor = 329..<337
    static let devminor = 337..<345
    static let prefix = 345..<500
    // GNU layout of the area after devminor.
    static let gnuAtime = 345..<357
    static let gnuCtime = 357..<369
    static let gnuSparse = 386..<482
    static let gnuIsExtended = 482
    static let gnuRealSize = 483..<495
    // star layout.
    static let starPrefix = 345..<476
    static let starAtime = 476..<488
    static let starCtime = 488..<500
    static let starTrailer = 508..<512

    /// Whether every byte of the block is zero.
    static func isZero(_ block: UnsafeRawBufferPointer) -> Bool {
        // Word-at-a-time scan; blocks are small, but end-of-archive detection runs on every header.
        // A header's first byte is almost never zero: look at the first word before the whole block.
        if block.count >= 8, block.loadUnaligned(as: UInt64.self) != 0 { return false }
        var acc: UInt64 = 0
        var i = 0
        while i + 8 <= block.count { acc |= block.loadUnaligned(fromByteOffset: i, as: UInt64.self); i += 8 }
        while i < block.count { acc |= UInt64(block[i]); i += 1 }
        return acc == 0
    }

    /// The unsigned and signed sums of the block with the checksum field read as spaces.
    static func checksums(_ block: UnsafeRawBufferPointer) -> (unsigned: Int64, signed: Int64) {
        // Eight bytes at a time: pairs of bytes summed into 16-bit lanes, and the top bits (bytes that count 256
        // less in the signed sum) into 8-bit lanes; 64 words overflow neither.
        let lanes: UInt64 = 0x00FF_00FF_00FF_00FF
        let ones: UInt64 = 0x0101_0101_0101_0101
        var sum: UInt64 = 0
        var high: UInt64 = 0
        let base = block.baseAddress!
        for i in stride(from: 0, to: size, by: 8) {
            var w = UInt64(littleEndian: (base + i).loadUnaligned(as: UInt64.self))
            // The checksum field (148..<156) counts as spaces: the high half of word 144, the low half of 152.
            if i == 144 { w = w & 0x0000_0000_FFFF_FFFF | 0x2020_2020_0000_0000 }
            if i == 152 { w = w & 0xFFFF_FFFF_0000_0000 | 0x0000_0000_2020_2020 }
            sum &+= (w & lanes) &+ ((w >> 8) & lanes)
            high &+= (w >> 7) & ones
        }
        let unsigned = Int64((sum & 0xFFFF) + (sum >> 16 & 0xFFFF) + (sum >> 32 & 0xFFFF) + (sum >> 48))
        let highCount = Int64((high &* ones) >> 56)
        return (unsigned, unsigned - 256 * highCount)
    }

    /// The layout a block's magic identifies.
    static func format(of block: UnsafeRawBufferPointer) -> TarHeaderFormat {
        // magic (6 bytes) and version (2) are contiguous: compare them as one 64-bit word.
        let m = block.loadUnaligned(fromByteOffset: magic.lowerBound, as: UInt64.self)
        if m == ustarMagicWord {
            return block.loadUnaligned(fromByteOffset: starTrailer.lowerBound, as: UInt32.self) == starTrailerWord
                ? [.ustar, .star] : .ustar
        }
        if m == gnuMagicWord { return .gnu }
        return .v7
    }

    private static func word<T: FixedWidthInteger>(_ bytes: [UInt8], as: T.Type) -> T {
        bytes.withUnsafeBytes { $0.loadUnaligned(as: T.self) }
    }
    private static let ustarMagicWord = word(Array("ustar\u{0}00".utf8), as: UInt64.self)
    private static let gnuMagicWord = word(Array("ustar  \u{0}".utf8), as: UInt64.self)
    private static let starTrailerWord = word([0x74, 0x61, 0x72, 0], as: UInt32.self)

    /// A NUL-terminated string field's bytes.
    static func bytes(_ block: UnsafeRawBufferPointer, _ range: Range<Int>) -> [UInt8] {
        let start = block.baseAddress! + range.lowerBound
        let nul = memchr(start, 0, range.count)
        let end = nul.map { UnsafeRawPointer($0) - start } ?? range.count
        return Array(UnsafeRawBufferPointer(start: start, count: end))
    }

    /// A NUL-terminated string field decoded as UTF-8.
    static func string(_ block: UnsafeRawBufferPointer, _ range: Range<Int>) -> String {
        if block[range.lowerBound] == 0 { return "" }
        let start = block.baseAddress! + range.lowerBound
        let nul = memchr(start, 0, range.count)
        let end = nul.map { UnsafeRawPointer($0) - start } ?? range.count
        return String(decoding: UnsafeRawBufferPointer(start: start, count: end), as: UTF8.self)
    }

    /// A numeric field; throws naming the field when it does not parse.
    static func number(_ block: UnsafeRawBufferPointer, _ range: Range<Int>, field: String) throws(TarError.Kind)
        -> Int64
    {
        guard let v = NumericFields.parse(UnsafeRawBufferPointer(rebasing: block[range])) else {
            throw .invalidNumericField(field: field)
        }
        return v
    }

    /// Whether a field is entirely NUL or space: GNU writes an empty atime/ctime that way.
    static func isBlank(_ block: UnsafeRawBufferPointer, _ range: Range<Int>) -> Bool {
        for i in range where block[i] != 0 && block[i] != 0x20 { return false }
        return true
    }

    /// Decodes the header fields of a block whose checksum has been verified.
    static func decode(_ block: UnsafeRawBufferPointer, offset: Int64) throws(TarError.Kind) -> TarHeader {
        let fmt = format(of: block)
        var h = TarHeader(path: "")
        h.format = fmt
        h.pathBytes = bytes(block, name)
        h.type = TarEntryType(rawValue: block[typeflag])
        h.mode = try number(block, mode, field: "mode")
        h.uid = try number(block, uid, field: "uid")
        h.gid = try number(block, gid, field: "gid")
        h.size = try number(block, size_, field: "size")
        h.mtime = TarTime(seconds: try number(block, mtime, field: "mtime"))
        h.linkBytes = bytes(block, linkname)
        if fmt != .v7 {
            h.uname = string(block, uname)
            h.gname = string(block, gname)
            if h.type == .characterDevice || h.type == .blockDevice || !isBlank(block, devmajor) {
                h.devMajor = try number(block, devmajor, field: "devmajor")
                h.devMinor = try number(block, devminor, field: "devminor")
            }
        }
        if fmt.contains(.star) {
            let p = bytes(block, starPrefix)
            if !p.isEmpty { h.pathBytes = p + [0x2F] + h.pathBytes }
            if !isBlank(block, starAtime) { h.atime = TarTime(seconds: try number(block, starAtime, field: "atime")) }
            if !isBlank(block, starCtime) { h.ctime = TarTime(seconds: try number(block, starCtime, field: "ctime")) }
        } else if fmt.contains(.ustar) {
            let p = bytes(block, prefix)
            if !p.isEmpty { h.pathBytes = p + [0x2F] + h.pathBytes }
        } else if fmt.contains(.gnu) {
            if !isBlank(block, gnuAtime) { h.atime = TarTime(seconds: try number(block, gnuAtime, field: "atime")) }
            if !isBlank(block, gnuCtime) { h.ctime = TarTime(seconds: try number(block, gnuCtime, field: "ctime")) }
        }
        if h.size < 0 { throw .negativeValue(field: "size") }
        return h
    }
}
