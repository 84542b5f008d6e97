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

    /// Whether every byte is zero: a header block (the end-of-archive test runs on every header) or any run of
    /// bytes (an entry's padding). A header's first bytes are almost never zero, so the first word is looked at
    /// alone; the rest is compared with a block of zeros by `memcmp`, which glibc runs 32 bytes at a time (a loop
    /// over the bytes of a padding took 0.77 instructions a byte, some 380 an entry for its two paddings).
    static func isZero(_ bytes: UnsafeRawBufferPointer) -> Bool {
        if bytes.count >= 8, bytes.loadUnaligned(as: UInt64.self) != 0 { return false }
        guard var at = bytes.baseAddress else { return true }
        var left = bytes.count
        while left > 0 {
            let n = min(left, size)
            if memcmp(at, zeros, n) != 0 { return false }
            at += n
            left -= n
        }
        return true
    }

    /// A block of zeros for `isZero` (never written after it is made, so safe to share).
    nonisolated(unsafe) private static let zeros: UnsafeRawPointer = {
        let block = UnsafeMutableRawPointer.allocate(byteCount: size, alignment: 64)
        block.initializeMemory(as: UInt8.self, repeating: 0, count: size)
        return UnsafeRawPointer(block)
    }()

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
    @inline(__always)
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

    /// The numeric fields of a block, parsed and checked in the order `decode` checks them.
    struct Numbers {
        var mode: Int64, uid: Int64, gid: Int64, size: Int64, mtime: Int64
        var device: (major: Int64, minor: Int64)?
        var atime: Int64?, ctime: Int64?
    }

    /// Parses the numeric fields of a block of layout `fmt` and typeflag `type`: what `decode` throws, this
    /// throws, without building the entry's strings (an extended header block needs only its size).
    static func numbers(_ block: UnsafeRawBufferPointer, format fmt: TarHeaderFormat, type: TarEntryType)
        throws(TarError.Kind) -> Numbers
    {
        var n = Numbers(mode: try number(block, mode, field: "mode"), uid: try number(block, uid, field: "uid"),
                        gid: try number(block, gid, field: "gid"), size: try number(block, size_, field: "size"),
                        mtime: try number(block, mtime, field: "mtime"))
        if fmt != .v7, type == .characterDevice || type == .blockDevice || !isBlank(block, devmajor) {
            n.device = (try number(block, devmajor, field: "devmajor"), try number(block, devminor, field: "devminor"))
        }
        if fmt.contains(.star) {
            if !isBlank(block, starAtime) { n.atime = try number(block, starAtime, field: "atime") }
            if !isBlank(block, starCtime) { n.ctime = try number(block, starCtime, field: "ctime") }
        } else if !fmt.contains(.ustar), fmt.contains(.gnu) {
            if !isBlank(block, gnuAtime) { n.atime = try number(block, gnuAtime, field: "atime") }
            if !isBlank(block, gnuCtime) { n.ctime = try number(block, gnuCtime, field: "ctime") }
        }
        if n.size < 0 { throw .negativeValue(field: "size") }
        return n
    }

    /// The size of an extended header block (pax `x`), its numeric fields checked as `decode` checks them.
    static func extendedSize(_ block: UnsafeRawBufferPointer) throws(TarError.Kind) -> Int64 {
        try numbers(block, format: format(of: block), type: TarEntryType(rawValue: block[typeflag])).size
    }

    /// Decodes the header fields of a block whose checksum has been verified.
    static func decode(_ block: UnsafeRawBufferPointer, offset: Int64) throws(TarError.Kind) -> TarHeader {
        let fmt = format(of: block)
        let type = TarEntryType(rawValue: block[typeflag])
        let n = try numbers(block, format: fmt, type: type)
        var path = bytes(block, name)
        if fmt.contains(.star) {
            let p = bytes(block, starPrefix)
            if !p.isEmpty { path = p + [0x2F] + path }
        } else if fmt.contains(.ustar) {
            let p = bytes(block, prefix)
            if !p.isEmpty { path = p + [0x2F] + path }
        }
        let v7 = fmt == .v7
        // The memberwise initialiser, every field in order (see the extension of TarHeader with its initialisers).
        return TarHeader(pathBytes: path, linkBytes: bytes(block, linkname), type: type, mode: n.mode, uid: n.uid,
                         gid: n.gid, uname: v7 ? "" : string(block, uname), gname: v7 ? "" : string(block, gname),
                         size: n.size, mtime: TarTime(seconds: n.mtime), atime: n.atime.map { TarTime(seconds: $0) },
                         ctime: n.ctime.map { TarTime(seconds: $0) }, devMajor: v7 ? 0 : n.device?.major ?? 0,
                         devMinor: v7 ? 0 : n.device?.minor ?? 0, xattrs: [], paxRecords: [], sparse: nil,
                         format: fmt, headerOffset: 0, dataOffset: 0, storedSize: 0)
    }
}
