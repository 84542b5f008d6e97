import Foundation
import TestSupport
import XCTest

/// The cases of `Vectors/manifest.json` (Spec/09-vectors.md, tables 7.1, 7.3 and 7.4) that the corruption sweeps
/// start from: files are relative to `Vectors/`, `result` is `valid`, `invalid` or `acceptable`, and each case's
/// `sha256` pins the file (CKA-VEC-004).
struct SweepVectorManifest {
    struct Case {
        var tcId: Int
        var id: String
        /// `v1` or `v2`, from the case's group.
        var format: String
        var profile: String
        var file: URL
        var result: String
        var compression: String
        var framed: Bool
        var malformed: Bool
        var sha256: String
    }

    enum LoadError: Error, CustomStringConvertible {
        case notAnObject(String)
        case missing(String, in: String)
        case wrongType(String, in: String)

        var description: String {
            switch self {
            case let .notAnObject(what): return "manifest: \(what) is not a JSON object"
            case let .missing(member, what): return "manifest: \(what) lacks \(member)"
            case let .wrongType(member, what): return "manifest: \(what).\(member) has the wrong type"
            }
        }
    }

    var cases: [Case]

    /// Reads a manifest; `root` is the directory the case files are relative to (the manifest's own directory).
    init(contentsOf manifest: URL) throws {
        let root = manifest.deletingLastPathComponent()
        let json = try JSONSerialization.jsonObject(with: Data(contentsOf: manifest))
        guard let top = json as? [String: Any] else { throw LoadError.notAnObject("the root") }
        guard top["format"] as? String == "checkpoint-archive-vectors" else { throw LoadError.missing("format", in: "the root") }
        guard let groups = top["testGroups"] as? [Any] else { throw LoadError.missing("testGroups", in: "the root") }
        var cases: [Case] = []
        for (g, groupValue) in groups.enumerated() {
            let where_ = "testGroups[\(g)]"
            guard let group = groupValue as? [String: Any] else { throw LoadError.notAnObject(where_) }
            let format: String = try Self.member("format", of: group, where_)
            let profile: String = try Self.member("profile", of: group, where_)
            let tests: [Any] = try Self.member("tests", of: group, where_)
            for (t, testValue) in tests.enumerated() {
                let at = "\(where_).tests[\(t)]"
                guard let test = testValue as? [String: Any] else { throw LoadError.notAnObject(at) }
                let file: String = try Self.member("file", of: test, at)
                cases.append(Case(tcId: try Self.member("tcId", of: test, at), id: try Self.member("id", of: test, at),
                                  format: format, profile: profile, file: root.appendingPathComponent(file),
                                  result: try Self.member("result", of: test, at),
                                  compression: try Self.member("compression", of: test, at),
                                  framed: try Self.member("framed", of: test, at),
                                  malformed: try Self.member("malformed", of: test, at),
                                  sha256: try Self.member("sha256", of: test, at)))
            }
        }
        self.cases = cases
    }

    /// The `valid` cases.
    var valid: [Case] { cases.filter { $0.result == "valid" } }

    /// The bytes of a case's file, checked against its `sha256`.
    static func bytes(of c: Case) throws -> [UInt8] {
        let bytes = [UInt8](try Data(contentsOf: c.file))
        let digest = String(try TestTools.run(["sha256sum", c.file.path]).stdoutText.prefix(64))
        guard digest == c.sha256 else {
            throw LoadError.wrongType("sha256 (file \(c.file.lastPathComponent) hashes to \(digest))", in: c.id)
        }
        return bytes
    }

    private static func member<T>(_ name: String, of object: [String: Any], _ where_: String) throws -> T {
        guard let value = object[name] else { throw LoadError.missing(name, in: where_) }
        guard let typed = value as? T else { throw LoadError.wrongType(name, in: where_) }
        return typed
    }
}
