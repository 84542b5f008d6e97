/// The CI report: JUnit XML built and serialised by libxml2 (`XMLWriter`). One `testsuite` per file, one
/// `testcase` per rule checked (named by its requirement ID), failing with the rule's diagnostics; errors are
/// `failure`s and warnings `system-out` notes (so `--strict` decides whether warnings fail, through the exit
/// status).
public enum JUnitReport {
    /// The report of `reports`, as the bytes of one XML document.
    public static func render(_ reports: [ValidationReport]) -> [UInt8] {
        let doc = XMLWriter(root: "testsuites")
        let root = doc.root
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
