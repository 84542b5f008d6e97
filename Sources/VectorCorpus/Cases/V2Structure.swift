import TarFormat

/// Section markers, order, multiplicity and membership, the index entry and the synthesised entries (ported
/// from Tests/ConformanceTests/V2StructureRuleTests).
enum V2Structure {
    static func invalid(_ id: String, _ description: String, breaks: [String],
                        _ mutate: @escaping (inout V2TestArchive) -> Void) -> VectorCase {
        .v2Invalid(id, description, breaks: breaks, flags: [.sectionOrder], mutate)
    }

    static func valid(_ id: String, _ description: String, _ requirements: [String],
                      _ change: @escaping (inout V2TestArchive) -> Void) -> VectorCase {
        .v2(id, description, requirements: requirements, flags: [.sectionOrder]) { V2TestArchive.workedExample(change) }
    }

    static var group: VectorGroup {
        VectorGroup(name: "v2-structure", cases: [
            invalid("v2-sec-critical-value-2", "the metadata marker's CKA.section.critical is 2", breaks: ["CKA-V2-010"]) { a in
                a.entries.update("metadata/") { $0.header.paxRecords[1] = PaxRecord(key: "CKA.section.critical", value: "2") }
            },
            invalid("v2-sec-volume-without-name", "a volume marker without CKA.section.name (so the header's section lacks it too)", breaks: ["CKA-V2-003", "CKA-V2-010"]) { a in
                a.entries += [V2TestEntry.marker("volume", name: "data").with { $0.paxRecords.removeLast() }]
            },
            valid("v2-sec-volume-marker", "The worked example with an empty volume section", ["CKA-V2-010", "CKA-V2-011", "CKA-V2-014"]) { a in
                a.entries += [.marker("volume", name: "data")]
            },
            invalid("v2-sec-marker-not-directory", "the section records on a regular file volumes/data", breaks: ["CKA-V2-010", "CKA-V2-011", "CKA-IDX-005"]) { a in
                a.entries += [V2TestEntry.file("volumes/data", "").with { $0.paxRecords = V2TestEntry.marker("volume", name: "data").header.paxRecords }]
            },
            invalid("v2-sec-marker-name-mismatch", "the marker of volume data is named volumes/other/", breaks: ["CKA-V2-011"]) { a in
                a.entries += [.marker("volume", name: "data", path: "volumes/other/")]
            },
            invalid("v2-sec-logs-critical", "a logs marker with CKA.section.critical=1", breaks: ["CKA-V2-012"]) { a in
                a.entries += [.marker("logs", critical: "1")]
            },
            valid("v2-sec-ext-critical", "an ext section marked critical (the writer chooses)", ["CKA-V2-012"]) { a in
                a.entries += [.marker("logs"), .marker("ext", name: "x", critical: "1")]
            },
            invalid("v2-sec-entry-outside-section", "checkpoint/extra.img inside the metadata section", breaks: ["CKA-V2-013"]) { a in
                a.entries.insert([.file("checkpoint/extra.img", "x")], after: "metadata/spec.dump")
            },
            valid("v2-sec-extra-image", "an extra image in the checkpoint section", ["CKA-V2-013"]) { a in
                a.entries.insert([.file("checkpoint/pages-9.img", "x")], after: "checkpoint/inventory.img")
            },
            invalid("v2-sec-entry-before-metadata", "a stray file between the version marker and the metadata marker",
                    breaks: ["CKA-V2-014"]) { a in a.entries.insert(contentsOf: [.file("stray.txt", "x")], at: 0) },
            invalid("v2-sec-volumes-directory-entry", "an entry for the intermediate directory volumes/", breaks: ["CKA-V2-014"]) { a in
                a.entries += [.dir("volumes/"), .marker("volume", name: "data")]
            },
            invalid("v2-sec-rootfs-before-checkpoint", "the rootfs section before the checkpoint section", breaks: ["CKA-V2-015"]) { a in
                let rootfs = Array(a.entries[5...])
                a.entries = Array(a.entries[0..<3]) + rootfs + Array(a.entries[3..<5])
            },
            invalid("v2-sec-volumes-unsorted", "volume b before volume a", breaks: ["CKA-V2-015"]) { a in
                a.entries += [.marker("volume", name: "b"), .marker("volume", name: "a")]
            },
            valid("v2-sec-volumes-sorted", "volume a before volume b", ["CKA-V2-015"]) { a in
                a.entries += [.marker("volume", name: "a"), .marker("volume", name: "b")]
            },
            invalid("v2-sec-checkpoint-and-pre-checkpoint", "both a checkpoint and a pre-checkpoint section", breaks: ["CKA-V2-016"]) { a in
                a.entries.insert([.marker("pre-checkpoint"), .file("pre-checkpoint/pages-1.img", "x")], after: "checkpoint/inventory.img")
            },
            invalid("v2-sec-no-metadata", "no metadata section", breaks: ["CKA-V2-016"]) { a in a.entries.removeFirst(3) },
            invalid("v2-sec-duplicate-ext", "two ext sections named x (their markers have the same name)", breaks: ["CKA-TAR-037", "CKA-V2-016"]) { a in
                a.entries += [.marker("ext", name: "x"), .marker("ext", name: "x")]
            },
            valid("v2-sec-two-ext", "ext sections x and y", ["CKA-V2-016"]) { a in
                a.entries += [.marker("ext", name: "x"), .marker("ext", name: "y")]
            },
            invalid("v2-sec-unknown-critical-kind", "a marker of unknown kind future with CKA.section.critical=1",
                    breaks: ["CKA-V2-009", "CKA-V2-017"]) { a in a.entries += [.marker("future", critical: "1")] },
            invalid("v2-sec-marker-repeated", "a second entry named metadata/ inside the metadata section", breaks: ["CKA-TAR-037", "CKA-V2-020"]) { a in
                a.entries.insert([.dir("metadata/")], after: "metadata/spec.dump")
            },
            invalid("v2-sec-marker-pad", "the checkpoint marker carries CKA.pad", breaks: ["CKA-V2-020", "CKA-ALN-003"]) { a in
                a.entries.update("checkpoint/") { $0 = $0.with(["CKA.pad": "xxxx"]) }
            },
            invalid("v2-sec-marker-size", "the checkpoint marker's size field is 512", breaks: ["CKA-TAR-011", "CKA-V2-020"]) { a in
                a.patch = { bytes, layout in
                    V2Patch.header(&bytes, at: layout.block("checkpoint/")) { V2Patch.put(&$0, "00000001000", at: 124, width: 12) }
                }
            },
            invalid("v2-sec-volume-name-dash", "volume name -data starts with a dash", breaks: ["CKA-V2-022"]) { a in
                a.entries += [.marker("volume", name: "-data")]
            },
            valid("v2-sec-volume-name-chars", "volume name data-1.x_y", ["CKA-V2-022"]) { a in
                a.entries += [.marker("volume", name: "data-1.x_y")]
            },
            invalid("v2-sec-ext-name-dotdot", "ext section named ..", breaks: ["CKA-TAR-034", "CKA-V2-022"]) { a in
                a.entries += [.marker("ext", name: "..")]
            },
            invalid("v2-sec-index-missing", "the archive ends without an index", breaks: ["CKA-V2-045"]) { a in a.omitIndex = true },
            invalid("v2-sec-index-name", "the index entry is named index.json", breaks: ["CKA-V2-045"]) { a in
                a.indexEntry = { $0.path = "index.json" }
            },
            invalid("v2-sec-index-record", "the index entry carries CKA.index=2", breaks: ["CKA-V2-045"]) { a in
                a.indexEntry = { $0.paxRecords = [PaxRecord(key: "CKA.index", value: "2")] }
            },
            .v2Bytes("v2-sec-entry-after-index", "a regular file after the index entry", breaks: ["CKA-V2-045"],
                     flags: [.sectionOrder]) { bytes, _ in
                bytes.removeLast(1024)
                bytes += TarTestStream.file("late.txt", "late") + TarTestStream.end
            },
            invalid("v2-sec-metadata-order", "metadata/spec.dump before metadata/config.dump", breaks: ["CKA-V2-048"]) { a in
                a.entries.swapAt(1, 2)
            },
            invalid("v2-sec-rootfs-order", "rootfs/tree/etc/localtime before rootfs/tree/etc/app.conf", breaks: ["CKA-V2-048"]) { a in
                a.entries.swapAt(10, 11)
            },
            invalid("v2-sec-depth-first", "rootfs/tree/etc-x/ before the rootfs/tree/etc/ subtree", breaks: ["CKA-V2-048"]) { a in
                a.entries.insert([.dir("rootfs/tree/etc-x/"), .dir("rootfs/tree/etc-x/a/")], after: "rootfs/tree/")
            },
            valid("v2-sec-depth-first-ok", "rootfs/tree/etc-x/ after the rootfs/tree/etc/ subtree", ["CKA-V2-048"]) { a in
                a.entries += [.dir("rootfs/tree/etc-x/"), .dir("rootfs/tree/etc-x/a/")]
            },
            invalid("v2-sec-marker-mode", "the metadata marker has mode 0700", breaks: ["CKA-V2-053"]) { a in
                a.entries.update("metadata/") { $0.header.mode = 0o700 }
            },
            invalid("v2-sec-tree-owner", "rootfs/tree/ has uid 1", breaks: ["CKA-V2-053"]) { a in
                a.entries.update("rootfs/tree/") { $0.header.uid = 1 }
            },
            invalid("v2-sec-header-mtime", "cka-header.json has mtime 1", breaks: ["CKA-V2-053"]) { a in
                a.headerEntry = { $0.mtime = TarTime(seconds: 1) }
            },
            invalid("v2-sec-index-mode", "cka-index.json has mode 0600", breaks: ["CKA-V2-053"]) { a in
                a.indexEntry = { $0.mode = 0o600 }
            },
            valid("v2-sec-checkpoint-marker-mode", "the checkpoint marker (not synthesised) has mode 0700", ["CKA-V2-053"]) { a in
                a.entries.update("checkpoint/") { $0.header.mode = 0o700 }
            },
            invalid("v2-sec-legacy-config-dump", "a v1 top-level config.dump in a v2 archive", breaks: ["CKA-V2-014", "CKA-CNV-001"]) { a in
                a.entries.insert(contentsOf: [.file("config.dump", "{}")], at: 0)
            },
            invalid("v2-sec-legacy-rootfs-diff", "a v1 rootfs-diff.tar at the end of a v2 archive", breaks: ["CKA-V2-013", "CKA-CNV-001"]) { a in
                a.entries += [.file("rootfs-diff.tar", "")]
            },
        ])
    }
}
