import ByteStreams
import CheckpointArchive
import Compression
@testable import Conformance
import TarFormat
import XCTest

/// Section markers, order, membership and the entry types of table 5.4: each rule is broken by one archive
/// and kept by a close variant.
final class V2StructureRuleTests: XCTestCase {
    func testMarkerForm010() throws {
        try assertRule("CKA-V2-010", { a in
            a.entries.update("metadata/") { $0.header.paxRecords[1] = PaxRecord(key: "CKA.section.critical", value: "2") }
        })
        try assertRule("CKA-V2-010", { a in
            a.entries += [.marker("volume", name: "data").with { $0.paxRecords.removeLast() }]
        }, variant: { a in a.entries += [.marker("volume", name: "data")] })
        try assertRule("CKA-V2-010", { a in
            a.entries += [V2TestEntry.file("volumes/data", "").with { $0.paxRecords = V2TestEntry.marker("volume", name: "data").header.paxRecords }]
        })
    }

    func testMarkerName011() throws {
        try assertRule("CKA-V2-011", { a in
            a.entries += [.marker("volume", name: "data", path: "volumes/other/")]
        }, variant: { a in a.entries += [.marker("volume", name: "data")] })
    }

    func testCriticalFlag012() throws {
        try assertRule("CKA-V2-012", { a in a.entries += [.marker("logs", critical: "1")] },
                       variant: { a in a.entries += [.marker("logs"), .marker("ext", name: "x", critical: "1")] })
    }

    func testMembership013() throws {
        try assertRule("CKA-V2-013", { a in
            a.entries.insert([.file("checkpoint/extra.json", "x")], after: "metadata/spec.dump")
        }, variant: { a in a.entries.insert([.file("checkpoint/extra.img", "x")], after: "checkpoint/inventory.img") })
    }

    func testNoOtherEntries014() throws {
        try assertRule("CKA-V2-014", { a in a.entries.insert(contentsOf: [.file("stray.txt", "x")], at: 0) })
        try assertRule("CKA-V2-014", { a in
            a.entries += [.dir("volumes/"), .marker("volume", name: "data")]
        }, variant: { a in a.entries += [.marker("volume", name: "data")] })
    }

    func testSectionOrder015() throws {
        try assertRule("CKA-V2-015", { a in
            let rootfs = Array(a.entries[5...])
            a.entries = Array(a.entries[0..<3]) + rootfs + Array(a.entries[3..<5])
        })
        try assertRule("CKA-V2-015", { a in
            a.entries += [.marker("volume", name: "b"), .marker("volume", name: "a")]
        }, variant: { a in a.entries += [.marker("volume", name: "a"), .marker("volume", name: "b")] })
    }

    func testMultiplicity016() throws {
        try assertRule("CKA-V2-016", { a in
            a.entries.insert([.marker("pre-checkpoint"), .file("pre-checkpoint/pages-1.img", "x")],
                             after: "checkpoint/inventory.img")
        })
        try assertRule("CKA-V2-016", { a in a.entries.removeFirst(3) })
        try assertRule("CKA-V2-016", { a in
            a.entries += [.marker("ext", name: "x"), .marker("ext", name: "x")]
        }, variant: { a in a.entries += [.marker("ext", name: "x"), .marker("ext", name: "y")] })
    }

    func testUnknownKinds017() throws {
        try assertRule("CKA-V2-017", { a in a.entries += [.marker("future", critical: "1")] })
        // An unknown ancillary section is skipped, but still counted and digested: no finding at all.
        var a = V2TestArchive()
        a.entries += [.marker("future", critical: "0"), .file("future/data.bin", "opaque"), .dir("future/sub/")]
        let outcome = try V2Check.run(a)
        XCTAssertEqual(outcome.diagnostics, [], V2Check.describe(outcome))
    }

    func testUnknownCriticalKindInHeader009() throws {
        try assertRule("CKA-V2-009", { a in
            a.headerText = { $0.replacingOccurrences(of: "]}", with: ",{\"kind\":\"future\",\"critical\":true}]}") }
        }, variant: { a in a.entries += [.marker("future", critical: "0")] })
    }

    func testMarkerData020() throws {
        try assertRule("CKA-V2-020", { a in a.entries.insert([.dir("metadata/")], after: "metadata/spec.dump") })
        try assertRule("CKA-V2-020", { a in a.entries.update("checkpoint/") { $0 = $0.with(["CKA.pad": "xxxx"]) } })
        try assertRule("CKA-V2-020") { a in
            a.patch = { bytes, layout in
                V2Patch.header(&bytes, at: layout.block("checkpoint/")) { V2Patch.put(&$0, "00000001000", at: 124, width: 12) }
            }
        }
    }

    func testSectionNames022() throws {
        try assertRule("CKA-V2-022", { a in a.entries += [.marker("volume", name: "-data")] },
                       variant: { a in a.entries += [.marker("volume", name: "data-1.x_y")] })
        try assertRule("CKA-V2-022", { a in a.entries += [.marker("ext", name: "..")] })
    }

    func testMetadataContent023() throws {
        try assertRule("CKA-V2-023", { a in a.entries.remove("metadata/spec.dump") })
        try assertRule("CKA-V2-023", { a in a.entries.insert([.file("metadata/sub/status", "{}")], after: "metadata/spec.dump") })
        try assertRule("CKA-V2-023", { a in a.entries.insert([.dir("metadata/sub/")], after: "metadata/spec.dump") })
    }

    func testMetadataFormats024() throws {
        try assertRule("CKA-V2-024", { a in a.entries.insert([.file("metadata/vendor.json", "{}")], after: "metadata/spec.dump") },
                       variant: { a in a.entries.insert([.file("metadata/status", "{}")], after: "metadata/spec.dump") })
        try assertRule("CKA-V2-024", { a in
            a.entries.update("metadata/config.dump") { $0 = .file("metadata/config.dump", #"{"id":"x"}"#) }
        })
        try assertRule("CKA-V2-024", { a in
            a.entries.update("metadata/spec.dump") { $0 = .file("metadata/spec.dump", #"{"annotations":{"a":1}}"#) }
        })
        try assertRule("CKA-V2-024", { a in
            a.entries.update("metadata/config.dump") { $0 = .file("metadata/config.dump", "{\"id\":\"x\",\"name\":\"y\"} x") }
        })
        let mount = #"{"source":"/srv/data","destination":"/data","file_type":"directory","permissions":493}"#
        try assertRule("CKA-V2-024", { a in
            a.entries.insert([.file("metadata/bind.mounts", "[" + mount.replacingOccurrences(of: "directory", with: "socket") + "]")],
                             after: "metadata/")
        }, variant: { a in a.entries.insert([.file("metadata/bind.mounts", "[" + mount + "]")], after: "metadata/") })
        try assertRule("CKA-SEC-010", { a in
            a.entries.insert([.file("metadata/bind.mounts", "[" + mount.replacingOccurrences(of: "\"/data\"", with: "\"/../data\"") + "]")],
                             after: "metadata/")
        })
    }

    func testInventory025() throws {
        try assertRule("CKA-V2-025", { a in a.entries.remove("checkpoint/inventory.img") }, variant: { a in
            a.entries.update("checkpoint/") { $0 = .marker("pre-checkpoint") }
            a.entries.update("checkpoint/inventory.img") { $0 = .file("pre-checkpoint/pages-1.img", "x") }
        })
    }

    func testCheckpointContent026() throws {
        try assertRule("CKA-V2-026", { a in
            a.entries.insert([.link("checkpoint/parent", "../elsewhere")], after: "checkpoint/inventory.img")
        }, variant: { a in a.entries.insert([.link("checkpoint/parent", "../pre-checkpoint")], after: "checkpoint/inventory.img") })
        try assertRule("CKA-V2-026", { a in
            a.entries.insert([.special("checkpoint/zz", TarEntryType(rawValue: 0x44))], after: "checkpoint/inventory.img")
        })
    }

    /// CKA-V2-055: CRIU images in checkpoint/ and pre-checkpoint/ start with a CRIU magic (a warning).
    func testCRIUImageMagic055() throws {
        let pstree: [UInt8] = [0x19, 0x43, 0x56, 0x54, 0x30, 0x30, 0x27, 0x50, 0, 0, 0, 0]
        let found = try assertRule("CKA-V2-055", { a in
            a.entries.insert([.file("checkpoint/pstree.img", "not an image")], after: "checkpoint/inventory.img")
        }, variant: { a in a.entries.insert([.bytes("checkpoint/pstree.img", pstree)], after: "checkpoint/inventory.img") })
        XCTAssertEqual(found.diagnostics.map(\.id), ["CKA-V2-055"])
        XCTAssertEqual(found.diagnostics.first?.severity, .warning)
        XCTAssertEqual(found.diagnostics.first?.path, "checkpoint/pstree.img")
        // inventory.img needs INVENTORY_MAGIC itself; an image too short for a magic is reported too.
        try assertRule("CKA-V2-055", { a in
            a.entries.update("checkpoint/inventory.img") { $0 = .bytes("checkpoint/inventory.img", pstree) }
        })
        try assertRule("CKA-V2-055", { a in
            a.entries.insert([.bytes("checkpoint/core-1.img", [0x19, 0x43])], after: "checkpoint/inventory.img")
        })
        // The same in a pre-checkpoint section; raw images (pages-*.img) and other files carry no magic.
        try assertRule("CKA-V2-055", { a in
            a.entries.update("checkpoint/") { $0 = .marker("pre-checkpoint") }
            a.entries.update("checkpoint/inventory.img") { $0 = .file("pre-checkpoint/mm-1.img", "x") }
        }, variant: { a in
            a.entries.update("checkpoint/") { $0 = .marker("pre-checkpoint") }
            a.entries.update("checkpoint/inventory.img") { $0 = .file("pre-checkpoint/pages-1.img", "x") }
            a.entries.insert([.file("pre-checkpoint/descriptors.json", "[]")], after: "pre-checkpoint/pages-1.img")
        })
        // Without digest verification the head of a large image is still read (the rest is skipped).
        var options = ValidatorOptions()
        options.verifyDigests = false
        var big = V2TestArchive()
        big.entries.insert([.bytes("checkpoint/pages-1.img", Array(repeating: 7, count: 70_000)),
                            .bytes("checkpoint/pstree.img", Array("bad!".utf8) + Array(repeating: 0, count: 70_000))],
                           after: "checkpoint/inventory.img")
        XCTAssertEqual(try V2Check.run(big, options: options).ids, ["CKA-V2-055"])
        big.entries.update("checkpoint/pstree.img") { $0 = .bytes("checkpoint/pstree.img", pstree + Array(repeating: 0, count: 70_000)) }
        XCTAssertEqual(try V2Check.run(big, options: options).ids, [])
    }

    func testLogs037() throws {
        try assertRule("CKA-V2-037", { a in a.entries += [.marker("logs"), .file("logs/sub/x.log", "x")] },
                       variant: { a in a.entries += [.marker("logs"), .file("logs/ctr.log", "x"), .file("logs/io.kubernetes.cri-o.LogPath", "x")] })
        try assertRule("CKA-V2-037", { a in a.entries += [.marker("logs"), .file("logs/-x.log", "x")] })
        try assertRule("CKA-V2-037", { a in a.entries += [.marker("logs"), .dir("logs/sub/")] })
    }

    func testArtifactsAndExt038And039() throws {
        try assertRule("CKA-V2-038", { a in
            a.entries += [.marker("artifacts"), .special("artifacts/x", TarEntryType(rawValue: 0x44))]
        }, variant: { a in
            a.entries += [.marker("artifacts"), .dir("artifacts/d/"), .file("artifacts/d/f", "x", mode: 0o644),
                          .link("artifacts/d/l", "../d/f")]
        })
        try assertRule("CKA-V2-039", { a in
            a.entries += [.marker("ext", name: "v1"), .special("ext/v1/x", TarEntryType(rawValue: 0x44))]
        }, variant: { a in a.entries += [.marker("ext", name: "v1"), .dir("ext/v1/d/"), .file("ext/v1/d/f", "x")] })
    }

    func testSymbolicLinks040() throws {
        try assertRule("CKA-V2-040", { a in a.entries.insert([.link("metadata/status", "config.dump")], after: "metadata/spec.dump") })
        try assertRule("CKA-V2-040", { a in a.entries += [.marker("artifacts"), .link("artifacts/l", "../metadata/config.dump")] },
                       variant: { a in a.entries += [.marker("artifacts"), .file("artifacts/f", "x"), .link("artifacts/l", "f")] })
        try assertRule("CKA-V2-040", { a in a.entries += [.marker("ext", name: "v1"), .link("ext/v1/l", "x")] })
    }

    func testHardLinksAndSpecialFiles041() throws {
        try assertRule("CKA-V2-041", { a in a.entries += [.marker("ext", name: "v1"), .special("ext/v1/fifo", .fifo)] },
                       variant: { a in a.entries += [.marker("devshm"), .special("devshm/fifo", .fifo)] })
        try assertRule("CKA-V2-041", { a in
            a.entries += [.marker("devshm"), .link("devshm/hard", "rootfs/tree/etc/app.conf", type: .hardLink)]
        }, variant: { a in
            a.entries.insert([.link("rootfs/tree/etc/hard", "rootfs/tree/etc/app.conf", type: .hardLink)],
                             after: "rootfs/tree/etc/app.conf")
        })
    }

    func testModeBits042() throws {
        try assertRule("CKA-V2-042", { a in a.entries.update("checkpoint/inventory.img") { $0.header.mode = 0o4600 } },
                       variant: { a in a.entries.update("rootfs/tree/etc/app.conf") { $0.header.mode = 0o4755 } })
        try assertRule("CKA-V2-042", { a in a.entries += [.marker("ext", name: "v1", mode: 0o1777)] },
                       variant: { a in a.entries += [.marker("devshm", mode: 0o1777)] })
    }

    func testXattrs043() throws {
        try assertRule("CKA-V2-043", { a in
            a.entries.update("metadata/config.dump") { $0.header.xattrs = [TarXattr(name: "user.x", value: [1])] }
        }, variant: { a in a.entries.update("rootfs/tree/etc/app.conf") { $0.header.xattrs = [TarXattr(name: "user.x", value: [1])] } })
    }

    func testPermissions044IsAWarning() throws {
        let found = try assertRule("CKA-V2-044", { a in a.entries.update("metadata/spec.dump") { $0.header.mode = 0o644 } },
                                   variant: { a in a.entries.update("rootfs/tree/etc/app.conf") { $0.header.mode = 0o666 } })
        XCTAssertEqual(found.diagnostics.map(\.severity), [.warning])
    }

    func testIndexEntry045() throws {
        try assertRule("CKA-V2-045") { a in a.omitIndex = true }
        try assertRule("CKA-V2-045") { a in a.indexEntry = { $0.path = "index.json" } }
        try assertRule("CKA-V2-045") { a in a.indexEntry = { $0.paxRecords = [PaxRecord(key: "CKA.index", value: "2")] } }
        // An entry after the index.
        let outcome = try outcome { bytes, _ in
            bytes.removeLast(1024)
            let sink = MemorySink()
            let writer = try TarWriter(sink: sink)
            try writer.writeEntry(TarHeader(path: "late.txt", mode: 0o644), data: Array("late".utf8))
            try writer.finish()
            bytes += sink.bytes
        }
        XCTAssertEqual(outcome.ids, ["CKA-V2-045"], V2Check.describe(outcome))
    }

    func testEntryOrder048() throws {
        try assertRule("CKA-V2-048", { a in
            a.entries.swapAt(1, 2)
        })
        try assertRule("CKA-V2-048", { a in
            a.entries.swapAt(10, 11)
        })
        try assertRule("CKA-V2-048", { a in
            a.entries.insert([.dir("rootfs/tree/etc-x/"), .dir("rootfs/tree/etc-x/a/")], after: "rootfs/tree/")
        }, variant: { a in a.entries += [.dir("rootfs/tree/etc-x/"), .dir("rootfs/tree/etc-x/a/")] })
    }

    func testSynthesizedEntries053() throws {
        try assertRule("CKA-V2-053") { a in a.entries.update("metadata/") { $0.header.mode = 0o700 } }
        try assertRule("CKA-V2-053") { a in a.entries.update("rootfs/tree/") { $0.header.uid = 1 } }
        try assertRule("CKA-V2-053") { a in a.headerEntry = { $0.mtime = TarTime(seconds: 1) } }
        try assertRule("CKA-V2-053", { a in a.indexEntry = { $0.mode = 0o600 } },
                       variant: { a in a.entries.update("checkpoint/") { $0.header.mode = 0o700 } })
    }

    func testLegacyTopLevelNames() throws {
        try assertRule("CKA-CNV-001") { a in a.entries.insert(contentsOf: [.file("config.dump", "{}")], at: 0) }
        try assertRule("CKA-CNV-001") { a in a.entries += [.file("rootfs-diff.tar", "")] }
    }

    func testManyFindingsInOneRun() throws {
        var a = V2TestArchive()
        a.entries.update("metadata/spec.dump") { $0.header.mode = 0o644 }
        a.entries.insert([.file("checkpoint/extra.json", "x")], after: "metadata/spec.dump")
        a.entries.insert([.file("rootfs/tree/etc/.wh.gone", "", mode: 0o644)], after: "rootfs/tree/etc/")
        let built = try a.build()
        var bytes = built.file
        bytes[Int(built.layout.entry("checkpoint/inventory.img").dataOffset) + 10] ^= 1  // after the magic
        let outcome = try V2Check.run(bytes)
        XCTAssertEqual(outcome.ids, ["CKA-V2-044", "CKA-V2-013", "CKA-V2-034", "CKA-IDX-005"], V2Check.describe(outcome))
        let moved = outcome.diagnostics.first { $0.id == "CKA-V2-013" }
        XCTAssertEqual(moved?.path, "checkpoint/extra.json")
        XCTAssertEqual(moved?.offset, built.layout.entry("checkpoint/extra.json").headerOffset)
        XCTAssertEqual(outcome.diagnostics.first { $0.id == "CKA-IDX-005" }?.path, "checkpoint/inventory.img")
    }
}
