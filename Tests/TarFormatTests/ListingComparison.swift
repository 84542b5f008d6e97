import Foundation
import TestSupport
import XCTest

/// Field-by-field comparison of two JSON Lines listings in the `ckpt list --json` schema.
enum ListingComparison {
    static func trimSlash(_ s: String) -> String {
        s.count > 1 && s.hasSuffix("/") ? String(s.dropLast()) : s
    }

    /// Asserts that two listings agree on every key either prints. Directory names are compared without
    /// their trailing slash (Python strips it; tar headers keep it) and mtimes to the microsecond.
    static func assertSame(ours: [[String: Any]], other: [[String: Any]], otherName: String,
                           file: StaticString = #filePath, line: UInt = #line) throws {
        XCTAssertEqual(ours.count, other.count, "\(otherName): entry count", file: file, line: line)
        for (a, b) in zip(ours, other) {
            let path = a["path"] as? String ?? "?"
            XCTAssertEqual(Set(a.keys), Set(b.keys), "\(otherName): keys of \(path)", file: file, line: line)
            for key in Set(a.keys).union(b.keys) {
                let x = a[key], y = b[key]
                switch key {
                case "path", "linkname":
                    XCTAssertEqual(trimSlash(x as? String ?? ""), trimSlash(y as? String ?? ""),
                                   "\(otherName): \(key) of \(path)", file: file, line: line)
                case "mtime":
                    let dx = (x as? NSNumber)?.doubleValue ?? .nan, dy = (y as? NSNumber)?.doubleValue ?? .nan
                    XCTAssertEqual(dx, dy, accuracy: 1e-6, "\(otherName): mtime of \(path)", file: file, line: line)
                case "xattrs":
                    XCTAssertEqual(x as? [String: String], y as? [String: String],
                                   "\(otherName): xattrs of \(path)", file: file, line: line)
                default:
                    XCTAssertEqual("\(x ?? "nil")", "\(y ?? "nil")", "\(otherName): \(key) of \(path)",
                                   file: file, line: line)
                }
            }
        }
    }
}

/// Builds and runs the Go archive/tar helper in Fixtures/gotar (standard library only, offline).
enum GoTool {
    nonisolated(unsafe) private static var built: String?

    static func binary(test: XCTestCase) throws -> String {
        if let built, FileManager.default.fileExists(atPath: built) { return built }
        let source = TestTools.repositoryRoot.appendingPathComponent("Tests/TarFormatTests/Fixtures/gotar")
        let out = FileManager.default.temporaryDirectory.appendingPathComponent("gotar-\(UUID().uuidString)")
        let cache = FileManager.default.temporaryDirectory.appendingPathComponent("gocache")
        let r = try TestTools.run(["go", "build", "-o", out.path, "."], directory: source,
                                  environment: ["GOCACHE": cache.path, "GOPATH": cache.appendingPathComponent("path").path,
                                                "GOFLAGS": "-mod=mod", "GOPROXY": "off", "GO111MODULE": "on"])
        guard r.status == 0 else {
            XCTFail("go build failed: \(r.stderrText)")
            throw XCTSkip("no Go helper")
        }
        built = out.path
        return out.path
    }

    static func list(_ archive: URL, test: XCTestCase) throws -> String {
        let r = try TestTools.run([try binary(test: test), "list", archive.path])
        XCTAssertEqual(r.status, 0, "gotar list: \(r.stderrText)")
        return r.stdoutText
    }
}
