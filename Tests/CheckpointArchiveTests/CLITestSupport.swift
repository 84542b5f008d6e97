import Foundation
import TestSupport
import XCTest
#if canImport(Glibc)
import Glibc
#endif

/// Running the `ckpt` executable and judging its results, for the end-to-end CLI tests.
enum CLI {
    static var ckpt: String { TestTools.product("ckpt") }

    /// Runs `ckpt ARGS` and asserts the exit status (nil: any).
    @discardableResult
    static func run(_ args: [String], status: Int32? = 0, file: StaticString = #filePath, line: UInt = #line) throws
        -> ProcessResult {
        let r = try TestTools.spawn([ckpt] + args)
        if let status {
            XCTAssertEqual(r.status, status, "ckpt \(args.joined(separator: " ")): \(r.stderrText)", file: file, line: line)
        }
        return r
    }

    /// `ckpt create`; returns the index digest it printed for v2 (nil for v1).
    @discardableResult
    static func create(_ dir: URL, _ out: URL, _ options: [String] = [], file: StaticString = #filePath,
                       line: UInt = #line) throws -> String? {
        let r = try run(["create"] + options + [dir.path, out.path], file: file, line: line)
        guard let range = r.stderrText.range(of: "index digest ") else { return nil }
        return String(r.stderrText[range.upperBound...].prefix(while: { !$0.isWhitespace }))
    }

    static func extract(_ archive: URL, _ dir: URL, _ options: [String] = [], file: StaticString = #filePath,
                        line: UInt = #line) throws {
        try run(["extract", "--quiet"] + options + [archive.path, dir.path], file: file, line: line)
    }

    static func convert(_ input: URL, _ output: URL, _ options: [String], file: StaticString = #filePath,
                        line: UInt = #line) throws {
        try run(["convert", "--quiet"] + options + [input.path, output.path], file: file, line: line)
    }

    /// The parsed `cka-header.json` of an unpacked directory.
    static func header(_ dir: URL) throws -> [String: Any] {
        let data = try Data(contentsOf: dir.appendingPathComponent("cka-header.json"))
        return try XCTUnwrap(JSONSerialization.jsonObject(with: data) as? [String: Any])
    }

    /// What CKA-DIR-012 compares in an unpacked directory: per relative path the treemanifest.py record (type,
    /// permission bits, numeric uid/gid, symlink target, device numbers, user xattrs, content digest, hard-link
    /// group) without mtime, `cka-header.json` and `cka-index.json`; and the header's `profile` and `sections`.
    struct Unpacked {
        var name: String
        var entries: [String: [String: AnyHashable]]
        var profile: String?
        var sections: NSArray?
    }

    static func unpacked(_ dir: URL, file: StaticString = #filePath, line: UInt = #line) throws -> Unpacked {
        let script = TestTools.repositoryRoot.appendingPathComponent("Tests/TarFormatTests/Fixtures/treemanifest.py")
        let r = try TestTools.spawn([pythonPath, script.path, "--owner", dir.path])
        XCTAssertEqual(r.status, 0, r.stderrText, file: file, line: line)
        let tree = try XCTUnwrap(JSONSerialization.jsonObject(with: r.stdout) as? [[String: Any]], file: file, line: line)
        var entries: [String: [String: AnyHashable]] = [:]
        for e in tree {
            let path = e["path"] as? String ?? ""
            if path == "cka-header.json" || path == "cka-index.json" { continue }
            // Every value, including the xattrs object (a [String: Any], not Hashable: kept as [String: String]).
            entries[path] = e.filter { $0.key != "mtime" }.mapValues { value -> AnyHashable in
                if let object = value as? [String: Any] { return AnyHashable(object.mapValues { "\($0)" }) }
                return value as? AnyHashable ?? AnyHashable("\(value)")
            }
        }
        let h = try? header(dir)
        return Unpacked(name: dir.lastPathComponent, entries: entries, profile: h?["profile"] as? String,
                        sections: h?["sections"] as? NSArray)
    }

    /// Asserts that two unpacked directories are equal as CKA-DIR-012 defines it (see `Unpacked`); with
    /// `headers: false` the header files are not compared (a source directory may have none).
    static func assertEqual(_ a: Unpacked, _ b: Unpacked, _ what: String, headers: Bool = true,
                            file: StaticString = #filePath, line: UInt = #line) {
        let onlyA = Set(a.entries.keys).subtracting(b.entries.keys).sorted()
        let onlyB = Set(b.entries.keys).subtracting(a.entries.keys).sorted()
        XCTAssertEqual(onlyA, [], "\(what): paths only in \(a.name)", file: file, line: line)
        XCTAssertEqual(onlyB, [], "\(what): paths only in \(b.name)", file: file, line: line)
        for (path, x) in a.entries.sorted(by: { $0.key < $1.key }) {
            guard let y = b.entries[path], x != y else { continue }
            let keys = Set(x.keys).union(y.keys).filter { x[$0] != y[$0] }.sorted()
            XCTFail("\(what): \(path) differs in \(keys): \(keys.map { "\(x[$0].map { "\($0)" } ?? "-") vs \(y[$0].map { "\($0)" } ?? "-")" })",
                    file: file, line: line)
        }
        XCTAssertGreaterThan(a.entries.count, 5, "\(what): suspiciously small tree", file: file, line: line)
        guard headers else { return }
        XCTAssertNotNil(a.profile, "\(what): \(a.name) has no cka-header.json", file: file, line: line)
        XCTAssertEqual(a.profile, b.profile, "\(what): header profile", file: file, line: line)
        XCTAssertEqual(a.sections, b.sections, "\(what): header sections", file: file, line: line)
    }

    /// The Python interpreter itself (pyenv's `python3` shim costs 100 ms a start).
    static var pythonPath: String {
        pythonLock.lock()
        defer { pythonLock.unlock() }
        if let resolvedPython { return resolvedPython }
        let r = try? TestTools.spawn(["python3", "-c", "import sys; print(sys.executable)"])
        let path = r.map { $0.stdoutText.trimmingCharacters(in: .whitespacesAndNewlines) } ?? ""
        resolvedPython = r?.status == 0 && !path.isEmpty ? path : "python3"
        return resolvedPython!
    }

    nonisolated(unsafe) private static var resolvedPython: String?
    private static let pythonLock = NSLock()

    /// Runs `python3 -c SCRIPT ARGS`, asserting success.
    @discardableResult
    static func python(_ script: String, _ args: [String] = [], stdin: Data? = nil, file: StaticString = #filePath,
                       line: UInt = #line) throws -> ProcessResult {
        let r = try TestTools.spawn([pythonPath, "-c", script] + args, stdin: stdin)
        XCTAssertEqual(r.status, 0, "python3: \(r.stderrText)", file: file, line: line)
        return r
    }
}

/// Builds archives by hand with Python's tarfile, described as JSON: `entries` is a list of objects
/// `{name, type: file|dir|symlink|hardlink|char|block|fifo, data?, mode?, uid?, gid?, linkname?, major?, minor?,
/// pax?, nested?, gzip?}` (`nested` is a list of entries made into a tar that becomes the file's content, gzip
/// compressed when `gzip` is true).
///
/// - `v1`: a flat tar of the entries.
/// - `v2`: `{profile, sections: [{kind, name?, critical?, mode?, entries}]}`: the version marker, one marker per
///   section and the index, with span and file digests computed as part 5.6 says (CKA-IDX-014), so that the
///   only thing wrong with the archive is whatever the entries do.
///
/// tarfile is never closed (closing pads to a 10240-byte record); exactly two zero blocks end each tar.
enum HandMadeArchive {
    static let builder = #"""
import gzip, hashlib, io, json, sys, tarfile

def info(e):
    t = tarfile.TarInfo(e["name"])
    kind = e.get("type", "file")
    t.mode = e.get("mode", 0o755 if kind == "dir" else 0o600)
    t.uid, t.gid, t.mtime = e.get("uid", 0), e.get("gid", 0), e.get("mtime", 0)
    t.uname = t.gname = ""
    data = b""
    if kind == "file":
        t.type = tarfile.REGTYPE
        if "nested" in e:
            data = tar_bytes(e["nested"])
        elif "hex" in e:
            data = bytes.fromhex(e["hex"])
        else:
            data = e.get("data", "").encode()
        if e.get("gzip"):
            data = gzip.compress(data, mtime=0)
        t.size = len(data)
    elif kind == "dir":
        t.type = tarfile.DIRTYPE
    elif kind == "symlink":
        t.type, t.linkname = tarfile.SYMTYPE, e["linkname"]
    elif kind == "hardlink":
        t.type, t.linkname = tarfile.LNKTYPE, e["linkname"]
    elif kind in ("char", "block"):
        t.type = tarfile.CHRTYPE if kind == "char" else tarfile.BLKTYPE
        t.devmajor, t.devminor = e.get("major", 1), e.get("minor", 3)
    elif kind == "fifo":
        t.type = tarfile.FIFOTYPE
    else:
        raise SystemExit("unknown type " + kind)
    t.pax_headers = dict(e.get("pax", {}))
    return t, data

def tar_bytes(entries, end=True):
    buf = io.BytesIO()
    tf = tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT)
    for e in entries:
        t, data = info(e)
        tf.addfile(t, io.BytesIO(data) if t.isreg() else None)
    return buf.getvalue() + (b"\0" * 1024 if end else b"")

def canonical(obj):
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":")).encode() + b"\n"

def v2(spec):
    sections = spec["sections"]
    header = {"format": "checkpoint-archive", "version": 2, "profile": spec.get("profile", "podman"),
              "compression": "none", "framed": False, "alignment": 0, "creator": "ckpt", "sections": []}
    entries = []
    for s in sections:
        o = {"kind": s["kind"]}
        if "name" in s:
            o["name"] = s["name"]
        o["critical"] = s.get("critical", True)
        header["sections"].append(o)
    header_bytes = canonical(header)
    entries.append({"name": "cka-header.json", "type": "file", "hex": header_bytes.hex(), "mode": 0o644,
                    "pax": {"CKA.version": "2"}})
    for s in sections:
        path = {"volume": "volumes/%s/", "ext": "ext/%s/"}.get(s["kind"], s["kind"] + "/")
        if "%s" in path:
            path = path % s["name"]
        pax = {"CKA.section": s["kind"], "CKA.section.critical": "1" if s.get("critical", True) else "0"}
        if "name" in s:
            pax["CKA.section.name"] = s["name"]
        entries.append({"name": path, "type": "dir", "mode": s.get("mode", 0o755), "pax": pax})
        entries.extend(s["entries"])
    body = tar_bytes(entries, end=False)
    index_offset = len(body)
    with tarfile.open(fileobj=io.BytesIO(body + b"\0" * 1024), mode="r:") as t:
        members = list(t)
    starts = [m.offset for m in members if "CKA.section" in m.pax_headers]
    bounds = [0] + starts + [index_offset]

    def span(start, end):
        h = hashlib.sha256()
        pos = start
        for m in members:
            if m.isreg() and start <= m.offset < end and m.size > 0:
                h.update(body[pos:m.offset_data])
                pos = m.offset_data + m.size
        h.update(body[pos:end])
        return h.hexdigest()

    index = {"format": "checkpoint-archive-index", "version": 2,
             "header": {"path": "cka-header.json", "start": 0, "end": bounds[1], "sha256": span(0, bounds[1])},
             "sections": [], "files": [], "indexOffset": "%016x" % index_offset}
    for i, s in enumerate(sections):
        start, end = bounds[i + 1], bounds[i + 2]
        o = {"kind": s["kind"]}
        if "name" in s:
            o["name"] = s["name"]
        o["critical"] = s.get("critical", True)
        o["path"] = [m for m in members if m.offset == start][0].name.rstrip("/") + "/"
        o["start"], o["end"] = start, end
        o["entries"] = sum(1 for m in members if start <= m.offset < end)
        o["sha256"] = span(start, end)
        index["sections"].append(o)
    for m in members:
        if m.isreg():
            content = body[m.offset_data:m.offset_data + m.size]
            index["files"].append({"path": m.name, "size": m.size, "offset": m.offset_data,
                                   "sha256": hashlib.sha256(content).hexdigest()})
    index_bytes = canonical(index)
    tail = tar_bytes([{"name": "cka-index.json", "type": "file", "hex": index_bytes.hex(), "mode": 0o644,
                       "pax": {"CKA.index": "1"}}])
    return body + tail

spec = json.load(sys.stdin)
out = v2(spec) if spec["format"] == "v2" else tar_bytes(spec["entries"])
with open(spec["out"], "wb") as f:
    f.write(out)
"""#

    /// A tar entry description.
    static func file(_ name: String, _ data: String, mode: Int = 0o600) -> [String: Any] {
        ["name": name, "type": "file", "data": data, "mode": mode]
    }

    static func dir(_ name: String, mode: Int = 0o755) -> [String: Any] { ["name": name, "type": "dir", "mode": mode] }

    static func symlink(_ name: String, to target: String) -> [String: Any] {
        ["name": name, "type": "symlink", "linkname": target, "mode": 0o777]
    }

    static func hardlink(_ name: String, to target: String) -> [String: Any] {
        ["name": name, "type": "hardlink", "linkname": target, "mode": 0o644]
    }

    static func device(_ name: String, major: Int = 1, minor: Int = 3) -> [String: Any] {
        ["name": name, "type": "char", "major": major, "minor": minor, "mode": 0o666]
    }

    static func nestedTar(_ name: String, _ entries: [[String: Any]], gzip: Bool = false) -> [String: Any] {
        ["name": name, "type": "file", "nested": entries, "gzip": gzip, "mode": 0o600]
    }

    /// The top-level entries every Podman v1 archive needs (CKA-V1-001..003, CKA-POD-002).
    static var podmanBase: [[String: Any]] { [
        file("config.dump", #"{"id":"0123abcd","name":"hostile","runtime":"crun"}"#),
        file("spec.dump", #"{"ociVersion":"1.2.0","annotations":{"io.container.manager":"libpod"}}"#),
        dir("checkpoint/", mode: 0o700),
        file("checkpoint/inventory.img", "criu-inventory\n"),
    ] }

    /// The sections of a minimal valid v2 archive; `rootfs` entries go after `rootfs/tree/`.
    static func v2Sections(checkpoint: [[String: Any]] = [], rootfsBeforeTree: [[String: Any]] = [],
                           rootfs: [[String: Any]] = [], metadata: [[String: Any]] = []) -> [[String: Any]] {
        [
            ["kind": "metadata", "entries": [
                file("metadata/config.dump", #"{"id":"0123abcd","name":"hostile","runtime":"crun"}"#),
                file("metadata/spec.dump", #"{"ociVersion":"1.2.0","annotations":{"io.container.manager":"libpod"}}"#),
            ] + metadata],
            ["kind": "checkpoint", "entries": [file("checkpoint/inventory.img", "criu-inventory\n")] + checkpoint],
            ["kind": "rootfs", "entries": rootfsBeforeTree + [dir("rootfs/tree/")] + rootfs],
        ]
    }

    /// Writes a v1 archive of `entries` to `out`.
    static func writeV1(_ entries: [[String: Any]], to out: URL, file: StaticString = #filePath, line: UInt = #line) throws {
        try write(["format": "v1", "entries": entries, "out": out.path], file: file, line: line)
    }

    /// Writes a v2 archive of `sections` (with a correct index) to `out`.
    static func writeV2(_ sections: [[String: Any]], profile: String = "podman", to out: URL,
                        file: StaticString = #filePath, line: UInt = #line) throws {
        try write(["format": "v2", "profile": profile, "sections": sections, "out": out.path], file: file, line: line)
    }

    private static func write(_ spec: [String: Any], file: StaticString, line: UInt) throws {
        let json = try JSONSerialization.data(withJSONObject: spec)
        try CLI.python(builder, stdin: json, file: file, line: line)
    }
}
