/// Why a JSON text could not be parsed, with the byte position.
struct V2JSONFailure: Error, CustomStringConvertible {
    var reason: String
    var at: Int
    var description: String { "\(reason) at byte \(at)" }
}

/// A strict RFC 8259 reader over UTF-8 bytes that notes every departure from the canonical form of
/// CKA-V2-054 (whitespace, byte order mark, escapes other than the canonical ones, integers with sign,
/// fraction, exponent) while the caller walks the document member by member, so the index's `files` array is
/// checked without building a tree.
struct V2JSONCursor {
    let bytes: [UInt8]
    private(set) var at = 0
    /// The first departures from the canonical form, with their byte positions.
    private(set) var nonCanonical: [String] = []
    private var depth = 0
    private static let maxDepth = 64

    init(_ bytes: [UInt8]) {
        self.bytes = bytes
        if bytes.starts(with: [0xEF, 0xBB, 0xBF]) {
            note("a byte order mark")
            at = 3
        }
    }

    private mutating func note(_ what: String) {
        if nonCanonical.count < 3 { nonCanonical.append("\(what) at byte \(at)") }
    }

    private func fail(_ reason: String) -> V2JSONFailure { V2JSONFailure(reason: reason, at: at) }

    /// Skips whitespace, noting it: canonical JSON has none between tokens.
    mutating func whitespace() {
        let start = at
        while at < bytes.count, bytes[at] == 0x20 || bytes[at] == 0x09 || bytes[at] == 0x0A || bytes[at] == 0x0D {
            at += 1
        }
        if at > start {
            let here = at
            at = start
            note("whitespace")
            at = here
        }
    }

    /// The bytes after the position (for the final line feed check).
    var rest: ArraySlice<UInt8> { bytes[min(at, bytes.count)...] }

    /// The kind of the next value, after whitespace; nil at the end or before a byte no value starts with.
    mutating func peek() -> V2JSONKind? {
        whitespace()
        guard at < bytes.count else { return nil }
        switch bytes[at] {
        case 0x7B: return .object
        case 0x5B: return .array
        case 0x22: return .string
        case 0x2D, 0x30...0x39: return .number
        case 0x74, 0x66: return .boolean
        case 0x6E: return .null
        default: return nil
        }
    }

    private mutating func expect(_ c: UInt8, _ what: String) throws {
        whitespace()
        guard at < bytes.count, bytes[at] == c else { throw fail("expected \(what)") }
        at += 1
    }

    /// Walks an object: `member` is called with each key and must read the member's value. Returns false,
    /// having skipped the value, when the next value is not an object.
    @discardableResult
    mutating func object(_ member: (inout V2JSONCursor, String) throws -> Void) throws -> Bool {
        guard peek() == .object else {
            _ = try value()
            return false
        }
        depth += 1
        defer { depth -= 1 }
        guard depth <= Self.maxDepth else { throw fail("nesting deeper than \(Self.maxDepth)") }
        at += 1
        whitespace()
        if at < bytes.count, bytes[at] == 0x7D {
            at += 1
            return true
        }
        while true {
            guard peek() == .string else { throw fail("expected a member name") }
            let key = try string()
            try expect(0x3A, "':'")
            let before = at
            try member(&self, key)
            if at == before { _ = try value() }
            whitespace()
            guard at < bytes.count else { throw fail("unterminated object") }
            if bytes[at] == 0x2C {
                at += 1
            } else if bytes[at] == 0x7D {
                at += 1
                return true
            } else {
                throw fail("expected ',' or '}'")
            }
        }
    }

    /// Walks an array: `element` is called with each index and must read the element. Returns false, having
    /// skipped the value, when the next value is not an array.
    @discardableResult
    mutating func array(_ element: (inout V2JSONCursor, Int) throws -> Void) throws -> Bool {
        guard peek() == .array else {
            _ = try value()
            return false
        }
        depth += 1
        defer { depth -= 1 }
        guard depth <= Self.maxDepth else { throw fail("nesting deeper than \(Self.maxDepth)") }
        at += 1
        whitespace()
        if at < bytes.count, bytes[at] == 0x5D {
            at += 1
            return true
        }
        var n = 0
        while true {
            let before = at
            try element(&self, n)
            if at == before { _ = try value() }
            n += 1
            whitespace()
            guard at < bytes.count else { throw fail("unterminated array") }
            if bytes[at] == 0x2C {
                at += 1
            } else if bytes[at] == 0x5D {
                at += 1
                return true
            } else {
                throw fail("expected ',' or ']'")
            }
        }
    }

    /// The next value if it is a string; otherwise skips it and returns nil.
    mutating func stringValue() throws -> String? {
        guard peek() == .string else { _ = try value(); return nil }
        return try string()
    }

    /// The next value if it is an integer (see `V2JSONValue.integer`); otherwise skips it and returns nil.
    mutating func integerValue() throws -> Int64? {
        guard peek() == .number else { return try value().integer }
        // Plain decimal digits (the canonical form) are read in place.
        var end = at, v: Int64 = 0
        while end < bytes.count, (0x30...0x39).contains(bytes[end]), end - at < 18 {
            v = v * 10 + Int64(bytes[end] - 0x30)
            end += 1
        }
        let next = end < bytes.count ? bytes[end] : 0
        guard end > at, !(end - at > 1 && bytes[at] == 0x30), next != 0x2E, next != 0x65, next != 0x45,
              !(0x30...0x39).contains(next) else { return try value().integer }
        at = end
        return v
    }

    /// The next value if it is `true` or `false`; otherwise skips it and returns nil.
    mutating func boolValue() throws -> Bool? {
        if case let .bool(b) = try value() { return b }
        return nil
    }

    /// Parses any value into a tree.
    mutating func value() throws -> V2JSONValue {
        guard let kind = peek() else { throw fail(at < bytes.count ? "unexpected byte" : "unexpected end") }
        switch kind {
        case .object:
            var members: [(key: String, value: V2JSONValue)] = []
            try object { c, key in members.append((key, try c.value())) }
            return .object(members)
        case .array:
            var items: [V2JSONValue] = []
            try array { c, _ in items.append(try c.value()) }
            return .array(items)
        case .string: return .string(try string())
        case .number: return .number(try number())
        case .boolean, .null:
            for (word, v) in [("true", V2JSONValue.bool(true)), ("false", .bool(false)), ("null", .null)]
            where bytes[at...].starts(with: word.utf8) {
                at += word.utf8.count
                return v
            }
            throw fail("invalid literal")
        }
    }

    private mutating func number() throws -> String {
        let start = at
        func digits() -> Int {
            let s = at
            while at < bytes.count, (0x30...0x39).contains(bytes[at]) { at += 1 }
            return at - s
        }
        if bytes[at] == 0x2D { at += 1 }
        let intStart = at
        let n = digits()
        guard n > 0 else { throw fail("number without digits") }
        if n > 1, bytes[intStart] == 0x30 { throw fail("number with a leading zero") }
        var canonical = bytes[start] != 0x2D
        if at < bytes.count, bytes[at] == 0x2E {
            at += 1
            guard digits() > 0 else { throw fail("fraction without digits") }
            canonical = false
        }
        if at < bytes.count, bytes[at] == 0x65 || bytes[at] == 0x45 {
            at += 1
            if at < bytes.count, bytes[at] == 0x2B || bytes[at] == 0x2D { at += 1 }
            guard digits() > 0 else { throw fail("exponent without digits") }
            canonical = false
        }
        let raw = String(decoding: bytes[start..<at], as: UTF8.self)
        if !canonical {
            let here = at
            at = start
            note("the number \(raw) (integers are written without sign, fraction or exponent)")
            at = here
        }
        return raw
    }

    private mutating func hex4() throws -> (value: UInt32, lowercase: Bool) {
        guard at + 4 <= bytes.count else { throw fail("short \\u escape") }
        var v: UInt32 = 0
        var lower = true
        for _ in 0..<4 {
            let c = bytes[at]
            switch c {
            case 0x30...0x39: v = v << 4 | UInt32(c - 0x30)
            case 0x61...0x66: v = v << 4 | UInt32(c - 0x61 + 10)
            case 0x41...0x46: v = v << 4 | UInt32(c - 0x41 + 10); lower = false
            default: throw fail("bad hex digit in a \\u escape")
            }
            at += 1
        }
        return (v, lower)
    }

    /// Reads a string; escapes other than CKA-V2-054's canonical ones are noted.
    private mutating func string() throws -> String {
        at += 1  // the opening quote
        // Most strings have no escape: take them in one piece.
        var end = at
        while end < bytes.count, bytes[end] != 0x22, bytes[end] != 0x5C, bytes[end] >= 0x20 { end += 1 }
        if end < bytes.count, bytes[end] == 0x22 {
            guard let s = String(validating: bytes[at..<end], as: UTF8.self) else {
                throw fail("a string that is not valid UTF-8")
            }
            at = end + 1
            return s
        }
        var out: [UInt8] = []
        while true {
            guard at < bytes.count else { throw fail("unterminated string") }
            let c = bytes[at]
            if c == 0x22 {
                at += 1
                break
            }
            if c < 0x20 { throw fail("unescaped control character in a string") }
            guard c == 0x5C else {
                out.append(c)
                at += 1
                continue
            }
            let escapeAt = at
            at += 1
            guard at < bytes.count else { throw fail("unterminated escape") }
            let e = bytes[at]
            at += 1
            switch e {
            case 0x22: out.append(0x22)
            case 0x5C: out.append(0x5C)
            case 0x62: out.append(0x08)
            case 0x66: out.append(0x0C)
            case 0x6E: out.append(0x0A)
            case 0x72: out.append(0x0D)
            case 0x74: out.append(0x09)
            case 0x2F:
                out.append(0x2F)
                noteEscape(at: escapeAt, "\\/")
            case 0x75:
                var (v, lower) = try hex4()
                var canonical = v < 0x20 && ![0x08, 0x09, 0x0A, 0x0C, 0x0D].contains(v) && lower
                if (0xD800...0xDBFF).contains(v) {
                    guard bytes[at...].starts(with: [0x5C, 0x75]) else { throw fail("lone surrogate in a \\u escape") }
                    at += 2
                    let (low, _) = try hex4()
                    guard (0xDC00...0xDFFF).contains(low) else { throw fail("invalid surrogate pair") }
                    v = 0x10000 + ((v - 0xD800) << 10) + (low - 0xDC00)
                    canonical = false
                } else if (0xDC00...0xDFFF).contains(v) {
                    throw fail("lone surrogate in a \\u escape")
                }
                if !canonical { noteEscape(at: escapeAt, String(decoding: bytes[escapeAt..<at], as: UTF8.self)) }
                out.append(contentsOf: Array(String(UnicodeScalar(v) ?? "\u{FFFD}").utf8))
            default: throw fail("invalid escape")
            }
        }
        guard let s = String(validating: out, as: UTF8.self) else { throw fail("a string that is not valid UTF-8") }
        return s
    }

    private mutating func noteEscape(at position: Int, _ escape: String) {
        let here = at
        at = position
        note("the escape \(escape) (only '\"', '\\' and control characters are escaped)")
        at = here
    }
}

