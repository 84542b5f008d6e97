import CheckpointArchive
import Compression
import Foundation

/// Framed compression (5.7) and alignment (5.8): locators, their payload, framing claims, `CKA.pad` records and
/// aligned offsets (ported from Tests/ConformanceTests/V2FramingRuleTests).
enum V2Framing {
    static func framed(_ c: CompressionFormat) -> () -> V2TestArchive { { V2TestArchive.compressed(c, framed: true) } }

    static func locatorCases(_ c: CompressionFormat) -> [VectorCase] {
        let name = c == .gzip ? "gzip" : "zstd"
        let base = "v2-\(name)-framed"
        let locatorSize = c == .gzip ? 58 : 40
        /// Where the 32-byte payload starts in the archive.
        func payload(_ bytes: [UInt8]) -> Int { bytes.count - 32 - (c == .gzip ? 10 : 0) }
        var cases: [VectorCase] = [
            .v2Bytes("v2-frm-\(name)-locator-text", "the \(name) locator payload says CKAINDEY", breaks: ["CKA-FRM-005"],
                     flags: [.framing], base: base, from: framed(c)) { bytes, _ in bytes[payload(bytes) + 7] = 0x59 },
            .v2Bytes("v2-frm-\(name)-locator-length", "the \(name) locator payload gives a wrong tar stream length",
                     breaks: ["CKA-FRM-005"], flags: [.framing], base: base, from: framed(c)) { bytes, _ in
                bytes[payload(bytes) + 24] ^= 0x02
            },
            .v2Bytes("v2-frm-\(name)-locator-index-offset", "the \(name) locator payload gives a wrong index offset",
                     breaks: ["CKA-FRM-005"], flags: [.framing], base: base, from: framed(c)) { bytes, _ in
                bytes[payload(bytes) + 16] ^= 0x02
            },
            .v2Bytes("v2-frm-\(name)-no-locator", "a framed \(name) archive without its locator",
                     breaks: [c == .gzip ? "CKA-FRM-003" : "CKA-FRM-004", "CKA-V2-008"], flags: [.framing], base: base,
                     from: framed(c)) { bytes, _ in bytes.removeLast(locatorSize) },
            .v2Bytes("v2-frm-\(name)-locator-unframed", "a whole-stream \(name) archive that ends with a locator",
                     breaks: ["CKA-FRM-006", "CKA-V2-008"], flags: [.framing], base: "v2-\(name)",
                     from: { V2TestArchive.compressed(c, framed: false) }, framed: false) { bytes, built in
                let tar = Int64(built.tar.count)
                bytes += FramedLocator.bytes(format: c, indexCompressedOffset: Int64(bytes.count - 100),
                                             indexOffset: tar - 2560, tarLength: tar)
            },
        ]
        if c == .gzip {
            cases.append(.v2Bytes("v2-frm-gzip-locator-mtime", "the gzip locator member has MTIME 1",
                                  breaks: ["CKA-FRM-003", "CKA-V2-008"], flags: [.framing], base: base,
                                  from: framed(c)) { bytes, _ in bytes[bytes.count - 58 + 4] = 1 })
            cases.append(.v2Invalid("v2-frm-gzip-framed-claim", "a whole-stream gzip archive whose header says framed",
                                    breaks: ["CKA-FRM-001", "CKA-FRM-003", "CKA-IDX-007", "CKA-V2-008"], flags: [.framing], base: "v2-gzip",
                                    from: { V2TestArchive.compressed(.gzip, framed: false) }) { a in
                a.headerText = { $0.replacingOccurrences(of: "\"framed\":false", with: "\"framed\":true") }
            })
        } else {
            cases.append(.v2Bytes("v2-frm-zstd-locator-magic", "the last skippable frame has magic 0x184D2A50, not the locator's",
                                  breaks: ["CKA-FRM-004", "CKA-V2-008"], flags: [.framing], base: base,
                                  from: framed(c)) { bytes, _ in bytes[bytes.count - 40] = 0x50 })
        }
        return cases
    }

    // MARK: - Alignment

    /// The worked example with two images of 5000 and 9000 bytes.
    static func withImages(_ change: @escaping (inout V2TestArchive) -> Void) -> () -> V2TestArchive {
        {
            var a = V2TestArchive()
            a.entries.insert([.bytes("checkpoint/pages-1.img", Array(repeating: 7, count: 5000)),
                              .bytes("checkpoint/pages-2.img", Array(repeating: 8, count: 9000))],
                             after: "checkpoint/inventory.img")
            change(&a)
            return a
        }
    }

    static var alignmentCases: [VectorCase] {
        let a512 = withImages { $0.alignment = 512 }
        let a4096 = withImages { $0.alignment = 4096 }
        return [
            .v2("v2-aln-images-512", "two images aligned at 512", requirements: ["CKA-ALN-003"], flags: [.alignment], a512),
            .v2("v2-aln-images-4096", "two images aligned at 4096", requirements: ["CKA-ALN-002", "CKA-ALN-004"],
                flags: [.alignment], a4096),
            .v2Invalid("v2-aln-unaligned", "the header declares 4096 but the images are not aligned (and have no CKA.pad)", breaks: ["CKA-ALN-002", "CKA-ALN-003"],
                       flags: [.alignment], base: "v2-aln-images-4096", from: a4096) { $0.writerAlignment = 0 },
            .v2Invalid("v2-aln-pad-undeclared", "CKA.pad records in an archive that declares no alignment",
                       breaks: ["CKA-ALN-003"], flags: [.alignment], base: "v2-aln-images-512",
                       from: a512) { $0.alignment = 0; $0.writerAlignment = 512 },
            .v2Invalid("v2-aln-pad-value", "a CKA.pad value with a y among the x characters", breaks: ["CKA-ALN-003"],
                       flags: [.alignment], base: "v2-aln-images-512", from: a512) { a in
                a.patch = { bytes, layout in
                    let body = layout.paxBlock("checkpoint/pages-1.img") + 512
                    let i = bytes[body..<(body + 512)].lastIndex(of: 0x78)!
                    bytes[i] = 0x79
                }
            },
            .v2Invalid("v2-aln-pad-small-file", "CKA.pad on a file smaller than the alignment", breaks: ["CKA-ALN-003"],
                       flags: [.alignment], base: "v2-aln-images-512", from: a512) { a in
                a.entries.update("metadata/config.dump") { $0 = $0.with(["CKA.pad": "x"]) }
            },
            .v2Invalid("v2-aln-pad-size", "aligned at 4096 where the header declares 512: CKA.pad longer than the rule",
                       breaks: ["CKA-ALN-003", "CKA-ALN-004"], flags: [.alignment], base: "v2-aln-images-512", from: a512) { $0.writerAlignment = 4096 },
            .v2("v2-aln-1mib-unaligned", "alignment 1 MiB and a 1 MiB image whose padding would exceed 1 MiB: written unaligned, without CKA.pad",
                requirements: ["CKA-ALN-005"], flags: [.alignment]) { paddingLimit(pad: false) },
            .v2Invalid("v2-aln-1mib-padded", "as v2-aln-1mib-unaligned, but the image carries a CKA.pad record",
                       breaks: ["CKA-ALN-005"], flags: [.alignment], base: "v2-aln-1mib-unaligned",
                       from: { paddingLimit(pad: false) }) { a in
                a.entries.update(paddingName) { $0 = $0.with(["CKA.pad": "x"]) }
            },
        ]
    }

    static let paddingName = "checkpoint/" + ["k", "l", "m"].map { String(repeating: $0, count: 200) }.joined(separator: "/")

    /// With A = 1 MiB and a long name, the padding would exceed 1 MiB (CKA-ALN-005): the filler places the entry
    /// so that (O + 1024) mod A = A - 512, where s0 = 512 < L + 13.
    static func paddingLimit(pad: Bool) -> V2TestArchive {
        func archive(filler: Int) -> V2TestArchive {
            var a = V2TestArchive()
            a.alignment = 1 << 20
            a.writerAlignment = 0
            var big = V2TestEntry.bytes(paddingName, Array(repeating: 9, count: 1 << 20))
            if pad { big = big.with(["CKA.pad": "x"]) }
            let dirs = paddingName.split(separator: "/").dropLast().indices.dropFirst().map { i in
                V2TestEntry.dir(paddingName.split(separator: "/")[0...i].joined(separator: "/") + "/")
            }
            a.entries.insert([.bytes("checkpoint/j-filler", Array(repeating: 1, count: filler))] + dirs + [big],
                             after: "checkpoint/inventory.img")
            return a
        }
        let first = (try? archive(filler: 512).build().layout.entry(paddingName).headerOffset) ?? 0
        let target: Int64 = (1 << 20) - 1536
        return archive(filler: 512 + Int((target - first + (1 << 20)) % (1 << 20)))
    }

    static var group: VectorGroup {
        VectorGroup(name: "v2-framing-alignment", cases: locatorCases(.gzip) + locatorCases(.zstd) + alignmentCases)
    }
}
