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
/// Where one record of a pax extended header body lies: the byte ranges of its key and value in the body, and the
/// record's length (its decimal length field).
public struct PaxRecordSpan: Sendable, Equatable {
    public let key: Range<Int>
    public let value: Range<Int>
    public let length: Int

    @inlinable
    public init(key: Range<Int>, value: Range<Int>, length: Int) {
        self.key = key
        self.value = value
        self.length = length
    }
}

/// The grammar of a pax extended header body, `"%d %s=%s\n"` record after record, in one place: the reader builds
/// its records on it, and the validator reads bodies through the spans it finds without copying them.
public enum PaxRecordGrammar {
    /// Walks the records of `body`, handing each well-formed one to `visit` in order; `visit` returns false to stop.
    /// - Returns: nil when every record was well formed (or `visit` stopped the walk); otherwise why the record after
    ///   the last one visited breaks the grammar.
    /// Inlinable, so that each caller's `visit` is compiled into the scan: it runs for every pax header read.
    @inlinable
    public static func scan(_ body: UnsafeRawBufferPointer, _ visit: (PaxRecordSpan) -> Bool) -> String? {
        guard let b = body.baseAddress?.assumingMemoryBound(to: UInt8.self) else { return nil }
        let count = body.count
        var i = 0
        while i < count {
            // Length: decimal digits without leading zeros, then one space.
            var j = i
            var length = 0
            while j < count, b[j] &- 0x30 < 10 {
                if j - i >= 10 { return "record length has too many digits" }
                length = length * 10 + Int(b[j] &- 0x30)
                j += 1
            }
            if j == i { return "record does not start with a decimal length" }
            if b[i] == 0x30 { return "record length has a leading zero" }
            guard j < count, b[j] == 0x20 else { return "record length is not followed by a space" }
            guard length > j - i + 1, i + length <= count else { return "record length \(length) does not fit the header" }
            let end = i + length
            guard b[end - 1] == 0x0A else { return "record of length \(length) does not end in a newline" }
            // The content lies in j + 1 ..< end - 1: "key=value".
            let contentStart = j + 1, contentEnd = end - 1
            guard let eqPointer = memchr(b + contentStart, 0x3D, contentEnd - contentStart) else { return "record has no '='" }
            let eq = UnsafePointer<UInt8>(eqPointer.assumingMemoryBound(to: UInt8.self)) - b
            guard eq > contentStart else { return "record has an empty key" }
            guard memchr(b + contentStart, 0, eq - contentStart) == nil else { return "record key contains NUL" }
            guard visit(PaxRecordSpan(key: contentStart..<eq, value: (eq + 1)..<contentEnd, length: length)) else { return nil }
            i = end
        }
        return nil
    }
}

enum PaxParser {
    /// Parses every record in `body`.
    /// - Throws: `TarError.Kind.invalidPaxRecord` naming the first defect; the caller adds the offset.
    static func parse(_ body: [UInt8]) throws(TarError.Kind) -> [PaxRecord] { try parse(body, spans: { _ in }) }

    /// Parses every record in `body`, showing `spans` where each lies (the read-ahead plan hands them to a
    /// screen that reads the body through them, so that the body is scanned once).
    static func parse(_ body: [UInt8], spans: (PaxRecordSpan) -> Void) throws(TarError.Kind) -> [PaxRecord] {
        var records: [PaxRecord] = []
        records.reserveCapacity(1)  // the usual body: one record (a sub-second mtime)
        var failure: String?
        body.withUnsafeBytes { raw in
            failure = PaxRecordGrammar.scan(raw) { span in
                let b = raw.baseAddress!.assumingMemoryBound(to: UInt8.self)
                let key = PaxRecordGrammar.keyString(UnsafeBufferPointer(start: b + span.key.lowerBound,
                                                                         count: span.key.count))
                let value = Array(UnsafeBufferPointer(start: b + span.value.lowerBound, count: span.value.count))
                if memchr(b + span.value.lowerBound, 0, span.value.count) != nil,
                   Self.nulForbiddenKeys.contains(key) {
                    failure = "value of '\(key)' contains NUL"
                    return false
                }
                records.append(PaxRecord(key: key, value: value))
                spans(span)
                return true
            } ?? failure
        }
        if let failure { throw .invalidPaxRecord(reason: failure) }
        return records
    }

    /// Keys whose values name things and so may not contain NUL (BSD tar and Go reject it too).
    static let nulForbiddenKeys: Set<String> = ["path", "linkpath", "uname", "gname", "GNU.sparse.name"]
}

extension PaxRecordGrammar {
    /// A record's key as a string. The keys met on almost every entry (the POSIX times, names, sizes and ids, and
    /// the v2 `CKA.` keys) come back as literals, told apart by length and bytes: decoding the bytes as UTF-8 cost
    /// some 160 instructions a key, twice an entry (the reader's records and the validator's). Any other key is
    /// decoded (invalid UTF-8 becomes U+FFFD).
    public static func keyString(_ key: UnsafeBufferPointer<UInt8>) -> String {
        guard let p = key.baseAddress else { return "" }
        @inline(__always) func equals(_ literal: StaticString) -> Bool {
            memcmp(literal.utf8Start, p, key.count) == 0
        }
        switch key.count {
        case 3:
            if equals("uid") { return "uid" }
            if equals("gid") { return "gid" }
        case 4:
            if equals("path") { return "path" }
            if equals("size") { return "size" }
        case 5:
            if equals("mtime") { return "mtime" }
            if equals("atime") { return "atime" }
            if equals("ctime") { return "ctime" }
        case 7:
            if equals("CKA.pad") { return "CKA.pad" }
        case 8:
            if equals("linkpath") { return "linkpath" }
        case 9:
            if equals("CKA.index") { return "CKA.index" }
        case 11:
            if equals("CKA.section") { return "CKA.section" }
            if equals("CKA.version") { return "CKA.version" }
        case 20:
            if equals("CKA.section.critical") { return "CKA.section.critical" }
        default:
            break
        }
        return String(decoding: key, as: UTF8.self)
    }
}
