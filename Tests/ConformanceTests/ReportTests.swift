import Conformance
import Foundation
import TestSupport
import XCTest
#if canImport(FoundationXML)
import FoundationXML
#endif

/// The three report formats: shape, escaping, and that other parsers read them.
final class ReportTests: XCTestCase {
    private func sample() -> [ValidationReport] {
        var bad = ValidationReport(file: "bad \"archive\" <1>.tar")
        bad.format = "v2"
        bad.profile = "podman"
        bad.compression = "zstd"
        bad.checked = ["CKA-V2-001", "CKA-IDX-005", "CKA-V2-044"]
        bad.diagnostics = [
            Diagnostic(id: "CKA-IDX-005", severity: .error, path: "rootfs/tree/etc/a&b", offset: 4096,
                       message: "content digest mismatch"),
            Diagnostic(id: "CKA-V2-044", severity: .warning, path: "metadata/config.dump", offset: 3584,
                       message: "mode 0644 is readable by others"),
        ]
        var good = ValidationReport(file: "good.tar")
        good.format = "v1"
        good.checked = ["CKA-V1-001"]
        return [bad, good]
    }

    func testVerdicts() {
        let reports = sample()
        XCTAssertEqual(reports[0].verdict, .invalid)
        XCTAssertEqual(reports[1].verdict, .valid)
        var warn = ValidationReport(file: "w")
        warn.diagnostics = [Diagnostic(id: "CKA-V2-044", severity: .warning, message: "m")]
        XCTAssertEqual(warn.verdict, .acceptable)
    }

    func testJSONShape() throws {
        for r in sample() {
            let line = JSONReport.render(r)
            XCTAssertFalse(line.contains("\n"))
            let o = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
            XCTAssertEqual(o["file"] as? String, r.file)
            XCTAssertEqual(o["verdict"] as? String, r.verdict.rawValue)
            for key in ["format", "profile", "compression", "diagnostics"] { XCTAssertTrue(o.keys.contains(key), key) }
            let diags = try XCTUnwrap(o["diagnostics"] as? [[String: Any]])
            XCTAssertEqual(diags.count, r.diagnostics.count)
            for (d, want) in zip(diags, r.diagnostics) {
                XCTAssertEqual(d["id"] as? String, want.id)
                XCTAssertEqual(d["severity"] as? String, want.severity.rawValue)
                XCTAssertEqual(d["path"] as? String, want.path)
                XCTAssertEqual((d["offset"] as? NSNumber)?.int64Value, want.offset)
                XCTAssertEqual(d["message"] as? String, want.message)
            }
        }
    }

    func testJUnitParsesWithFoundationXMLAndPython() throws {
        let data = Data(JUnitReport.render(sample()))
        let doc = try XMLDocument(data: data)
        XCTAssertEqual(try doc.nodes(forXPath: "/testsuites/testsuite").count, 2)
        XCTAssertEqual(try doc.nodes(forXPath: "/testsuites/testsuite[1]/testcase").count, 3)
        let failures = try doc.nodes(forXPath: "//failure")
        XCTAssertEqual(failures.count, 1)
        XCTAssertTrue(failures[0].stringValue?.contains("rootfs/tree/etc/a&b") ?? false)
        let dir = try TestTools.temporaryDirectory(self)
        let url = dir.appendingPathComponent("r.xml")
        try data.write(to: url)
        let py = try TestTools.run(["python3", "-c", """
            import sys, xml.etree.ElementTree as ET
            root = ET.parse(sys.argv[1]).getroot()
            suites = root.findall('testsuite')
            print(len(suites), sum(len(s.findall('testcase')) for s in suites), len(list(root.iter('failure'))),
                  suites[0].get('name'))
            """, url.path])
        XCTAssertEqual(py.status, 0, py.stderrText)
        XCTAssertEqual(py.stdoutText.trimmingCharacters(in: .whitespacesAndNewlines), "2 4 1 bad \"archive\" <1>.tar")
    }

    /// Names from a hostile archive may hold controls, NUL or U+FFFF, which XML 1.0 cannot carry even as character
    /// references: they are written as `\u{XX}` text (`XMLWriter.xmlSafe`), and the rest of the name, escaped,
    /// survives.
    func testJUnitWritesCharactersXMLCannotCarryAsText() throws {
        let name = "etc/a\u{1}b\u{0}c\u{1B}[31m\u{FFFF}<&\">\t\u{7F}é"
        var report = ValidationReport(file: "f\u{2}.tar")
        report.diagnostics = [Diagnostic(id: "CKA-NAM-001", severity: .error, path: name, offset: 512,
                                         message: "bad name \u{1}")]
        let data = Data(JUnitReport.render([report]))
        let doc = try XMLDocument(data: data)
        let failure = try XCTUnwrap(doc.nodes(forXPath: "//failure").first as? XMLElement)
        let want = #"etc/a\u{1}b\u{0}c\u{1b}[31m\u{ffff}<&">"# + "\t\u{7F}é"
        XCTAssertTrue(failure.stringValue?.contains("entry '\(want)'") ?? false, failure.stringValue ?? "")
        XCTAssertEqual(failure.attribute(forName: "message")?.stringValue, #"bad name \u{1}"#)
        let url = try TestTools.temporaryDirectory(self).appendingPathComponent("r.xml")
        try data.write(to: url)
        let py = try TestTools.run(["python3", "-c", """
            import sys, xml.etree.ElementTree as ET
            root = ET.parse(sys.argv[1]).getroot()
            print(root.find('testsuite').get('name'), root.find('.//failure').get('message'))
            """, url.path])
        XCTAssertEqual(py.status, 0, py.stderrText)
        XCTAssertEqual(py.stdoutText.trimmingCharacters(in: .whitespacesAndNewlines), #"f\u{2}.tar bad name \u{1}"#)
    }

    func testTextReportGroupsAndSummarises() {
        let text = TextReport.render(sample())
        XCTAssertTrue(text.contains("INVALID"))
        XCTAssertTrue(text.contains("error CKA-IDX-005"))
        XCTAssertTrue(text.contains("warning CKA-V2-044"))
        XCTAssertTrue(text.contains("entry 'rootfs/tree/etc/a&b', offset 4096: content digest mismatch"))
        XCTAssertTrue(text.hasSuffix("2 files: 1 valid, 0 acceptable, 1 invalid"))
    }

    /// A hostile archive's names reach 64 KiB: the text report shows their start and end and their length; JSON
    /// keeps them whole.
    func testLongNamesAreShortenedInTextOnly() throws {
        let name = "rootfs-diff.tar: t14/" + String(repeating: "日cc/", count: 4000) + "last-component"
        var report = ValidationReport(file: "deep.tar")
        report.diagnostics = [Diagnostic(id: "CKA-TAR-043", severity: .error, path: name, offset: 512, message: "too deep")]
        let text = TextReport.render([report])
        let line = try XCTUnwrap(text.split(separator: "\n").first { $0.contains("too deep") })
        XCTAssertLessThan(line.utf8.count, 400, String(line))
        XCTAssertTrue(line.contains("entry 'rootfs-diff.tar: t14/日cc/"), String(line))
        XCTAssertTrue(line.contains("/last-component' (\(name.utf8.count) bytes), offset 512: too deep"), String(line))
        XCTAssertTrue(TextReport.render([ValidationReport(file: "x")]).contains("x: VALID"))
        let short = "rootfs/tree/" + String(repeating: "a", count: 200)
        report.diagnostics[0].path = short
        XCTAssertTrue(TextReport.render([report]).contains("entry '\(short)', offset 512"), "short names are whole")
        report.diagnostics[0].path = name
        let json = try JSONSerialization.jsonObject(with: Data(JSONReport.render(report).utf8)) as? [String: Any]
        let first = (json?["diagnostics"] as? [[String: Any]])?.first
        XCTAssertEqual(first?["path"] as? String, name)
    }

    func testCatalogueSeveritiesFollowKeywords() {
        let checkable = RequirementCatalog.checkable
        XCTAssertGreaterThan(checkable.count, 100)
        XCTAssertTrue(checkable.allSatisfy { $0.severity != nil })
        XCTAssertEqual(RequirementCatalog.requirement("CKA-V2-044")?.severity, .warning)
        XCTAssertEqual(RequirementCatalog.requirement("CKA-IDX-005")?.severity, .error)
        XCTAssertNil(RequirementCatalog.requirement("CKA-GEN-001")?.severity)
    }
}
