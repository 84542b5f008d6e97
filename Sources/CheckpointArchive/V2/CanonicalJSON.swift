/// The canonical JSON of CKA-V2-054: no whitespace, members in the order the caller writes them, integers
/// in plain decimal, strings escaping only `"`, `\` and U+0000..U+001F (lowercase `\u00xx` except the short
/// escapes), everything else as UTF-8.
struct CanonicalJSON {
    private(set) var bytes: [UInt8] = []

    /// An object whose members are written by `body`.
    mutating func object(_ body: (inout CanonicalJSON.Members) -> Void) {
        var members = Members()
        body(&members)
        bytes.append(0x7B)
        bytes.append(contentsOf: members.bytes)
        bytes.append(0x7D)
    }

    /// The members of an object, in writing order.
    struct Members {
        fileprivate(set) var bytes: [UInt8] = []

        private mutating func key(_ k: String) {
            if !bytes.isEmpty { bytes.append(0x2C) }
            CanonicalJSON.appendString(k, to: &bytes)
            bytes.append(0x3A)
        }

        mutating func string(_ k: String, _ v: String) {
            key(k)
            CanonicalJSON.appendString(v, to: &bytes)
        }

        mutating func int(_ k: String, _ v: Int64) {
            key(k)
            bytes.append(contentsOf: String(v).utf8)
        }

        mutating func bool(_ k: String, _ v: Bool) {
            key(k)
            bytes.append(contentsOf: (v ? "true" : "false").utf8)
        }

        mutating func object(_ k: String, _ body: (inout Members) -> Void) {
            key(k)
            var inner = Members()
            body(&inner)
            bytes.append(0x7B)
            bytes.append(contentsOf: inner.bytes)
            bytes.append(0x7D)
        }

        mutating func array<T>(_ k: String, _ items: [T], _ body: (T, inout Members) -> Void) {
            key(k)
            bytes.append(0x5B)
            for (i, item) in items.enumerated() {
                if i > 0 { bytes.append(0x2C) }
                var inner = Members()
                body(item, &inner)
                bytes.append(0x7B)
                bytes.append(contentsOf: inner.bytes)
                bytes.append(0x7D)
            }
            bytes.append(0x5D)
        }
    }

    static func appendString(_ s: String, to out: inout [UInt8]) { appendString(utf8: s.utf8, to: &out) }

    /// A string given as its UTF-8 bytes (as `appendString`, without making a `String`).
    static func appendString<S: Sequence>(utf8: S, to out: inout [UInt8]) where S.Element == UInt8 {
        out.append(0x22)
        for b in utf8 {
            switch b {
            case 0x22: out += [0x5C, 0x22]
            case 0x5C: out += [0x5C, 0x5C]
            case 0x08: out += [0x5C, 0x62]
            case 0x09: out += [0x5C, 0x74]
            case 0x0A: out += [0x5C, 0x6E]
            case 0x0C: out += [0x5C, 0x66]
            case 0x0D: out += [0x5C, 0x72]
            case 0..<0x20:
                let hex = Array("0123456789abcdef".utf8)
                out += [0x5C, 0x75, 0x30, 0x30, hex[Int(b >> 4)], hex[Int(b & 15)]]
            default: out.append(b)
            }
        }
        out.append(0x22)
    }
}

extension CanonicalJSON {
    /// Whether `content` carries vendor members (`x-` names, CKA-GEN-014) and, with them removed at every depth,
    /// equals `canonical` as a JSON value. A decoder must ignore such members, so a document holding them cannot be
    /// compared byte for byte with the canonical form of what was parsed.
    static func equalIgnoringVendorMembers(_ content: [UInt8], _ canonical: [UInt8]) -> Bool {
        guard let a = try? V1JSON.parse(content), let b = try? V1JSON.parse(canonical) else { return false }
        let (stripped, vendor) = withoutVendorMembers(a)
        return vendor && sameValue(stripped, b)
    }

    /// `v` with every `x-` member removed at every depth, and whether there was one.
    private static func withoutVendorMembers(_ v: V1JSON.Value) -> (V1JSON.Value, Bool) {
        switch v {
        case let .object(members):
            var kept: [V1JSON.Member] = []
            var vendor = false
            for m in members {
                if m.key.hasPrefix("x-") { vendor = true; continue }
                let (s, inner) = withoutVendorMembers(m.value)
                kept.append(V1JSON.Member(key: m.key, value: s))
                vendor = vendor || inner
            }
            return (.object(kept), vendor)
        case let .array(items):
            let parts = items.map(withoutVendorMembers)
            return (.array(parts.map(\.0)), parts.contains { $0.1 })
        default:
            return (v, false)
        }
    }

    /// Whether two values are the same JSON value: objects as maps (member order aside, the last of a repeated
    /// name counting), numbers by value, strings by their bytes.
    private static func sameValue(_ a: V1JSON.Value, _ b: V1JSON.Value) -> Bool {
        switch (a, b) {
        case let (.object(x), .object(y)):
            func map(_ m: [V1JSON.Member]) -> [[UInt8]: V1JSON.Value] {
                var d: [[UInt8]: V1JSON.Value] = [:]
                for member in m { d[Array(member.key.utf8)] = member.value }
                return d
            }
            let (mx, my) = (map(x), map(y))
            return mx.count == my.count && mx.allSatisfy { k, v in my[k].map { sameValue(v, $0) } ?? false }
        case let (.array(x), .array(y)):
            return x.count == y.count && zip(x, y).allSatisfy { sameValue($0, $1) }
        case let (.number(x), .number(y)):
            return x == y || (Double(x).map { $0 == Double(y) } ?? false)
        case let (.string(x), .string(y)):
            return x.utf8.elementsEqual(y.utf8)
        default:
            return a == b
        }
    }

    /// Whether the index `content` lists a section whose kind this version does not know (CKA-V2-018).
    static func listsUnknownSectionKind(_ content: [UInt8]) -> Bool {
        guard let o = try? V1JSON.parse(content), let sections = o["sections"]?.arrayValue else { return false }
        return sections.contains { $0["kind"]?.stringValue.map { SectionKind(rawValue: $0) == nil } ?? false }
    }
}
