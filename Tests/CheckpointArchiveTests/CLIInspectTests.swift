import Foundation
import TestSupport
import XCTest

/// `ckpt inspect` and `ckpt inspect --json` on v2 archives, on each v1 profile and on the bundled Podman
/// example: format, profile, compression, sections, container, runtime, and for v2 the index digest `create`
/// printed.
final class CLIInspectTests: XCTestCase {
    struct Report {
        var json: [String: Any]
        var text: String
        /// `kind` or `kind:name` of each section.
        var sections: [String] {
            (json["sections"] as? [[String: Any]] ?? []).map { s in
                (s["kind"] as? String ?? "?") + ((s["name"] as? String).map { ":" + $0 } ?? "")
            }
        }

        /// The value of a `label:` line of the text report.
        func line(_ label: String) -> String? {
            text.split(separator: "\n").first { $0.hasPrefix(label + ":") }
                .map { $0.dropFirst(label.count + 1).trimmingCharacters(in: .whitespaces) }
        }
    }

    func inspect(_ archive: URL, file: StaticString = #filePath, line: UInt = #line) throws -> Report {
        let json = try CLI.run(["inspect", "--json", archive.path], file: file, line: line)
        let object = try XCTUnwrap(JSONSerialization.jsonObject(with: json.stdout) as? [String: Any], file: file, line: line)
        XCTAssertEqual(json.stdoutText.filter { $0 == "\n" }.count, 1, "one JSON object on one line", file: file, line: line)
        let text = try CLI.run(["inspect", archive.path], file: file, line: line)
        return Report(json: object, text: text.stdoutText)
    }

    /// The text and JSON reports say the same.
    func assertConsistent(_ r: Report, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(r.line("format"), r.json["format"] as? String, file: file, line: line)
        XCTAssertEqual(r.line("profile"), r.json["profile"] as? String, file: file, line: line)
        let compression = (r.json["compression"] as? String ?? "?") + (r.json["framed"] as? Bool == true ? " (framed)" : "")
        XCTAssertEqual(r.line("compression"), compression, file: file, line: line)
        XCTAssertEqual(r.line("container"), r.json["containerName"] as? String, file: file, line: line)
        XCTAssertEqual(r.line("runtime"), r.json["runtime"] as? String, file: file, line: line)
        XCTAssertEqual(r.line("index digest"), r.json["indexDigest"] as? String, file: file, line: line)
        let paths = (r.json["sections"] as? [[String: Any]] ?? []).compactMap { $0["path"] as? String }
        let listed = r.text.split(separator: "\n").drop { $0 != "sections:" }.dropFirst()
            .compactMap { $0.split(separator: " ").first.map(String.init) }
        XCTAssertEqual(listed, paths, "sections of the text report", file: file, line: line)
    }

    // MARK: v2

    func testV2ReportMatchesWhatCreateWroteAndTheArchiveHolds() throws {
        let work = try TestTools.temporaryDirectory(self)
        let source = work.appendingPathComponent("src")
        try CheckpointTrees.makeRich(source)
        let variants: [(args: [String], compression: String, framed: Bool, alignment: Int)] = [
            (["--compress", "none", "--align", "4096"], "none", false, 4096),
            (["--compress", "zstd", "--framed", "--profile", "cri-o"], "zstd", true, 0),
            (["--compress", "gzip", "--deterministic", "--profile", "podman"], "gzip", false, 0),
        ]
        for v in variants {
            let what = v.args.joined(separator: " ")
            let archive = work.appendingPathComponent("a\(v.args.count)-\(v.compression).tar")
            let created = try XCTUnwrap(try CLI.create(source, archive, v.args), what)
            let r = try inspect(archive)
            assertConsistent(r)
            // Without --profile and without cka-header.json in the directory: generic (CKA-V2-006).
            let profile = v.args.firstIndex(of: "--profile").map { v.args[$0 + 1] } ?? "generic"
            XCTAssertEqual(r.json["format"] as? String, "v2", what)
            XCTAssertEqual(r.json["profile"] as? String, profile, what)
            XCTAssertEqual(r.json["compression"] as? String, v.compression, what)
            XCTAssertEqual(r.json["framed"] as? Bool, v.framed, what)
            XCTAssertEqual(r.json["alignment"] as? Int, v.alignment, what)
            XCTAssertEqual(r.line("alignment"), String(v.alignment), what)
            XCTAssertEqual(r.json["indexDigest"] as? String, created, "\(what): the digest create printed")
            XCTAssertEqual(r.json["containerName"] as? String, "rich", what)
            XCTAssertEqual(r.json["containerID"] as? String, "abc", what)
            XCTAssertEqual(r.json["runtime"] as? String, "crun", what)
            XCTAssertEqual(r.json["image"] as? String, "quay.io/x/y:1", what)
            XCTAssertEqual(r.json["engine"] as? String, "libpod", what)
            XCTAssertEqual(r.sections, ["metadata", "checkpoint", "rootfs", "devshm", "volume:data", "volume:logs-vol",
                                        "logs", "artifacts", "ext:vendor.example"], what)
            // The same digest from the independent checker and from extract.
            let check = try TestTools.spawn([CLI.pythonPath, WorkedExampleTests.v2check, archive.path])
            XCTAssertEqual(check.stdoutText.trimmingCharacters(in: .whitespacesAndNewlines), created, what)
            // Entry and byte counts per section, recounted from `ckpt list --json`.
            let listing = try CLI.run(["list", "--json", archive.path]).stdoutText.split(separator: "\n").map {
                try XCTUnwrap(JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any])
            }
            for s in r.json["sections"] as? [[String: Any]] ?? [] {
                let path = s["path"] as? String ?? "?"
                let members = listing.filter { ($0["path"] as? String ?? "").hasPrefix(path) }
                XCTAssertEqual(s["entries"] as? Int, members.count, "\(what): entries of \(path)")
                let bytes = members.filter { $0["type"] as? String == "file" }.reduce(0) { $0 + ($1["size"] as? Int ?? 0) }
                XCTAssertEqual(s["bytes"] as? Int, bytes, "\(what): bytes of \(path)")
            }
        }
    }

    // MARK: v1

    func testEachV1Profile() throws {
        let work = try TestTools.temporaryDirectory(self)
        let cases: [(profile: String, compression: String, config: String, sections: [String], engine: String?)] = [
            ("podman", "zstd", #"{"id":"0123abcd","name":"demo","rootfsImageName":"quay.io/demo:1","runtime":"crun"}"#,
             ["metadata", "checkpoint", "rootfs", "devshm", "volume:cache", "volume:data", "logs", "artifacts", "ext:v1"],
             "libpod"),
            ("cri-o", "none", #"{"id":"c0ffee","name":"counter","rootfsImageName":"quay.io/demo:1","runtime":"runc"}"#,
             ["metadata", "checkpoint", "rootfs", "logs"], "cri-o"),
            ("containerd", "gzip", #"{"id":"c0ffee","name":"ctr","rootfsImageName":"quay.io/demo:1","runtime":"io.containerd.runc.v2"}"#,
             ["metadata", "checkpoint", "rootfs", "logs"], nil),
        ]
        for c in cases {
            let base = work.appendingPathComponent(c.profile)
            try FileManager.default.createDirectory(at: base, withIntermediateDirectories: false)
            let dir: URL
            switch c.profile {
            case "podman": dir = try V1Fixtures.podman(in: base).0
            case "cri-o": dir = try V1Fixtures.crio(in: base)
            default: dir = try V1Fixtures.containerd(in: base)
            }
            try? FileManager.default.removeItem(at: dir.appendingPathComponent("cka-header.json"))
            V1DirBuilder(dir).file("metadata/config.dump", c.config)
            if c.profile != "podman" {
                V1DirBuilder(dir).file("logs/dump.log", "(00.000000) Version: 3.19 (gitid 0)\n(00.000100) dump\n")
            }
            let archive = work.appendingPathComponent("\(c.profile).tar")
            XCTAssertNil(try CLI.create(dir, archive, ["--format", "v1", "--profile", c.profile, "--compress", c.compression]))
            let r = try inspect(archive)
            assertConsistent(r)
            XCTAssertEqual(r.json["format"] as? String, "v1", c.profile)
            XCTAssertEqual(r.json["profile"] as? String, c.profile)
            XCTAssertEqual(r.json["compression"] as? String, c.compression, c.profile)
            XCTAssertEqual(r.json["framed"] as? Bool, false, c.profile)
            XCTAssertEqual(r.json["alignment"] as? Int, 0, c.profile)
            XCTAssertTrue(r.json["indexDigest"] is NSNull, "v1 has no index: \(c.profile)")
            XCTAssertNil(r.line("index digest"), c.profile)
            XCTAssertEqual(r.json["containerName"] as? String, c.profile == "podman" ? "demo" : c.profile == "cri-o" ? "counter" : "ctr")
            XCTAssertEqual(r.json["image"] as? String, "quay.io/demo:1", c.profile)
            XCTAssertEqual(r.json["engine"] as? String, c.engine, c.profile)
            XCTAssertEqual(r.json["criuVersion"] as? String, c.profile == "podman" ? nil : "3.19",
                           "\(c.profile): CRIU version from dump.log (Podman does not export dump.log)")
            // Every section the archive holds (the report follows the v1 stream order).
            XCTAssertEqual(Set(r.sections), Set(c.sections), c.profile)
            let runtime = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(c.config.utf8)) as? [String: Any])["runtime"]
            XCTAssertEqual(r.json["runtime"] as? String, runtime as? String, c.profile)
        }
    }

    func testBundledPodmanExample() throws {
        let archive = TestTools.repositoryRoot.appendingPathComponent("Examples/podman-checkpoint.tar.zst")
        let r = try inspect(archive)
        assertConsistent(r)
        XCTAssertEqual(r.json["format"] as? String, "v1")
        XCTAssertEqual(r.json["profile"] as? String, "podman")
        XCTAssertEqual(r.json["compression"] as? String, "zstd")
        XCTAssertEqual(r.json["framed"] as? Bool, false)
        XCTAssertEqual(r.json["engine"] as? String, "libpod")
        XCTAssertEqual(r.json["containerName"] as? String, "sample-counter")
        XCTAssertEqual(r.json["containerID"] as? String, "5e3b2c8e9f0a4b7c8d1e2f3a4b5c6d7e8f9a0b1c2d3e4f5a6b7c8d9e0f1a2b3c")
        XCTAssertEqual(r.json["image"] as? String, "quay.io/example/counter:latest")
        XCTAssertEqual(r.json["runtime"] as? String, "crun")
        XCTAssertTrue(r.json["indexDigest"] is NSNull)
        XCTAssertEqual(r.sections, ["metadata", "checkpoint", "rootfs"])
        XCTAssertEqual(r.line("compression"), "zstd")
        XCTAssertEqual(r.line("container"), "sample-counter")
        // The sample's checkpoint/ holds its CRIU images: 2 pages of 4096 bytes among them.
        let checkpoint = (r.json["sections"] as? [[String: Any]] ?? []).first { $0["kind"] as? String == "checkpoint" }
        XCTAssertGreaterThanOrEqual(checkpoint?["bytes"] as? Int ?? 0, 8192)
    }
}
