import Crypto
import Foundation
import TestSupport
import XCTest

/// What `ckpt` writes is read by the reference implementations (part 5.9): Go's archive/tar, GNU tar, bsdtar
/// and Python's tarfile list every v2 variant (compression x framing x alignment) and every v1 profile,
/// including the nested tars of v1; GNU tar and bsdtar extract v2 into exactly the unpacked directory;
/// gzip and zstd accept the compressed output, framed output decompressing as one stream.
final class CLIInteropTests: XCTestCase {
    override func setUpWithError() throws {
        for tool in ["tar", "bsdtar", "python3", "gzip", "zstd", "go"] { try TestTools.require(tool) }
    }

    /// Names without a trailing slash (Python drops it; tar headers of directories keep it).
    static func trim(_ s: String) -> String { s.count > 1 && s.hasSuffix("/") ? String(s.dropLast()) : s }

    static func lines(_ r: ProcessResult) -> [String] { r.stdoutText.split(separator: "\n").map { trim(String($0)) } }

    /// The tar stream of an archive: the file itself, or its decompression by the gzip/zstd tool (for readers
    /// without zstd support, and to see that framed output decompresses as one stream).
    func plainTar(_ archive: URL, compression: String, in dir: URL) throws -> URL {
        guard compression != "none" else { return archive }
        let out = dir.appendingPathComponent(archive.lastPathComponent + ".plain")
        let r = try TestTools.spawn(["sh", "-c", "\(compression) -dc \"$1\" > \"$2\"", "sh", archive.path, out.path])
        XCTAssertEqual(r.status, 0, "\(compression) -dc \(archive.lastPathComponent): \(r.stderrText)")
        return out
    }

    /// Python's tarfile on one archive: the member names (after `extractall(filter='tar')` succeeded), and the
    /// error classes the `data` filter raises for the members.
    static let pythonReader = #"""
import json, sys, tarfile, tempfile
path, out = sys.argv[1], sys.argv[2]
with tarfile.open(path, "r:*") as t:
    names = [m.name for m in t.getmembers()]
with tarfile.open(path, "r:*") as t:
    t.extractall(out, filter="tar")
refused = set()
with tempfile.TemporaryDirectory() as d, tarfile.open(path, "r:*") as t:
    for m in t.getmembers():
        try:
            tarfile.data_filter(m, d)
        except tarfile.FilterError as e:
            refused.add(type(e).__name__)
print(json.dumps({"names": names, "data": sorted(refused)}))
"""#

    struct PythonView {
        var names: [String]
        var dataFilter: [String]
    }

    func python(_ archive: URL, extractInto out: URL, file: StaticString = #filePath, line: UInt = #line) throws
        -> PythonView {
        let r = try CLI.python(Self.pythonReader, [archive.path, out.path], file: file, line: line)
        let o = try XCTUnwrap(JSONSerialization.jsonObject(with: r.stdout) as? [String: Any], file: file, line: line)
        return PythonView(names: (o["names"] as? [String] ?? []).map(Self.trim), dataFilter: o["data"] as? [String] ?? ["?"])
    }

    /// Lists `archive` (tar stream `plain`) with Go, GNU tar, bsdtar and Python, asserting that each reads it
    /// without error or warning and that all see `expected`; Python also extracts it with filter='tar'.
    @discardableResult
    func assertEveryReaderLists(_ archive: URL, plain: URL, expected: [String], _ what: String, work: URL,
                                file: StaticString = #filePath, line: UInt = #line) throws -> (go: [[String: Any]], python: PythonView) {
        let go = try GoTarLister.list(plain.path, digests: true, file: file, line: line)
        XCTAssertEqual(go.map { Self.trim($0["path"] as? String ?? "?") }, expected, "\(what): Go archive/tar",
                       file: file, line: line)
        let gnu = try TestTools.spawn(["tar", "--warning=no-unknown-keyword", "-tf", archive.path])
        XCTAssertEqual(gnu.status, 0, "\(what): GNU tar: \(gnu.stderrText)", file: file, line: line)
        XCTAssertEqual(gnu.stderrText, "", "\(what): GNU tar warned", file: file, line: line)
        XCTAssertEqual(Self.lines(gnu), expected, "\(what): GNU tar", file: file, line: line)
        let bsd = try TestTools.spawn(["bsdtar", "-tf", archive.path])
        XCTAssertEqual(bsd.status, 0, "\(what): bsdtar: \(bsd.stderrText)", file: file, line: line)
        XCTAssertEqual(bsd.stderrText, "", "\(what): bsdtar warned", file: file, line: line)
        XCTAssertEqual(Self.lines(bsd), expected, "\(what): bsdtar", file: file, line: line)
        let out = work.appendingPathComponent("py-\(UUID().uuidString)")
        let py = try python(plain, extractInto: out, file: file, line: line)
        XCTAssertEqual(py.names, expected, "\(what): Python tarfile", file: file, line: line)
        return (go, py)
    }

    func sha256(_ url: URL) throws -> String {
        Hex(SHA256.hash(data: try Data(contentsOf: url)))
    }

    // MARK: v2

    func testEveryV2VariantIsReadAndExtractedByTheReferenceTools() throws {
        let work = try TestTools.temporaryDirectory(self)
        let source = work.appendingPathComponent("src")
        try CheckpointTrees.makeRich(source)
        let want = try CLI.unpacked(source)
        let hasXattr = xattr(source.appendingPathComponent("rootfs/tree/etc/app.conf").path, "user.checkpoint") != nil
        if hasXattr { XCTAssertNotNil(want.entries["rootfs/tree/etc/app.conf"]?["xattrs"], "xattrs are compared") }
        for combo in V2RoundTripTests.combinations {
            let what = "v2 \(combo)"
            let archive = work.appendingPathComponent("\(combo).tar")
            try CLI.create(source, archive, combo.args)
            let ours = Self.lines(try CLI.run(["list", archive.path]))
            XCTAssertEqual(ours.first, "cka-header.json", what)
            XCTAssertEqual(ours.last, "cka-index.json", what)
            let plain = try plainTar(archive, compression: combo.compression, in: work)
            let (go, py) = try assertEveryReaderLists(archive, plain: plain, expected: ours, what, work: work)

            // Go sees the content and the xattrs the unpacked directory has.
            for entry in go where entry["type"] as? String == "file" {
                let path = entry["path"] as? String ?? "?"
                guard !path.hasPrefix("cka-") else { continue }
                XCTAssertEqual(entry["sha256"] as? String, try sha256(source.appendingPathComponent(path)), "\(what): \(path)")
            }
            let conf = go.first { $0["path"] as? String == "rootfs/tree/etc/app.conf" }
            if hasXattr { XCTAssertEqual((conf?["xattrs"] as? [String: String])?["user.checkpoint"], "yes", what) }
            // Python's data filter refuses the absolute symlink, the FIFO and the device of the rootfs (part 5.9,
            // table 6.1); the tar filter extracted everything.
            XCTAssertEqual(py.dataFilter, ["AbsoluteLinkError", "SpecialFileError"], what)

            if combo.compression != "none" {
                let tool = combo.compression
                let t = try TestTools.spawn([tool, "-t", archive.path])
                XCTAssertEqual(t.status, 0, "\(what): \(tool) -t: \(t.stderrText)")
                try assertOneStream(archive, plain: plain, framed: combo.framed, compression: tool, what)
            }

            // Plain tar -x gives exactly the unpacked directory (plus cka-index.json), part 9.
            let gnuOut = work.appendingPathComponent("gnu-\(combo)")
            try FileManager.default.createDirectory(at: gnuOut, withIntermediateDirectories: false)
            let x = try TestTools.spawn(["tar", "--warning=no-unknown-keyword", "--xattrs", "--xattrs-include=user.*",
                                         "-xf", archive.path, "-C", gnuOut.path])
            XCTAssertEqual(x.status, 0, "\(what): tar -x: \(x.stderrText)")
            XCTAssertEqual(x.stderrText, "", "\(what): tar -x warned")
            XCTAssertTrue(FileManager.default.fileExists(atPath: gnuOut.appendingPathComponent("cka-index.json").path))
            CLI.assertEqual(want, try CLI.unpacked(gnuOut), "\(what): GNU tar -x", headers: false)
            if combo.alignment == 0 || combo.alignment == 4096 {
                let bsdOut = work.appendingPathComponent("bsd-\(combo)")
                try FileManager.default.createDirectory(at: bsdOut, withIntermediateDirectories: false)
                let b = try TestTools.spawn(["bsdtar", "-xf", archive.path, "-C", bsdOut.path])
                XCTAssertEqual(b.status, 0, "\(what): bsdtar -x: \(b.stderrText)")
                CLI.assertEqual(want, try CLI.unpacked(bsdOut), "\(what): bsdtar -x", headers: false)
            }
        }
    }

    /// The compressed file decompresses as one stream into a complete tar; a framed one ends with its locator
    /// (CKA-FRM-003/004), whose tar-stream length is what the decompressors produced.
    func assertOneStream(_ archive: URL, plain: URL, framed: Bool, compression: String, _ what: String,
                         file: StaticString = #filePath, line: UInt = #line) throws {
        let raw = [UInt8](try Data(contentsOf: archive))
        let tar = [UInt8](try Data(contentsOf: plain))
        XCTAssertEqual(tar.count % 512, 0, what, file: file, line: line)
        XCTAssertEqual(Array(tar.suffix(1024)), [UInt8](repeating: 0, count: 1024), "\(what): end-of-archive blocks",
                       file: file, line: line)
        let gnu = try TestTools.spawn(["tar", "--warning=no-unknown-keyword", "-tf", plain.path])
        XCTAssertEqual(gnu.status, 0, "\(what): tar -t of the decompressed stream: \(gnu.stderrText)", file: file, line: line)
        if compression == "gzip" {
            // Python's gzip module reads every member too (the locator member contributes nothing).
            let r = try CLI.python("import gzip, sys; sys.stdout.write(str(len(gzip.decompress(open(sys.argv[1], 'rb').read()))))",
                                   [archive.path], file: file, line: line)
            XCTAssertEqual(r.stdoutText, String(tar.count), "\(what): Python gzip", file: file, line: line)
        }
        guard framed else {
            XCTAssertFalse(raw.suffix(64).contains(Array("CKAINDEX".utf8)), "\(what): locator in an unframed archive",
                           file: file, line: line)
            return
        }
        let payload: ArraySlice<UInt8>
        if compression == "gzip" {
            let locator = raw.suffix(58)
            XCTAssertEqual(Array(locator.prefix(4)), [0x1F, 0x8B, 0x08, 0x04], what, file: file, line: line)
            payload = locator.dropFirst(16).prefix(32)
        } else {
            let locator = raw.suffix(40)
            XCTAssertEqual(Array(locator.prefix(8)), [0x5E, 0x2A, 0x4D, 0x18, 0x20, 0, 0, 0], what, file: file, line: line)
            payload = locator.dropFirst(8)
        }
        XCTAssertEqual(Array(payload.prefix(8)), Array("CKAINDEX".utf8), what, file: file, line: line)
        let le = { (o: Int) -> Int in payload.dropFirst(o).prefix(8).reversed().reduce(0) { $0 << 8 | Int($1) } }
        XCTAssertEqual(le(24), tar.count, "\(what): locator tar-stream length", file: file, line: line)
        let compressedStart = le(8), indexOffset = le(16)
        XCTAssertLessThan(compressedStart, raw.count, what, file: file, line: line)
        XCTAssertTrue(String(decoding: tar[indexOffset..<(indexOffset + 100)].prefix(while: { $0 != 0 }), as: UTF8.self)
                        .hasSuffix("cka-index.json"), "\(what): the locator points at the index entry", file: file, line: line)
        // The index member or frame alone decompresses to the index entry and the end of the archive.
        let tail = FileManager.default.temporaryDirectory.appendingPathComponent("tail-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: tail) }
        try Data(raw[compressedStart...]).write(to: tail)
        let r = try TestTools.spawn(["sh", "-c", "\(compression) -dc \"$1\" | wc -c", "sh", tail.path])
        XCTAssertEqual(Int(r.stdoutText.trimmingCharacters(in: .whitespacesAndNewlines)), tar.count - indexOffset,
                       "\(what): the index frame alone", file: file, line: line)
    }

    // MARK: v1

    func testEveryV1ProfileAndItsNestedTarsAreReadByTheReferenceTools() throws {
        let work = try TestTools.temporaryDirectory(self)
        let cases: [(profile: String, compression: String)] = [("podman", "none"), ("podman", "gzip"), ("podman", "zstd"),
                                                               ("cri-o", "none"), ("containerd", "none")]
        for (profile, compression) in cases {
            let what = "v1 \(profile) \(compression)"
            let base = work.appendingPathComponent("\(profile)-\(compression)")
            try FileManager.default.createDirectory(at: base, withIntermediateDirectories: false)
            let dir: URL
            switch profile {
            case "podman": dir = try V1Fixtures.podman(in: base).0
            case "cri-o": dir = try V1Fixtures.crio(in: base)
            default: dir = try V1Fixtures.containerd(in: base)
            }
            try? FileManager.default.removeItem(at: dir.appendingPathComponent("cka-header.json"))
            let archive = work.appendingPathComponent("\(profile).\(compression).tar")
            try CLI.create(dir, archive, ["--format", "v1", "--profile", profile, "--compress", compression])
            let ours = Self.lines(try CLI.run(["list", archive.path]))
            XCTAssertTrue(ours.contains("config.dump") && ours.contains("spec.dump"), "\(what): \(ours)")
            let plain = try plainTar(archive, compression: compression, in: work)
            try assertEveryReaderLists(archive, plain: plain, expected: ours, what, work: work)
            if compression != "none" {
                let t = try TestTools.spawn([compression, "-t", archive.path])
                XCTAssertEqual(t.status, 0, "\(what): \(compression) -t: \(t.stderrText)")
            }
            // tar -x of the outer archive, then every nested tar is listed by all readers and extracted.
            let outer = work.appendingPathComponent("outer-\(profile)-\(compression)")
            try FileManager.default.createDirectory(at: outer, withIntermediateDirectories: false)
            let x = try TestTools.spawn(["tar", "-xf", archive.path, "-C", outer.path])
            XCTAssertEqual(x.status, 0, "\(what): tar -x: \(x.stderrText)")
            XCTAssertEqual(x.stderrText, "", "\(what): tar -x warned")
            let nestedNames = ours.filter { $0.hasSuffix(".tar") }
            XCTAssertTrue(nestedNames.contains("rootfs-diff.tar"), "\(what): \(nestedNames)")
            if profile == "podman" {
                XCTAssertEqual(Set(nestedNames), ["rootfs-diff.tar", "devshm-checkpoint.tar", "volumes/data.tar",
                                                  "volumes/cache.tar"], what)
            }
            for name in nestedNames {
                let nested = outer.appendingPathComponent(name)
                let listed = try CLI.run(["list", nested.path])
                let names = Self.lines(listed)
                XCTAssertFalse(name == "rootfs-diff.tar" && names.isEmpty, "\(what): empty \(name)")
                try assertEveryReaderLists(nested, plain: nested, expected: names, "\(what): \(name)", work: work)
                let into = work.appendingPathComponent("nested-\(UUID().uuidString)")
                try FileManager.default.createDirectory(at: into, withIntermediateDirectories: false)
                let nx = try TestTools.spawn(["tar", "-xf", nested.path, "-C", into.path])
                XCTAssertEqual(nx.status, 0, "\(what): tar -x \(name): \(nx.stderrText)")
                if profile == "containerd" && name == "rootfs-diff.tar" {
                    XCTAssertEqual(try TestTools.spawn(["gzip", "-t", nested.path]).status, 0, "\(what): gzip layer")
                    XCTAssertTrue(names.contains { $0.split(separator: "/").last?.hasPrefix(".wh.") == true },
                                  "\(what): whiteouts in the layer: \(names)")
                }
            }
        }
    }
}
