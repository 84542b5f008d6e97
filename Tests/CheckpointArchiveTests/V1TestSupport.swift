import ByteStreams
@testable import CheckpointArchive
import Compression
import Foundation
import TarFormat
import TestSupport
import XCTest
#if canImport(Glibc)
import Glibc
#endif

/// One entry a sink received.
struct V1Recorded {
    var header: TarHeader
    var section: Section
    var data: [UInt8]
    var reflink: ReflinkSource?
}

/// What a path holds, compared between an unpacked directory on disk and what a decoder delivered
/// (CKA-DIR-012: type, permission bits, numeric owner, link target, xattrs, content; not mtimes).
struct V1Node: Equatable, CustomStringConvertible {
    var type: String
    var mode: Int64
    var uid: Int64
    var gid: Int64
    var link: String
    /// `major,minor` for devices.
    var device: String
    var xattrs: [String: [UInt8]]
    var content: [UInt8]

    init(_ h: TarHeader, content: [UInt8]) {
        type = h.type.listingName
        mode = h.mode & 0o7777
        uid = h.uid
        gid = h.gid
        link = h.linkName
        device = h.type == .characterDevice || h.type == .blockDevice ? "\(h.devMajor),\(h.devMinor)" : ""
        xattrs = Dictionary(h.xattrs.map { ($0.name, $0.value) }) { $1 }
        self.content = content
    }

    var description: String {
        "\(type) \(String(mode, radix: 8)) \(uid):\(gid) link=\(link) dev=\(device) xattrs=\(xattrs.keys.sorted()) \(content.count) bytes"
    }
}

/// An `UnpackedEntrySink` that keeps every entry in memory, in order.
final class V1RecordingSink: UnpackedEntrySink {
    private(set) var entries: [V1Recorded] = []

    func add(_ header: TarHeader, section: Section, data: ByteSource, reflink: ReflinkSource?) throws {
        let bytes = header.type == .regular ? try data.readAll() : []
        entries.append(V1Recorded(header: header, section: section, data: bytes, reflink: reflink))
    }

    var paths: [String] { entries.map(\.header.path) }

    /// The last delivery of each path (a directory delivered again carries its final attributes).
    var nodes: [String: V1Node] {
        var out: [String: V1Node] = [:]
        for e in entries {
            out[e.header.path] = V1Node(e.header, content: e.data)
        }
        return out
    }

    func data(_ path: String) -> [UInt8]? { entries.last(where: { $0.header.path == path })?.data }

    func section(of path: String) -> Section? { entries.first(where: { $0.header.path == path })?.section }
}

/// A minimal extractor for tests: writes what it receives into a directory, trusting the decoder.
final class V1DiskSink: UnpackedEntrySink {
    let root: String
    init(root: String) { self.root = root }

    func add(_ header: TarHeader, section: Section, data: ByteSource, reflink: ReflinkSource?) throws {
        var rel = header.path
        if rel.hasSuffix("/") { rel.removeLast() }
        let path = root + "/" + rel
        let parent = (path as NSString).deletingLastPathComponent
        try FileManager.default.createDirectory(atPath: parent, withIntermediateDirectories: true)
        switch header.type {
        case .directory:
            if !FileManager.default.fileExists(atPath: path) { try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: false) }
        case .regular:
            let bytes = try data.readAll()
            guard FileManager.default.createFile(atPath: path, contents: Data(bytes)) else { throw CheckpointError("IO", "create", entry: path) }
        case .symbolicLink:
            guard symlink(header.linkName, path) == 0 else { throw CheckpointError("IO", "symlink", entry: path) }
        case .hardLink:
            guard link(root + "/" + header.linkName, path) == 0 else { throw CheckpointError("IO", "link", entry: path) }
            return
        case .fifo:
            guard mkfifo(path, 0o600) == 0 else { throw CheckpointError("IO", "mkfifo", entry: path) }
        case .characterDevice, .blockDevice:
            let kind = header.type == .characterDevice ? S_IFCHR : S_IFBLK
            guard mknod(path, kind | 0o600, V1Test.makedev(header.devMajor, header.devMinor)) == 0 else {
                throw CheckpointError("IO", "mknod", entry: path)
            }
        default:
            throw CheckpointError("IO", "unsupported type \(header.type)", entry: path)
        }
        _ = lchown(path, uid_t(header.uid), gid_t(header.gid))
        if header.type != .symbolicLink { _ = chmod(path, mode_t(header.mode & 0o7777)) }
        for x in header.xattrs {
            _ = x.value.withUnsafeBytes { V1Test.lsetxattr(path, x.name, $0.baseAddress, x.value.count, 0) }
        }
    }
}

/// Builds unpacked directories and v1 layouts on disk.
struct V1DirBuilder {
    let root: String

    init(_ url: URL) { root = url.path }

    func full(_ p: String) -> String { root + "/" + p }

    func mkdirs(_ p: String) {
        if mkdir(root, 0o755) == 0 { _ = chmod(root, 0o755) }
        var current = root
        for component in p.split(separator: "/") {
            current += "/" + component
            if mkdir(current, 0o755) == 0 { _ = chmod(current, 0o755) }
        }
    }

    func dir(_ p: String, mode: mode_t = 0o755, uid: uid_t = 0, gid: gid_t = 0) {
        mkdirs(p)
        _ = lchown(full(p), uid, gid)
        _ = chmod(full(p), mode)
    }

    func file(_ p: String, _ content: [UInt8], mode: mode_t = 0o600, uid: uid_t = 0, gid: gid_t = 0) {
        mkdirs((p as NSString).deletingLastPathComponent)
        _ = FileManager.default.createFile(atPath: full(p), contents: Data(content))
        _ = lchown(full(p), uid, gid)
        _ = chmod(full(p), mode)
    }

    func file(_ p: String, _ text: String, mode: mode_t = 0o600, uid: uid_t = 0, gid: gid_t = 0) {
        file(p, Array(text.utf8), mode: mode, uid: uid, gid: gid)
    }

    func symlink(_ p: String, to target: String) {
        mkdirs((p as NSString).deletingLastPathComponent)
        _ = Glibc.symlink(target, full(p))
    }

    func hardlink(_ p: String, to existing: String) {
        _ = Glibc.link(full(existing), full(p))
    }

    func fifo(_ p: String, mode: mode_t = 0o644) {
        mkdirs((p as NSString).deletingLastPathComponent)
        _ = mkfifo(full(p), mode)
        _ = chmod(full(p), mode)
    }

    /// A character device; false where the process may not create one.
    func device(_ p: String, major: Int64, minor: Int64, mode: mode_t = 0o666) -> Bool {
        mkdirs((p as NSString).deletingLastPathComponent)
        guard mknod(full(p), S_IFCHR | mode, V1Test.makedev(major, minor)) == 0 else { return false }
        _ = chmod(full(p), mode)
        return true
    }

    func xattr(_ p: String, _ name: String, _ value: String) -> Bool {
        let v = Array(value.utf8)
        return v.withUnsafeBytes { V1Test.lsetxattr(full(p), name, $0.baseAddress, v.count, 0) } == 0
    }
}

enum V1Test {
    typealias SetXattr = @convention(c) (UnsafePointer<CChar>, UnsafePointer<CChar>, UnsafeRawPointer?, Int, Int32) -> Int32

    /// lsetxattr(2): Glibc's Swift module does not export <sys/xattr.h>, so it is looked up in libc.
    static func lsetxattr(_ path: String, _ name: String, _ value: UnsafeRawPointer?, _ size: Int, _ flags: Int32) -> Int32 {
        guard let symbol = dlsym(nil, "lsetxattr") else { return -1 }
        return unsafeBitCast(symbol, to: SetXattr.self)(path, name, value, size, flags)
    }

    /// glibc's makedev(3), a macro Swift does not import.
    static func makedev(_ major: Int64, _ minor: Int64) -> dev_t {
        let ma = UInt64(major), mi = UInt64(minor)
        return dev_t(((ma & 0xFFFF_F000) << 32) | ((ma & 0xFFF) << 8) | ((mi & 0xFFFF_FF00) << 12) | (mi & 0xFF))
    }

    /// A `stats-dump` with CRIU's magic numbers and an empty payload.
    static let statsDump: [UInt8] = [0x40, 0x59, 0x10, 0x55, 0x06, 0x33, 0x09, 0x57, 0, 0, 0, 0]

    /// `json.MarshalIndent` of a list of strings.
    static func goList(_ items: [String]) -> String { String(decoding: V1JSON.goIndentedStringArray(items), as: UTF8.self) }

    /// What a directory on disk holds, relative paths with `/` after directories, `cka-header.json`,
    /// `cka-index.json` and the intermediate `volumes/` and `ext/` left out.
    static func snapshot(_ dir: String) throws -> [String: V1Node] {
        var out: [String: V1Node] = [:]
        for e in try DirectoryScanner(root: dir, prefix: "").entries(includeRoot: false) {
            let h = e.header
            if ["cka-header.json", "cka-index.json", "volumes/", "ext/"].contains(h.path) { continue }
            var content: [UInt8] = []
            if h.type == .regular { content = try FileSource(path: e.sourcePath).readAll() }
            out[h.path] = V1Node(h, content: content)
        }
        return out
    }

    static func assertSameTree(_ a: [String: V1Node], _ b: [String: V1Node], file: StaticString = #filePath,
                               line: UInt = #line) {
        XCTAssertEqual(a.keys.sorted(), b.keys.sorted(), "paths differ", file: file, line: line)
        for (path, node) in a.sorted(by: { $0.key < $1.key }) {
            guard let other = b[path] else { continue }
            XCTAssertEqual(node, other, "\(path)", file: file, line: line)
        }
    }

    /// Writes a directory as a v1 archive into memory.
    static func write(_ dir: URL, _ profile: CheckpointProfile, options: V1WriterOptions = deterministicOptions)
        throws -> (bytes: [UInt8], summary: V1WriteSummary) {
        let sink = MemorySink()
        let summary = try V1Writer(options: options).write(directory: dir.path, profile: profile, to: sink)
        return (sink.bytes, summary)
    }

    static var deterministicOptions: V1WriterOptions {
        var o = V1WriterOptions()
        o.deterministic = TarWriterOptions.Deterministic(mtime: TarTime(seconds: 1_700_000_000))
        return o
    }

    /// Reads an archive (possibly compressed) into a recording sink.
    static func read(_ bytes: [UInt8], options: V1ReaderOptions = V1ReaderOptions()) throws
        -> (sink: V1RecordingSink, summary: V1ReadSummary) {
        let sink = V1RecordingSink()
        let summary = try V1Reader(options: options).read(archive: MemorySource(bytes), into: sink)
        return (sink, summary)
    }

    /// A tar made by this package's writer from (header, data) pairs; `end: false` leaves out the
    /// end-of-archive blocks.
    static func tar(_ entries: [(TarHeader, [UInt8])], end: Bool = true) throws -> [UInt8] {
        let sink = MemorySink()
        let w = try TarWriter(sink: sink)
        for (h, data) in entries { try w.writeEntry(h, data: data) }
        if end { try w.finish() }
        return sink.bytes
    }

    static func file(_ name: String, _ content: String, mode: Int64 = 0o600) -> (TarHeader, [UInt8]) {
        (TarHeader(path: name, type: .regular, mode: mode), Array(content.utf8))
    }

    static func file(_ name: String, _ content: [UInt8], mode: Int64 = 0o644) -> (TarHeader, [UInt8]) {
        (TarHeader(path: name, type: .regular, mode: mode), content)
    }

    static func dir(_ name: String, mode: Int64 = 0o755) -> (TarHeader, [UInt8]) {
        (TarHeader(path: name, type: .directory, mode: mode), [])
    }

    static func link(_ name: String, to target: String, type: TarEntryType = .symbolicLink) -> (TarHeader, [UInt8]) {
        var h = TarHeader(path: name, type: type, mode: 0o777)
        h.linkName = target
        return (h, [])
    }

    static let podmanSpec = #"{"ociVersion":"1.2.0","annotations":{"io.container.manager":"libpod"}}"#
    static let crioSpec = #"{"ociVersion":"1.2.0","annotations":{"io.container.manager":"cri-o","io.kubernetes.cri-o.Metadata":"{}"}}"#

    /// A minimal Podman-shaped archive around the given extra entries.
    static func podmanArchive(_ extra: [(TarHeader, [UInt8])], spec: String = podmanSpec) throws -> [UInt8] {
        try tar([file("config.dump", #"{"id":"0123","name":"demo","rootfsImageID":"abc"}"#),
                 file("spec.dump", spec), dir("checkpoint/"), file("checkpoint/inventory.img", "criu")] + extra)
    }

    /// Python's tarfile listing of an archive and of its nested tars (dirs with a trailing `/`).
    static func pythonListing(_ path: String) throws -> [String: [String]] {
        let script = """
        import json, sys, tarfile, io
        def names(t):
            return [m.name + ('/' if m.isdir() and not m.name.endswith('/') else '') for m in t.getmembers()]
        out = {}
        with tarfile.open(sys.argv[1], 'r:*') as t:
            out['.'] = names(t)
            for m in t.getmembers():
                if m.isfile() and m.name.endswith('.tar'):
                    data = t.extractfile(m).read()
                    with tarfile.open(fileobj=io.BytesIO(data), mode='r:*') as n:
                        out[m.name] = names(n)
        print(json.dumps(out))
        """
        let r = try TestTools.run(["python3", "-c", script, path])
        XCTAssertEqual(r.status, 0, r.stderrText)
        let object = try JSONSerialization.jsonObject(with: r.stdout) as? [String: [String]]
        return object ?? [:]
    }

    /// GNU tar's listing of an archive, and of one nested tar extracted with `-O`.
    static func gnuListing(_ path: String, nested: String? = nil, in dir: URL) throws -> [String] {
        var target = path
        if let nested {
            let r = try TestTools.run(["tar", "-xOf", path, nested])
            XCTAssertEqual(r.status, 0, r.stderrText)
            target = dir.appendingPathComponent("nested-\(UUID().uuidString)").path
            try r.stdout.write(to: URL(fileURLWithPath: target))
        }
        let r = try TestTools.run(["tar", "-tf", target])
        XCTAssertEqual(r.status, 0, "tar -tf \(nested ?? path): \(r.stderrText)")
        XCTAssertEqual(r.stderrText, "", "GNU tar warned")
        return r.stdoutText.split(separator: "\n").map(String.init)
    }

    static func expectError(_ requirement: String, file: StaticString = #filePath, line: UInt = #line,
                            _ body: () throws -> Void) -> CheckpointError? {
        do {
            try body()
            XCTFail("expected \(requirement)", file: file, line: line)
        } catch let e as CheckpointError {
            XCTAssertEqual(e.requirement, requirement, e.description, file: file, line: line)
            return e
        } catch {
            XCTFail("expected CheckpointError \(requirement), got \(error)", file: file, line: line)
        }
        return nil
    }
}

/// Unpacked directories of each profile, with every section the engine writes.
enum V1Fixtures {
    /// A Podman checkpoint with every section Podman writes.
    static func podman(in base: URL) throws -> (URL, special: (xattrs: Bool, device: Bool)) {
        let url = base.appendingPathComponent("unpacked")
        let b = V1DirBuilder(url)
        b.dir("")
        b.file("cka-header.json", "{}\n", mode: 0o644)
        b.dir("metadata")
        b.file("metadata/config.dump", """
        {
          "id": "0123abcd",
          "name": "demo",
          "rootfsImageID": "abc",
          "namedVolumes": [
            {
              "volumeName": "data",
              "dest": "/data"
            },
            {
              "volumeName": "cache",
              "dest": "/cache"
            }
          ]
        }
        """)
        b.file("metadata/spec.dump", V1Test.podmanSpec)
        b.file("metadata/network.status", #"{"podman":{"interfaces":{"eth0":{"subnets":[{"ipnet":"10.88.0.9/16"}]}}}}"#)
        b.file("metadata/stats-dump", V1Test.statsDump)
        b.dir("checkpoint", mode: 0o700)
        b.file("checkpoint/inventory.img", "inventory")
        b.file("checkpoint/core-1.img", "core")
        b.file("checkpoint/pages-1.img", [UInt8](repeating: 0xA5, count: 5000))
        b.dir("rootfs")
        b.file("rootfs/deleted.files", V1Test.goList(["/etc/motd", "/var/cache/apt"]))
        b.file("rootfs/implied.dirs", V1Test.goList(["/etc", "/srv", "/srv/data", "/tmp"]))
        b.dir("rootfs/tree")
        b.dir("rootfs/tree/etc")
        b.file("rootfs/tree/etc/app.conf", "x=1\n", mode: 0o644)
        b.hardlink("rootfs/tree/etc/hard", to: "rootfs/tree/etc/app.conf")
        b.symlink("rootfs/tree/etc/localtime", to: "/usr/share/zoneinfo/UTC")
        b.dir("rootfs/tree/opt", mode: 0o700, uid: 1000, gid: 1000)
        b.file("rootfs/tree/opt/tool", "#!/bin/sh\n", mode: 0o4755)
        let xattrs = b.xattr("rootfs/tree/opt/tool", "user.origin", "test")
        b.dir("rootfs/tree/srv/data")
        b.file("rootfs/tree/srv/data/state.txt", "state=42\n", mode: 0o640, uid: 1000, gid: 100)
        b.fifo("rootfs/tree/tmp/fifo")
        let device = b.device("rootfs/tree/dev-null", major: 1, minor: 3)
        b.dir("devshm", mode: 0o1777)
        b.file("devshm/shmfile", "shared", mode: 0o666)
        b.dir("volumes")
        b.dir("volumes/data", uid: 1000, gid: 1000)
        b.file("volumes/data/top.txt", "top", mode: 0o644)
        b.file("volumes/data/sub/file.txt", "sub", mode: 0o644)
        b.dir("volumes/cache", mode: 0o700)
        b.dir("logs")
        b.file("logs/ctr.log", "2024-01-01T00:00:00.000000000Z stdout F hello\n")
        b.dir("artifacts", mode: 0o700)
        b.file("artifacts/README", "artifact", mode: 0o644)
        b.symlink("artifacts/latest", to: "README")
        b.dir("ext")
        b.dir("ext/v1")
        b.file("ext/v1/restore-hint.txt", "hint", mode: 0o644)
        return (url, (xattrs, device))
    }

    static func crio(in base: URL) throws -> URL {
        let url = base.appendingPathComponent("unpacked")
        let b = V1DirBuilder(url)
        b.dir("")
        b.dir("metadata")
        b.file("metadata/config.dump", """
        {
          "id": "c0ffee",
          "name": "counter",
          "rootfsImageName": "quay.io/x/counter:latest",
          "createdTime": "2024-01-01T00:00:00.123456789Z",
          "checkpointedTime": "2024-01-01T00:01:00Z",
          "restoredTime": "0001-01-01T00:00:00Z",
          "restored": false
        }
        """)
        b.file("metadata/spec.dump", V1Test.crioSpec)
        b.file("metadata/stats-dump", V1Test.statsDump)
        b.file("metadata/bind.mounts", #"[{"source":"/run/hosts","destination":"/etc/hosts","file_type":"file","permissions":420}]"#)
        b.dir("checkpoint", mode: 0o700)
        b.file("checkpoint/inventory.img", "inventory")
        b.dir("rootfs")
        b.file("rootfs/deleted.files", V1Test.goList(["/root"]))
        b.dir("rootfs/tree")
        b.file("rootfs/tree/test.output", "output\n", mode: 0o644)
        b.dir("logs")
        b.file("logs/dump.log", "criu dump log\n")
        b.file("logs/io.kubernetes.cri-o.LogPath", "2024-01-01T00:00:00Z stdout F hi\n", mode: 0o644)
        return url
    }

    static func containerd(in base: URL) throws -> URL {
        let url = base.appendingPathComponent("unpacked")
        let b = V1DirBuilder(url)
        b.dir("")
        b.dir("metadata")
        b.file("metadata/config.dump",
               #"{"id":"c0ffee","name":"ctr","checkpointedTime":"2024-01-01T00:01:00Z","restoredTime":"0001-01-01T00:00:00Z","restored":false}"#)
        b.file("metadata/spec.dump", #"{"ociVersion":"1.1.0","annotations":{"io.kubernetes.cri.container-name":"ctr"}}"#,
               mode: 0o644)
        b.file("metadata/status", #"{"Version":"v1","Pid":42}"#)
        b.file("metadata/status.dump", #"{"id":"c0ffee","metadata":{"name":"ctr"}}"#)
        b.file("metadata/stats-dump", V1Test.statsDump)
        b.dir("checkpoint", mode: 0o700)
        b.file("checkpoint/inventory.img", "inventory", mode: 0o644)
        b.file("checkpoint/pages-1.img", [UInt8](repeating: 7, count: 3000), mode: 0o644)
        b.dir("rootfs")
        // In the order the reader meets the whiteouts in the layer (walk order).
        b.file("rootfs/deleted.files", V1Test.goList(["/srv", "/etc/motd", "/usr/lib/old", "/var/lib/cache"]))
        b.file("rootfs/implied.dirs", V1Test.goList(["/srv", "/usr", "/usr/lib", "/var", "/var/lib"]))
        b.dir("rootfs/tree")
        b.file("rootfs/tree/srv/new.txt", "new", mode: 0o644)
        b.file("rootfs/tree/usr/lib/new", "lib", mode: 0o755)
        b.dir("rootfs/tree/var/lib/cache", mode: 0o700)
        b.file("rootfs/tree/var/lib/cache/fresh", "fresh", mode: 0o600, uid: 33, gid: 33)
        b.dir("logs")
        b.file("logs/dump.log", "criu\n")
        b.file("logs/container.log", "2024-01-01T00:00:00Z stdout F hi\n")
        return url
    }
}
