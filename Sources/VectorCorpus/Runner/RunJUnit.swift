import Conformance
import Foundation

/// The run as JUnit XML, written with `XMLWriter` (libxml2): one `testsuite` per role (`decoder`, `encoder`), one
/// `testcase` per vector (named by the vector's id, class `vectors.<format>.<result>`), a `failure` with the
/// reasons when it failed, `skipped` when it did not run, and the notes as `system-out`.
public enum RunJUnit {
    public static func render(_ report: RunReport, name: String = "ckpt-vectors run") -> Data {
        let doc = XMLWriter(root: "testsuites")
        let root = doc.root
        doc.attribute(root, "name", name)
        doc.attribute(root, "time", String(format: "%.3f", report.duration))
        var totals = (tests: 0, failures: 0, skipped: 0)
        for role in [RunOutcome.Role.decoder, .encoder] {
            let outcomes = report.outcomes.filter { $0.role == role }
            guard !outcomes.isEmpty else { continue }
            let suite = doc.child(root, "testsuite")
            let failures = outcomes.filter { !$0.passed }.count
            let skipped = outcomes.filter { $0.skipped != nil }.count
            doc.attribute(suite, "name", role.rawValue)
            doc.attribute(suite, "tests", String(outcomes.count))
            doc.attribute(suite, "failures", String(failures))
            doc.attribute(suite, "errors", "0")
            doc.attribute(suite, "skipped", String(skipped))
            doc.attribute(suite, "time", String(format: "%.3f", outcomes.reduce(0) { $0 + $1.duration }))
            totals.tests += outcomes.count
            totals.failures += failures
            totals.skipped += skipped
            for o in outcomes { testCase(o, in: suite, of: doc) }
        }
        doc.attribute(root, "tests", String(totals.tests))
        doc.attribute(root, "failures", String(totals.failures))
        doc.attribute(root, "skipped", String(totals.skipped))
        return Data(doc.serialised())
    }

    static func testCase(_ o: RunOutcome, in suite: XMLWriter.Element, of doc: XMLWriter) {
        let tc = doc.child(suite, "testcase")
        doc.attribute(tc, "classname", "vectors.\(o.format).\(o.result)")
        doc.attribute(tc, "name", o.role == .encoder ? "\(o.id) [encoder]" : o.id)
        doc.attribute(tc, "time", String(format: "%.3f", o.duration))
        if let why = o.skipped {
            doc.attribute(doc.child(tc, "skipped"), "message", why)
        } else if !o.passed {
            var text = o.problems.joined(separator: "\n")
            if !o.output.isEmpty { text += "\n--- output ---\n" + o.output }
            let f = doc.child(tc, "failure", text: text)
            doc.attribute(f, "message", o.problems.first ?? o.summary)
            doc.attribute(f, "type", o.result)
        }
        doc.child(tc, "system-out", text: ([o.summary] + o.notes).joined(separator: "\n"))
    }
}
