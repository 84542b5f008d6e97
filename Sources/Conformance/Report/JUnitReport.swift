import CLibXML2

/// The CI report: JUnit XML built and serialised by libxml2 (the library FoundationXML wraps). One `testsuite` per
/// file, one `testcase` per rule checked (named by its requirement ID), failing with the rule's diagnostics; errors
/// are `failure`s and warnings `system-out` notes (so `--strict` decides whether warnings fail, through the exit
/// status).
///
/// libxml2 escapes every attribute value and text; the document is UTF-8 with an XML declaration, indented.
/// Characters XML cannot carry become U+FFFD.
public enum JUnitReport {
    /// The report of `reports`, as the bytes of one XML document.
    public static func render(_ reports: [ValidationReport]) -> [UInt8] {
        let doc = XMLTree()
        let root = doc.root("testsuites")
        doc.attribute(root, "name", "ckpt-validate")
        var totalTests = 0
        var totalFailures = 0
        for r in reports {
            let suite = doc.child(root, "testsuite")
            var ids = r.checked
            for d in r.diagnostics where !ids.contains(d.id) { ids.append(d.id) }
            let failing = Set(r.diagnostics.filter { $0.severity == .error }.map(\.id))
            doc.attribute(suite, "name", r.file)
            doc.attribute(suite, "tests", String(ids.count))
            doc.attribute(suite, "failures", String(failing.count))
            totalTests += ids.count
            totalFailures += failing.count
            let props = doc.child(suite, "properties")
            for (k, v) in [("verdict", r.verdict.rawValue), ("format", r.format ?? ""), ("profile", r.profile ?? ""),
                           ("compression", r.compression ?? "")] {
                let p = doc.child(props, "property")
                doc.attribute(p, "name", k)
                doc.attribute(p, "value", v)
            }
            for id in ids {
                let tc = doc.child(suite, "testcase")
                doc.attribute(tc, "classname", r.file)
                doc.attribute(tc, "name", id)
                let findings = r.diagnostics.filter { $0.id == id }
                let text = findings.map(line).joined(separator: "\n")
                if failing.contains(id) {
                    let f = doc.child(tc, "failure", text: text)
                    doc.attribute(f, "type", id)
                    doc.attribute(f, "message", findings.first?.message ?? id)
                } else if !findings.isEmpty {
                    doc.child(tc, "system-out", text: text)
                }
            }
        }
        doc.attribute(root, "tests", String(totalTests))
        doc.attribute(root, "failures", String(totalFailures))
        return doc.serialised()
    }

    private static func line(_ d: Diagnostic) -> String {
        var loc: [String] = []
        if let p = d.path { loc.append("entry '\(p)'") }
        if let o = d.offset { loc.append("offset \(o)") }
        if let c = d.compressedOffset { loc.append("compressed offset \(c)") }
        return "\(d.severity.rawValue) \(d.id)\(loc.isEmpty ? "" : " (" + loc.joined(separator: ", ") + ")"): \(d.message)"
    }
}

/// A libxml2 document under construction: elements, attributes and text given as Swift strings, which libxml2
/// copies and escapes.
private final class XMLTree {
    private let doc: xmlDocPtr

    init() { doc = xmlNewDoc(Self.cast("1.0")) }

    deinit { xmlFreeDoc(doc) }

    /// The root element, named `name`.
    func root(_ name: String) -> xmlNodePtr {
        let node = name.withXMLString { xmlNewDocNode(doc, nil, $0, nil)! }
        xmlDocSetRootElement(doc, node)
        return node
    }

    /// A new last child of `parent`, holding `text` when given.
    @discardableResult
    func child(_ parent: xmlNodePtr, _ name: String, text: String? = nil) -> xmlNodePtr {
        name.withXMLString { n in
            if let text { return text.withXMLString { xmlNewTextChild(parent, nil, n, $0)! } }
            return xmlNewChild(parent, nil, n, nil)!
        }
    }

    /// Sets attribute `name` of `node` to `value`.
    func attribute(_ node: xmlNodePtr, _ name: String, _ value: String) {
        name.withXMLString { n in value.withXMLString { _ = xmlSetProp(node, n, $0) } }
    }

    /// The document as UTF-8, with its declaration and indented.
    func serialised() -> [UInt8] {
        guard let buffer = xmlBufferCreate() else { return [] }
        defer { xmlBufferFree(buffer) }
        let context = "UTF-8".withCString { xmlSaveToBuffer(buffer, $0, Int32(XML_SAVE_FORMAT.rawValue)) }
        guard let context else { return [] }
        xmlSaveDoc(context, doc)
        xmlSaveClose(context)
        guard let content = xmlBufferContent(buffer) else { return [] }
        return Array(UnsafeBufferPointer(start: content, count: Int(xmlBufferLength(buffer))))
    }

    private static func cast(_ s: StaticString) -> UnsafePointer<xmlChar> {
        UnsafeRawPointer(s.utf8Start).assumingMemoryBound(to: xmlChar.self)
    }
}

private extension String {
    /// Calls `body` with the string as libxml2's NUL-terminated UTF-8 (`xmlChar`). Characters XML 1.0 cannot
    /// carry, even as references (controls other than tab, line feed and carriage return, NUL, U+FFFE and U+FFFF:
    /// a hostile archive's names may hold them), become U+FFFD, so that every XML parser reads the report.
    func withXMLString<R>(_ body: (UnsafePointer<xmlChar>) -> R) -> R {
        func allowed(_ c: Unicode.Scalar) -> Bool {
            c.value >= 0x20 ? c.value != 0xFFFE && c.value != 0xFFFF : c == "\t" || c == "\n" || c == "\r"
        }
        if unicodeScalars.allSatisfy(allowed) {
            return withCString { body(UnsafeRawPointer($0).assumingMemoryBound(to: xmlChar.self)) }
        }
        var clean = String.UnicodeScalarView()
        for c in unicodeScalars { clean.append(allowed(c) ? c : "\u{FFFD}") }
        return String(clean).withCString { body(UnsafeRawPointer($0).assumingMemoryBound(to: xmlChar.self)) }
    }
}
