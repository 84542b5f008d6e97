import Crypto
import Foundation
import TestSupport
import XCTest

/// Part 10 of the specification, checked against the encoder: the same directory gives the same bytes.
final class WorkedExampleTests: XCTestCase {
    /// Builds the unpacked directory of the worked example's input table.
    static func makeExampleDirectory(_ root: URL) throws {
        let fm = FileManager.default
        for d in ["metadata", "checkpoint", "rootfs/tree/etc"] {
            try fm.createDirectory(at: root.appendingPathComponent(d), withIntermediateDirectories: true)
        }
        func file(_ path: String, _ text: String, _ mode: Int) throws {
            let url = root.appendingPathComponent(path)
            try Data(text.utf8).write(to: url)
            try fm.setAttributes([.posixPermissions: mode], ofItemAtPath: url.path)
        }
        try file("metadata/config.dump", #"{"id":"0123abcd","name":"demo","runtime":"crun"}"#, 0o600)
        try file("metadata/spec.dump", #"{"ociVersion":"1.2.0","annotations":{"io.container.manager":"libpod"}}"#, 0o600)
        try file("checkpoint/inventory.img", "criu-inventory\n", 0o600)
        try file("rootfs/deleted.files", "[\n  \"/etc/motd\"\n]", 0o600)
        try file("rootfs/implied.dirs", "[\n  \"/etc\"\n]", 0o600)
        try file("rootfs/tree/etc/app.conf", "x=1\n", 0o644)
        try fm.createSymbolicLink(atPath: root.appendingPathComponent("rootfs/tree/etc/localtime").path,
                                  withDestinationPath: "/usr/share/zoneinfo/UTC")
        try fm.setAttributes([.posixPermissions: 0o755], ofItemAtPath: root.appendingPathComponent("checkpoint").path)
    }

    /// The digest the specification states for a row of its digest table.
    private func specDigest(_ row: String) throws -> String {
        let text = try String(contentsOf: TestTools.repositoryRoot.appendingPathComponent("Spec/10-worked-example.md"),
                              encoding: .utf8)
        let line = try XCTUnwrap(text.split(separator: "\n").first { $0.hasPrefix("| \(row)") })
        let cells = line.split(separator: "|").map { $0.trimmingCharacters(in: .whitespaces) }
        return cells[1].replacingOccurrences(of: "`", with: "")
    }

    func testEncoderReproducesTheWorkedExample() throws {
        let dir = try TestTools.temporaryDirectory(self)
        let input = dir.appendingPathComponent("example")
        try Self.makeExampleDirectory(input)
        let out = dir.appendingPathComponent("example.tar")
        let r = try TestTools.run([TestTools.product("ckpt"), "create", "--deterministic", "--profile", "podman",
                                   input.path, out.path])
        XCTAssertEqual(r.status, 0, r.stderrText)
        let bytes = try Data(contentsOf: out)
        XCTAssertEqual(bytes.count, 18944)
        XCTAssertEqual(Hex(SHA256.hash(data: bytes)), try specDigest("whole archive"))
        XCTAssertTrue(r.stderrText.contains(try specDigest("index digest")), r.stderrText)
        // The index in the archive is the one printed in the specification.
        let text = try String(contentsOf: TestTools.repositoryRoot.appendingPathComponent("Spec/10-worked-example.md"),
                              encoding: .utf8)
        let index = String(decoding: bytes[15872..<(15872 + 1667)], as: UTF8.self)
        XCTAssertTrue(text.contains(index), "the index JSON of part 10 differs from the encoder's")
        // An independent implementation of the index rules (Python, from the text) agrees.
        let check = try TestTools.run(["python3", Self.v2check, out.path])
        XCTAssertEqual(check.status, 0, check.stdoutText)
    }

    static var v2check: String {
        TestTools.repositoryRoot.appendingPathComponent("Tests/CheckpointArchiveTests/Fixtures/v2check.py").path
    }
}

func Hex<D: Sequence>(_ digest: D) -> String where D.Element == UInt8 {
    digest.map { String(format: "%02x", $0) }.joined()
}
