/// The kinds of JSON value, named as messages name them.
public enum V2JSONKind: String {
    case object, array, string, number, boolean, null
}

/// A JSON value with object members in document order (metadata files, unknown members).
public indirect enum V2JSONValue: Equatable {
    case null
    case bool(Bool)
    case number(String)
    case string(String)
    case array([V2JSONValue])
    case object([(key: String, value: V2JSONValue)])

    /// Equal values (object members compared in order).
    public static func == (a: V2JSONValue, b: V2JSONValue) -> Bool {
        switch (a, b) {
        case (.null, .null): return true
        case let (.bool(x), .bool(y)): return x == y
        case let (.number(x), .number(y)), let (.string(x), .string(y)): return x == y
        case let (.array(x), .array(y)): return x == y
        case let (.object(x), .object(y)):
            return x.count == y.count && zip(x, y).allSatisfy { $0.key == $1.key && $0.value == $1.value }
        default: return false
        }
    }

    /// The kind of the value.
    public var kind: V2JSONKind {
        switch self {
        case .null: return .null
        case .bool: return .boolean
        case .number: return .number
        case .string: return .string
        case .array: return .array
        case .object: return .object
        }
    }

    /// The value of member `key` of an object (the last one if repeated).
    public subscript(key: String) -> V2JSONValue? {
        guard case let .object(members) = self else { return nil }
        return members.last(where: { $0.key == key })?.value
    }

    /// Parses one whole JSON text held in memory: whitespace may surround the value, nothing else may follow it.
    /// - Parameter maxDepth: the deepest nesting of objects and arrays accepted (512 by default, as deep as
    ///   Foundation's `JSONSerialization`, which these documents were parsed with before).
    /// - Throws: `V2JSONFailure` with the byte position of the first syntax error.
    public static func parse(_ bytes: [UInt8], maxDepth: Int = 512) throws -> V2JSONValue {
        var cursor = V2JSONCursor(V2JSONInput(bytes), maxDepth: maxDepth)
        let value = try cursor.value()
        if try cursor.hasMore() { throw V2JSONFailure(reason: "data after the JSON text", at: cursor.at) }
        return value
    }

    /// The value if it is a string.
    public var string: String? { if case let .string(s) = self { return s } else { return nil } }

    /// The value if it is `true` or `false`.
    public var bool: Bool? { if case let .bool(b) = self { return b } else { return nil } }

    /// The elements if the value is an array.
    public var array: [V2JSONValue]? { if case let .array(a) = self { return a } else { return nil } }

    /// An integer written as decimal digits, optionally with a minus sign (no fraction or exponent).
    public var integer: Int64? {
        guard case let .number(raw) = self, !raw.contains(where: { $0 == "." || $0 == "e" || $0 == "E" }) else {
            return nil
        }
        return Int64(raw)
    }

    /// A number whose value is a whole number that fits an `Int64`, however written (`2`, `2.0`, `0e5`), as
    /// `JSONSerialization` read such numbers into `Int`. The canonical-form check, not this, refuses the spellings
    /// other than plain decimal.
    public var integral: Int64? {
        if let exact = integer { return exact }
        guard case let .number(raw) = self, let d = Double(raw), d.isFinite, d == d.rounded(),
              d >= -9.223372036854775808e18, d < 9.223372036854775808e18 else { return nil }
        return Int64(d)
    }
}
