import ByteStreams
import CheckpointArchive
import Compression
@testable import Conformance
import Foundation
import TarFormat
import TestSupport
import XCTest

/// The v1 rules of part 4 (common, Podman, CRI-O, containerd) on archives that break exactly one of them, with a
/// close variant that breaks nothing.
final class V1CheckerTests: XCTestCase {
    typealias C = V1TestArchive

    // MARK: - Valid archives of each profile

    func testMinimalArchivesOfEachProfileAreValid() throws {
        let (_, podman) = assertV1Findings(try C.podman(), [])
        XCTAssertEqual(podman.profile, "podman")
        XCTAssertEqual(podman.profileReason, "spec.dump annotation io.container.manager is \"libpod\"")
        let (_, crio) = assertV1Findings(try C.crio(), [])
        XCTAssertEqual(crio.profile, "cri-o")
        let layer = try C.layer([C.file("etc/motd", "hi", mode: 0o644), C.file("etc/.wh.issue", "", mode: 0o600)])
        let (_, containerd) = assertV1Findings(try C.containerd(rootfs: layer), [])
        XCTAssertEqual(containerd.profile, "containerd")
        XCTAssertEqual(containerd.profileReason, "no io.container.manager annotation and a top-level status.dump")
    }

    func testRulesThatRanAreRecorded() throws {
        let (c, _) = C.run(try C.crio())
        for id in ["CKA-V1-001", "CKA-V1-019", "CKA-CRIO-002", "CKA-CRIO-005", "CKA-TAR-003", "CKA-TAR-037"] {
            XCTAssertTrue(c.checked.contains(id), id)
        }
        XCTAssertFalse(c.checked.contains("CKA-POD-003"), "Podman rules do not run on a CRI-O archive")
    }

    // MARK: - The bundled Podman sample

    func testBundledPodmanSampleIsValid() throws {
        let path = TestTools.repositoryRoot.appendingPathComponent("Examples/podman-checkpoint.tar.zst").path
        let (c, result) = try C.run(file: path)
        XCTAssertEqual(c.diagnostics.filter { $0.severity == .error }.map(\.id), [])
        XCTAssertEqual(result.profile, "podman")
        XCTAssertNil(result.ioError)
        // The sample's images are 0600 as CRIU writes them, and carry real CRIU magic numbers (made by crit).
        XCTAssertEqual(c.diagnostics.map(\.id), [])
        XCTAssertTrue(c.checked.contains("CKA-CMP-007"))
    }

    // MARK: - Archives shaped as checkpointctl's tests build them

    /// `cd dir && tar cf x.tar .` (GNU tar, `./` names), optionally `tar czf`.
    func checkpointctlArchive(config: String, spec: String, inventory: Bool, gzip: Bool = false) throws -> [UInt8] {
        try TestTools.require("tar")
        var files: [String: (String, Int)] = ["config.dump": (config, 0o600), "spec.dump": (spec, 0o600)]
        if inventory { files["checkpoint/inventory.img"] = (String(decoding: C.inventory, as: UTF8.self), 0o600) }
        let dir = try makeV1TestTree(files, dirs: ["checkpoint"])
        let out = dir.deletingLastPathComponent().appendingPathComponent(gzip ? "test.tar.gz" : "test.tar").path
        let r = try TestTools.run(["tar", gzip ? "czf" : "cf", out, "."], directory: dir)
        XCTAssertEqual(r.status, 0, r.stderrText)
        return try FileSource(path: out).readAll()
    }

    static let checkpointctlSpec = """
    {
      "ociVersion": "1.0.0",
      "mounts": [{"destination": "/proc", "type": "proc", "source": "proc"}],
      "annotations": {"io.container.manager": "libpod"}
    }
    """

    func testCheckpointctlShapedArchives() throws {
        // config.dump `{}` lacks id and name (CKA-V1-010); an empty checkpoint/ has no inventory.img (CKA-V1-003).
        let bare = try checkpointctlArchive(config: "{}", spec: Self.checkpointctlSpec, inventory: false)
        let (_, result) = assertV1Findings(bare, ["CKA-V1-003", "CKA-V1-010"])
        XCTAssertEqual(result.profile, "podman")
        assertV1Findings(try checkpointctlArchive(config: "{}", spec: Self.checkpointctlSpec, inventory: false, gzip: true),
                         ["CKA-V1-003", "CKA-V1-010"])
        // The same with what restore needs: valid, with `./` names and GNU headers.
        let complete = #"{"id":"4a5b","name":"demo"}"#
        assertV1Findings(try checkpointctlArchive(config: complete, spec: Self.checkpointctlSpec, inventory: true), [])
        assertV1Findings(try checkpointctlArchive(config: complete, spec: Self.checkpointctlSpec, inventory: true, gzip: true), [])
    }

    /// checkpointctl's "containerd" case: `spec.dump` `{}` and no status.dump, which CKA-V1-019 calls generic.
    func testCheckpointctlContainerdCaseIsGeneric() throws {
        let bytes = try checkpointctlArchive(config: #"{"id":"a","name":"b"}"#, spec: "{}\n", inventory: true)
        let (_, result) = assertV1Findings(bytes, [])
        XCTAssertEqual(result.profile, "generic")
        XCTAssertEqual(result.profileReason, "no io.container.manager annotation and no top-level status.dump; "
                       + "the other signals point to containerd")
    }

    func testCheckpointctlCorruptedArchives() throws {
        var plain = try checkpointctlArchive(config: "{}", spec: Self.checkpointctlSpec, inventory: false)
        for i in 2..<12 { plain[i] = 0x5A }
        assertV1Findings(plain, ["CKA-CMP-003"])
        var gz = try checkpointctlArchive(config: "{}", spec: Self.checkpointctlSpec, inventory: false, gzip: true)
        for i in 2..<12 { gz[i] = 0x5A }
        assertV1Findings(gz, ["CKA-CMP-006"])
        // An empty file: a tar stream without its end-of-archive marker.
        assertV1Findings([], ["CKA-TAR-001"])
    }

    // MARK: - Archives written by `ckpt create --format v1`

    func testArchivesWrittenByCkptCreateAreValid() throws {
        let common: [String: (String, Int)] = [
            "checkpoint/inventory.img": (String(decoding: C.inventory, as: UTF8.self), 0o600),
            "rootfs/tree/etc/motd": ("hello\n", 0o644),
        ]
        let layouts: [(String, [String: (String, Int)])] = [
            ("podman", ["metadata/config.dump": (C.podmanConfig, 0o600), "metadata/spec.dump": (C.podmanSpec, 0o600),
                        "rootfs/deleted.files": ("[\n  \"/etc/issue\"\n]", 0o600), "devshm/shm": ("s", 0o644)]),
            ("cri-o", ["metadata/config.dump": (C.crioConfig, 0o600), "metadata/spec.dump": (C.crioSpec, 0o600),
                       "rootfs/deleted.files": ("[\n  \"/etc/issue\"\n]", 0o600)]),
            ("containerd", ["metadata/config.dump": (C.containerdConfig, 0o600),
                            "metadata/spec.dump": (C.containerdSpec, 0o600),
                            "metadata/status.dump": (#"{"id":"c0ffee"}"#, 0o600),
                            "rootfs/deleted.files": ("[\n  \"/etc/issue\"\n]", 0o600)]),
        ]
        for (profile, files) in layouts {
            let dir = try makeV1TestTree(common.merging(files) { $1 }, dirs: ["checkpoint"])
            let out = dir.deletingLastPathComponent().appendingPathComponent("\(profile).tar").path
            let compress = profile == "podman" ? "zstd" : "none"
            let r = try TestTools.run([TestTools.product("ckpt"), "create", "--format", "v1", "--profile", profile,
                                       "--compress", compress, "--quiet", dir.path, out])
            XCTAssertEqual(r.status, 0, "\(profile): \(r.stderrText)")
            let (c, result) = try C.run(file: out)
            XCTAssertEqual(c.diagnostics.map { "\($0.id): \($0.message)" }, [], profile)
            XCTAssertEqual(result.profile, profile)
        }
    }

    // MARK: - Common rules (CKA-V1-001 .. 020)

    func testRequiredMetadataFiles() throws {
        assertV1Findings(try C.tar([C.file("config.dump", C.podmanConfig), C.dir("checkpoint/"),
                                    C.file("checkpoint/inventory.img", bytes: C.inventory)]), ["CKA-V1-001"])
        assertV1Findings(try C.podman(spec: "[1]"), ["CKA-V1-001"])
        assertV1Findings(try C.podman(spec: "{"), ["CKA-V1-001"])
    }

    func testExactlyOneCheckpointDirectory() throws {
        assertV1Findings(try C.tar([C.file("config.dump", C.podmanConfig), C.file("spec.dump", C.podmanSpec)]),
                         ["CKA-V1-002"])
        assertV1Findings(try C.podman([C.dir("pre-checkpoint/"), C.file("pre-checkpoint/inventory.img", bytes: C.inventory)]),
                         ["CKA-V1-002"])
    }

    func testInventoryImage() throws {
        assertV1Findings(try C.tar([C.file("config.dump", C.podmanConfig), C.file("spec.dump", C.podmanSpec),
                                    C.dir("checkpoint/"), C.file("checkpoint/pstree.img", bytes: Self.pstreeImage)]),
                         ["CKA-V1-003"])
    }

    func testUnknownTopLevelName() throws {
        let (c, _) = assertV1Findings(try C.podman([C.file("notes.txt", "hi")]), ["CKA-V1-005"])
        XCTAssertEqual(c.diagnostics.first?.severity, .warning)
    }

    func testNestedTarsGetTheTarRules() throws {
        let diff = try C.tar([C.file("etc/motd", "1", mode: 0o644), C.file("etc/motd", "2", mode: 0o644)])
        let (c, _) = assertV1Findings(try C.podman([C.file("rootfs-diff.tar", bytes: diff, mode: 0o644)]), ["CKA-TAR-037"])
        XCTAssertEqual(c.diagnostics.first?.path, "rootfs-diff.tar: etc/motd")
        // Offsets are outer offsets: the nested header lies inside the outer entry's data.
        XCTAssertGreaterThan(c.diagnostics.first?.offset ?? 0, 2048)
        let good = try C.tar([C.file("etc/motd", "1", mode: 0o644)])
        assertV1Findings(try C.podman([C.file("rootfs-diff.tar", bytes: good, mode: 0o644)]), [])
        assertV1Findings(try C.podman([C.dir("rootfs-diff.tar/")]), ["CKA-V1-006"])
        // A nested tar that ends without its end-of-archive marker.
        let cut = Array(good.prefix(1024))
        let (cutFindings, _) = assertV1Findings(try C.podman([C.file("rootfs-diff.tar", bytes: cut, mode: 0o644)]),
                                                ["CKA-TAR-001"])
        XCTAssertEqual(cutFindings.diagnostics.first?.path, "rootfs-diff.tar")
    }

    func testDevicesOnlyInNestedTars() throws {
        var dev = TarHeader(path: "./null", type: .characterDevice, mode: 0o666)
        dev.devMajor = 1
        dev.devMinor = 3
        let shm = try C.tar([C.dir("./"), V1TestEntry(header: dev)])
        assertV1Findings(try C.podman([C.file("devshm-checkpoint.tar", bytes: shm, mode: 0o644)]), [])
        var outer = dev
        outer.path = "checkpoint/null"
        let (c, _) = C.run(try C.podman([V1TestEntry(header: outer)]))
        XCTAssertEqual(c.diagnostics.first?.id, "CKA-TAR-008")
    }

    func testMetadataJSONTypes() throws {
        assertV1Findings(try C.podman([C.file("network.status", "[]")]), ["CKA-V1-007"])
        assertV1Findings(try C.podman([C.file("network.status", "{\"podman\":")]), ["CKA-V1-007"])
        assertV1Findings(try C.podman([C.file("network.status", "{}")]), [])
    }

    func testAnnotationsAreStrings() throws {
        let spec = #"{"annotations":{"io.container.manager":"libpod","n":1}}"#
        assertV1Findings(try C.podman(spec: spec), ["CKA-V1-008"])
    }

    func testSecretFileModes() throws {
        let (c, _) = assertV1Findings(try C.tar([C.file("config.dump", C.podmanConfig, mode: 0o644),
                                                 C.file("spec.dump", C.podmanSpec), C.dir("checkpoint/"),
                                                 C.file("checkpoint/inventory.img", bytes: C.inventory, mode: 0o640)]),
                                      ["CKA-V1-009"])
        XCTAssertEqual(c.diagnostics.map(\.path), ["config.dump", "checkpoint/inventory.img"])
        XCTAssertEqual(c.diagnostics.first?.severity, .warning)
        assertV1Findings(try C.tar([C.file("config.dump", C.podmanConfig, mode: 0o400), C.file("spec.dump", C.podmanSpec),
                                    C.dir("checkpoint/", mode: 0o700), C.file("checkpoint/inventory.img", bytes: C.inventory)]),
                         [])
    }

    func testConfigDumpIDAndName() throws {
        assertV1Findings(try C.podman(config: #"{"id":"x","rootfsImageID":"abc"}"#), ["CKA-V1-010"])
        assertV1Findings(try C.podman(config: #"{"id":"x","name":7,"rootfsImageID":"abc"}"#), ["CKA-V1-010"])
    }

    func testCheckpointDirectoryEntries() throws {
        assertV1Findings(try C.podman([C.link("checkpoint/x", to: "/etc/passwd")]), ["CKA-V1-012"])
        assertV1Findings(try C.podman([C.link("checkpoint/hard", to: "checkpoint/inventory.img", type: .hardLink)]),
                         ["CKA-V1-012"])
        assertV1Findings(try C.podman([C.link("checkpoint/parent", to: "../elsewhere")]), ["CKA-V1-012"])
        assertV1Findings(try C.podman([C.link("checkpoint/parent", to: "../pre-checkpoint")]), [])
    }

    func testStatsDump() throws {
        assertV1Findings(try C.podman([C.file("stats-dump", bytes: C.statsDump)]), [])
        let (c, _) = assertV1Findings(try C.podman([C.file("stats-dump", C.podmanSpec)]), ["CKA-V1-013"])
        XCTAssertEqual(c.diagnostics.first?.severity, .warning)
        var long = C.statsDump
        long[8] = 200
        assertV1Findings(try C.podman([C.file("stats-dump", bytes: long)]), ["CKA-V1-013"])
        assertV1Findings(try C.podman([C.file("stats-dump", bytes: Array(C.statsDump.prefix(6)))]), ["CKA-V1-013"])
    }

    func testDeletedFiles() throws {
        assertV1Findings(try C.podman([C.file("deleted.files", #"{"a":1}"#)]), ["CKA-V1-014"])
        assertV1Findings(try C.podman([C.file("deleted.files", #"["../../../../tmp/victim_file.txt"]"#)]), ["CKA-SEC-010"])
        assertV1Findings(try C.podman([C.file("deleted.files", #"["/etc/issue"]"#)]), [])
    }

    func testWhiteoutsInPodmanRootfsDiff() throws {
        let diff = try C.tar([C.file("etc/.wh.issue", "", mode: 0o644)])
        assertV1Findings(try C.podman([C.file("rootfs-diff.tar", bytes: diff, mode: 0o644)]), ["CKA-V1-015"])
    }

    func testNamedVolumes() throws {
        let config = #"{"id":"x","name":"y","rootfsImageID":"abc","namedVolumes":[{"volumeName":"data","dest":"/data"}]}"#
        let (c, _) = assertV1Findings(try C.podman(config: config), ["CKA-V1-016"])
        XCTAssertEqual(c.diagnostics.first?.severity, .warning)
        let volume = try C.tar([C.dir("./"), C.file("./a", "1", mode: 0o644)])
        assertV1Findings(try C.podman([C.dir("volumes/", mode: 0o700), C.file("volumes/data.tar", bytes: volume, mode: 0o644)],
                                      config: config), [])
    }

    func testVolumeTarNames() throws {
        let volume = try C.tar([C.dir("./")])
        assertV1Findings(try C.podman([C.dir("volumes/", mode: 0o700), C.file("volumes/.hidden.tar", bytes: volume)]),
                         ["CKA-V1-017"])
        assertV1Findings(try C.podman([C.dir("volumes/", mode: 0o700), C.file("volumes/data.tgz", bytes: volume)]),
                         ["CKA-V1-017"])
    }

    func testBindMounts() throws {
        let good = #"[{"source":"/run/hosts","destination":"/etc/hosts","file_type":"file","permissions":420}]"#
        assertV1Findings(try C.crio([C.file("bind.mounts", good)]), [])
        let badType = #"[{"source":"/run/hosts","destination":"/etc/hosts","file_type":"socket","permissions":420}]"#
        assertV1Findings(try C.crio([C.file("bind.mounts", badType)]), ["CKA-V1-018"])
        let escape = #"[{"source":"/run/hosts","destination":"/../etc/hosts","file_type":"file","permissions":420}]"#
        assertV1Findings(try C.crio([C.file("bind.mounts", escape)]), ["CKA-SEC-010"])
    }

    func testProfileDetectionReasons() throws {
        let forced = C.run(try C.crio(), profile: .crio).result
        XCTAssertEqual(forced.profile, "cri-o")
        XCTAssertEqual(forced.profileReason, "forced by --profile cri-o, as detected: spec.dump annotation io.container.manager is \"cri-o\"")
        let generic = C.run(try C.tar([C.file("config.dump", C.crioConfig), C.file("spec.dump", "{\"annotations\":{\"io.container.manager\":\"other\"}}"),
                                       C.dir("checkpoint/"), C.file("checkpoint/inventory.img", bytes: C.inventory),
                                       C.file("bind.mounts", "[]")])).result
        XCTAssertEqual(generic.profile, "generic")
        XCTAssertEqual(generic.profileReason, "io.container.manager is \"other\" (neither libpod nor cri-o) and no top-level "
                       + "status.dump")
    }

    func testContradictingSignals() throws {
        let (c, result) = assertV1Findings(try C.podman([C.file("status.dump", "{}")]), ["CKA-V1-020"])
        XCTAssertEqual(result.profile, "podman")
        XCTAssertEqual(c.diagnostics.first?.severity, .warning)
    }

    // MARK: - Podman (CKA-POD-002, 003, 004, 006)

    func testForcedPodmanNeedsLibpod() throws {
        assertV1Findings(try C.podman(spec: "{}"), ["CKA-POD-002", "CKA-V1-020"], profile: .podman)
        assertV1Findings(try C.podman(), [], profile: .podman)
    }

    func testPodmanDevShmAndVolumeNames() throws {
        let good = try C.tar([C.dir("./", mode: 0o1777), C.file("./shm", "s", mode: 0o644)])
        assertV1Findings(try C.podman([C.file("devshm-checkpoint.tar", bytes: good, mode: 0o644)]), [])
        let noRoot = try C.tar([C.file("./shm", "s", mode: 0o644)])
        assertV1Findings(try C.podman([C.file("devshm-checkpoint.tar", bytes: noRoot, mode: 0o644)]), ["CKA-POD-003"])
        let plainNames = try C.tar([C.dir("./"), C.file("shm", "s", mode: 0o644)])
        let (c, _) = assertV1Findings(try C.podman([C.file("devshm-checkpoint.tar", bytes: plainNames, mode: 0o644)]),
                                      ["CKA-POD-003"])
        XCTAssertEqual(c.diagnostics.first?.path, "devshm-checkpoint.tar: shm")
    }

    func testPodmanRootfsDiffNames() throws {
        let dotted = try C.tar([C.file("./etc/motd", "m", mode: 0o644)])
        assertV1Findings(try C.podman([C.file("rootfs-diff.tar", bytes: dotted, mode: 0o644)]), ["CKA-POD-004"])
        let plain = try C.tar([C.file("etc/motd", "m", mode: 0o644)])
        assertV1Findings(try C.podman([C.file("rootfs-diff.tar", bytes: plain, mode: 0o644)]), [])
        // The same dotted names are fine in a CRI-O archive (CKA-POD-004 is Podman's).
        assertV1Findings(try C.crio([C.file("rootfs-diff.tar", bytes: dotted, mode: 0o644)]), [])
    }

    func testPodmanDumpLog() throws {
        let (c, _) = assertV1Findings(try C.podman([C.file("dump.log", "criu")]), ["CKA-POD-006", "CKA-V1-020"])
        XCTAssertTrue(c.diagnostics.allSatisfy { $0.severity == .warning })
    }

    // MARK: - CRI-O (CKA-CRIO-002 .. 005)

    func testCRIOCompressed() throws {
        assertV1Findings(try C.gzip(try C.crio()), ["CKA-CRIO-002", "CKA-V1-020"])
    }

    func testCRIOAnnotations() throws {
        let spec = #"{"annotations":{"io.container.manager":"cri-o","io.kubernetes.cri-o.Annotations":"not json"}}"#
        assertV1Findings(try C.crio(spec: spec), ["CKA-CRIO-003"])
        assertV1Findings(try C.podman(), ["CKA-CRIO-003", "CKA-V1-020"], profile: .crio)
    }

    func testCRIOLogEntry() throws {
        assertV1Findings(try C.crio([C.file(V1Names.crioLogPath, "2024-01-01T00:00:00Z stdout F hi\n", mode: 0o644)]), [])
        assertV1Findings(try C.crio([C.dir(V1Names.crioLogPath + "/")]), ["CKA-CRIO-004"])
    }

    func testCRIOForeignNames() throws {
        assertV1Findings(try C.crio([C.file("network.status", "{}")]), ["CKA-CRIO-005", "CKA-V1-020"])
    }

    // MARK: - containerd (CKA-CTRD-001, 003, 004, 005, 007)

    func testForcedContainerdNeedsStatusDump() throws {
        let bytes = try C.containerd(statusDump: false)
        XCTAssertEqual(C.run(bytes).result.profile, "generic")
        assertV1Findings(bytes, ["CKA-CTRD-001"], profile: .containerd)
        assertV1Findings(try C.containerd(), [], profile: .containerd)
    }

    func testContainerdDeletedFiles() throws {
        let bytes = try C.tar([C.dir("checkpoint/"), C.file("checkpoint/inventory.img", bytes: C.inventory),
                               C.file("config.dump", C.containerdConfig), C.file("deleted.files", #"["/etc/issue"]"#),
                               C.file("spec.dump", C.containerdSpec), C.file("status.dump", "{}")])
        assertV1Findings(bytes, ["CKA-CTRD-003", "CKA-V1-020"])
    }

    func testContainerdLayerIsGzip() throws {
        let plain = try C.tar([C.file("etc/motd", "m", mode: 0o644)])
        assertV1Findings(try C.containerd(rootfs: plain), ["CKA-CTRD-004", "CKA-V1-020"])
        assertV1Findings(try C.containerd(rootfs: try C.gzip(plain)), [])
    }

    func testContainerdWhiteouts() throws {
        let bad = try C.layer([C.file("etc/.wh.issue", "not empty", mode: 0o644)])
        assertV1Findings(try C.containerd(rootfs: bad), ["CKA-CTRD-005"])
        let unknown = try C.layer([C.file("etc/.wh..wh.plnk", "", mode: 0o644)])
        assertV1Findings(try C.containerd(rootfs: unknown), ["CKA-CTRD-005"])
        let good = try C.layer([C.file("etc/.wh.issue", "", mode: 0o644), C.file("var/.wh..wh..opq", "", mode: 0o644)])
        assertV1Findings(try C.containerd(rootfs: good), [])
    }

    func testContainerdCheckpointIsFlat() throws {
        let bytes = try C.tar([C.dir("checkpoint/"), C.file("checkpoint/inventory.img", bytes: C.inventory),
                               C.dir("checkpoint/sub/"), C.file("checkpoint/sub/x.img", bytes: Self.pstreeImage),
                               C.file("config.dump", C.containerdConfig), C.file("spec.dump", C.containerdSpec),
                               C.file("status.dump", "{}")])
        let (c, _) = assertV1Findings(bytes, ["CKA-CTRD-007"])
        XCTAssertEqual(c.diagnostics.map(\.path), ["checkpoint/sub", "checkpoint/sub/x.img"])
    }

    func testContainerdLayerFindingsNameTheLayer() throws {
        let layer = try C.layer([C.file("a", "1", mode: 0o644), C.file("a", "2", mode: 0o644)])
        let (c, _) = assertV1Findings(try C.containerd(rootfs: layer), ["CKA-TAR-037"])
        XCTAssertEqual(c.diagnostics.first?.path, "rootfs-diff.tar: a")
        XCTAssertTrue(c.diagnostics.first?.message.contains("decompressed layer") ?? false)
    }

    // MARK: - Nested compression (CKA-CMP-013)

    func testOnlyContainerdLayersAreCompressed() throws {
        let layer = try C.layer([C.file("etc/motd", "m", mode: 0o644)])
        assertV1Findings(try C.podman([C.file("rootfs-diff.tar", bytes: layer, mode: 0o644)]), ["CKA-CMP-013", "CKA-V1-020"])
        let shm = try C.gzip(try C.tar([C.dir("./")]))
        assertV1Findings(try C.podman([C.file("devshm-checkpoint.tar", bytes: shm, mode: 0o644)]), ["CKA-CMP-013"])
    }

    // MARK: - Malformed input in the middle of an archive

    func testTruncatedArchiveKeepsEarlierFindings() throws {
        let bytes = try C.tar([C.file("config.dump", C.podmanConfig, mode: 0o644), C.file("spec.dump", C.podmanSpec),
                               C.dir("checkpoint/"), C.file("checkpoint/inventory.img", bytes: C.inventory)])
        let cut = Array(bytes.prefix(512 * 3 + 100))
        let (c, result) = assertV1Findings(cut, ["CKA-V1-009", "CKA-TAR-001"])
        XCTAssertNil(result.profile)
        XCTAssertEqual(c.diagnostics.last?.id, "CKA-TAR-001")
    }

    // MARK: - Keeping going after a refused entry (CKA-GEN-012)

    /// Three independent problems: a required file missing (no checkpoint/), bad JSON in one metadata file, a
    /// hostile path in deleted.files. Each is reported; fixing one removes exactly its finding.
    func testIndependentProblemsAreAllReported() throws {
        func archive(checkpoint: Bool = false, network: String = "{bad", deleted: String = #"["/../etc/shadow"]"#)
            throws -> [UInt8] {
            var entries = [C.file("config.dump", C.podmanConfig), C.file("spec.dump", C.podmanSpec),
                           C.file("network.status", network), C.file("deleted.files", deleted)]
            if checkpoint { entries += [C.dir("checkpoint/"), C.file("checkpoint/inventory.img", bytes: C.inventory)] }
            return try C.tar(C.ordered(entries, by: C.podmanOrder))
        }
        let (c, result) = assertV1Findings(try archive(), ["CKA-V1-002", "CKA-V1-007", "CKA-SEC-010"])
        XCTAssertEqual(result.profile, "podman", "the profile rules run on what was read")
        XCTAssertEqual(c.diagnostics.first { $0.id == "CKA-SEC-010" }?.path, "deleted.files")
        XCTAssertEqual(c.diagnostics.first { $0.id == "CKA-V1-007" }?.path, "network.status")
        assertV1Findings(try archive(checkpoint: true), ["CKA-V1-007", "CKA-SEC-010"])
        assertV1Findings(try archive(network: "{}"), ["CKA-V1-002", "CKA-SEC-010"])
        assertV1Findings(try archive(deleted: #"["/etc/shadow"]"#), ["CKA-V1-002", "CKA-V1-007"])
        assertV1Findings(try archive(checkpoint: true, network: "{}", deleted: #"["/etc/shadow"]"#), [])
    }

    /// A refused entry in a nested tar is skipped, the nested tar and the outer stream go on; a nested tar that
    /// cannot be read further is left, and the outer stream still goes on.
    func testNestedProblemsDoNotEndTheCheck() throws {
        let hostile = try C.tar([C.file("../escape", "x", mode: 0o644), C.file("etc/motd", "m", mode: 0o644),
                                 C.file("etc/motd", "again", mode: 0o644)])
        let later = C.file("checkpoint/core-1.img", bytes: Self.pstreeImage, mode: 0o644)  // CKA-V1-009 after it
        let (c, _) = assertV1Findings(try C.podman([C.file("rootfs-diff.tar", bytes: hostile, mode: 0o644), later]),
                                      ["CKA-TAR-034", "CKA-TAR-037", "CKA-V1-009"])
        XCTAssertEqual(c.diagnostics.first { $0.id == "CKA-TAR-037" }?.path, "rootfs-diff.tar: etc/motd")
        var broken = try C.tar([C.file("etc/motd", "m", mode: 0o644), C.file("etc/issue", "i", mode: 0o644)])
        broken[1024 + 148] ^= 1  // the second nested header's checksum
        assertV1Findings(try C.podman([C.file("rootfs-diff.tar", bytes: broken, mode: 0o644), later]),
                         ["CKA-TAR-004", "CKA-V1-009"])
    }

    /// Malformed outer input still ends the check where it is (nothing after it is reported), and the
    /// findings of each requirement stay capped however many entries break it.
    func testMalformedOuterStreamStopsAndFindingsAreCapped() throws {
        var bytes = try C.podman([C.file("etc-shadow", "x", mode: 0o644), C.file("zz/late.json", "{}", mode: 0o644)])
        let late = try XCTUnwrap((0..<(bytes.count / 512)).first { bytes[($0 * 512)..<($0 * 512 + 12)].elementsEqual("zz/late.json".utf8) })
        bytes[late * 512 + 148] ^= 1
        let (c, _) = assertV1Findings(bytes, ["CKA-V1-005", "CKA-TAR-004"])
        XCTAssertEqual(c.diagnostics.last?.id, "CKA-TAR-004")
        XCTAssertFalse(c.diagnostics.contains { ($0.offset ?? 0) > Int64(late * 512) }, "nothing after the malformed header")
        let many = (0..<30).map { C.file("checkpoint/x\($0)/../../y\($0)", "x") }
        let (capped, _) = assertV1Findings(try C.podman(many), ["CKA-TAR-034"])
        XCTAssertEqual(capped.diagnostics.count, capped.capPerRule + 1, "the cap, then one line saying more were left out")
        XCTAssertTrue(capped.diagnostics.last?.message.contains("left out") ?? false)
    }

    // MARK: - CRIU image magic (CKA-V1-021)

    /// An image header as CRIU writes it: IMG_COMMON_MAGIC, then PSTREE_MAGIC (0x50273030), little-endian.
    static let pstreeImage: [UInt8] = [0x19, 0x43, 0x56, 0x54, 0x30, 0x30, 0x27, 0x50, 0, 0, 0, 0]

    func testCRIUImageMagicInArchives() throws {
        let good = try C.podman([C.file("checkpoint/pstree.img", bytes: Self.pstreeImage)])
        assertV1Findings(good, [])
        let bad = try C.podman([C.file("checkpoint/pstree.img", "not an image")])
        let (c, _) = assertV1Findings(bad, ["CKA-V1-021"])
        XCTAssertEqual(c.diagnostics.first?.severity, .warning)
        XCTAssertEqual(c.diagnostics.first?.path, "checkpoint/pstree.img")
        // Raw images (memory pages) carry no magic.
        assertV1Findings(try C.podman([C.file("checkpoint/pages-1.img", "raw page bytes")]), [])
    }

    func testCRIUImageMagic() {
        typealias I = CRIUImages
        XCTAssertNil(I.problem(name: "checkpoint/inventory.img", prefix: C.inventory, size: 8))
        XCTAssertNil(I.problem(name: "checkpoint/core-1.img", prefix: [0x19, 0x43, 0x56, 0x54, 0x47, 0x38, 0x05, 0x55], size: 80))
        XCTAssertNil(I.problem(name: "checkpoint/pages-1.img", prefix: Array("ckpt-sam".utf8), size: 8192))
        XCTAssertNil(I.problem(name: "checkpoint/descriptors.json", prefix: Array("[\"/dev/".utf8), size: 100))
        XCTAssertNotNil(I.problem(name: "checkpoint/inventory.img", prefix: Array("inv".utf8), size: 3))
        XCTAssertNotNil(I.problem(name: "checkpoint/core-1.img", prefix: Array("core".utf8), size: 4))
        XCTAssertEqual(I.v1RequirementID, "CKA-V1-021")
        XCTAssertEqual(I.v2RequirementID, "CKA-V2-055")
    }
}
