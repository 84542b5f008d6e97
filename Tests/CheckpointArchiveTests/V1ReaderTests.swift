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

/// Reading v1 archives made by other tools: GNU tar as checkpointctl's tests make them, the bundled Podman
/// sample, hand-made containerd layers; profile detection; hostile and broken input.
final class V1ReaderTests: XCTestCase {
    // MARK: - Archives made like checkpointctl's tests

    /// A bundle directory laid out as Podman exports it, archived with `cd dir && tar cf x.tar .`.
    func checkpointctlStyleBundle() throws -> URL {
        let work = try TestTools.temporaryDirectory(self)
        let b = V1DirBuilder(work.appendingPathComponent("bundle"))
        b.dir("")
        b.file("config.dump", "{}")
        b.file("spec.dump", """
        {
          "mounts": [{"destination": "/proc", "type": "proc", "source": "proc"}],
          "annotations": {"io.container.manager": "libpod"}
        }
        """)
        b.file("network.status", #"{"podman":{"interfaces":{"eth0":{"subnets":[{"ipnet":"10.88.0.9/16","gateway":"10.88.0.1"}],"mac_address":"f2:99:8d:fb:5a:57"}}}}"#)
        b.file("stats-dump", V1Test.statsDump)
        b.file("checkpoint/inventory.img", "inv")
        b.file("checkpoint/pstree.img", "tree")
        b.file("deleted.files", V1Test.goList(["/etc/issue"]))
        // tar -cf rootfs-diff.tar -C dir test.pid etc/motd (no parent directory entries)
        let diff = V1DirBuilder(work.appendingPathComponent("diff"))
        diff.file("test.pid", "4242\n", mode: 0o644)
        diff.file("etc/motd", "hello\n", mode: 0o644)
        let r = try TestTools.run(["tar", "-cf", b.full("rootfs-diff.tar"), "-C", diff.root, "test.pid", "etc/motd"])
        XCTAssertEqual(r.status, 0, r.stderrText)
        return work.appendingPathComponent("bundle")
    }

    func testGNUTarArchiveWithDotSlashNames() throws {
        try TestTools.require("tar")
        let bundle = try checkpointctlStyleBundle()
        let out = bundle.deletingLastPathComponent().appendingPathComponent("test.tar").path
        let r = try TestTools.run(["tar", "cf", out, "."], directory: bundle)
        XCTAssertEqual(r.status, 0, r.stderrText)
        let sink = V1RecordingSink()
        let summary = try V1Reader().read(archive: try FileSource(path: out), into: sink)
        XCTAssertEqual(summary.profile, .podman)
        XCTAssertEqual(summary.compression, .none)
        XCTAssertTrue(summary.signals.hasRootEntry)
        XCTAssertEqual(summary.signals.configDumpShape, .unknown)
        XCTAssertEqual(summary.impliedDirectories, ["/etc"])
        XCTAssertEqual(summary.deletedFiles, ["/etc/issue"])
        XCTAssertEqual(summary.detection.warnings, [])
        let nodes = sink.nodes
        XCTAssertEqual(nodes["metadata/config.dump"]?.content, Array("{}".utf8))
        XCTAssertEqual(nodes["metadata/stats-dump"]?.content, V1Test.statsDump)
        XCTAssertEqual(nodes["checkpoint/inventory.img"]?.content, Array("inv".utf8))
        XCTAssertEqual(nodes["rootfs/tree/test.pid"]?.content, Array("4242\n".utf8))
        XCTAssertEqual(nodes["rootfs/tree/etc/"]?.mode, 0o755)
        XCTAssertEqual(nodes["rootfs/tree/etc/motd"]?.mode, 0o644)
        XCTAssertEqual(nodes["rootfs/deleted.files"]?.content, Array(V1Test.goList(["/etc/issue"]).utf8))
        XCTAssertEqual(nodes["rootfs/implied.dirs"]?.content, Array(V1Test.goList(["/etc"]).utf8))
        XCTAssertFalse(sink.paths.contains { $0.hasPrefix("./") || $0 == "./" })
        XCTAssertEqual(Set(summary.sections), [Section(.metadata), Section(.checkpoint), Section(.rootfs)])
    }

    func testGzipGNUTarArchive() throws {
        try TestTools.require("tar")
        let bundle = try checkpointctlStyleBundle()
        let out = bundle.deletingLastPathComponent().appendingPathComponent("test.tar.gz").path
        let r = try TestTools.run(["tar", "czf", out, "."], directory: bundle)
        XCTAssertEqual(r.status, 0, r.stderrText)
        let sink = V1RecordingSink()
        let summary = try V1Reader().read(archive: try FileSource(path: out), into: sink)
        XCTAssertEqual(summary.compression, .gzip)
        XCTAssertEqual(summary.profile, .podman)
        XCTAssertEqual(sink.nodes["rootfs/tree/etc/motd"]?.content, Array("hello\n".utf8))
    }

    /// checkpointctl's containerd case: `spec.dump` is `{}`; a status.dump makes it containerd.
    func testCheckpointctlContainerdAndCRIOFixtures() throws {
        let containerd = try V1Test.tar([V1Test.dir("./"), V1Test.file("./config.dump", "{}"), V1Test.file("./spec.dump", "{}"),
                                         V1Test.file("./status.dump", "{}"), V1Test.dir("./checkpoint/"),
                                         V1Test.file("./checkpoint/inventory.img", "i")])
        XCTAssertEqual(try V1Test.read(containerd).summary.profile, .containerd)
        let crio = try V1Test.tar([V1Test.file("config.dump", "{}"), V1Test.file("spec.dump", V1Test.crioSpec),
                                   V1Test.dir("checkpoint/"), V1Test.file("checkpoint/inventory.img", "i")])
        let read = try V1Test.read(crio).summary
        XCTAssertEqual(read.profile, .crio)
        XCTAssertTrue(read.signals.hasCRIOMetadataAnnotation)
    }

    // MARK: - The bundled Podman sample

    func testBundledPodmanSample() throws {
        let path = TestTools.repositoryRoot.appendingPathComponent("Examples/podman-checkpoint.tar.zst").path
        let sink = V1RecordingSink()
        let summary = try V1Reader().read(archive: try FileSource(path: path), into: sink)
        XCTAssertEqual(summary.profile, .podman)
        XCTAssertEqual(summary.compression, .zstd)
        XCTAssertEqual(summary.sections, [Section(.metadata), Section(.checkpoint), Section(.rootfs)])
        XCTAssertEqual(summary.impliedDirectories, ["/etc", "/srv", "/srv/data"])
        XCTAssertEqual(summary.deletedFiles, ["/etc/issue", "/var/cache/apt"])
        XCTAssertEqual(summary.detection.warnings, [])
        XCTAssertEqual(summary.warnings, [])
        XCTAssertEqual(summary.signals.topLevelNames,
                       ["config.dump", "spec.dump", "network.status", "checkpoint", "rootfs-diff.tar", "deleted.files"])
        XCTAssertEqual(sink.paths, [
            "metadata/", "metadata/config.dump", "metadata/spec.dump", "metadata/network.status", "checkpoint/",
            "checkpoint/core-1.img", "checkpoint/inventory.img", "checkpoint/pages-1.img", "checkpoint/pstree.img",
            "rootfs/", "rootfs/tree/", "rootfs/tree/etc/", "rootfs/tree/etc/motd", "rootfs/tree/srv/",
            "rootfs/tree/srv/data/", "rootfs/tree/srv/data/state.txt", "rootfs/implied.dirs", "rootfs/deleted.files",
        ])
        let nodes = sink.nodes
        XCTAssertEqual(nodes["rootfs/tree/etc/motd"]?.content, Array("changed by the container\n".utf8))
        XCTAssertEqual(nodes["metadata/config.dump"]?.mode, 0o600)
        XCTAssertEqual(nodes["rootfs/deleted.files"]?.content, Array("[\n  \"/etc/issue\",\n  \"/var/cache/apt\"\n]".utf8))
        XCTAssertEqual(nodes["checkpoint/pages-1.img"]?.content.count, 8192)
    }

    /// The sample, extracted by a test sink and written again as Podman: the same entries in the same order.
    func testBundledPodmanSampleRewritten() throws {
        let path = TestTools.repositoryRoot.appendingPathComponent("Examples/podman-checkpoint.tar.zst").path
        let dir = try TestTools.temporaryDirectory(self).appendingPathComponent("unpacked")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        _ = try V1Reader().read(archive: try FileSource(path: path), into: V1DiskSink(root: dir.path))
        let (bytes, summary) = try V1Test.write(dir, .podman)
        XCTAssertEqual(summary.entryNames, ["config.dump", "spec.dump", "network.status", "checkpoint/",
                                            "checkpoint/core-1.img", "checkpoint/inventory.img", "checkpoint/pages-1.img",
                                            "checkpoint/pstree.img", "rootfs-diff.tar", "deleted.files"])
        let original = V1RecordingSink()
        _ = try V1Reader().read(archive: try FileSource(path: path), into: original)
        let (again, _) = try V1Test.read(bytes)
        V1Test.assertSameTree(again.nodes, original.nodes)
        XCTAssertEqual(again.paths, original.paths)
    }

    // MARK: - containerd layers made by other tools

    /// A layer made by GNU tar (with a whiteout, an opaque directory) and gzip, as containerd copies it.
    func testGNUTarContainerdLayer() throws {
        try TestTools.require("tar")
        let work = try TestTools.temporaryDirectory(self)
        let layer = V1DirBuilder(work.appendingPathComponent("layer"))
        layer.file("etc/.wh.motd", "", mode: 0)
        layer.file("var/cache/.wh..wh..opq", "", mode: 0)
        layer.file("var/cache/new", "n", mode: 0o644)
        let gz = work.appendingPathComponent("rootfs-diff.tar").path
        let r = try TestTools.run(["sh", "-c", "tar -C '\(layer.root)' --sort=name -cf - etc var | gzip -n > '\(gz)'"])
        XCTAssertEqual(r.status, 0, r.stderrText)
        let layerBytes = try FileSource(path: gz).readAll()
        let archive = try V1Test.tar([V1Test.dir("checkpoint/"), V1Test.file("checkpoint/inventory.img", "i"),
                                      V1Test.file("config.dump", #"{"id":"a","name":"b","checkpointedTime":"x"}"#),
                                      V1Test.file("rootfs-diff.tar", layerBytes), V1Test.file("spec.dump", "{}"),
                                      V1Test.file("status.dump", "{}")])
        let (sink, summary) = try V1Test.read(archive)
        XCTAssertEqual(summary.profile, .containerd)
        XCTAssertEqual(summary.deletedFiles, ["/etc/motd", "/var/cache"])
        XCTAssertEqual(summary.impliedDirectories, [])
        XCTAssertEqual(sink.data("rootfs/deleted.files"), Array(V1Test.goList(["/etc/motd", "/var/cache"]).utf8))
        XCTAssertEqual(sink.nodes["rootfs/tree/var/cache/"]?.type, "dir")
        XCTAssertEqual(sink.nodes["rootfs/tree/etc/"]?.type, "dir")
        XCTAssertFalse(sink.paths.contains { $0.contains(".wh.") })
    }

    // MARK: - Profile detection

    func signals(_ manager: String?, names: [String], rootfs: CompressionFormat? = nil) -> V1ProfileSignals {
        var s = V1ProfileSignals()
        s.specDumpParsed = true
        s.containerManager = manager
        s.topLevelNames = names
        s.rootfsDiffCompression = rootfs
        return s
    }

    func testDetectionRules() {
        XCTAssertEqual(V1ProfileDetector.detect(signals("libpod", names: ["config.dump", "spec.dump"])).profile, .podman)
        XCTAssertEqual(V1ProfileDetector.detect(signals("cri-o", names: ["config.dump"])).profile, .crio)
        XCTAssertEqual(V1ProfileDetector.detect(signals(nil, names: ["checkpoint", "status.dump"])).profile, .containerd)
        XCTAssertEqual(V1ProfileDetector.detect(signals("other", names: ["status.dump"])).profile, .containerd)
        let generic = V1ProfileDetector.detect(signals("something", names: ["config.dump", "bind.mounts"]))
        XCTAssertEqual(generic.profile, .generic)
        XCTAssertEqual(generic.warnings, [])
        let crioLike = V1ProfileDetector.detect({ var s = signals(nil, names: ["bind.mounts"]); s.specDumpParsed = false; return s }())
        XCTAssertEqual(crioLike.profile, .generic)
        XCTAssertEqual(crioLike.suggestedProfile, .crio)
        let ctrdLike = V1ProfileDetector.detect(signals(nil, names: ["checkpoint", "config.dump"], rootfs: .gzip))
        XCTAssertEqual(ctrdLike.suggestedProfile, .containerd)
    }

    func testDetectionContradictionsAreWarnings() {
        let a = V1ProfileDetector.detect(signals("libpod", names: ["config.dump", "spec.dump", "status.dump"]))
        XCTAssertEqual(a.profile, .podman)
        XCTAssertEqual(a.warnings.map(\.requirement), ["CKA-V1-020"])
        XCTAssertTrue(a.warnings[0].message.contains("status.dump"))
        let b = V1ProfileDetector.detect(signals("libpod", names: ["config.dump", "spec.dump", "rootfs-diff.tar"], rootfs: .gzip))
        XCTAssertEqual(b.warnings.count, 1)
        XCTAssertTrue(b.warnings[0].message.contains("gzip rootfs-diff.tar"))
        var c = signals("cri-o", names: ["stats-dump", "dump.log", "checkpoint", "config.dump", "spec.dump"])
        c.outerCompression = .zstd
        XCTAssertEqual(V1ProfileDetector.detect(c).warnings.map(\.message),
                       ["zstd outer compression points to podman, but the archive's profile is cri-o"])
        // Podman's include order read as CRI-O.
        let d = V1ProfileDetector.detect(signals("cri-o", names: ["config.dump", "spec.dump", "network.status", "checkpoint"]))
        XCTAssertTrue(d.warnings.contains { $0.message.hasPrefix("entry order") })
    }

    func testDetectionFromArchives() throws {
        let podmanWithStatus = try V1Test.podmanArchive([V1Test.file("status.dump", "{}")])
        let read = try V1Test.read(podmanWithStatus).summary
        XCTAssertEqual(read.profile, .podman)
        XCTAssertTrue(read.warnings.contains { $0.requirement == "CKA-V1-020" })
        XCTAssertEqual(V1ProfileDetector.configDumpShape(Array(#"{"id":"x","checkpointedTime":"t"}"#.utf8)), .reducedCompact)
        XCTAssertEqual(V1ProfileDetector.configDumpShape(Array("{\n  \"checkpointedTime\": \"t\"\n}".utf8)), .reducedIndented)
        XCTAssertEqual(V1ProfileDetector.configDumpShape(Array(#"{"rootfsImageID":"x"}"#.utf8)), .libpod)
        XCTAssertNil(V1ProfileDetector.configDumpShape(Array("[]".utf8)))
        XCTAssertEqual(try V1ProfileDetector.containerManager(specDump: Array(V1Test.crioSpec.utf8)), "cri-o")
    }

    // MARK: - Required content

    func testMissingRequiredFiles() throws {
        _ = V1Test.expectError("CKA-V1-001") {
            _ = try V1Test.read(try V1Test.tar([V1Test.file("config.dump", "{}"), V1Test.dir("checkpoint/")]))
        }
        _ = V1Test.expectError("CKA-V1-001") {
            _ = try V1Test.read(try V1Test.tar([V1Test.file("config.dump", ""), V1Test.file("spec.dump", "{}")]))
        }
        _ = V1Test.expectError("CKA-V1-002") {
            _ = try V1Test.read(try V1Test.tar([V1Test.file("config.dump", "{}"), V1Test.file("spec.dump", "{}")]))
        }
        _ = V1Test.expectError("CKA-V1-002") {
            _ = try V1Test.read(try V1Test.podmanArchive([V1Test.dir("pre-checkpoint/")]))
        }
        let noInventory = try V1Test.tar([V1Test.file("config.dump", "{}"), V1Test.file("spec.dump", "{}"),
                                          V1Test.dir("checkpoint/")])
        // Read to the end (a validator reports everything), but marked as a reason to refuse the archive.
        let summary = try V1Test.read(noInventory).summary
        XCTAssertEqual(summary.refusals.map(\.requirement), ["CKA-V1-003"])
        XCTAssertFalse(summary.warnings.contains { $0.requirement == "CKA-V1-003" })
    }

    // MARK: - Hostile deleted.files and bind.mounts

    func testHostileDeletedFiles() throws {
        let cases = [#"["../../etc/passwd"]"#, #"["etc/passwd"]"#, #"["/etc/\u0000passwd"]"#, #"["/a/../b"]"#,
                     #"["/"]"#, #"["/a//b"]"#, #"["/a/"]"#, #"["/a/./b"]"#, #"["/\ud800"]"#]
        for json in cases {
            let archive = try V1Test.podmanArchive([V1Test.file("deleted.files", json)])
            let e = V1Test.expectError("CKA-SEC-010") { _ = try V1Test.read(archive) }
            XCTAssertEqual(e?.entry, "deleted.files", json)
            XCTAssertNotNil(e?.offset)
        }
        for json in [#"{"a":1}"#, "[1]", "not json"] {
            let archive = try V1Test.podmanArchive([V1Test.file("deleted.files", json)])
            _ = V1Test.expectError("CKA-V1-014") { _ = try V1Test.read(archive) }
        }
        let long = "/" + String(repeating: "a", count: 4096)
        _ = V1Test.expectError("CKA-SEC-010") {
            _ = try V1Test.read(try V1Test.podmanArchive([V1Test.file("deleted.files", "[\"\(long)\"]")]))
        }
        // Nothing reaches the sink under rootfs/ before the list is checked.
        let sink = V1RecordingSink()
        XCTAssertThrowsError(try V1Reader().read(archive: MemorySource(try V1Test.podmanArchive(
            [V1Test.file("deleted.files", #"["../x"]"#)])), into: sink))
        XCTAssertFalse(sink.paths.contains { $0.hasPrefix("rootfs") })
        // An empty list equals no list.
        let empty = try V1Test.read(try V1Test.podmanArchive([V1Test.file("deleted.files", "[]")]))
        XCTAssertEqual(empty.summary.deletionSource, .none)
        XCTAssertFalse(empty.sink.paths.contains("rootfs/deleted.files"))
    }

    func testHostileBindMounts() throws {
        for json in [#"[{"source":"/a","destination":"../etc","file_type":"file","permissions":420}]"#,
                     #"[{"source":"/a","destination":"/etc/../x","file_type":"file","permissions":420}]"#] {
            _ = V1Test.expectError("CKA-SEC-010") {
                _ = try V1Test.read(try V1Test.podmanArchive([V1Test.file("bind.mounts", json)], spec: V1Test.crioSpec))
            }
        }
        for json in [#"[{"source":"a/b","destination":"/x","file_type":"file","permissions":420}]"#,
                     #"[{"source":"/a","destination":"/x","file_type":"socket","permissions":420}]"#,
                     #"[{"source":"/a","destination":"/x","file_type":"file","permissions":4096}]"#] {
            _ = V1Test.expectError("CKA-V1-018") {
                _ = try V1Test.read(try V1Test.podmanArchive([V1Test.file("bind.mounts", json)], spec: V1Test.crioSpec))
            }
        }
    }

    // MARK: - Hostile nested tars

    func nestedArchive(_ nested: [UInt8], name: String = "rootfs-diff.tar") throws -> [UInt8] {
        try V1Test.podmanArchive([V1Test.file(name, nested)])
    }

    /// The outer offset at which the data of the entry `name` begins.
    func dataOffset(of name: String, in archive: [UInt8]) throws -> Int64 {
        let reader = TarReader(source: MemorySource(archive))
        while let h = try reader.next() { if h.path == name { return h.dataOffset } }
        XCTFail("no \(name)")
        return -1
    }

    func testHostileNestedNames() throws {
        let cases: [(String, [(TarHeader, [UInt8])])] = [
            ("CKA-TAR-034", [V1Test.file("../escape", "x")]),
            ("CKA-TAR-034", [V1Test.file("etc/../../escape", "x")]),
            ("CKA-TAR-034", [V1Test.file("/etc/passwd", "x")]),
            ("CKA-TAR-034", [V1Test.file("a//b", "x")]),
            ("CKA-TAR-040", [V1Test.link("etc/shadow", to: "../../etc/shadow", type: .hardLink)]),
            ("CKA-TAR-040", [V1Test.link("etc/shadow", to: "/etc/shadow", type: .hardLink)]),
            ("CKA-TAR-040", [V1Test.link("evil", to: "config.dump", type: .hardLink)]),
            ("CKA-TAR-040", [V1Test.dir("d/"), V1Test.link("evil", to: "d", type: .hardLink)]),
            ("CKA-TAR-038", [V1Test.link("a", to: "/etc"), V1Test.file("a/passwd", "x")]),
            ("CKA-TAR-037", [V1Test.file("a", "1"), V1Test.file("./a", "2")]),
        ]
        for (requirement, entries) in cases {
            let archive = try nestedArchive(try V1Test.tar(entries))
            let base = try dataOffset(of: "rootfs-diff.tar", in: archive)
            let sink = V1RecordingSink()
            var caught: CheckpointError?
            do { _ = try V1Reader().read(archive: MemorySource(archive), into: sink) } catch let e as CheckpointError { caught = e }
            XCTAssertEqual(caught?.requirement, requirement, "\(entries.map(\.0.path)) \(String(describing: caught))")
            XCTAssertGreaterThanOrEqual(caught?.offset ?? -1, base, "offset in the outer stream")
            XCTAssertTrue(caught?.entry?.hasPrefix("rootfs-diff.tar: ") ?? false, String(describing: caught?.entry))
            // Nothing escaped the tree.
            for p in sink.paths where p.hasPrefix("rootfs/") {
                XCTAssertNil(V1Path.problem(Array(p.utf8.dropLast(p.hasSuffix("/") ? 1 : 0))), p)
                XCTAssertFalse(p.contains(".."), p)
            }
        }
        // The same in a volume tar.
        let volume = try V1Test.tar([V1Test.dir("./"), V1Test.file("./../x", "x")])
        _ = V1Test.expectError("CKA-TAR-034") { _ = try V1Test.read(try self.nestedArchive(volume, name: "volumes/data.tar")) }
        // Nested tars are read one level deep: a tar inside the rootfs tree is just a file.
        let inner = try V1Test.tar([V1Test.file("../../escape", "x")])
        let (sink, _) = try V1Test.read(try nestedArchive(try V1Test.tar([V1Test.file("rootfs-diff.tar", inner)])))
        XCTAssertEqual(sink.data("rootfs/tree/rootfs-diff.tar"), inner)
    }

    func testHostileOuterEntries() throws {
        _ = V1Test.expectError("CKA-TAR-034") { _ = try V1Test.read(try V1Test.podmanArchive([V1Test.file("../x", "x")])) }
        _ = V1Test.expectError("CKA-TAR-034") {
            _ = try V1Test.read(try V1Test.podmanArchive([V1Test.file("checkpoint/../../x", "x")]))
        }
        var device = TarHeader(path: "checkpoint/dev", type: .characterDevice, mode: 0o600)
        device.devMajor = 1
        device.devMinor = 3
        _ = V1Test.expectError("CKA-TAR-008") { _ = try V1Test.read(try V1Test.podmanArchive([(device, [])])) }
        _ = V1Test.expectError("CKA-TAR-034") {
            _ = try V1Test.read(try V1Test.podmanArchive([V1Test.file("volumes/../x.tar", [UInt8]())]))
        }
        _ = V1Test.expectError("CKA-V1-017") {
            _ = try V1Test.read(try V1Test.podmanArchive([V1Test.file("volumes/sub/x.tar", [UInt8]())]))
        }
        _ = V1Test.expectError("CKA-V1-017") {
            _ = try V1Test.read(try V1Test.podmanArchive([V1Test.file("volumes/.hidden.tar", [UInt8]())]))
        }
        _ = V1Test.expectError("CKA-TAR-037") {
            _ = try V1Test.read(try V1Test.podmanArchive([V1Test.file("./config.dump", "{}")]))
        }
        let nested = try V1Test.tar([V1Test.file("x", "1")])
        _ = V1Test.expectError("CKA-TAR-037") {
            _ = try V1Test.read(try V1Test.podmanArchive([V1Test.file("rootfs-diff.tar", nested), V1Test.file("./rootfs-diff.tar", nested)]))
        }
        _ = V1Test.expectError("CKA-CMP-013") {
            _ = try V1Test.read(try V1Test.podmanArchive([V1Test.file("devshm-checkpoint.tar", [0x1F, 0x8B, 8, 0, 0, 0, 0, 0, 0, 3])]))
        }
    }

    // MARK: - Broken nested tars

    func testBrokenNestedTarHasTypedErrorWithOuterOffset() throws {
        var nested = try V1Test.tar([V1Test.file("a.txt", "aaaa"), V1Test.file("b.txt", "bbbb")])
        nested[1024 + 20] ^= 0xFF  // corrupt the name of the second header: checksum mismatch
        let archive = try nestedArchive(nested)
        let base = try dataOffset(of: "rootfs-diff.tar", in: archive)
        let e = V1Test.expectError("CKA-TAR-004") { _ = try V1Test.read(archive) }
        XCTAssertEqual(e?.offset, base + 1024)
        XCTAssertEqual(e?.entry, "rootfs-diff.tar")
        // A nested tar without its end-of-archive blocks.
        let truncated = try V1Test.tar([V1Test.file("a.txt", "aaaa")], end: false)
        let e2 = V1Test.expectError("CKA-TAR-001") { _ = try V1Test.read(try self.nestedArchive(truncated)) }
        XCTAssertNotNil(e2?.offset)
        // Cut in the middle of a nested header.
        let cut = Array(try V1Test.tar([V1Test.file("a.txt", "aaaa")]).prefix(700))
        _ = V1Test.expectError("CKA-TAR-001") { _ = try V1Test.read(try self.nestedArchive(cut)) }
        // Garbage after the nested end-of-archive marker.
        let garbage = try V1Test.tar([V1Test.file("a.txt", "aaaa")]) + [UInt8](repeating: 0x41, count: 512)
        _ = V1Test.expectError("CKA-TAR-003") { _ = try V1Test.read(try self.nestedArchive(garbage)) }
        // A truncated outer stream.
        let whole = try nestedArchive(try V1Test.tar([V1Test.file("a.txt", String(repeating: "a", count: 3000))]))
        let base2 = try dataOffset(of: "rootfs-diff.tar", in: whole)
        let e3 = V1Test.expectError("CKA-TAR-001") { _ = try V1Test.read(Array(whole.prefix(Int(base2) + 1600))) }
        XCTAssertFalse(e3?.entry?.hasPrefix("rootfs-diff.tar: ") ?? true, "an outer error stays an outer error")
    }

    func testBrokenContainerdLayer() throws {
        func layer(_ entries: [(TarHeader, [UInt8])]) throws -> [UInt8] {
            let sink = MemorySink()
            let gz = try GzipEncodingSink(inner: sink)
            try gz.write(try V1Test.tar(entries))
            try gz.finish()
            return sink.bytes
        }
        func archive(_ layer: [UInt8]) throws -> [UInt8] {
            try V1Test.tar([V1Test.dir("checkpoint/"), V1Test.file("checkpoint/inventory.img", "i"),
                            V1Test.file("config.dump", "{}"), V1Test.file("rootfs-diff.tar", layer),
                            V1Test.file("spec.dump", "{}"), V1Test.file("status.dump", "{}")])
        }
        _ = V1Test.expectError("CKA-CTRD-005") { _ = try V1Test.read(try archive(try layer([V1Test.file("etc/.wh.motd", "x")]))) }
        _ = V1Test.expectError("CKA-CTRD-005") { _ = try V1Test.read(try archive(try layer([V1Test.file("etc/.wh..wh.plnk", "")]))) }
        _ = V1Test.expectError("CKA-CTRD-005") { _ = try V1Test.read(try archive(try layer([V1Test.dir("etc/.wh.x/")]))) }
        _ = V1Test.expectError("CKA-V2-033") { _ = try V1Test.read(try archive(try layer([V1Test.file(".wh..wh..opq", "")]))) }
        _ = V1Test.expectError("CKA-SEC-010") { _ = try V1Test.read(try archive(try layer([V1Test.file("etc/.wh...", "")]))) }
        var gz = try layer([V1Test.file("a", String(repeating: "z", count: 5000))])
        gz[gz.count - 6] ^= 0xFF  // CRC
        let e = V1Test.expectError("CKA-CTRD-004") { _ = try V1Test.read(try archive(gz)) }
        XCTAssertNotNil(e?.offset)
        // deleted.files next to whiteouts.
        let both = try V1Test.tar([V1Test.dir("checkpoint/"), V1Test.file("checkpoint/inventory.img", "i"),
                                   V1Test.file("config.dump", "{}"), V1Test.file("deleted.files", #"["/x"]"#),
                                   V1Test.file("rootfs-diff.tar", try layer([V1Test.file(".wh.y", "")])),
                                   V1Test.file("spec.dump", "{}"), V1Test.file("status.dump", "{}")])
        _ = V1Test.expectError("CKA-CTRD-003") { _ = try V1Test.read(both) }
        // A bomb: the layer may not expand beyond its budget.
        var options = V1ReaderOptions()
        options.nestedExpansionRatio = 2
        let bomb = try archive(try layer([V1Test.file("zeros", [UInt8](repeating: 0, count: 200_000))]))
        _ = V1Test.expectError("CKA-CTRD-004") { _ = try V1Test.read(bomb, options: options) }
    }

    // MARK: - Late directory entries, reflinks

    /// Hand-made archives may name a directory after entries inside it: it is delivered again with its
    /// attributes and is no longer implied.
    func testDirectoryNamedAfterItsContent() throws {
        let nested = try V1Test.tar([V1Test.file("etc/motd", "m", mode: 0o644), V1Test.dir("etc/", mode: 0o700)])
        let archive = try V1Test.tar([V1Test.file("checkpoint/inventory.img", "i"), V1Test.dir("checkpoint/", mode: 0o711),
                                      V1Test.file("config.dump", "{}"), V1Test.file("spec.dump", V1Test.podmanSpec),
                                      V1Test.file("rootfs-diff.tar", nested)])
        let (sink, summary) = try V1Test.read(archive)
        XCTAssertEqual(summary.impliedDirectories, [])
        XCTAssertNil(sink.nodes["rootfs/implied.dirs"])
        XCTAssertEqual(sink.nodes["rootfs/tree/etc/"]?.mode, 0o700)
        XCTAssertEqual(sink.nodes["checkpoint/"]?.mode, 0o711)
        XCTAssertEqual(sink.paths.filter { $0 == "checkpoint/" }.count, 2)
    }

    func testReflinkOffsetsPointAtTheData() throws {
        let nested = try V1Test.tar([V1Test.file("etc/big", [UInt8](repeating: 0x5A, count: 10_000))])
        let archive = try V1Test.podmanArchive([V1Test.file("rootfs-diff.tar", nested)])
        let path = try TestTools.temporaryDirectory(self).appendingPathComponent("a.tar").path
        try Data(archive).write(to: URL(fileURLWithPath: path))
        let fd = open(path, O_RDONLY)
        defer { close(fd) }
        var options = V1ReaderOptions()
        options.reflinkDescriptor = fd
        let sink = V1RecordingSink()
        _ = try V1Reader(options: options).read(archive: try FileSource(path: path), into: sink)
        var checked = 0
        // rootfs/implied.dirs is made by the reader: it has no bytes in the archive.
        for e in sink.entries where e.header.type == .regular && e.header.path != "rootfs/implied.dirs" {
            guard let r = e.reflink else { XCTFail("no reflink for \(e.header.path)"); continue }
            XCTAssertEqual(Array(archive[Int(r.offset)..<(Int(r.offset) + e.data.count)]), e.data, e.header.path)
            checked += 1
        }
        XCTAssertEqual(checked, 4)
    }
}
