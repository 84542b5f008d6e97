import Foundation
import TestSupport
import XCTest
#if canImport(Glibc)
import Glibc
#endif

/// `ckpt convert` end to end (CKA-CNV-003, CKA-CNV-011): v1 -> v2 -> v1 and v2 -> v1 -> v2 for every engine
/// profile are lossless, i.e. extracting the source and every result gives equal unpacked directories
/// (CKA-DIR-012).
final class CLIConversionTests: XCTestCase {
    /// An unpacked directory with everything the profile can express (V1Fixtures), without the placeholder
    /// `cka-header.json` (the profile is given on the command line). Without `impliedDirectories` the
    /// `rootfs/implied.dirs` list is removed, so every parent directory is part of the diff.
    func fixture(_ profile: String, impliedDirectories: Bool = false) throws -> URL {
        let base = try TestTools.temporaryDirectory(self)
        let dir: URL
        switch profile {
        case "podman": dir = try V1Fixtures.podman(in: base).0
        case "cri-o": dir = try V1Fixtures.crio(in: base)
        default: dir = try V1Fixtures.containerd(in: base)
        }
        try? FileManager.default.removeItem(at: dir.appendingPathComponent("cka-header.json"))
        if !impliedDirectories {
            try? FileManager.default.removeItem(at: dir.appendingPathComponent("rootfs/implied.dirs"))
            if profile == "containerd" {
                // containerd carries deletions as whiteouts, so the list comes back in the layer's walk order;
                // this order is the walk order whether a deleted directory of the tree (/srv, /var/lib/cache) is
                // written as `<d>/.wh..wh..opq` or as `.wh.<d>` in its parent (CKA-CNV-009).
                V1DirBuilder(dir).file("rootfs/deleted.files", V1Test.goList(["/srv", "/usr/lib/old", "/var/lib/cache"]))
            }
        }
        return dir
    }

    /// Paths that show each profile's particular content made it through (table 9.1).
    static let keyPaths: [String: [String]] = [
        "podman": ["metadata/network.status", "metadata/stats-dump", "devshm/shmfile", "volumes/data/sub/file.txt",
                   "volumes/cache", "logs/ctr.log", "artifacts/latest", "ext/v1/restore-hint.txt", "rootfs/deleted.files",
                   "rootfs/tree/etc/hard", "rootfs/tree/etc/localtime", "rootfs/tree/opt/tool", "rootfs/tree/tmp/fifo"],
        "cri-o": ["metadata/bind.mounts", "metadata/stats-dump", "logs/io.kubernetes.cri-o.LogPath", "logs/dump.log",
                  "rootfs/deleted.files", "rootfs/tree/test.output"],
        "containerd": ["metadata/status", "metadata/status.dump", "logs/container.log", "logs/dump.log",
                       "rootfs/deleted.files", "rootfs/tree/var/lib/cache/fresh", "rootfs/tree/usr/lib/new"],
    ]

    func assertKeyPaths(_ tree: CLI.Unpacked, _ profile: String, file: StaticString = #filePath, line: UInt = #line) {
        for path in Self.keyPaths[profile] ?? [] {
            XCTAssertNotNil(tree.entries[path], "\(profile): \(path) missing", file: file, line: line)
        }
        if profile == "podman" {
            XCTAssertEqual(tree.entries["rootfs/tree/opt/tool"]?["mode"], 0o4755 as AnyHashable, file: file, line: line)
            XCTAssertEqual((tree.entries["rootfs/tree/opt/tool"]?["xattrs"] as? [String: String])?["user.origin"], "test",
                           "the user xattr of the rootfs", file: file, line: line)
            XCTAssertEqual(tree.entries["rootfs/tree/etc/hard"]?["hardlink_group"], "rootfs/tree/etc/app.conf" as AnyHashable,
                           file: file, line: line)
            if geteuid() == 0 { XCTAssertNotNil(tree.entries["rootfs/tree/dev-null"], file: file, line: line) }
        }
    }

    /// No staging directory or temporary output of `ckpt convert` is left in `dir`.
    func assertNoLeftovers(_ dir: URL, file: StaticString = #filePath, line: UInt = #line) throws {
        let hidden = try FileManager.default.contentsOfDirectory(atPath: dir.path).filter { $0.hasPrefix(".") }
        XCTAssertEqual(hidden, [], "leftovers", file: file, line: line)
    }

    /// `ckpt inspect --json`.
    func inspect(_ archive: URL) throws -> [String: Any] {
        let r = try CLI.run(["inspect", "--json", archive.path])
        return try XCTUnwrap(JSONSerialization.jsonObject(with: r.stdout) as? [String: Any])
    }

    func assertArchive(_ archive: URL, format: String, profile: String, compression: String, framed: Bool = false,
                       file: StaticString = #filePath, line: UInt = #line) throws {
        let report = try inspect(archive)
        XCTAssertEqual(report["framed"] as? Bool, framed, archive.lastPathComponent, file: file, line: line)
        XCTAssertEqual(report["format"] as? String, format, archive.lastPathComponent, file: file, line: line)
        XCTAssertEqual(report["profile"] as? String, profile, archive.lastPathComponent, file: file, line: line)
        XCTAssertEqual(report["compression"] as? String, compression, archive.lastPathComponent, file: file, line: line)
    }

    /// create v1 -> convert to v2 -> convert to v1; every archive extracts to the same unpacked directory.
    func v1ThroughV2(_ profile: String, compress: String = "none", framed: Bool = false) throws {
        let source = try fixture(profile)
        let work = try TestTools.temporaryDirectory(self)
        let tag = "\(profile)-\(compress)\(framed ? "-framed" : "")"
        let a = work.appendingPathComponent("a-\(tag).v1"), b = work.appendingPathComponent("b-\(tag).v2")
        let c = work.appendingPathComponent("c-\(tag).v1")
        try CLI.create(source, a, ["--format", "v1", "--profile", profile, "--compress", compress])
        try CLI.convert(a, b, ["--to", "v2", "--compress", compress] + (framed ? ["--framed"] : []))
        try CLI.convert(b, c, ["--to", "v1", "--compress", compress])
        try assertArchive(a, format: "v1", profile: profile, compression: compress)
        try assertArchive(b, format: "v2", profile: profile, compression: compress, framed: framed)
        try assertArchive(c, format: "v1", profile: profile, compression: compress)
        let check = try TestTools.spawn([CLI.pythonPath, WorkedExampleTests.v2check, b.path])
        XCTAssertEqual(check.status, 0, "\(tag): \(check.stdoutText)")
        let trees = try [a, b, c].map { archive -> CLI.Unpacked in
            let out = work.appendingPathComponent("x-" + archive.lastPathComponent)
            try CLI.extract(archive, out)
            return try CLI.unpacked(out)
        }
        assertKeyPaths(trees[0], profile)
        try assertNoLeftovers(work)
        CLI.assertEqual(trees[0], trees[1], "\(tag): v1 -> v2")
        CLI.assertEqual(trees[0], trees[2], "\(tag): v1 -> v2 -> v1")
        // The unpacked directory also holds exactly what the source directory held.
        CLI.assertEqual(try CLI.unpacked(source), trees[0], "\(tag): source -> v1", headers: false)
        XCTAssertEqual(trees[0].profile, profile)
    }

    /// create v2 -> convert to v1 (the profile recorded in the header) -> convert to v2.
    func v2ThroughV1(_ profile: String, compress: String = "none", framed: Bool = false) throws {
        let source = try fixture(profile)
        let work = try TestTools.temporaryDirectory(self)
        let tag = "\(profile)-\(compress)\(framed ? "-framed" : "")"
        let x = work.appendingPathComponent("x-\(tag).v2"), y = work.appendingPathComponent("y-\(tag).v1")
        let z = work.appendingPathComponent("z-\(tag).v2")
        let framing = framed ? ["--framed"] : []
        try CLI.create(source, x, ["--profile", profile, "--compress", compress] + framing)
        try CLI.convert(x, y, ["--to", "v1", "--compress", compress])
        try CLI.convert(y, z, ["--to", "v2", "--compress", compress] + framing)
        try assertArchive(x, format: "v2", profile: profile, compression: compress, framed: framed)
        try assertArchive(y, format: "v1", profile: profile, compression: compress)
        try assertArchive(z, format: "v2", profile: profile, compression: compress, framed: framed)
        let trees = try [x, y, z].map { archive -> CLI.Unpacked in
            let out = work.appendingPathComponent("x-" + archive.lastPathComponent)
            try CLI.extract(archive, out)
            return try CLI.unpacked(out)
        }
        assertKeyPaths(trees[0], profile)
        try assertNoLeftovers(work)
        CLI.assertEqual(trees[0], trees[1], "\(tag): v2 -> v1")
        CLI.assertEqual(trees[0], trees[2], "\(tag): v2 -> v1 -> v2")
        CLI.assertEqual(try CLI.unpacked(source), trees[0], "\(tag): source -> v2", headers: false)
    }

    // MARK: v1 -> v2 -> v1

    func testPodmanV1ThroughV2() throws { try v1ThroughV2("podman") }
    func testCRIOV1ThroughV2() throws { try v1ThroughV2("cri-o") }
    func testContainerdV1ThroughV2() throws { try v1ThroughV2("containerd") }
    func testPodmanGzipV1ThroughFramedV2() throws { try v1ThroughV2("podman", compress: "gzip", framed: true) }
    func testPodmanZstdV1ThroughV2() throws { try v1ThroughV2("podman", compress: "zstd") }
    func testContainerdZstdV1ThroughFramedV2() throws { try v1ThroughV2("containerd", compress: "zstd", framed: true) }

    // MARK: v2 -> v1 -> v2

    func testPodmanV2ThroughV1() throws { try v2ThroughV1("podman") }
    func testCRIOV2ThroughV1() throws { try v2ThroughV1("cri-o") }
    func testContainerdV2ThroughV1() throws { try v2ThroughV1("containerd") }
    func testPodmanZstdFramedV2ThroughV1() throws { try v2ThroughV1("podman", compress: "zstd", framed: true) }
    func testPodmanGzipV2ThroughV1() throws { try v2ThroughV1("podman", compress: "gzip") }

    // MARK: what a profile cannot express

    /// CKA-CNV-008: a v2 archive with volumes and devshm cannot become CRI-O v1; the converter fails naming
    /// the requirement and leaves no output (nor its staging directory) behind.
    func testConversionToAProfileThatCannotExpressTheArchiveFails() throws {
        let source = try fixture("podman")
        let work = try TestTools.temporaryDirectory(self)
        let v2 = work.appendingPathComponent("podman.v2")
        try CLI.create(source, v2, ["--profile", "podman"])
        let out = work.appendingPathComponent("crio.tar")
        let r = try CLI.run(["convert", "--to", "v1", "--profile", "cri-o", v2.path, out.path], status: 1)
        XCTAssertTrue(r.stderrText.contains("CKA-CNV-008"), r.stderrText)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: work.path), ["podman.v2"])
    }
}
