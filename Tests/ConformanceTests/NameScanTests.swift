@testable import Conformance
import XCTest

/// The tar-layer rules' name scan (a one-pass screen, then memchr through `forEachRun` for a suspect name)
/// against a byte-by-byte definition.
final class NameScanTests: XCTestCase {
    /// What is wrong with a name (CKA-TAR-034), worked out from its components.
    private func referenceProblem(_ name: [UInt8]) -> String? {
        if name.isEmpty { return "the name is empty" }
        if name.first == 0x2F { return "the name is absolute" }
        for component in name.split(separator: 0x2F, omittingEmptySubsequences: false) {
            switch Array(component) {
            case []: return "the name has an empty component ('//')"
            case [0x2E]: return "the name has a '.' component"
            case [0x2E, 0x2E]: return "the name has a '..' component"
            default: continue
            }
        }
        return nil
    }

    func testNameProblemsAreFoundComponentByComponent() {
        var generator = SystemRandomNumberGenerator()
        let alphabet: [UInt8] = Array("/..ab".utf8)
        for _ in 0..<20_000 {
            let name = (0..<Int.random(in: 0...24, using: &generator)).map { _ in alphabet.randomElement(using: &generator)! }
            XCTAssertEqual(TarNames.problem(name), referenceProblem(name), String(decoding: name, as: UTF8.self))
        }
    }
}
