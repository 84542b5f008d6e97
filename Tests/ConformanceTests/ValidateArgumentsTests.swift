import ArgumentParser
@testable import ckpt_validate
import XCTest

/// `ckpt-validate` reads the usual command lines without ArgumentParser (its start-up costs more than checking
/// a small archive); every command line either gives the same settings both ways or is left to ArgumentParser.
final class ValidateArgumentsTests: XCTestCase {
    private let commandLines: [[String]] = [
        ["a.tar"],
        ["-"],
        ["a.tar", "b.tar", "-"],
        ["--no-digests", "a.tar"],
        ["--quiet", "--strict", "--no-digests", "a.tar"],
        ["a.tar", "--quiet"],
        ["--format", "json", "a.tar"],
        ["--format=junit", "a.tar"],
        ["--profile", "crio", "--format", "text", "a.tar"],
        ["--profile=containerd", "a.tar"],
        ["--expect-index-digest", "sha256:" + String(repeating: "a", count: 64), "a.tar"],
        ["--expect-index-digest=", "a.tar"],
        ["--max-pax-header", "4096", "--max-entries", "7", "--max-diagnostics=3", "a.tar"],
        ["--max-entries", "5", "--max-entries", "9", "a.tar"],
        ["--", "--strict"],
        ["--strict", "--", "-", "a.tar"],
        // Left to ArgumentParser: help, short options, unknown names, bad or missing values, usage errors.
        ["--help"], ["-h"], ["a.tar", "-x"], ["--unknown", "a.tar"], ["--format", "yaml", "a.tar"],
        ["--max-entries", "many", "a.tar"], ["--max-entries"], ["--format", "--strict", "a.tar"],
        ["--strict=true", "a.tar"], [], ["-", "-"], ["--profile", "auto"],
    ]

    func testQuickParseAgreesWithArgumentParser() {
        for line in commandLines {
            let quick = QuickArguments.parse(line)
            let full: ValidateRun?
            do {
                full = try CkptValidate.parse(line).settings
            } catch {
                full = nil
            }
            if let quick {
                XCTAssertEqual(quick, full, "\(line): the quick parse differs from ArgumentParser's")
            }
        }
        // The quick parse does take the usual lines.
        XCTAssertNotNil(QuickArguments.parse(["--quiet", "--no-digests", "a.tar"]))
        XCTAssertNotNil(QuickArguments.parse(["--format=json", "-"]))
        XCTAssertNil(QuickArguments.parse(["--help"]))
        XCTAssertNil(QuickArguments.parse(["--format", "yaml", "a.tar"]))
    }
}
