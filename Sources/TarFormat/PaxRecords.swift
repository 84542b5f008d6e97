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
        var records: [PaxRecord] = []
        var i = 0
        while i < body.count {
            // Length: decimal digits without leading zeros, then one space.
            var j = i
            var length = 0
            while j < body.count, body[j] >= 0x30, body[j] <= 0x39 {
                if j - i >= 10 { throw .invalidPaxRecord(reason: "record length has too many digits") }
                length = length * 10 + Int(body[j] - 0x30)
                j += 1
            }
            if j == i { throw .invalidPaxRecord(reason: "record does not start with a decimal length") }
            if body[i] == 0x30 { throw .invalidPaxRecord(reason: "record length has a leading zero") }
            guard j < body.count, body[j] == 0x20 else {
                throw .invalidPaxRecord(reason: "record length is not followed by a space")
            }
            guard length > j - i + 1, i + length <= body.count else {
                throw .invalidPaxRecord(reason: "record length \(length) does not fit the header")
            }
            let end = i + length
            guard body[end - 1] == 0x0A else {
                throw .invalidPaxRecord(reason: "record of length \(length) does not end in a newline")
            }
            let content = body[(j + 1)..<(end - 1)]
            guard let eq = content.firstIndex(of: 0x3D) else {
                throw .invalidPaxRecord(reason: "record has no '='")
            }
            let keyBytes = content[content.startIndex..<eq]
            guard !keyBytes.isEmpty else { throw .invalidPaxRecord(reason: "record has an empty key") }
            guard !keyBytes.contains(0) else { throw .invalidPaxRecord(reason: "record key contains NUL") }
            let value = Array(content[(eq + 1)...])
            let key = String(decoding: keyBytes, as: UTF8.self)
            if value.contains(0), Self.nulForbiddenKeys.contains(key) {
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
