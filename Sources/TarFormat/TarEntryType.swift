/// The typeflag byte of a tar header (offset 156), with the values POSIX, GNU and star define.
public struct TarEntryType: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    public let rawValue: UInt8
    public init(rawValue: UInt8) { self.rawValue = rawValue }

    /// `'0'`: a regular file.
    public static let regular = TarEntryType(rawValue: 0x30)
    /// NUL: a regular file in pre-POSIX archives (a directory when the name ends in `/`).
    public static let regularLegacy = TarEntryType(rawValue: 0)
    /// `'1'`: a hard link to an earlier entry named by the link name.
    public static let hardLink = TarEntryType(rawValue: 0x31)
    /// `'2'`: a symbolic link.
    public static let symbolicLink = TarEntryType(rawValue: 0x32)
    /// `'3'`: a character device.
    public static let characterDevice = TarEntryType(rawValue: 0x33)
    /// `'4'`: a block device.
    public static let blockDevice = TarEntryType(rawValue: 0x34)
    /// `'5'`: a directory.
    public static let directory = TarEntryType(rawValue: 0x35)
    /// `'6'`: a FIFO.
    public static let fifo = TarEntryType(rawValue: 0x36)
    /// `'7'`: a contiguous file, read as a regular file.
    public static let contiguous = TarEntryType(rawValue: 0x37)
    /// `'x'`: pax extended header for the next entry.
    public static let paxExtended = TarEntryType(rawValue: 0x78)
    /// `'g'`: pax global extended header.
    public static let paxGlobal = TarEntryType(rawValue: 0x67)
    /// `'L'`: GNU long name for the next entry.
    public static let gnuLongName = TarEntryType(rawValue: 0x4C)
    /// `'K'`: GNU long link name for the next entry.
    public static let gnuLongLink = TarEntryType(rawValue: 0x4B)
    /// `'S'`: old GNU sparse file.
    public static let gnuSparse = TarEntryType(rawValue: 0x53)
    /// `'D'`: GNU incremental dump directory.
    public static let gnuDumpDir = TarEntryType(rawValue: 0x44)
    /// `'V'`: GNU volume label.
    public static let gnuVolumeLabel = TarEntryType(rawValue: 0x56)

    /// Whether the entry's data is file content (regular, legacy regular, contiguous, GNU sparse).
    public var isRegularFile: Bool {
        self == .regular || self == .regularLegacy || self == .contiguous || self == .gnuSparse
    }

    /// Types whose entries carry no data whatever their size field says (as Go and Python read them).
    public var isHeaderOnly: Bool {
        switch self {
        case .hardLink, .symbolicLink, .characterDevice, .blockDevice, .directory, .fifo: return true
        default: return false
        }
    }

    /// The name `ckpt list --json` uses: `file`, `dir`, `symlink`, `hardlink`, `char`, `block`, `fifo`,
    /// or the raw typeflag character for anything else.
    public var listingName: String {
        switch self {
        case .regular, .regularLegacy, .contiguous, .gnuSparse: return "file"
        case .directory: return "dir"
        case .symbolicLink: return "symlink"
        case .hardLink: return "hardlink"
        case .characterDevice: return "char"
        case .blockDevice: return "block"
        case .fifo: return "fifo"
        default:
            return (32..<127).contains(rawValue) ? String(UnicodeScalar(rawValue))
                : "0x" + String(rawValue, radix: 16)
        }
    }

    public var description: String { listingName }
}
