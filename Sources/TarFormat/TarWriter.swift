import ByteStreams

/// Options for `TarWriter`.
public struct TarWriterOptions: Sendable {
    /// Metadata forced onto every entry for reproducible output.
    public struct Deterministic: Sendable, Equatable {
        public var mtime: TarTime
        public var uid: Int64
        public var gid: Int64
        public var uname: String
        public var gname: String
        public init(mtime: TarTime = TarTime(seconds: 0), uid: Int64 = 0, gid: Int64 = 0, uname: String = "",
                    gname: String = "") {
            self.mtime = mtime
            self.uid = uid
            self.gid = gid
            self.uname = uname
            self.gname = gname
        }
    }

    /// When set, every entry's mtime, owner and group are replaced by these (atime/ctime are never written).
    public var deterministic: Deterministic?
    /// When set (a power of two from 512 to 1 MiB), the data of each regular file of at least that size starts
    /// at a multiple of it in the uncompressed stream, by a padding record in its pax header (CKA-ALN-002..005).
    public var alignment: Int?
    /// The pax key of the padding record; readers ignore unknown keys.
    public var paddingKey: String = "CKA.pad"

    public init(deterministic: Deterministic? = nil, alignment: Int? = nil) {
        self.deterministic = deterministic
        self.alignment = alignment
    }

    /// The largest alignment allowed (libarchive's PAX_MAX_ALIGN is the same).
    public static let maxAlignment = 1 << 20
}

/// A streaming writer of POSIX pax archives.
///
/// Fields that a ustar header cannot hold (long or non-ASCII names, large numbers, sub-second times,
/// xattrs) go into a pax `x` header named `<dir>/PaxHeaders/<base>`; records are sorted by key, so the
/// output depends only on the entries and options.
public final class TarWriter {
    /// Where the archive goes; its `position` is the offset in the uncompressed stream.
    public let sink: ByteSink
    /// The options in force.
    public let options: TarWriterOptions
    private var remaining: Int64 = 0
    private var padding: Int64 = 0
    private var currentName = ""
    private var finished = false

    /// Creates a writer; throws `TarError.unencodable` for an invalid alignment.
    public init(sink: ByteSink, options: TarWriterOptions = .init()) throws {
        if let a = options.alignment {
            guard a >= 512, a <= TarWriterOptions.maxAlignment, a & (a - 1) == 0 else {
                throw TarError(.unencodable(reason: "alignment \(a) is not a power of two from 512 to 1 MiB"), offset: 0)
            }
        }
        self.sink = sink
        self.options = options
    }

    /// The offset of the next byte in the uncompressed stream.
    public var offset: Int64 { sink.position }

    /// Bytes of the current entry's data still to be written.
    public var remainingData: Int64 { remaining }

    /// Writes the headers of an entry; its `size` bytes of data must follow through `write(_:)`.
    /// - Returns: the offset at which the entry's data starts.
    @discardableResult
    public func writeHeader(_ header: TarHeader) throws -> Int64 {
        try closeEntry()
        guard !finished else { throw TarError(.unencodable(reason: "archive already finished"), offset: offset) }
        var h = header
        if let d = options.deterministic {
            h.mtime = d.mtime
            h.uid = d.uid
            h.gid = d.gid
            h.uname = d.uname
            h.gname = d.gname
        }
        if h.type == .directory, h.pathBytes.last != 0x2F { h.pathBytes.append(0x2F) }
        guard !h.pathBytes.isEmpty, !h.pathBytes.contains(0), !h.linkBytes.contains(0) else {
            throw TarError(.unencodable(reason: "empty name or NUL in a name"), offset: offset, entry: h.path)
        }
        guard h.size >= 0 else { throw TarError(.negativeValue(field: "size"), offset: offset, entry: h.path) }
        if h.type.isHeaderOnly { h.size = 0 }

        var block = [UInt8](repeating: 0, count: HeaderBlock.size)
        let records = try HeaderEncoder.encode(h, into: &block)
        let dataSize = h.size
        var padRecord: PaxRecord.Encoded?
        if let a = options.alignment, h.type.isRegularFile, dataSize >= Int64(a) {
            let other = records.reduce(0) { $0 + $1.encoded.count }
            padRecord = PaddingRecord.make(key: options.paddingKey, otherLength: other, headerAt: offset,
                                         alignment: Int64(a))
        }
        if !records.isEmpty || padRecord != nil {
            try writePaxHeader(records, padding: padRecord, for: h)
        }
        try sink.write(block)
        remaining = dataSize
        padding = (512 - dataSize % 512) % 512
        currentName = h.path
        return offset
    }

    /// Writes data of the current entry; more than its declared size is an error.
    public func write(_ bytes: UnsafeRawBufferPointer) throws {
        guard Int64(bytes.count) <= remaining else {
            throw TarError(.unencodable(reason: "more data than the declared size"), offset: offset, entry: currentName)
        }
        try sink.write(bytes)
        remaining -= Int64(bytes.count)
    }

    /// Writes data of the current entry from an array.
    public func write(_ bytes: [UInt8]) throws { try bytes.withUnsafeBytes { try write($0) } }

    /// Writes a whole entry: headers then data (whose count must equal `header.size` for files).
    public func writeEntry(_ header: TarHeader, data: [UInt8] = []) throws {
        var h = header
        if h.type.isRegularFile || !h.type.isHeaderOnly { h.size = Int64(data.count) }
        try writeHeader(h)
        try write(data)
    }

    /// Records that `count` bytes of the current entry's data were written to the sink by other means
    /// (for example by a nested writer sharing the sink).
    public func didWriteDataExternally(_ count: Int64) throws {
        guard count <= remaining else {
            throw TarError(.unencodable(reason: "more data than the declared size"), offset: offset, entry: currentName)
        }
        remaining -= count
    }

    /// Lets `body` write the current entry's data straight to the output descriptor (with `copy_file_range`,
    /// which also clones extents on XFS and btrfs) when the sink allows it, bypassing user space.
    /// - Parameter body: given the descriptor, writes at its current position and returns how many bytes it
    ///   wrote (at most the entry's remaining data).
    /// - Returns: false, without calling `body`, when the sink cannot be bypassed (compression, memory).
    public func writeDataDirectly(_ body: (Int32) throws -> Int64) throws -> Bool {
        guard let direct = sink as? DirectWriteSink, let fd = try direct.beginDirectWrite() else { return false }
        var count: Int64 = 0
        defer { direct.endDirectWrite(count) }
        count = try body(fd)
        guard count <= remaining else {
            throw TarError(.unencodable(reason: "more data than the declared size"), offset: offset, entry: currentName)
        }
        remaining -= count
        return true
    }

    /// Ends the archive with two zero blocks and flushes the sink. Safe to call twice.
    public func finish() throws {
        guard !finished else { return }
        try closeEntry()
        try sink.writeZeros(2 * HeaderBlock.size)
        try sink.flush()
        finished = true
    }

    /// Checks the current entry's data is complete and writes its zero padding, so that `offset` is where the
    /// next entry's headers will start. `writeHeader` and `finish` call it themselves.
    public func finishPendingEntry() throws { try closeEntry() }

    private func closeEntry() throws {
        if remaining > 0 {
            throw TarError(.unencodable(reason: "\(remaining) bytes of data missing"), offset: offset, entry: currentName)
        }
        if padding > 0 { try sink.writeZeros(Int(padding)) }
        padding = 0
    }

    /// Writes the `x` header: records in byte order of their keys, the padding record among them.
    private func writePaxHeader(_ records: [PaxRecord], padding: PaxRecord.Encoded?, for h: TarHeader) throws {
        var encoded = records.map { (key: $0.key, bytes: $0.encoded) }
        if let padding { encoded.append((key: padding.key, bytes: padding.bytes)) }
        encoded.sort { $0.key.utf8.lexicographicallyPrecedes($1.key.utf8) }
        let body = encoded.flatMap(\.bytes)
        // The `x` header's own metadata is never used by readers: fixed values keep the output reproducible.
        var x = TarHeader(path: "", type: .paxExtended, size: Int64(body.count), mode: 0o644, mtime: TarTime(seconds: 0))
        x.pathBytes = PaxHeaderName.name(for: h.pathBytes)
        var block = [UInt8](repeating: 0, count: HeaderBlock.size)
        _ = try HeaderEncoder.encode(x, into: &block)
        try sink.write(block)
        try sink.write(body)
        let pad = (512 - body.count % 512) % 512
        if pad > 0 { try sink.writeZeros(pad) }
    }
}

/// The name of a pax `x` header: `<dir>/PaxHeaders/<base>`, cut to 100 bytes, as GNU tar's
/// reproducible setting names it, so readers that do not know pax extract something recognisable.
enum PaxHeaderName {
    static func name(for path: [UInt8]) -> [UInt8] {
        var p = path
        while p.count > 1, p.last == 0x2F { p.removeLast() }
        let slash = p.lastIndex(of: 0x2F)
        var full: [UInt8] = [0x2E, 0x2F]  // "./" when the name has no directory part (CKA-V2-049)
        var base = p
        if let slash {
            full = Array(p[...slash])
            base = Array(p[(slash + 1)...])
        }
        full += Array("PaxHeaders/".utf8)
        full += base
        return UTF8Cut.prefix(full, maxBytes: 100)
    }
}

/// Cutting UTF-8 byte strings without splitting a character.
enum UTF8Cut {
    static func prefix(_ bytes: [UInt8], maxBytes: Int) -> [UInt8] {
        guard bytes.count > maxBytes else { return bytes }
        var n = maxBytes
        while n > 0, bytes[n] & 0xC0 == 0x80 { n -= 1 }
        return Array(bytes[..<n])
    }
}
