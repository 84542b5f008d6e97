/// Why a tar stream could not be read or written, with the byte offset in the (uncompressed) stream.
///
/// Each kind is distinct so callers and tests can tell a truncated archive from a corrupted header.
public struct TarError: Error, Equatable, CustomStringConvertible {
    /// What went wrong.
    public enum Kind: Error, Equatable, Sendable {
        /// The stream ended inside a header, an extended header, or an entry's data or padding.
        case truncated
        /// The header checksum matches neither the unsigned nor the signed sum.
        case badChecksum(recorded: Int64, unsigned: Int64, signed: Int64)
        /// A numeric header field is not octal, not base-256, or overflows.
        case invalidNumericField(field: String)
        /// A numeric field is negative where it must not be (size, sparse offsets).
        case negativeValue(field: String)
        /// A pax extended header record is malformed (length, `=`, newline, NUL, key).
        case invalidPaxRecord(reason: String)
        /// A pax value for a standard key cannot be parsed (`size`, `mtime`, `uid`, ...).
        case invalidPaxValue(key: String)
        /// A configured limit was exceeded; `limit` names it as in `TarLimits`.
        case limitExceeded(limit: String, value: Int64, maximum: Int64)
        /// One zero block followed by something other than a second zero block.
        case garbageAfterZeroBlock
        /// A GNU sparse map is malformed: unsorted, overlapping, beyond the real size, or not matching the data.
        case invalidSparseMap(reason: String)
        /// A header is structurally impossible (e.g. an extended header of the wrong kind).
        case invalidHeader(reason: String)
        /// The writer was asked for something a pax archive cannot hold, or was misused.
        case unencodable(reason: String)
        /// The byte source or sink failed.
        case io(String)
    }

    /// What went wrong.
    public var kind: Kind
    /// Offset in the uncompressed tar stream of the header block (or byte) where the problem was found.
    public var offset: Int64
    /// The entry name when known.
    public var entry: String?

    public init(_ kind: Kind, offset: Int64, entry: String? = nil) {
        self.kind = kind
        self.offset = offset
        self.entry = entry
    }

    /// A stable short code for each kind, for exit messages, JSON and tests.
    public var code: String {
        switch kind {
        case .truncated: return "truncated"
        case .badChecksum: return "bad-checksum"
        case .invalidNumericField: return "invalid-numeric-field"
        case .negativeValue: return "negative-value"
        case .invalidPaxRecord: return "invalid-pax-record"
        case .invalidPaxValue: return "invalid-pax-value"
        case .limitExceeded: return "limit-exceeded"
        case .garbageAfterZeroBlock: return "garbage-after-zero-block"
        case .invalidSparseMap: return "invalid-sparse-map"
        case .invalidHeader: return "invalid-header"
        case .unencodable: return "unencodable"
        case .io: return "io"
        }
    }

    /// What went wrong, without the offset and entry (for messages that give those themselves).
    public var reason: String {
        let what: String
        switch kind {
        case .truncated: what = "archive is truncated"
        case let .badChecksum(recorded, unsigned, signed):
            what = "header checksum \(recorded) matches neither the unsigned sum \(unsigned) nor the signed sum \(signed)"
        case let .invalidNumericField(field): what = "header field '\(field)' is not a valid number"
        case let .negativeValue(field): what = "header field '\(field)' is negative"
        case let .invalidPaxRecord(reason): what = "malformed pax record: \(reason)"
        case let .invalidPaxValue(key): what = "pax record '\(key)' has an invalid value"
        case let .limitExceeded(limit, value, maximum):
            what = "\(limit) limit exceeded: \(value) > \(maximum)"
        case .garbageAfterZeroBlock: what = "a single zero block is followed by data that is not a second zero block"
        case let .invalidSparseMap(reason): what = "invalid sparse map: \(reason)"
        case let .invalidHeader(reason): what = "invalid header: \(reason)"
        case let .unencodable(reason): what = "cannot write entry: \(reason)"
        case let .io(message): what = message
        }
        return what
    }

    public var description: String {
        let what = reason
        let name = entry.map { " (entry '\($0)')" } ?? ""
        return "tar: \(what) at byte offset \(offset)\(name)"
    }
}
