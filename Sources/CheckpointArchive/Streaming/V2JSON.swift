/// Why a JSON text could not be parsed, with the byte position.
public struct V2JSONFailure: Error, CustomStringConvertible {
    /// What is wrong.
    public var reason: String
    /// The byte position in the document.
    public var at: Int
    /// The reason with its position.
    public var description: String { "\(reason) at byte \(at)" }

    /// A failure at byte `at`.
    public init(reason: String, at: Int) {
        self.reason = reason
        self.at = at
    }
}

/// A strict RFC 8259 reader over UTF-8 bytes that notes every departure from the canonical form of
/// CKA-V2-054 (whitespace, byte order mark, escapes other than the canonical ones, integers with sign,
/// fraction, exponent) while the caller walks the document member by member, so documents such as the index,
/// whose `files` array has a member per regular file, are checked without building a tree and, when the input
/// streams, without holding them.
public struct V2JSONCursor {
    /// The document's bytes.
    public let input: V2JSONInput
    /// The position of the next byte to read.
    public internal(set) var at = 0
    /// The first departures from the canonical form, with their byte positions.
    public private(set) var nonCanonical: [String] = []
    private var depth = 0
    private let maxDepth: Int

    /// A cursor at the start of `input` (after a byte order mark, which is noted).
    /// - Parameter maxDepth: the deepest nesting of objects and arrays accepted (64 by default).
    public init(_ input: V2JSONInput, maxDepth: Int = 64) {
        self.input = input
        self.maxDepth = maxDepth
        if (try? input.matches([0xEF, 0xBB, 0xBF], at: 0)) == true {
            note("a byte order mark")
            at = 3
        }
    }

    /// A cursor over a whole document in memory.
    public init(_ bytes: [UInt8]) { self.init(V2JSONInput(bytes)) }

    @inline(__always)
    private func b(_ i: Int) throws -> UInt8? { try input.byte(i) }

    private mutating func note(_ what: String) {
        if nonCanonical.count < 3 { nonCanonical.append("\(what) at byte \(at)") }
    }

    private func fail(_ reason: String) -> V2JSONFailure { V2JSONFailure(reason: reason, at: at) }

    /// Skips whitespace, noting it: canonical JSON has none between tokens.
    public mutating func whitespace() throws {
        let start = at
        while let c = try b(at), c == 0x20 || c == 0x09 || c == 0x0A || c == 0x0D { at += 1 }
        if at > start {
            let here = at
            at = start
            note("whitespace")
            at = here
        }
    }

    /// Whether the rest of the document is exactly one line feed (CKA-V2-003, CKA-IDX-001).
    public func restIsOneLineFeed() throws -> Bool { try b(at) == 0x0A && b(at + 1) == nil }

    /// Whether the document continues after the position (data after the JSON text).
    public mutating func hasMore() throws -> Bool {
        try whitespace()
        return try b(at) != nil
    }

    /// The kind of the next value, after whitespace; nil at the end or before a byte no value starts with.
    public mutating func peek() throws -> V2JSONKind? {
        try whitespace()
        input.release(before: at)
        guard let c = try b(at) else { return nil }
        switch c {
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
        try whitespace()
        guard try b(at) == c else { throw fail("expected \(what)") }
        at += 1
    }

    /// Walks an object: `member` is called with each key and must read the member's value (a value it leaves
    /// is skipped). Returns false, having skipped the value, when the next value is not an object.
    @discardableResult
    public mutating func object(_ member: (inout V2JSONCursor, String) throws -> Void) throws -> Bool {
        try container(.object, closing: 0x7D, what: "object") { c in
            guard try c.peek() == .string else { throw c.fail("expected a member name") }
            let key = try c.string()
            try c.expect(0x3A, "':'")
            let before = c.at
            try member(&c, key)
            if c.at == before { try c.skipValue() }
        }
    }

    /// Walks an array: `element` is called with each index and must read the element (an element it leaves is
    /// skipped). Returns false, having skipped the value, when the next value is not an array.
    @discardableResult
    public mutating func array(_ element: (inout V2JSONCursor, Int) throws -> Void) throws -> Bool {
        var n = 0
        return try container(.array, closing: 0x5D, what: "array") { c in
            let before = c.at
            try element(&c, n)
            if c.at == before { try c.skipValue() }
            n += 1
        }
    }

    /// What `object` and `array` share: the type check, the depth guard, the empty container and the
    /// separators; `item` reads one member or element.
    private mutating func container(_ kind: V2JSONKind, closing: UInt8, what: String,
                                    _ item: (inout V2JSONCursor) throws -> Void) throws -> Bool {
        guard try peek() == kind else {
            try skipValue()
            return false
        }
        depth += 1
        defer { depth -= 1 }
        guard depth <= maxDepth else { throw fail("nesting deeper than \(maxDepth)") }
        at += 1
        try whitespace()
        if try b(at) == closing {
            at += 1
            return true
        }
        while true {
            try item(&self)
            try whitespace()
            let next = try b(at)
            if next == 0x2C {
                at += 1
            } else if next == closing {
                at += 1
                return true
            } else {
                throw fail(next == nil ? "unterminated \(what)" : "expected ',' or '\(Character(UnicodeScalar(closing)))'")
            }
        }
    }

    /// The next value if it is a string; otherwise skips it and returns nil.
    public mutating func stringValue() throws -> String? {
        guard try peek() == .string else {
            try skipValue()
            return nil
        }
        return try string()
    }

    /// The next value if it is an integer (decimal digits, optionally a minus sign, no fraction or exponent);
    /// otherwise skips it and returns nil.
    public mutating func integerValue() throws -> Int64? {
        guard try peek() == .number else {
            try skipValue()
            return nil
        }
        // Plain decimal digits (the canonical form) are read in place.
        var end = at, v: Int64 = 0
        while let c = try b(end), c >= 0x30, c <= 0x39, end - at < 18 {
            v = v * 10 + Int64(c - 0x30)
            end += 1
        }
        let next = try b(end) ?? 0
        var leadingZero = false
        if end - at > 1 { leadingZero = try b(at) == 0x30 }
        guard end > at, !leadingZero, next != 0x2E, next != 0x65, next != 0x45,
              !(next >= 0x30 && next <= 0x39) else {
            let raw = try number()
            guard !raw.contains(where: { $0 == "." || $0 == "e" || $0 == "E" }) else { return nil }
            return Int64(raw)
        }
        at = end
        return v
    }

    /// The next value if it is `true` or `false`; otherwise skips it and returns nil.
    public mutating func boolValue() throws -> Bool? {
        if try peek() == .boolean {
            if try input.matches(Array("true".utf8), at: at) {
                at += 4
                return true
            }
            if try input.matches(Array("false".utf8), at: at) {
                at += 5
                return false
            }
        }
        try skipValue()
        return nil
    }

    /// Reads and discards the next value, checking its grammar, without building it.
    public mutating func skipValue() throws {
        guard let kind = try peek() else { throw fail(try b(at) != nil ? "unexpected byte" : "unexpected end") }
        switch kind {
        case .object: try object { c, _ in try c.skipValue() }
        case .array: try array { c, _ in try c.skipValue() }
        case .string: _ = try string()
        case .number: _ = try number()
        case .boolean, .null: try literal()
        }
    }

    private mutating func literal() throws {
        for word in ["true", "false", "null"] where try input.matches(Array(word.utf8), at: at) {
            at += word.utf8.count
            return
        }
        throw fail("invalid literal")
    }

    /// Parses any value into a tree (for small values only: the tree is not bounded by the input window).
    public mutating func value() throws -> V2JSONValue {
        guard let kind = try peek() else { throw fail(try b(at) != nil ? "unexpected byte" : "unexpected end") }
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
            let start = at
            try literal()
            switch at - start {
            case 4: return try b(start) == 0x74 ? .bool(true) : .null
            default: return .bool(false)
            }
        }
    }

    private mutating func number() throws -> String {
        let start = at
        func digits() throws -> Int {
            let s = at
            while let c = try b(at), c >= 0x30, c <= 0x39 { at += 1 }
            return at - s
        }
        if try b(at) == 0x2D { at += 1 }
        let intStart = at
        let n = try digits()
        guard n > 0 else { throw fail("number without digits") }
        if n > 1, try b(intStart) == 0x30 { throw fail("number with a leading zero") }
        var canonical = try b(start) != 0x2D
        if try b(at) == 0x2E {
            at += 1
            guard try digits() > 0 else { throw fail("fraction without digits") }
            canonical = false
        }
        if let e = try b(at), e == 0x65 || e == 0x45 {
            at += 1
            if let s = try b(at), s == 0x2B || s == 0x2D { at += 1 }
            guard try digits() > 0 else { throw fail("exponent without digits") }
            canonical = false
        }
        let raw = String(decoding: input.bytes(start..<at), as: UTF8.self)
        if !canonical {
            let here = at
            at = start
            note("the number \(raw) (integers are written without sign, fraction or exponent)")
            at = here
        }
        return raw
    }

    /// Reads a string; escapes other than CKA-V2-054's canonical ones are noted.
    public mutating func string() throws -> String {
        at += 1  // the opening quote
        // Most strings have no escape: take them in one piece.
        var end = at
        while let c = try b(end), c != 0x22, c != 0x5C, c >= 0x20 { end += 1 }
        if try b(end) == 0x22 {
            guard let s = String(validating: input.bytes(at..<end), as: UTF8.self) else {
                throw fail("a string that is not valid UTF-8")
            }
            at = end + 1
            return s
        }
        var out: [UInt8] = []
        while true {
            guard let c = try b(at) else { throw fail("unterminated string") }
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
            let canonical: Bool
            do {
                canonical = try JSONEscape.decode(at: &at, into: &out) { [input] in try input.byte($0) }
            } catch let failure as JSONEscape.Failure {
                throw V2JSONFailure(reason: failure.reason, at: failure.offset)
            }
            if !canonical { noteEscape(at: escapeAt, String(decoding: input.bytes(escapeAt..<at), as: UTF8.self)) }
            if out.count > input.maxToken { throw fail("a string longer than \(input.maxToken) bytes") }
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
