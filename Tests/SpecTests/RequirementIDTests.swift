import Foundation
import XCTest

/// The specification's requirement IDs: well formed, each defined exactly once, every reference resolving.
final class RequirementIDTests: XCTestCase {
    struct Definition {
        var id: String
        var classes: String
        var file: String
        var keyword: String?
    }

    static var specDirectory: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("Spec")
    }

    static func specFiles() throws -> [(name: String, text: String)] {
        let names = try FileManager.default.contentsOfDirectory(atPath: specDirectory.path)
            .filter { $0.hasSuffix(".md") }.sorted()
        return try names.map { ($0, try String(contentsOf: specDirectory.appendingPathComponent($0), encoding: .utf8)) }
    }

    /// Every definition `**[CKA-AREA-NNN]** *(classes)*` in Spec/*.md, with the first requirement keyword after it.
    static func definitions() throws -> [Definition] {
        let pattern = try NSRegularExpression(pattern: #"\*\*\[(CKA-[A-Z0-9]+-[0-9]{3})\]\*\* \*\(([EDV](,[EDV])*)\)\*"#)
        let keyword = try NSRegularExpression(
            pattern: #"\b(MUST NOT|MUST|REQUIRED|SHALL NOT|SHALL|SHOULD NOT|SHOULD|RECOMMENDED|MAY|OPTIONAL)\b"#)
        var out: [Definition] = []
        for (name, text) in try specFiles() {
            let ns = text as NSString
            for m in pattern.matches(in: text, range: NSRange(location: 0, length: ns.length)) {
                let after = NSRange(location: m.range.upperBound, length: min(2000, ns.length - m.range.upperBound))
                let k = keyword.firstMatch(in: text, range: after).map { ns.substring(with: $0.range) }
                out.append(Definition(id: ns.substring(with: m.range(at: 1)), classes: ns.substring(with: m.range(at: 2)),
                                      file: name, keyword: k))
            }
        }
        return out
    }

    func testAtLeast120UniqueWellFormedDefinitions() throws {
        let defs = try Self.definitions()
        XCTAssertGreaterThanOrEqual(Set(defs.map(\.id)).count, 120)
        var seen: [String: String] = [:]
        for d in defs {
            if let other = seen[d.id] { XCTFail("\(d.id) defined twice: \(other) and \(d.file)") }
            seen[d.id] = d.file
        }
    }

    func testNoMalformedDefinitionOrBracketedID() throws {
        // Anything that looks like a bracketed ID must be a complete, well-formed definition.
        let loose = try NSRegularExpression(pattern: #"\[CKA-[^\]]*\]"#)
        let strict = try NSRegularExpression(pattern: #"^\*\*\[CKA-[A-Z0-9]+-[0-9]{3}\]\*\* \*\([EDV](,[EDV])*\)\*"#)
        for (name, text) in try Self.specFiles() {
            let ns = text as NSString
            for m in loose.matches(in: text, range: NSRange(location: 0, length: ns.length))
            where ns.substring(with: m.range) != "[CKA-AREA-NNN]" {
                let start = max(0, m.range.location - 2)
                let rest = ns.substring(from: start)
                XCTAssertNotNil(strict.firstMatch(in: rest, range: NSRange(location: 0, length: (rest as NSString).length)),
                                "\(name): malformed definition near \(ns.substring(with: m.range))")
            }
        }
    }

    func testEveryReferenceIsDefined() throws {
        let defined = Set(try Self.definitions().map(\.id))
        let any = try NSRegularExpression(pattern: #"CKA-[A-Z0-9]+-[0-9]{3}"#)
        for (name, text) in try Self.specFiles() {
            let ns = text as NSString
            for m in any.matches(in: text, range: NSRange(location: 0, length: ns.length)) {
                let id = ns.substring(with: m.range)
                XCTAssertTrue(defined.contains(id), "\(name) refers to undefined \(id)")
            }
        }
    }

    func testNumbersAreSequentialWithinEachArea() throws {
        var byArea: [String: [Int]] = [:]
        for d in try Self.definitions() {
            let parts = d.id.split(separator: "-")
            byArea[String(parts[1]), default: []].append(Int(parts[2]) ?? -1)
        }
        for (area, numbers) in byArea {
            XCTAssertEqual(numbers.sorted(), Array(1...numbers.count), "area \(area) has gaps or duplicates")
        }
    }

    func testEveryValidatorRuleHasASeverityKeyword() throws {
        for d in try Self.definitions() where d.classes.contains("V") {
            XCTAssertNotNil(d.keyword, "\(d.id) has no requirement keyword")
            XCTAssertFalse(["MAY", "OPTIONAL"].contains(d.keyword ?? ""), "\(d.id): a V rule must be MUST or SHOULD")
        }
    }

    func testNoPlaceholders() throws {
        for (name, text) in try Self.specFiles() {
            for marker in ["TBD", "TODO", "FIXME", "XXX:"] {
                XCTAssertFalse(text.contains(marker), "\(name) contains \(marker)")
            }
        }
    }

    func testRequirementIndexListsEveryDefinition() throws {
        let index = try String(contentsOf: Self.specDirectory.appendingPathComponent("appendix-b-requirement-index.md"),
                               encoding: .utf8)
        for d in try Self.definitions() {
            XCTAssertTrue(index.contains("| \(d.id) |") || index.contains("|\(d.id)|") || index.contains(d.id + " "),
                          "\(d.id) is missing from the requirement index")
        }
    }

    func testRequirementIndexIsCurrent() throws {
        let script = Self.specDirectory.deletingLastPathComponent().appendingPathComponent("scripts/gen-requirement-index.py")
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = ["python3", script.path, "--check"]
        try p.run()
        p.waitUntilExit()
        XCTAssertEqual(p.terminationStatus, 0, "run scripts/gen-requirement-index.py")
    }

    func testManifestSchemaIsJSON() throws {
        let data = try Data(contentsOf: Self.specDirectory.appendingPathComponent("vectors-manifest.schema.json"))
        let schema = try XCTUnwrap(JSONSerialization.jsonObject(with: data) as? [String: Any])
        XCTAssertNotNil(schema["$schema"])
        XCTAssertNotNil(schema["properties"])
    }
}
