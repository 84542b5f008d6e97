/// Which header layouts an entry was read from (several can apply: a pax entry also has a ustar block).
public struct TarHeaderFormat: OptionSet, Hashable, Sendable, CustomStringConvertible {
    public let rawValue: UInt8
    public init(rawValue: UInt8) { self.rawValue = rawValue }

    /// Version 7 Unix tar: no magic.
    public static let v7 = TarHeaderFormat(rawValue: 1)
    /// POSIX.1-1988 ustar: magic `"ustar\0"`, version `"00"`.
    public static let ustar = TarHeaderFormat(rawValue: 2)
    /// POSIX.1-2001 pax: ustar plus `x`/`g` extended headers.
    public static let pax = TarHeaderFormat(rawValue: 4)
    /// GNU: magic `"ustar "`, version `" \0"`, with `L`/`K`, sparse and base-256 extensions.
    public static let gnu = TarHeaderFormat(rawValue: 8)
    /// star: ustar with atime/ctime in the prefix area and `"tar\0"` at offset 508.
    public static let star = TarHeaderFormat(rawValue: 16)

    public var description: String {
        var names: [String] = []
        if contains(.v7) { names.append("v7") }
        if contains(.ustar) { names.append("ustar") }
        if contains(.pax) { names.append("pax") }
        if contains(.gnu) { names.append("gnu") }
        if contains(.star) { names.append("star") }
        return names.joined(separator: "+")
    }
}

/// One extended attribute (`SCHILY.xattr.<name>` in pax).
public struct TarXattr: Hashable, Sendable {
    public var name: String
    public var value: [UInt8]
    public init(name: String, value: [UInt8]) {
        self.name = name
        self.value = value
    }
}

/// A run of data in a sparse file: `length` bytes at logical `offset`; everything else is a hole.
public struct SparseSegment: Hashable, Sendable {
    public var offset: Int64
    public var length: Int64
    public init(offset: Int64, length: Int64) {
        self.offset = offset
        self.length = length
    }
}

/// How a sparse entry maps its stored data onto its logical size.
public struct SparseInfo: Hashable, Sendable {
    /// Which GNU sparse encoding the archive used.
    public enum Encoding: String, Sendable {
        case oldGNU = "gnu-old", pax00 = "pax-0.0", pax01 = "pax-0.1", pax10 = "pax-1.0"
    }
    public var encoding: Encoding
    /// The data runs, sorted and non-overlapping; their lengths add up to the stored size.
    public var segments: [SparseSegment]
    /// The size of the file once holes are filled in.
    public var realSize: Int64
}

/// A tar entry's metadata, independent of the header layout it was read from or will be written as.
///
/// Names are kept as the raw bytes of the archive; `path` and `linkName` decode them as UTF-8.
public struct TarHeader: Equatable, Sendable {
    /// The entry name as stored (after pax `path`, GNU `L` or ustar prefix are applied).
    public var pathBytes: [UInt8]
    /// The link target (hard and symbolic links) as stored.
    public var linkBytes: [UInt8]
    /// The typeflag.
    public var type: TarEntryType
    /// Mode bits as stored (usually permission bits only).
    public var mode: Int64
    public var uid: Int64
    public var gid: Int64
    public var uname: String
    public var gname: String
    /// For regular files, the content size; for sparse files, the logical (real) size.
    public var size: Int64
    public var mtime: TarTime
    public var atime: TarTime?
    public var ctime: TarTime?
    public var devMajor: Int64
    public var devMinor: Int64
    /// Extended attributes in the order they were recorded.
    public var xattrs: [TarXattr]
    /// Every pax record that applied to this entry (global ones first), unknown keys included.
    public var paxRecords: [PaxRecord]
    /// The sparse map, for GNU sparse files.
    public var sparse: SparseInfo?
    /// The header layouts seen for this entry.
    public var format: TarHeaderFormat

    /// Offset in the uncompressed stream of the first block of this entry (its first extended header, if any).
    public var headerOffset: Int64
    /// Offset in the uncompressed stream where the entry's data begins.
    public var dataOffset: Int64
    /// Bytes of data stored in the archive for this entry (before padding to 512).
    public var storedSize: Int64

    /// The entry name decoded as UTF-8.
    public var path: String {
        get { String(decoding: pathBytes, as: UTF8.self) }
        set { pathBytes = Array(newValue.utf8) }
    }

    /// The link target decoded as UTF-8.
    public var linkName: String {
        get { String(decoding: linkBytes, as: UTF8.self) }
        set { linkBytes = Array(newValue.utf8) }
    }

    /// The value of the last pax record with this key, if any.
    public func paxValue(_ key: String) -> String? {
        paxRecords.last(where: { $0.key == key })?.stringValue
    }
}

// The initialisers are declared in an extension so that the struct keeps its (internal) memberwise initialiser,
// which `HeaderBlock.decode` calls with every field. An initialiser of its own taking the same fields compiled to
// a header built twice and one of them copied out, its references retained and released (some 450 instructions an
// entry on the validator's path).
extension TarHeader {
    /// Creates a header for writing.
    public init(path: String, type: TarEntryType = .regular, size: Int64 = 0, mode: Int64 = 0o644,
                mtime: TarTime = TarTime(seconds: 0)) {
        pathBytes = Array(path.utf8)
        linkBytes = []
        self.type = type
        self.mode = mode
        uid = 0
        gid = 0
        uname = ""
        gname = ""
        self.size = size
        self.mtime = mtime
        atime = nil
        ctime = nil
        devMajor = 0
        devMinor = 0
        xattrs = []
        paxRecords = []
        sparse = nil
        format = []
        headerOffset = 0
        dataOffset = 0
        storedSize = 0
    }
}
