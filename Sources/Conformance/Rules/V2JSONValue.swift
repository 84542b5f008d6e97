/// The kinds of JSON value, named as messages name them.
enum V2JSONKind: String {
    case object, array, string, number, boolean, null
}

/// A JSON value with object members in document order (metadata files, unknown members).
indirect enum V2JSONValue: Equatable {
    case null
    case bool(Bool)
    case number(String)
    case string(String)
    case array([V2JSONValue])
    case object([(key: String, value: V2JSONValue)])

    static func == (a: V2JSONValue, b: V2JSONValue) -> Bool {
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

    var kind: V2JSONKind {
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
    subscript(key: String) -> V2JSONValue? {
        guard case let .object(members) = self else { return nil }
        return members.last(where: { $0.key == key })?.value
    }

    var string: String? { if case let .string(s) = self { return s } else { return nil } }

    /// An integer written as decimal digits, optionally with a minus sign (no fraction or exponent).
    var integer: Int64? {
        guard case let .number(raw) = self, !raw.contains(where: { $0 == "." || $0 == "e" || $0 == "E" }) else {
            return nil
        }
        return Int64(raw)
    }
}

/// The members a JSON object of a table may have, in canonical order.
struct V2MemberTable {
    let names: [String]
    let optional: Set<String>

    init(_ names: [String], optional: Set<String> = []) {
        self.names = names
        self.optional = optional
    }

    /// What is wrong with an object's member names: unknown members (not `x-`, CKA-GEN-014), and a
    /// description of missing, repeated or misordered members (nil when none).
    func problems(_ keys: [String], required: Set<String>? = nil) -> (unknown: [String], layout: String?) {
        // The usual case, checked without building sets: known members in table order, each required one present.
        var last = -1
        var found = 0
        var fine = true
        for k in keys {
            guard let i = names.firstIndex(of: k), i > last else {
                fine = false
                break
            }
            last = i
            if required.map({ $0.contains(k) }) ?? !optional.contains(k) { found += 1 }
        }
        if fine, found == (required?.count ?? names.count - optional.count) { return ([], nil) }
        let unknown = keys.filter { !names.contains($0) && !$0.hasPrefix("x-") }
        let known = keys.filter { names.contains($0) }
        var seen = Set<String>()
        let repeated = known.filter { !seen.insert($0).inserted }
        let needed = required ?? Set(names).subtracting(optional)
        let missing = names.filter { needed.contains($0) && !seen.contains($0) }
        let positions = known.compactMap { names.firstIndex(of: $0) }
        let ordered = zip(positions, positions.dropFirst()).allSatisfy { $0 < $1 }
        var parts: [String] = []
        if !missing.isEmpty { parts.append("missing \(missing.joined(separator: ", "))") }
        if !repeated.isEmpty { parts.append("repeated \(Set(repeated).sorted().joined(separator: ", "))") }
        if repeated.isEmpty, !ordered { parts.append("members not in the order \(names.joined(separator: ", "))") }
        return (unknown, parts.isEmpty ? nil : parts.joined(separator: "; "))
    }
}
