import CLibXML2

/// An XML document built and serialised by libxml2 (the library FoundationXML wraps): elements, attributes and
/// text given as Swift strings, which libxml2 copies and escapes. The JUnit reports of `ckpt-validate` and of
/// `ckpt-vectors run` are written with it.
///
/// Characters XML 1.0 cannot carry even as references (controls other than tab, line feed and carriage return,
/// NUL, U+FFFE, U+FFFF: a hostile archive's names, a decoder's output may hold them) are written as `\u{XX}` text
/// (`xmlSafe`), so that every XML parser reads the document.
public final class XMLWriter {
    /// An element of the document.
    public struct Element {
        fileprivate let node: xmlNodePtr
    }

    private let doc: xmlDocPtr

    /// A document whose root element is named `root`.
    public init(root: String) {
        doc = xmlNewDoc(UnsafeRawPointer(("1.0" as StaticString).utf8Start).assumingMemoryBound(to: xmlChar.self))
        let node = Self.xmlSafe(root).withXMLString { xmlNewDocNode(doc, nil, $0, nil)! }
        xmlDocSetRootElement(doc, node)
    }

    deinit { xmlFreeDoc(doc) }

    /// The root element.
    public var root: Element { Element(node: xmlDocGetRootElement(doc)) }

    /// A new last child of `parent` named `name`, holding `text` when given.
    @discardableResult
    public func child(_ parent: Element, _ name: String, text: String? = nil) -> Element {
        name.withXMLString { n in
            if let text { return Element(node: Self.xmlSafe(text).withXMLString { xmlNewTextChild(parent.node, nil, n, $0)! }) }
            return Element(node: xmlNewChild(parent.node, nil, n, nil)!)
        }
    }

    /// Sets attribute `name` of `element` to `value`.
    public func attribute(_ element: Element, _ name: String, _ value: String) {
        name.withXMLString { n in Self.xmlSafe(value).withXMLString { _ = xmlSetProp(element.node, n, $0) } }
    }

    /// The document as UTF-8, with its declaration, indented.
    public func serialised() -> [UInt8] {
        guard let buffer = xmlBufferCreate() else { return [] }
        defer { xmlBufferFree(buffer) }
        guard let context = "UTF-8".withCString({ xmlSaveToBuffer(buffer, $0, Int32(XML_SAVE_FORMAT.rawValue)) }) else {
            return []
        }
        xmlSaveDoc(context, doc)
        xmlSaveClose(context)
        guard let content = xmlBufferContent(buffer) else { return [] }
        return Array(UnsafeBufferPointer(start: content, count: Int(xmlBufferLength(buffer))))
    }

    /// `text` with the characters XML 1.0 cannot carry (controls other than tab, line feed and carriage return,
    /// U+FFFE, U+FFFF) written as `\u{XX}`.
    public static func xmlSafe(_ text: String) -> String {
        func allowed(_ v: UInt32) -> Bool { v >= 0x20 ? v != 0xFFFE && v != 0xFFFF : v == 0x09 || v == 0x0A || v == 0x0D }
        if text.unicodeScalars.allSatisfy({ allowed($0.value) }) { return text }
        var out = ""
        out.unicodeScalars.reserveCapacity(text.unicodeScalars.count)
        for s in text.unicodeScalars {
            if allowed(s.value) { out.unicodeScalars.append(s) } else { out += "\\u{\(String(s.value, radix: 16))}" }
        }
        return out
    }
}

private extension String {
    /// Calls `body` with the string as libxml2's NUL-terminated UTF-8 (`xmlChar`).
    func withXMLString<R>(_ body: (UnsafePointer<xmlChar>) -> R) -> R {
        withCString { body(UnsafeRawPointer($0).assumingMemoryBound(to: xmlChar.self)) }
    }
}
