import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif

/// The CI report: JUnit XML written with FoundationXML. One `testsuite` per file, one `testcase` per rule
/// checked (named by its requirement ID), failing with the rule's diagnostics; errors are `failure`s and
/// warnings `system-out` notes (so `--strict` decides whether warnings fail, through the exit status).
public enum JUnitReport {
    public static func render(_ reports: [ValidationReport]) -> Data {
        let root = XMLElement(name: "testsuites")
        root.addAttribute(XMLNode.attribute(withName: "name", stringValue: "ckpt-validate") as! XMLNode)
        var totalTests = 0
        var totalFailures = 0
        for r in reports {
            let suite = XMLElement(name: "testsuite")
            var ids = r.checked
            for d in r.diagnostics where !ids.contains(d.id) { ids.append(d.id) }
            let failing = Set(r.diagnostics.filter { $0.severity == .error }.map(\.id))
            suite.addAttribute(XMLNode.attribute(withName: "name", stringValue: r.file) as! XMLNode)
            suite.addAttribute(XMLNode.attribute(withName: "tests", stringValue: String(ids.count)) as! XMLNode)
            suite.addAttribute(XMLNode.attribute(withName: "failures", stringValue: String(failing.count)) as! XMLNode)
            totalTests += ids.count
            totalFailures += failing.count
            let props = XMLElement(name: "properties")
            for (k, v) in [("verdict", r.verdict.rawValue), ("format", r.format ?? ""), ("profile", r.profile ?? ""),
                           ("compression", r.compression ?? "")] {
                let p = XMLElement(name: "property")
                p.addAttribute(XMLNode.attribute(withName: "name", stringValue: k) as! XMLNode)
                p.addAttribute(XMLNode.attribute(withName: "value", stringValue: v) as! XMLNode)
                props.addChild(p)
            }
            suite.addChild(props)
            for id in ids {
                let tc = XMLElement(name: "testcase")
                tc.addAttribute(XMLNode.attribute(withName: "classname", stringValue: r.file) as! XMLNode)
                tc.addAttribute(XMLNode.attribute(withName: "name", stringValue: id) as! XMLNode)
                let findings = r.diagnostics.filter { $0.id == id }
                let text = findings.map(line).joined(separator: "\n")
                if failing.contains(id) {
                    let f = XMLElement(name: "failure", stringValue: text)
                    f.addAttribute(XMLNode.attribute(withName: "type", stringValue: id) as! XMLNode)
                    f.addAttribute(XMLNode.attribute(withName: "message",
                                                     stringValue: findings.first?.message ?? id) as! XMLNode)
                    tc.addChild(f)
                } else if !findings.isEmpty {
                    tc.addChild(XMLElement(name: "system-out", stringValue: text))
                }
                suite.addChild(tc)
            }
            root.addChild(suite)
        }
        root.addAttribute(XMLNode.attribute(withName: "tests", stringValue: String(totalTests)) as! XMLNode)
        root.addAttribute(XMLNode.attribute(withName: "failures", stringValue: String(totalFailures)) as! XMLNode)
        let doc = XMLDocument(rootElement: root)
        doc.characterEncoding = "UTF-8"
        return doc.xmlData(options: [.nodePrettyPrint])
    }

    private static func line(_ d: Diagnostic) -> String {
        var loc: [String] = []
        if let p = d.path { loc.append("entry '\(p)'") }
        if let o = d.offset { loc.append("offset \(o)") }
        if let c = d.compressedOffset { loc.append("compressed offset \(c)") }
        return "\(d.severity.rawValue) \(d.id)\(loc.isEmpty ? "" : " (" + loc.joined(separator: ", ") + ")"): \(d.message)"
    }
}
