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

    /// The value if it is a string.
    public var string: String? { if case let .string(s) = self { return s } else { return nil } }

    /// An integer written as decimal digits, optionally with a minus sign (no fraction or exponent).
    public var integer: Int64? {
        guard case let .number(raw) = self, !raw.contains(where: { $0 == "." || $0 == "e" || $0 == "E" }) else {
            return nil
        }
        return Int64(raw)
    }
}
