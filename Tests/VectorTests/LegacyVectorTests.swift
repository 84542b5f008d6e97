import ByteStreams
import CheckpointArchive
import Compression
import Foundation
import TarFormat
import TestSupport
import VectorCorpus
import XCTest
#if canImport(Glibc)
import Glibc
#endif

/// The v1 vectors are shaped as the engines write them (names, order, modes, nested tars), real tools read them, the
/// stored-block gzip of containerd's layer is gzip, and `ExpectedTree.v1` applies table 9.1 as written.
final class LegacyVectorTests: XCTestCase {
    func archive(_ id: String) throws -> VectorArchive {
        let c = try XCTUnwrap(VectorRegistry.cases.first { $0.id == id }, id)
        return try c.make()
    }

    /// The headers of a tar stream (decompressed first).
    func headers(_ bytes: [UInt8]) throws -> [TarHeader] {
        let reader = TarReader(source: MemorySource(try CorpusGenerator.decompressed(bytes)))
        var out: [TarHeader] = []
        while let h = try reader.next() { out.append(h) }
        return out
    }

    /// The data of the outer entry `name`.
    func data(_ name: String, in bytes: [UInt8]) throws -> [UInt8] {
        let reader = TarReader(source: MemorySource(try CorpusGenerator.decompressed(bytes)))
        while let h = try reader.next() {
            let d = try reader.readData()
            if h.path == name { return d }
        }
        throw VectorError("no entry \(name)")
    }

    static func topLevel(_ headers: [TarHeader]) -> [String] {
        var out: [String] = []
        for h in headers {
            let top = String(h.path.split(separator: "/", omittingEmptySubsequences: false)[0])
            if out.last != top, !out.contains(top) { out.append(top) }
        }
        return out
    }

    // MARK: - Shapes

    func testPodmanVectorsFollowTheIncludeList() throws {
        let every = try headers(archive("v1-podman-every-section").bytes)
        XCTAssertEqual(Self.topLevel(every), ["artifacts", "devshm-checkpoint.tar", "config.dump", "spec.dump",
                                              "network.status", "stats-dump", "ctr.log", "checkpoint", "rootfs-diff.tar",
                                              "deleted.files", "volumes"])
        XCTAssertEqual(every.map(\.path).filter { $0.hasPrefix("volumes") }, ["volumes/cache.tar", "volumes/data.tar"],
                       "no entry for volumes/ itself (CKA-CNV-007)")
        let podman = VectorRegistry.cases.filter { $0.format == .v1 && $0.profile == .podman && $0.result == .valid }
        XCTAssertGreaterThanOrEqual(podman.count, 12)
        for c in podman where c.id != "v1-podman-gnu-tar" {
            let hs = try headers(c.make().bytes)
            let order = Self.topLevel(hs).map { V1TestArchive.podmanOrder.firstIndex(of: $0) ?? -1 }
            XCTAssertEqual(order, order.sorted(), "\(c.id): \(Self.topLevel(hs))")
            XCTAssertFalse(order.contains(-1), c.id)
            for h in hs {
                XCTAssertFalse(h.path.hasPrefix("./"), "\(c.id): \(h.path)")
                XCTAssertEqual(h.type == .directory, h.path.hasSuffix("/"), "\(c.id): \(h.path)")
                if ["config.dump", "spec.dump", "deleted.files", "network.status"].contains(h.path) {
                    XCTAssertEqual(h.mode, 0o600, "\(c.id): \(h.path)")
                }
                if h.path.hasSuffix(".tar") { XCTAssertEqual(h.mode, 0o644, "\(c.id): \(h.path)") }
            }
        }
    }

    func testNestedTarsAreNamedAsPodmanWritesThem() throws {
        let bytes = try archive("v1-podman-every-section").bytes
        let rootfs = try headers(try data("rootfs-diff.tar", in: bytes)).map(\.path)
        XCTAssertEqual(rootfs, ["etc/app.conf", "etc/localtime", "srv/data/", "srv/data/state.txt", "test.output"])
        for nested in ["devshm-checkpoint.tar", "volumes/data.tar", "volumes/cache.tar"] {
            let names = try headers(try data(nested, in: bytes)).map(\.path)
            XCTAssertEqual(names.first, "./", nested)
            XCTAssertTrue(names.allSatisfy { $0.hasPrefix("./") }, "\(nested): \(names)")
        }
    }

    func testCRIOVectorFollowsCRIOsOrder() throws {
        let hs = try headers(archive("v1-crio").bytes)
        XCTAssertEqual(Self.topLevel(hs), V1TestArchive.crioOrder)
        XCTAssertEqual(hs.first { $0.path == "io.kubernetes.cri-o.LogPath" }?.type, .regular)
    }

    func testContainerdVectorIsInWalkOrderWithAGzipLayer() throws {
        let bytes = try archive("v1-containerd").bytes
        let names = try headers(bytes).map(\.path)
        func key(_ p: String) -> [[UInt8]] { p.split(separator: "/").map { Array($0.utf8) } }
        let walk = names.sorted { a, b in
            for (x, y) in zip(key(a), key(b)) where x != y { return x.lexicographicallyPrecedes(y) }
            return key(a).count < key(b).count
        }
        XCTAssertEqual(names, walk, "CKA-CTRD-002")
        let layer = try data("rootfs-diff.tar", in: bytes)
        XCTAssertEqual(CompressionFormat.detect(prefix: layer), .gzip)
        XCTAssertEqual(try headers(layer).map(\.path),
                       ["etc/", "etc/.wh.motd", "etc/app.conf", "var/", "var/cache/", "var/cache/apt/",
                        "var/cache/apt/.wh..wh..opq", "var/cache/apt/lock"])
    }

    // MARK: - Real tools

    func testGNUTarAndGzipReadTheVectors() throws {
        try TestTools.require("tar")
        try TestTools.require("gzip")
        let dir = try TestTools.temporaryDirectory(self)
        for id in ["v1-podman", "v1-podman-zstd", "v1-crio", "v1-containerd"] {
            let bytes = try archive(id).bytes
            let file = dir.appendingPathComponent(id + ".tar")
            try Data(bytes).write(to: file)
            let r = try TestTools.run(["tar", "-tf", file.path])
            XCTAssertEqual(r.status, 0, "\(id): \(r.stderrText)")
            XCTAssertEqual(r.stdoutText.split(separator: "\n").map(String.init), try headers(bytes).map(\.path), id)
        }
        let layer = dir.appendingPathComponent("layer.tar.gz")
        try Data(try data("rootfs-diff.tar", in: archive("v1-containerd").bytes)).write(to: layer)
        XCTAssertEqual(try TestTools.run(["gzip", "-t", layer.path]).status, 0, "stored-block gzip is gzip")
        let r = try TestTools.run(["tar", "-tzf", layer.path])
        XCTAssertEqual(r.status, 0, r.stderrText)
        XCTAssertTrue(r.stdoutText.contains("var/cache/apt/.wh..wh..opq"), r.stdoutText)
    }

    func testStoredGzipRoundTrips() throws {
        XCTAssertEqual(StoredGzip.crc32(Array("123456789".utf8)), 0xCBF4_3926)
        for size in [0, 1, 65535, 65536, 140_000] {
            let data = V2Fixtures.noise(size, seed: UInt32(size + 1))
            let gz = StoredGzip.encode(data)
            XCTAssertEqual(gz.count, 18 + data.count + 5 * max(1, (data.count + 65534) / 65535), "\(size)")
            XCTAssertEqual(try CorpusGenerator.decompressed(gz), data, "\(size)")
        }
    }

    // MARK: - The expected tree

    /// A small archive whose unpacked directory is written out by hand from table 9.1: a checkpoint image without
    /// its directory entry, a rootfs diff whose parent directory is named after its child, a deletion list, a log, an
    /// unknown name; gzip-compressed.
    func testExpectedTreeAppliesTable9_1() throws {
        let a = V1TestArchive([
            .file("config.dump", "{}"), .file("spec.dump", #"{"annotations":{"io.container.manager":"libpod"}}"#),
            .bytes("checkpoint/inventory.img", [1, 2]),
            .nested("rootfs-diff.tar", [.file("a/b/c", "x", mode: 0o644), .dir("a/", mode: 0o700)]),
            .file("deleted.files", "[\n  \"/gone\"\n]"), .file("ctr.log", "log\n", mode: 0o640),
            .file("hint", "h", mode: 0o644),
        ], compression: .gzip)
        let tree = ExpectedTree.v1(a)
        XCTAssertEqual(tree.map(\.path), [
            "checkpoint", "checkpoint/inventory.img", "cka-header.json", "ext", "ext/v1", "ext/v1/hint", "logs",
            "logs/ctr.log", "metadata", "metadata/config.dump", "metadata/spec.dump", "rootfs", "rootfs/deleted.files",
            "rootfs/implied.dirs", "rootfs/tree", "rootfs/tree/a", "rootfs/tree/a/b", "rootfs/tree/a/b/c",
        ])
        let byPath = Dictionary(uniqueKeysWithValues: tree.map { ($0.path, $0) })
        XCTAssertEqual(byPath["checkpoint"]?.mode, "0755")
        XCTAssertEqual(byPath["rootfs/tree/a"]?.mode, "0700")
        XCTAssertEqual(byPath["rootfs/tree/a/b"]?.mode, "0755")
        XCTAssertEqual(byPath["logs/ctr.log"]?.mode, "0640")
        XCTAssertEqual(byPath["rootfs/implied.dirs"]?.sha256, V2TestArchive.sha256(Array("[\n  \"/a/b\"\n]".utf8)))
        XCTAssertEqual(byPath["rootfs/implied.dirs"]?.mode, "0600")
        let header = #"{"format":"checkpoint-archive","version":2,"profile":"podman","compression":"gzip","framed":false,"alignment":0,"creator":"ckpt","sections":[{"kind":"metadata","critical":true},{"kind":"checkpoint","critical":true},{"kind":"rootfs","critical":true},{"kind":"logs","critical":false},{"kind":"ext","name":"v1","critical":false}]}"# + "\n"
        XCTAssertEqual(byPath["cka-header.json"]?.sha256, V2TestArchive.sha256(Array(header.utf8)))
        // ckpt extract's decoder agrees.
        let file = try TestTools.temporaryDirectory(self).appendingPathComponent("a.tar.gz")
        try Data(try a.build()).write(to: file)
        let destination = file.deletingLastPathComponent().appendingPathComponent("unpacked").path
        let source = try FileSource(path: file.path)
        let extractor = try SafeExtractor(destination: destination, options: .forCurrentUser)
        _ = try ArchiveExtraction.decode(try ArchiveOpener.open(source), into: extractor, reflinkDescriptor: nil)
        try extractor.commit()
        XCTAssertEqual(TreeComparison.differences(expected: tree, actual: try TreeScanner.scan(destination),
                                                  compareOwners: geteuid() == 0), [])
    }

    func testContainerdWhiteoutsBecomeTheDeletionList() {
        let tree = ExpectedTree.v1(LegacyKubeFixtures.containerd)
        let byPath = Dictionary(uniqueKeysWithValues: tree.map { ($0.path, $0) })
        XCTAssertEqual(byPath["rootfs/deleted.files"]?.sha256,
                       V2TestArchive.sha256(Array("[\n  \"/etc/motd\",\n  \"/var/cache/apt\"\n]".utf8)))
        XCTAssertNil(byPath["rootfs/implied.dirs"], "a layer names its parent directories")
        XCTAssertNotNil(byPath["rootfs/tree/var/cache/apt/lock"])
        XCTAssertFalse(tree.contains { $0.path.contains(".wh.") }, "CKA-DIR-005: never a .wh. file")
    }

    /// Every v1 case that is not valid is a change of a named valid v1 case, and every v1 case is flagged LegacyProfile.
    func testV1CasesAreMinimalChangesOfValidOnes() {
        let v1 = VectorRegistry.cases.filter { $0.format == .v1 }
        XCTAssertGreaterThanOrEqual(v1.count, 100)
        let valid = Set(v1.filter { $0.result == .valid }.map(\.id))
        for c in v1 {
            XCTAssertTrue(c.flags.contains(.legacyProfile), c.id)
            if c.result != .valid { XCTAssertTrue(valid.contains(c.base ?? ""), "\(c.id): base \(c.base ?? "none")") }
        }
        XCTAssertEqual(Set(v1.map(\.profile)), [.podman, .crio, .containerd, .generic])
    }
}
