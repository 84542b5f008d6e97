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
        var acc: UInt64 = 0
        var i = 0
        while i + 8 <= block.count { acc |= block.loadUnaligned(fromByteOffset: i, as: UInt64.self); i += 8 }
        while i < block.count { acc |= UInt64(block[i]); i += 1 }
        return acc == 0
    }

    /// The unsigned and signed sums of the block with the checksum field read as spaces.
    static func checksums(_ block: UnsafeRawBufferPointer) -> (unsigned: Int64, signed: Int64) {
        var unsigned: Int64 = 0
        var signed: Int64 = 0
        for i in 0..<size {
            let c = checksum.contains(i) ? 0x20 : block[i]
            unsigned += Int64(c)
            signed += Int64(Int8(bitPattern: c))
        }
        return (unsigned, signed)
    }

    /// The layout a block's magic identifies.
    static func format(of block: UnsafeRawBufferPointer) -> TarHeaderFormat {
        let m = Array(block[magic]) + Array(block[version])
        if m == Array("ustar\u{0}00".utf8) {
            return Array(block[starTrailer]) == [0x74, 0x61, 0x72, 0] ? [.ustar, .star] : .ustar
        }
        if m == Array("ustar  \u{0}".utf8) { return .gnu }
        return .v7
    }

    /// A NUL-terminated string field's bytes.
    static func bytes(_ block: UnsafeRawBufferPointer, _ range: Range<Int>) -> [UInt8] {
        let field = UnsafeRawBufferPointer(rebasing: block[range])
        let end = field.firstIndex(of: 0) ?? field.count
        return Array(field[0..<end])
    }

    /// A NUL-terminated string field decoded as UTF-8.
    static func string(_ block: UnsafeRawBufferPointer, _ range: Range<Int>) -> String {
        String(decoding: bytes(block, range), as: UTF8.self)
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
        block[range].allSatisfy { $0 == 0 || $0 == 0x20 }
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
