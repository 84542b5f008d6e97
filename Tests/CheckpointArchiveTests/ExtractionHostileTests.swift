import ByteStreams
@testable import CheckpointArchive
import Foundation
import TarFormat
import TestSupport
import XCTest
#if canImport(Glibc)
import Glibc
#endif

/// Hostile archives: each is refused with the expected requirement, and nothing outside the destination
/// (nor the destination itself, nor a staging directory) remains or changes.
final class ExtractionHostileTests: XCTestCase {
    let rootfs = Sections.rootfs

    // MARK: Names

    func testParentComponentNamesAreRefused() throws {
        try expectRefusal("CKA-TAR-034", [.file("../x", rootfs, text: "x")])
        try expectRefusal("CKA-TAR-034", rootfsPrelude + [.file("rootfs/tree/a/../../../x", rootfs, text: "x")])
        try expectRefusal("CKA-TAR-034", rootfsPrelude + [.file("rootfs/tree/..", rootfs, text: "x")])
        try expectRefusal("CKA-TAR-034", rootfsPrelude + [.dir("rootfs/tree/a/../", rootfs)])
        try expectRefusal("CKA-TAR-034", rootfsPrelude + [.file("rootfs/tree/./x", rootfs, text: "x")])
    }

    func testAbsoluteEmptyAndMalformedNamesAreRefused() throws {
        let box = try Sandbox(self)
        try expectRefusal("CKA-TAR-034", [.file(box.victim, rootfs, text: "overwritten")])
        try expectRefusal("CKA-TAR-034", [.file("/etc/passwd", rootfs, text: "x")])
        try expectRefusal("CKA-TAR-034", [.file("//tmp/moo", rootfs, text: "x")])
        try expectRefusal("CKA-TAR-034", [.file("", rootfs, text: "x")])
        try expectRefusal("CKA-TAR-034", [.dir("/", rootfs)])
        try expectRefusal("CKA-TAR-034", rootfsPrelude + [.file("rootfs/tree//x", rootfs, text: "x")])
        try expectRefusal("CKA-TAR-029", rootfsPrelude + [.file("rootfs/tree/a", rootfs, text: "x").with {
            $0.pathBytes = Array("rootfs/tree/a\u{0}/../../x".utf8)
        }])
        try expectRefusal("CKA-TAR-036", rootfsPrelude + [.file("rootfs/tree/a/", rootfs, text: "x")])
    }

    func testEntriesOutsideTheirSectionAreRefused() throws {
        try expectRefusal("CKA-V2-013", [.file("metadata/config.dump", Sections.checkpoint, text: "x")])
        try expectRefusal("CKA-V2-013", [.file("volumes/b/x", Sections.volumeA, text: "x")])
        try expectRefusal("CKA-V2-013", [.file("cka-other.json", Sections.metadata, text: "x")])
        try expectRefusal("CKA-V2-013", [.dir("cka-header.json/", Sections.metadata)])
        try expectRefusal("CKA-V2-020", [.file("rootfs", rootfs, text: "x")])
        try expectRefusal("CKA-V2-023", [.file("metadata/sub/config.dump", Sections.metadata, text: "x")])
        try expectRefusal("CKA-V2-023", [.dir("metadata/sub/", Sections.metadata)])
        try expectRefusal("CKA-V2-037", [.file("logs/a/b.log", Sections.logs, text: "x")])
        try expectRefusal("CKA-V2-022", [.file("volumes/../x", Section(.volume, name: ".."), text: "x")])
    }

    // MARK: Symbolic links

    func testWriteThroughSymlinkIsRefused() throws {
        // jwilk "dirsymlink": `link -> /outside`, then `link/file`.
        let box = try Sandbox(self)
        try expectRefusal("CKA-SEC-002", rootfsPrelude + [
            .symlink("rootfs/tree/link", rootfs, to: box.outside),
            .file("rootfs/tree/link/file", rootfs, text: "escaped"),
        ])
        try expectRefusal("CKA-SEC-002", rootfsPrelude + [
            .symlink("rootfs/tree/link", rootfs, to: box.outside),
            .file("rootfs/tree/link/victim.txt", rootfs, text: "overwritten"),
        ])
        try expectRefusal("CKA-SEC-002", rootfsPrelude + [
            .symlink("rootfs/tree/link", rootfs, to: box.outside),
            .dir("rootfs/tree/link/newdir/", rootfs),
        ])
    }

    func testSymlinkToDirectoryThenDeeperPathIsRefused() throws {
        try expectRefusal("CKA-SEC-002", rootfsPrelude + [
            .symlink("rootfs/tree/d", rootfs, to: "../../../../../.."),
            .file("rootfs/tree/d/x/y", rootfs, text: "escaped"),
        ])
        // jwilk "dirsymlink2b": `cur -> .`, `cur/par -> ..`, then `par/moo`.
        try expectRefusal("CKA-SEC-002", rootfsPrelude + [
            .symlink("rootfs/tree/cur", rootfs, to: "."),
            .symlink("rootfs/tree/cur/par", rootfs, to: ".."),
        ])
        // "dirsymlink2a": `cur -> .`, `par -> cur/..`, then `par/moo`.
        try expectRefusal("CKA-SEC-002", rootfsPrelude + [
            .symlink("rootfs/tree/cur", rootfs, to: "."),
            .symlink("rootfs/tree/par", rootfs, to: "cur/.."),
            .file("rootfs/tree/par/moo", rootfs, text: "escaped"),
        ])
    }

    func testSymlinkThenSameNameFileIsRefused() throws {
        // jwilk "symlink": `moo -> /outside/victim.txt`, then a file `moo`: never written through the link.
        let box = try Sandbox(self)
        try expectRefusal("CKA-TAR-037", rootfsPrelude + [
            .symlink("rootfs/tree/moo", rootfs, to: box.victim),
            .file("rootfs/tree/moo", rootfs, text: "overwritten"),
        ])
        try expectRefusal("CKA-SEC-006", rootfsPrelude + [
            .symlink("rootfs/tree/moo", rootfs, to: box.outside),
            .dir("rootfs/tree/moo/", rootfs),
        ])
        try expectRefusal("CKA-TAR-037", rootfsPrelude + [
            .symlink("rootfs/tree/moo", rootfs, to: box.victim),
            .symlink("rootfs/tree/moo", rootfs, to: "/etc/shadow"),
        ])
    }

    func testPathThroughFileIsRefused() throws {
        try expectRefusal("CKA-SEC-006", rootfsPrelude + [
            .file("rootfs/tree/f", rootfs, text: "x"),
            .file("rootfs/tree/f/g", rootfs, text: "y"),
        ])
        try expectRefusal("CKA-SEC-006", rootfsPrelude + [
            .special("rootfs/tree/p", rootfs, .fifo),
            .dir("rootfs/tree/p/q/", rootfs),
        ])
    }

    func testSymlinksOutsideTheirPolicyAreRefused() throws {
        try expectRefusal("CKA-V2-040", [.symlink("metadata/config.dump", Sections.metadata, to: "/etc/passwd")])
        try expectRefusal("CKA-V2-040", [.symlink("logs/ctr.log", Sections.logs, to: "x")])
        try expectRefusal("CKA-V2-040", [.dir("ext/x/", Sections.ext), .symlink("ext/x/l", Sections.ext, to: "y")])
        try expectRefusal("CKA-V2-040", [.symlink("checkpoint/other", Sections.checkpoint, to: "../pre-checkpoint")])
        try expectRefusal("CKA-V2-040", [.symlink("checkpoint/parent", Sections.checkpoint, to: "/etc")])
        try expectRefusal("CKA-V2-040", [.symlink("pre-checkpoint/parent", Sections.preCheckpoint,
                                                  to: "../pre-checkpoint")])
        try expectRefusal("CKA-V2-040", [.symlink("artifacts/a", Sections.artifacts, to: "../metadata")])
        try expectRefusal("CKA-V2-040", [.symlink("artifacts/a", Sections.artifacts, to: "/etc/passwd")])
        try expectRefusal("CKA-V2-040", [.symlink("artifacts/d/a", Sections.artifacts, to: "b/../../../x")])
        try expectRefusal("CKA-TAR-039", rootfsPrelude + [.symlink("rootfs/tree/l", rootfs, to: "")])
    }

    // MARK: Hard links

    func testHardLinksOnlyToEarlierFilesOfTheSameSection() throws {
        let box = try Sandbox(self)
        try expectRefusal("CKA-SEC-005", rootfsPrelude + [.hardLink("rootfs/tree/h", rootfs, to: "../../outside/victim.txt")])
        try expectRefusal("CKA-SEC-005", rootfsPrelude + [.hardLink("rootfs/tree/h", rootfs, to: box.victim)])
        try expectRefusal("CKA-SEC-005", rootfsPrelude + [.hardLink("rootfs/tree/h", rootfs, to: "/etc/passwd")])
        // Not created before (the name exists later, or never).
        try expectRefusal("CKA-SEC-005", rootfsPrelude + [.hardLink("rootfs/tree/h", rootfs, to: "rootfs/tree/later")])
        // Created before, but in another section.
        try expectRefusal("CKA-SEC-005", [
            .file("volumes/a/data", Sections.volumeA, text: "a"),
            .hardLink("volumes/b/data", Sections.volumeB, to: "volumes/a/data"),
        ])
        // Created before, but not a regular file: a symbolic link (pointing outside) or a directory.
        try expectRefusal("CKA-SEC-005", rootfsPrelude + [
            .symlink("rootfs/tree/l", rootfs, to: box.victim),
            .hardLink("rootfs/tree/h", rootfs, to: "rootfs/tree/l"),
        ])
        try expectRefusal("CKA-SEC-005", rootfsPrelude + [
            .dir("rootfs/tree/d/", rootfs),
            .hardLink("rootfs/tree/h", rootfs, to: "rootfs/tree/d/"),
        ])
        try expectRefusal("CKA-SEC-005", rootfsPrelude + [
            .file("rootfs/tree/f", rootfs, text: "x"),
            .hardLink("rootfs/tree/h", rootfs, to: "rootfs/tree/./f"),
        ])
        // Hard links are not allowed in the checkpoint section at all.
        try expectRefusal("CKA-V2-041", [
            .file("checkpoint/a", Sections.checkpoint, text: "a"),
            .hardLink("checkpoint/b", Sections.checkpoint, to: "checkpoint/a"),
        ])
    }

    // MARK: Special files

    func testDevicesAndFifosOnlyWhereAllowed() throws {
        let privileged = SafeExtractor.Options(restoreOwnership: true, allowDeviceNodes: true)
        try expectRefusal("CKA-SEC-007", [.special("metadata/null", Sections.metadata, .characterDevice,
                                                   major: 1, minor: 3)], options: privileged)
        try expectRefusal("CKA-SEC-007", [.special("checkpoint/fifo", Sections.checkpoint, .fifo)], options: privileged)
        try expectRefusal("CKA-SEC-007", [.special("artifacts/sda", Sections.artifacts, .blockDevice, major: 8)],
                          options: privileged)
        try expectRefusal("CKA-SEC-007", [.special("ext/x/p", Sections.ext, .fifo)], options: privileged)
        // Device nodes in rootfs need the option (CKA-SEC-009); FIFOs do not.
        try expectRefusal("CKA-SEC-009", rootfsPrelude + [.special("rootfs/tree/null", rootfs, .characterDevice,
                                                                   major: 1, minor: 3)])
        try expectRefusal("CKA-SEC-009", [.special("devshm/sda", Sections.devshm, .blockDevice, major: 8)])
    }

    func testUnsupportedEntriesAreRefused() throws {
        try expectRefusal("CKA-TAR-010", rootfsPrelude + [.file("rootfs/tree/s", rootfs, text: "x").with {
            $0.type = .gnuSparse
        }])
        try expectRefusal("CKA-TAR-008", rootfsPrelude + [.file("rootfs/tree/label", rootfs).with {
            $0.type = .gnuVolumeLabel
        }])
    }

    func testDuplicateEntriesAreRefused() throws {
        try expectRefusal("CKA-TAR-037", [
            .file("metadata/config.dump", Sections.metadata, text: "a"),
            .file("metadata/config.dump", Sections.metadata, text: "b"),
        ])
        try expectRefusal("CKA-TAR-037", rootfsPrelude + [
            .special("rootfs/tree/p", rootfs, .fifo),
            .file("rootfs/tree/p", rootfs, text: "b"),
        ])
        try expectRefusal("CKA-TAR-037", rootfsPrelude + [
            .dir("rootfs/tree/d/", rootfs),
            .symlink("rootfs/tree/d", rootfs, to: "/"),
        ])
        try expectRefusal("CKA-TAR-037", rootfsPrelude + [
            .file("rootfs/tree/a/b", rootfs, text: "a"),
            .file("rootfs/tree/a", rootfs, text: "b"),
        ])
    }

    func testTruncatedDataIsRefused() throws {
        try expectRefusal("CKA-SEC-016", [
            TestEntry(header: TarHeader(path: "metadata/config.dump", type: .regular, size: 100),
                      section: Sections.metadata, data: Array(repeating: 0x41, count: 60)),
        ])
    }

    // MARK: Destination and atomicity

    func testExistingDestinationIsRefused() throws {
        let box = try Sandbox(self)
        try FileManager.default.createDirectory(atPath: box.destination, withIntermediateDirectories: false)
        let before = box.snapshot()
        XCTAssertThrowsError(try SafeExtractor(destination: box.destination)) { error in
            XCTAssertEqual((error as? CheckpointError)?.requirement, "CKA-SEC-001")
        }
        XCTAssertThrowsError(try SafeExtractor(destination: box.destination + "/")) { error in
            XCTAssertEqual((error as? CheckpointError)?.requirement, "CKA-SEC-001")
        }
        XCTAssertEqual(box.snapshot(), before)
        // A dangling symbolic link counts as existing too.
        XCTAssertEqual(symlink(box.outside + "/nothing-here", box.work + "/dangling"), 0)
        XCTAssertThrowsError(try SafeExtractor(destination: box.work + "/dangling")) { error in
            XCTAssertEqual((error as? CheckpointError)?.requirement, "CKA-SEC-001")
        }
        XCTAssertNil(lstatOf(box.outside + "/nothing-here"))
        XCTAssertThrowsError(try SafeExtractor(destination: box.victim)) { error in
            XCTAssertEqual((error as? CheckpointError)?.requirement, "CKA-SEC-001")
        }
        XCTAssertEqual(fileBytes(box.victim), Array("precious".utf8))
        XCTAssertEqual(box.workEntries(), ["dangling", "dest"])
    }

    func testFailureMidwayLeavesNoDestinationAndNoStaging() throws {
        let box = try Sandbox(self)
        let before = box.snapshot()
        let extractor = try SafeExtractor(destination: box.destination)
        var entries: [TestEntry] = [.file("metadata/config.dump", Sections.metadata, text: "{}")]
        entries += rootfsPrelude
        for i in 0..<20 { entries.append(.file("rootfs/tree/f\(i)", rootfs, pseudoRandomBytes(5000, seed: UInt64(i)))) }
        entries.append(.dir("rootfs/tree/ro/", rootfs, mode: 0o500))
        entries.append(.file("rootfs/tree/ro/x", rootfs, text: "x", mode: 0o400))
        entries.append(.file("rootfs/tree/../../x", rootfs, text: "evil"))
        XCTAssertThrowsError(try feed(extractor, entries)) { error in
            XCTAssertEqual((error as? CheckpointError)?.requirement, "CKA-TAR-034")
        }
        XCTAssertEqual(box.snapshot(), before)
        XCTAssertEqual(box.workEntries(), [])
        // The extractor is finished: later entries and commit fail, and nothing appears.
        XCTAssertThrowsError(try feed(extractor, [.file("metadata/spec.dump", Sections.metadata, text: "{}")]))
        XCTAssertThrowsError(try extractor.commit())
        XCTAssertNil(lstatOf(box.destination))
    }

    func testDestinationAppearingBeforeCommitIsNotReplaced() throws {
        let box = try Sandbox(self)
        let extractor = try SafeExtractor(destination: box.destination)
        try feed(extractor, [.file("metadata/config.dump", Sections.metadata, text: "{}")])
        // Someone else creates the destination meanwhile (an empty directory rename(2) would replace).
        XCTAssertEqual(mkdir(box.destination, 0o755), 0)
        XCTAssertThrowsError(try extractor.commit()) { error in
            XCTAssertEqual((error as? CheckpointError)?.requirement, "CKA-SEC-001")
        }
        XCTAssertEqual(box.workEntries(), ["dest"])
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: box.destination), [])
    }
}
