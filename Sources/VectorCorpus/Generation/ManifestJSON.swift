/// Writes the manifest and tree files as JSON with a fixed layout: members in the order of tables 7.1 to 7.5,
/// `notes` and `xattrs` sorted by key, two-space indentation, tree entries one per line. The output depends on
/// nothing but the values (not on a Foundation version), so `ckpt-vectors generate` is byte-reproducible.
public enum ManifestJSON {
    /// The manifest file's bytes (ending in a line feed).
    public static func render(_ m: VectorManifest) -> [UInt8] {
        Array((write(manifestValue(m), indent: 0) + "\n").utf8)
    }

    /// A tree file's bytes: the array of table 7.5 (ending in a line feed).
    public static func render(tree: [TreeEntry]) -> [UInt8] {
        Array((write(.array(tree.map(treeValue)), indent: 0) + "\n").utf8)
    }

    // MARK: - Values

    /// A JSON value whose objects keep their member order.
    indirect enum Value {
        case string(String)
        case int(Int)
        case bool(Bool)
        case null
        case array([Value])
        case object([(String, Value)])
        /// Written on one line.
        case inline(Value)
    }

    static func manifestValue(_ m: VectorManifest) -> Value {
        .object([
            ("schema", .string(m.schema)),
            ("format", .string(m.format)),
            ("specVersion", .int(m.specVersion)),
            ("generator", .inline(.object([("name", .string(m.generator.name)),
                                           ("version", .string(m.generator.version))]))),
            ("numberOfTests", .int(m.numberOfTests)),
            ("header", .array(m.header.map(Value.string))),
            ("notes", .object(m.notes.sorted { $0.key < $1.key }.map { ($0.key, noteValue($0.value)) })),
            ("testGroups", .array(m.testGroups.map(groupValue))),
        ])
    }

    static func noteValue(_ n: ManifestNote) -> Value {
        var members: [(String, Value)] = [("bugType", .string(n.bugType)), ("description", .string(n.description))]
        if let e = n.effect { members.append(("effect", .string(e))) }
        if let l = n.links { members.append(("links", .inline(.array(l.map(Value.string))))) }
        if let c = n.cves { members.append(("cves", .inline(.array(c.map(Value.string))))) }
        return .object(members)
    }

    static func groupValue(_ g: ManifestGroup) -> Value {
        .object([("type", .string(g.type)), ("format", .string(g.format)), ("profile", .string(g.profile)),
                 ("tests", .array(g.tests.map(caseValue)))])
    }

    static func caseValue(_ c: ManifestCase) -> Value {
        var members: [(String, Value)] = [
            ("tcId", .int(c.tcId)), ("id", .string(c.id)), ("file", .string(c.file)),
            ("description", .string(c.description)), ("result", .string(c.result)),
            ("requirements", .inline(.array(c.requirements.map(Value.string)))),
            ("flags", .inline(.array(c.flags.map(Value.string)))),
            ("compression", .string(c.compression)), ("framed", .bool(c.framed)), ("malformed", .bool(c.malformed)),
            ("sha256", .string(c.sha256)), ("streamSha256", c.streamSha256.map(Value.string) ?? .null),
        ]
        if let d = c.indexDigest { members.append(("indexDigest", .string(d))) }
        if let d = c.expectIndexDigest { members.append(("expectIndexDigest", .string(d))) }
        if let t = c.tree { members.append(("tree", .array(t.map(treeValue)))) }
        if let f = c.treeFile { members.append(("treeFile", .string(f))) }
        return .object(members)
    }

    static func treeValue(_ e: TreeEntry) -> Value {
        var members: [(String, Value)] = [("path", .string(e.path)), ("type", .string(e.type)),
                                          ("mode", .string(e.mode)), ("uid", .int(e.uid)), ("gid", .int(e.gid))]
        if let v = e.size { members.append(("size", .int(v))) }
        if let v = e.sha256 { members.append(("sha256", .string(v))) }
        if let v = e.linkTarget { members.append(("linkTarget", .string(v))) }
        if let v = e.devMajor { members.append(("devMajor", .int(v))) }
        if let v = e.devMinor { members.append(("devMinor", .int(v))) }
        if let x = e.xattrs { members.append(("xattrs", .object(x.sorted { $0.key < $1.key }.map { ($0.key, .string($0.value)) }))) }
        return .inline(.object(members))
    }

    // MARK: - Writing

    static func write(_ v: Value, indent: Int, inline: Bool = false) -> String {
        let pad = String(repeating: "  ", count: indent)
        let inner = String(repeating: "  ", count: indent + 1)
        switch v {
        case let .string(s): return quote(s)
        case let .int(i): return String(i)
        case let .bool(b): return b ? "true" : "false"
        case .null: return "null"
        case let .inline(value): return write(value, indent: indent, inline: true)
        case let .array(items):
            if items.isEmpty { return "[]" }
            if inline { return "[" + items.map { write($0, indent: 0, inline: true) }.joined(separator: ", ") + "]" }
            return "[\n" + items.map { inner + write($0, indent: indent + 1) }.joined(separator: ",\n") + "\n" + pad + "]"
        case let .object(members):
            if members.isEmpty { return "{}" }
            if inline {
                return "{" + members.map { quote($0.0) + ": " + write($0.1, indent: 0, inline: true) }
                    .joined(separator: ", ") + "}"
            }
            return "{\n" + members.map { inner + quote($0.0) + ": " + write($0.1, indent: indent + 1) }
                .joined(separator: ",\n") + "\n" + pad + "}"
        }
    }

    /// A JSON string: `"` and `\` escaped, control characters as `\n`, `\t` or `\u00XX`, everything else as is.
    static func quote(_ s: String) -> String {
        var out = "\""
        for u in s.unicodeScalars {
            switch u {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\t": out += "\\t"
            case "\r": out += "\\r"
            default:
                if u.value < 0x20 {
                    let hex = String(u.value, radix: 16)
                    out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
                } else {
                    out.unicodeScalars.append(u)
                }
            }
        }
        return out + "\""
    }
}
