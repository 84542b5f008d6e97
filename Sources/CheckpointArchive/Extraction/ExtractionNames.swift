import TarFormat

/// An entry name checked and split for extraction: relative, no empty, `.` or `..` component, no NUL
/// (CKA-TAR-029, CKA-TAR-034). Names are kept as raw bytes so a v1 name that is not UTF-8 is created
/// byte for byte.
struct ExtractionName: Equatable {
    /// The components between `/` separators, after removing one trailing `/`.
    var components: [[UInt8]]
    /// Whether the name ended in `/` (a directory by name).
    var endsWithSlash: Bool

    /// The normalised name as text (for messages and bookkeeping keys).
    var text: String { Self.join(components) }

    /// The normalised name as bytes, used as a bookkeeping key.
    var key: [UInt8] { Self.key(components) }

    static func key<C: Collection>(_ components: C) -> [UInt8] where C.Element == [UInt8] {
        var out: [UInt8] = []
        for (i, c) in components.enumerated() {
            if i > 0 { out.append(0x2F) }
            out += c
        }
        return out
    }

    static func join<C: Collection>(_ components: C) -> String where C.Element == [UInt8] {
        String(decoding: key(components), as: UTF8.self)
    }

    /// Checks `bytes` as an entry name.
    /// - Parameters:
    ///   - entry: the name to report in errors.
    ///   - offset: the header offset to report in errors.
    ///   - requirement: the requirement to report for a malformed name (CKA-TAR-034 for entry names;
    ///     hard-link targets report CKA-SEC-005).
    static func parse(_ bytes: [UInt8], entry: String, offset: Int64?,
                      requirement: String = "CKA-TAR-034") throws -> ExtractionName {
        if bytes.contains(0) {
            throw CheckpointError(requirement == "CKA-TAR-034" ? "CKA-TAR-029" : requirement,
                                  "name contains a NUL byte", entry: entry, offset: offset)
        }
        guard !bytes.isEmpty else {
            throw CheckpointError(requirement, "empty name", entry: entry, offset: offset)
        }
        guard bytes[0] != 0x2F else {
            throw CheckpointError(requirement, "absolute name (leading '/')", entry: entry, offset: offset)
        }
        var body = bytes[...]
        let slash = body.last == 0x2F
        if slash { body = body.dropLast() }
        guard !body.isEmpty else {
            throw CheckpointError(requirement, "empty name", entry: entry, offset: offset)
        }
        var components: [[UInt8]] = []
        for part in body.split(separator: 0x2F, omittingEmptySubsequences: false) {
            if part.isEmpty {
                throw CheckpointError(requirement, "empty path component ('//')", entry: entry, offset: offset)
            }
            if part.elementsEqual([0x2E]) || part.elementsEqual([0x2E, 0x2E]) {
                throw CheckpointError(requirement, "'\(String(decoding: part, as: UTF8.self))' path component",
                                      entry: entry, offset: offset)
            }
            components.append(Array(part))
        }
        return ExtractionName(components: components, endsWithSlash: slash)
    }

    /// The components of a section's marker directory, e.g. `["volumes", "data"]`.
    static func sectionComponents(_ section: Section) -> [[UInt8]] {
        section.directory.utf8.split(separator: 0x2F).map { Array($0) }
    }
}

/// Container paths named by metadata (`deleted.files`, `implied.dirs`, `bind.mounts` destinations).
public enum ContainerPath {
    /// Longest container path accepted (CKA-SEC-010).
    public static let maxLength = 4096

    /// Why `path` is not a valid container path under CKA-SEC-010, or nil when it is: it must start with
    /// `/`, not be `/` alone, have no empty, `.` or `..` component and no trailing `/`, contain no NUL and be
    /// at most 4096 bytes long (Swift strings are always valid UTF-8).
    public static func problem(_ path: String) -> String? {
        let b = Array(path.utf8)
        if b.isEmpty { return "empty path" }
        if b.count > maxLength { return "longer than \(maxLength) bytes" }
        if b.contains(0) { return "contains a NUL byte" }
        if b[0] != 0x2F { return "does not start with '/'" }
        if b.count == 1 { return "is '/' itself" }
        if b.last == 0x2F { return "ends with '/'" }
        for part in b.dropFirst().split(separator: 0x2F, omittingEmptySubsequences: false) {
            if part.isEmpty { return "has an empty component ('//')" }
            if part.elementsEqual([0x2E]) { return "has a '.' component" }
            if part.elementsEqual([0x2E, 0x2E]) { return "has a '..' component" }
        }
        return nil
    }

    /// Throws a CKA-SEC-010 error when `path` is not a valid container path.
    /// - Parameters:
    ///   - entry: the metadata file the path comes from (e.g. `rootfs/deleted.files`).
    public static func check(_ path: String, entry: String? = nil, offset: Int64? = nil) throws {
        if let why = problem(path) {
            throw CheckpointError("CKA-SEC-010", "container path '\(path.debugDescription.dropFirst().dropLast())' \(why)",
                                  entry: entry, offset: offset)
        }
    }

    /// The components of a valid container path (`/usr/lib` -> `["usr", "lib"]`).
    static func components(_ path: String) -> [[UInt8]] {
        path.utf8.split(separator: 0x2F).map { Array($0) }
    }

    /// Parses a JSON array of strings (the grammar of `deleted.files`, 4.8) strictly: RFC 8259 whitespace,
    /// escapes and UTF-8 only, nothing after the closing bracket.
    /// - Throws: a `CheckpointError` with `requirement` when the bytes are not such an array.
    public static func parseList(_ bytes: [UInt8], requirement: String, entry: String? = nil,
                                 offset: Int64? = nil) throws -> [String] {
        do {
            return try JSONStringArray.parse(bytes)
        } catch let e as JSONStringArray.Failure {
            throw CheckpointError(requirement, "not a JSON array of strings: \(e.reason) at byte \(e.at)",
                                  entry: entry, offset: offset)
        }
    }
}

/// A strict parser for a JSON array of strings, enough for the path lists of a checkpoint.
enum JSONStringArray {
    struct Failure: Error {
        var reason: String
        var at: Int
    }

    static func parse(_ b: [UInt8]) throws -> [String] {
        guard String(validating: b, as: UTF8.self) != nil else { throw Failure(reason: "invalid UTF-8", at: 0) }
        var i = 0
        func ws() { while i < b.count, b[i] == 0x20 || b[i] == 0x09 || b[i] == 0x0A || b[i] == 0x0D { i += 1 } }
        func expect(_ c: UInt8, _ what: String) throws {
            guard i < b.count, b[i] == c else { throw Failure(reason: "expected \(what)", at: i) }
            i += 1
        }
        func hex4() throws -> UInt32 {
            guard i + 4 <= b.count else { throw Failure(reason: "short \\u escape", at: i) }
            var v: UInt32 = 0
            for _ in 0..<4 {
                let c = b[i]
                let d: UInt32
                switch c {
                case 0x30...0x39: d = UInt32(c - 0x30)
                case 0x41...0x46: d = UInt32(c - 0x41 + 10)
                case 0x61...0x66: d = UInt32(c - 0x61 + 10)
                default: throw Failure(reason: "bad hex digit in \\u escape", at: i)
                }
                v = v << 4 | d
                i += 1
            }
            return v
        }
        func string() throws -> String {
            try expect(0x22, "'\"'")
            var out: [UInt8] = []
            while true {
                guard i < b.count else { throw Failure(reason: "unterminated string", at: i) }
                let c = b[i]
                if c == 0x22 { i += 1; break }
                if c < 0x20 { throw Failure(reason: "control character in string", at: i) }
                if c != 0x5C { out.append(c); i += 1; continue }
                i += 1
                guard i < b.count else { throw Failure(reason: "unterminated escape", at: i) }
                let e = b[i]
                i += 1
                switch e {
                case 0x22: out.append(0x22)
                case 0x5C: out.append(0x5C)
                case 0x2F: out.append(0x2F)
                case 0x62: out.append(0x08)
                case 0x66: out.append(0x0C)
                case 0x6E: out.append(0x0A)
                case 0x72: out.append(0x0D)
                case 0x74: out.append(0x09)
                case 0x75:
                    var v = try hex4()
                    if (0xD800...0xDBFF).contains(v) {
                        guard i + 2 <= b.count, b[i] == 0x5C, b[i + 1] == 0x75 else {
                            throw Failure(reason: "lone surrogate", at: i)
                        }
                        i += 2
                        let lo = try hex4()
                        guard (0xDC00...0xDFFF).contains(lo) else { throw Failure(reason: "lone surrogate", at: i) }
                        v = 0x10000 + ((v - 0xD800) << 10) + (lo - 0xDC00)
                    } else if (0xDC00...0xDFFF).contains(v) {
                        throw Failure(reason: "lone surrogate", at: i)
                    }
                    out += Array(String(Character(Unicode.Scalar(v)!)).utf8)
                default:
                    throw Failure(reason: "unknown escape", at: i - 1)
                }
            }
            return String(decoding: out, as: UTF8.self)
        }
        var list: [String] = []
        ws()
        try expect(0x5B, "'['")
        ws()
        if i < b.count, b[i] == 0x5D {
            i += 1
        } else {
            while true {
                ws()
                list.append(try string())
                ws()
                guard i < b.count else { throw Failure(reason: "unterminated array", at: i) }
                if b[i] == 0x2C { i += 1; continue }
                try expect(0x5D, "',' or ']'")
                break
            }
        }
        ws()
        guard i == b.count else { throw Failure(reason: "data after the array", at: i) }
        return list
    }
}
