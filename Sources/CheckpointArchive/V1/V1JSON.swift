/// The little JSON read and written whole in memory: a strict RFC 8259 parser for the v1 metadata files (`spec.dump`
/// annotations, `deleted.files`, `bind.mounts`, `config.dump` shape) and for the v2 header and index documents
/// (`ArchiveHeader.parse`, `ArchiveIndex.parse`, the vendor-member comparison), and the exact bytes Go's
/// `json.MarshalIndent(v, "", "  ")` writes for a list of strings (`deleted.files`, `rootfs/implied.dirs`).
/// Documents that stream (v2 metadata files, the index as the validator and decoder walk it) go through
/// `V2JSONCursor` instead.
enum V1JSON {
    /// A parsed JSON value; object members keep their order and duplicates.
    indirect enum Value: Equatable {
        case null
        case bool(Bool)
        /// The number's text as written (validated against the RFC 8259 grammar).
        case number(String)
        case string(String)
        case array([Value])
        case object([Member])

        /// The value of the last member named `key` (as Go's decoder takes it), for objects.
        subscript(key: String) -> Value? {
            guard case let .object(members) = self else { return nil }
            return members.last(where: { $0.key == key })?.value
        }

        var stringValue: String? {
            if case let .string(s) = self { return s }
            return nil
        }

        /// The value if it is `true` or `false`.
        var boolValue: Bool? {
            if case let .bool(b) = self { return b }
            return nil
        }

        /// The elements if the value is an array.
        var arrayValue: [Value]? {
            if case let .array(a) = self { return a }
            return nil
        }

        /// Whether the value is an object.
        var isObject: Bool {
            if case .object = self { return true }
            return false
        }

        /// A number whose value is a whole number that fits an `Int64`, however written (`2`, `2.0`, `0e5`), as
        /// `JSONSerialization` read such numbers into `Int` for the v2 header and index parsers. The canonical-form
        /// check, not this, refuses the spellings other than plain decimal.
        var integralValue: Int64? {
            guard case let .number(raw) = self else { return nil }
            if let exact = Int64(raw) { return exact }
            guard let d = Double(raw), d.isFinite, d == d.rounded(), d >= -9.223372036854775808e18,
                  d < 9.223372036854775808e18 else { return nil }
            return Int64(d)
        }

        var typeName: String {
            switch self {
            case .null: return "null"
            case .bool: return "boolean"
            case .number: return "number"
            case .string: return "string"
            case .array: return "array"
            case .object: return "object"
            }
        }
    }

    struct Member: Equatable {
        var key: String
        var value: Value
    }

    /// Why a JSON text was refused, with the byte offset in the text.
    struct ParseError: Error, Equatable, CustomStringConvertible {
        var reason: String
        var offset: Int
        var description: String { "\(reason) at JSON byte \(offset)" }
    }

    /// Parses one JSON text (surrounding whitespace allowed, nothing else after the value).
    /// - Throws: `ParseError` for invalid UTF-8, invalid syntax, lone surrogate escapes or nesting deeper
    ///   than `maxDepth`.
    static func parse(_ bytes: [UInt8], maxDepth: Int = 512) throws -> Value {
        guard String(validating: bytes, as: UTF8.self) != nil else {
            throw ParseError(reason: "not valid UTF-8", offset: 0)
        }
        var p = Parser(bytes: bytes, maxDepth: maxDepth)
        p.skipSpace()
        let v = try p.value(depth: 0)
        p.skipSpace()
        guard p.i == bytes.count else { throw ParseError(reason: "data after the JSON value", offset: p.i) }
        return v
    }

    /// The bytes of the JSON string literal whose opening quote is at `bytes[i]`, escapes decoded; leaves `i` after
    /// the closing quote. Used by the parser below.
    /// - Throws: `ParseError` at the offset reached for a control character, an invalid or lone-surrogate escape, or
    ///   a missing closing quote. The bytes are not checked to be UTF-8.
    static func stringBytes(_ bytes: [UInt8], at i: inout Int) throws -> [UInt8] {
        i += 1 // opening quote
        var out: [UInt8] = []
        var plainStart = i
        while true {
            guard i < bytes.count else { throw ParseError(reason: "unterminated string", offset: i) }
            let c = bytes[i]
            if c == 0x22 {
                out.append(contentsOf: bytes[plainStart..<i])
                i += 1
                return out
            }
            if c < 0x20 { throw ParseError(reason: "control character in a string", offset: i) }
            if c != 0x5C { i += 1; continue }
            out.append(contentsOf: bytes[plainStart..<i])
            do {
                _ = try JSONEscape.decode(at: &i, into: &out) { $0 < bytes.count ? bytes[$0] : nil }
            } catch let failure as JSONEscape.Failure {
                throw ParseError(reason: failure.reason, offset: failure.offset)
            }
            plainStart = i
        }
    }

    private struct Parser {
        let bytes: [UInt8]
        let maxDepth: Int
        var i = 0

        mutating func skipSpace() {
            while i < bytes.count, bytes[i] == 0x20 || bytes[i] == 0x09 || bytes[i] == 0x0A || bytes[i] == 0x0D {
                i += 1
            }
        }

        func fail(_ reason: String) -> ParseError { ParseError(reason: reason, offset: i) }

        mutating func value(depth: Int) throws -> Value {
            guard depth < maxDepth else { throw fail("nesting deeper than \(maxDepth)") }
            guard i < bytes.count else { throw fail("unexpected end of JSON") }
            switch bytes[i] {
            case 0x7B: // {
                i += 1
                var members: [Member] = []
                skipSpace()
                if i < bytes.count, bytes[i] == 0x7D { i += 1; return .object(members) }
                while true {
                    skipSpace()
                    guard i < bytes.count, bytes[i] == 0x22 else { throw fail("expected a member name") }
                    let key = try string()
                    skipSpace()
                    guard i < bytes.count, bytes[i] == 0x3A else { throw fail("expected ':'") }
                    i += 1
                    skipSpace()
                    members.append(Member(key: key, value: try value(depth: depth + 1)))
                    skipSpace()
                    guard i < bytes.count else { throw fail("unexpected end of JSON") }
                    if bytes[i] == 0x2C { i += 1; continue }
                    if bytes[i] == 0x7D { i += 1; return .object(members) }
                    throw fail("expected ',' or '}'")
                }
            case 0x5B: // [
                i += 1
                var items: [Value] = []
                skipSpace()
                if i < bytes.count, bytes[i] == 0x5D { i += 1; return .array(items) }
                while true {
                    skipSpace()
                    items.append(try value(depth: depth + 1))
                    skipSpace()
                    guard i < bytes.count else { throw fail("unexpected end of JSON") }
                    if bytes[i] == 0x2C { i += 1; continue }
                    if bytes[i] == 0x5D { i += 1; return .array(items) }
                    throw fail("expected ',' or ']'")
                }
            case 0x22:
                return .string(try string())
            case 0x74: try literal("true"); return .bool(true)
            case 0x66: try literal("false"); return .bool(false)
            case 0x6E: try literal("null"); return .null
            default:
                return .number(try number())
            }
        }

        mutating func literal(_ word: String) throws {
            let w = Array(word.utf8)
            guard i + w.count <= bytes.count, Array(bytes[i..<(i + w.count)]) == w else { throw fail("invalid literal") }
            i += w.count
        }

        mutating func number() throws -> String {
            let start = i
            func digits() -> Int {
                let s = i
                while i < bytes.count, bytes[i] >= 0x30, bytes[i] <= 0x39 { i += 1 }
                return i - s
            }
            if i < bytes.count, bytes[i] == 0x2D { i += 1 }
            guard i < bytes.count else { throw fail("invalid number") }
            if bytes[i] == 0x30 {
                i += 1
            } else if digits() == 0 {
                throw fail("invalid value")
            }
            if i < bytes.count, bytes[i] == 0x2E {
                i += 1
                guard digits() > 0 else { throw fail("invalid number fraction") }
            }
            if i < bytes.count, bytes[i] == 0x65 || bytes[i] == 0x45 {
                i += 1
                if i < bytes.count, bytes[i] == 0x2B || bytes[i] == 0x2D { i += 1 }
                guard digits() > 0 else { throw fail("invalid number exponent") }
            }
            return String(decoding: bytes[start..<i], as: UTF8.self)
        }

        mutating func string() throws -> String {
            String(decoding: try V1JSON.stringBytes(bytes, at: &i), as: UTF8.self)
        }
    }

    // MARK: - Go's encoding/json output

    /// The bytes `json.MarshalIndent(items, "", "  ")` produces for a `[]string` (Go 1.22 and later): `[]`
    /// when empty, otherwise one element per line indented by two spaces; no final line feed (as
    /// `metadata.WriteJSONFile` writes it).
    static func goIndentedStringArray(_ items: [String]) -> [UInt8] {
        if items.isEmpty { return Array("[]".utf8) }
        var out: [UInt8] = [0x5B, 0x0A]
        for (n, s) in items.enumerated() {
            out += [0x20, 0x20]
            out += goQuoted(s)
            if n + 1 < items.count { out.append(0x2C) }
            out.append(0x0A)
        }
        out.append(0x5D)
        return out
    }

    /// A Go `encoding/json` string literal with HTML escaping (the default of `json.Marshal`): `<`, `>`, `&`,
    /// U+2028 and U+2029 as `\u....`, `\b \f \n \r \t` short escapes (Go 1.22+), other control characters
    /// as `\u00xx` with lowercase hex.
    static func goQuoted(_ s: String) -> [UInt8] {
        let hex = Array("0123456789abcdef".utf8)
        var out: [UInt8] = [0x22]
        for scalar in s.unicodeScalars {
            let v = scalar.value
            switch v {
            case 0x22: out += [0x5C, 0x22]
            case 0x5C: out += [0x5C, 0x5C]
            case 0x08: out += [0x5C, 0x62]
            case 0x0C: out += [0x5C, 0x66]
            case 0x0A: out += [0x5C, 0x6E]
            case 0x0D: out += [0x5C, 0x72]
            case 0x09: out += [0x5C, 0x74]
            case 0..<0x20, 0x3C, 0x3E, 0x26:
                out += [0x5C, 0x75, 0x30, 0x30, hex[Int(v >> 4)], hex[Int(v & 0xF)]]
            case 0x2028, 0x2029:
                out += Array("\\u202".utf8) + [hex[Int(v & 0xF)]]
            default:
                out += Array(String(scalar).utf8)
            }
        }
        out.append(0x22)
        return out
    }
}
