import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif

/// The run as JUnit XML, written with FoundationXML: one `testsuite` per role (`decoder`, `encoder`), one
/// `testcase` per vector (named by the vector's id, class `vectors.<format>.<result>`), a `failure` with the
/// reasons when it failed, `skipped` when it did not run, and the notes as `system-out`.
public enum RunJUnit {
    public static func render(_ report: RunReport, name: String = "ckpt-vectors run") -> Data {
        let root = XMLElement(name: "testsuites")
        attribute(root, "name", name)
        attribute(root, "time", String(format: "%.3f", report.duration))
        var totals = (tests: 0, failures: 0, skipped: 0)
        for role in [RunOutcome.Role.decoder, .encoder] {
            let outcomes = report.outcomes.filter { $0.role == role }
            guard !outcomes.isEmpty else { continue }
            let suite = XMLElement(name: "testsuite")
            let failures = outcomes.filter { !$0.passed }.count
            let skipped = outcomes.filter { $0.skipped != nil }.count
            attribute(suite, "name", role.rawValue)
            attribute(suite, "tests", String(outcomes.count))
            attribute(suite, "failures", String(failures))
            attribute(suite, "errors", "0")
            attribute(suite, "skipped", String(skipped))
            attribute(suite, "time", String(format: "%.3f", outcomes.reduce(0) { $0 + $1.duration }))
            totals.tests += outcomes.count
            totals.failures += failures
            totals.skipped += skipped
            for o in outcomes { suite.addChild(testCase(o)) }
            root.addChild(suite)
        }
        attribute(root, "tests", String(totals.tests))
        attribute(root, "failures", String(totals.failures))
        attribute(root, "skipped", String(totals.skipped))
        let doc = XMLDocument(rootElement: root)
        doc.characterEncoding = "UTF-8"
        return doc.xmlData(options: [.nodePrettyPrint])
    }

    static func testCase(_ o: RunOutcome) -> XMLElement {
        let tc = XMLElement(name: "testcase")
        attribute(tc, "classname", "vectors.\(o.format).\(o.result)")
        attribute(tc, "name", o.role == .encoder ? "\(o.id) [encoder]" : o.id)
        attribute(tc, "time", String(format: "%.3f", o.duration))
        if let why = o.skipped {
            let s = XMLElement(name: "skipped")
            attribute(s, "message", why)
            tc.addChild(s)
        } else if !o.passed {
            var text = o.problems.joined(separator: "\n")
            if !o.output.isEmpty { text += "\n--- output ---\n" + o.output }
            let f = XMLElement(name: "failure", stringValue: xmlSafe(text))
            attribute(f, "message", o.problems.first ?? o.summary)
            attribute(f, "type", o.result)
            tc.addChild(f)
        }
        let out = ([o.summary] + o.notes).joined(separator: "\n")
        tc.addChild(XMLElement(name: "system-out", stringValue: xmlSafe(out)))
        return tc
    }

    static func attribute(_ element: XMLElement, _ name: String, _ value: String) {
        element.addAttribute(XMLNode.attribute(withName: name, stringValue: xmlSafe(value)) as! XMLNode)
    }

    /// `text` with the characters XML 1.0 cannot carry (controls other than tab, line feed and carriage return,
    /// U+FFFE, U+FFFF) written as `\u{XX}`; a decoder's output or a hostile entry name may hold them.
    static func xmlSafe(_ text: String) -> String {
        var out = ""
        out.unicodeScalars.reserveCapacity(text.unicodeScalars.count)
        for s in text.unicodeScalars {
            let v = s.value
            if (v < 0x20 && v != 0x09 && v != 0x0A && v != 0x0D) || v == 0xFFFE || v == 0xFFFF {
                out += "\\u{\(String(v, radix: 16))}"
            } else {
                out.unicodeScalars.append(s)
            }
        }
        return out
    }
}
