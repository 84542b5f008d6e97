#if canImport(Glibc)
import Glibc
#endif

/// One pax extended header record: `"%d %s=%s\n"`, where the length counts the whole record.
public struct PaxRecord: Hashable, Sendable {
    /// The key (UTF-8, no `=` or NUL).
    public var key: String
    /// The value as raw bytes: xattr values may be binary.
    public var value: [UInt8]

    public init(key: String, value: [UInt8]) {
        self.key = key
        self.value = value
    }

    public init(key: String, value: String) {
        self.init(key: key, value: Array(value.utf8))
    }

    /// The value decoded as UTF-8 (invalid bytes become U+FFFD).
    public var stringValue: String { String(decoding: value, as: UTF8.self) }

    /// The record's encoded form including its length prefix and newline.
    public var encoded: [UInt8] {
        let body = key.utf8.count + 1 + value.count + 1  // "key=value\n"
        // The length includes its own digits and the space after them.
        var length = body + 2
        while String(length).utf8.count + 1 + body != length { length = String(length).utf8.count + 1 + body }
        var out = Array(String(length).utf8)
        out.append(0x20)
        out.append(contentsOf: key.utf8)
        out.append(0x3D)
        out.append(contentsOf: value)
        out.append(0x0A)
        return out
    }
}

extension PaxRecord {
    /// A record encoded to an exact total length by repeating a filler byte as its value (the padding record).
    struct Encoded {
        let key: String
        let bytes: [UInt8]

        /// A record `"<len> <key>=<filler...>\n"` of exactly `totalLength` bytes; the length prefix uses as many
        /// digits as `totalLength` has, so every length from the minimum up is reachable.
        init(key: String, filler: UInt8, totalLength: Int) {
            let digits = String(totalLength).utf8.count
            let valueLength = totalLength - digits - 1 - key.utf8.count - 1 - 1
            var out = Array(String(totalLength).utf8)
            out.append(0x20)
            out.append(contentsOf: key.utf8)
            out.append(0x3D)
            out.append(contentsOf: [UInt8](repeating: filler, count: max(valueLength, 0)))
            out.append(0x0A)
            self.key = key
            bytes = out
        }
    }
}

/// Parsing of a pax extended header body into records, strictly (as Python's tarfile and Go do).
enum PaxParser {
    /// Parses every record in `body`.
    /// - Throws: `TarError.Kind.invalidPaxRecord` naming the first defect; the caller adds the offset.
    static func parse(_ body: [UInt8]) throws(TarError.Kind) -> [PaxRecord] {
        // Scanned through a raw pointer (the array's checked subscripts and slices cost more than the scan), and
        // the result sized for the usual single record (a sub-second `mtime`).
        try body.withUnsafeBufferPointer { buffer throws(TarError.Kind) in
            guard let b = buffer.baseAddress else { return [] }
            return try parse(b, count: buffer.count)
        }
    }

    private static func parse(_ b: UnsafePointer<UInt8>, count: Int) throws(TarError.Kind) -> [PaxRecord] {
        var records: [PaxRecord] = []
        records.reserveCapacity(1)
        var i = 0
        while i < count {
            // Length: decimal digits without leading zeros, then one space.
            var j = i
            var length = 0
            while j < count, b[j] &- 0x30 < 10 {
                if j - i >= 10 { throw .invalidPaxRecord(reason: "record length has too many digits") }
                length = length * 10 + Int(b[j] &- 0x30)
                j += 1
            }
            if j == i { throw .invalidPaxRecord(reason: "record does not start with a decimal length") }
            if b[i] == 0x30 { throw .invalidPaxRecord(reason: "record length has a leading zero") }
            guard j < count, b[j] == 0x20 else {
                throw .invalidPaxRecord(reason: "record length is not followed by a space")
            }
            guard length > j - i + 1, i + length <= count else {
                throw .invalidPaxRecord(reason: "record length \(length) does not fit the header")
            }
            let end = i + length
            guard b[end - 1] == 0x0A else {
                throw .invalidPaxRecord(reason: "record of length \(length) does not end in a newline")
            }
            // The content lies in j + 1 ..< end - 1: "key=value".
            let contentStart = j + 1, contentEnd = end - 1
            guard let eqPointer = memchr(b + contentStart, 0x3D, contentEnd - contentStart) else {
                throw .invalidPaxRecord(reason: "record has no '='")
            }
            let eq = UnsafePointer<UInt8>(eqPointer.assumingMemoryBound(to: UInt8.self)) - b
            guard eq > contentStart else { throw .invalidPaxRecord(reason: "record has an empty key") }
            guard memchr(b + contentStart, 0, eq - contentStart) == nil else {
                throw .invalidPaxRecord(reason: "record key contains NUL")
            }
            let value = Array(UnsafeBufferPointer(start: b + eq + 1, count: contentEnd - eq - 1))
            let key = String(decoding: UnsafeBufferPointer(start: b + contentStart, count: eq - contentStart), as: UTF8.self)
            if memchr(b + eq + 1, 0, contentEnd - eq - 1) != nil, Self.nulForbiddenKeys.contains(key) {
                throw .invalidPaxRecord(reason: "value of '\(key)' contains NUL")
            }
            records.append(PaxRecord(key: key, value: value))
            i = end
        }
        return records
    }

    /// Keys whose values name things and so may not contain NUL (BSD tar and Go reject it too).
    static let nulForbiddenKeys: Set<String> = ["path", "linkpath", "uname", "gname", "GNU.sparse.name"]
}
