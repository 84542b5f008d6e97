import Compression
import Foundation
import TarFormat

/// The index (5.6) against the stream: each case is the worked example (or its framed variants) with one
/// change of `cka-index.json` or of the bytes it covers (ported from Tests/ConformanceTests/V2IndexRuleTests and
/// V2EngineTests).
enum V2Index {
    static func index(_ change: @escaping (String) -> String) -> (inout V2TestArchive) -> Void {
        { $0.indexText = change }
    }

    static func replacing(_ a: String, _ b: String) -> (inout V2TestArchive) -> Void {
        index { text in
            precondition(text.contains(a), "the index has no \(a)")
            return text.replacingOccurrences(of: a, with: b)
        }
    }

    static func unknownSection() -> V2TestArchive {
        V2TestArchive.workedExample { $0.entries += [.marker("future-kind", critical: "0"), .file("future-kind/data.bin", "opaque")] }
    }

    static let zeros = String(repeating: "0", count: 64)

    static func invalid(_ id: String, _ description: String, breaks: [String] = ["CKA-IDX-001"],
                        _ mutate: @escaping (inout V2TestArchive) -> Void) -> VectorCase {
        .v2Invalid(id, description, breaks: breaks, flags: [.index], mutate)
    }

    static var group: VectorGroup {
        VectorGroup(name: "v2-index", cases: [
            invalid("v2-idx-two-line-feeds", "cka-index.json ends with two line feeds", index { $0 + "\n" }),
            invalid("v2-idx-format-name", "format is checkpoint-archive-idx",
                    replacing("checkpoint-archive-index", "checkpoint-archive-idx")),
            invalid("v2-idx-no-version", "the index has no version member", replacing("\"version\":2,", "")),
            invalid("v2-idx-file-member-order", "a file object lists size before path",
                    replacing("{\"path\":\"metadata/config.dump\",\"size\":48,", "{\"size\":48,\"path\":\"metadata/config.dump\",")),
            invalid("v2-idx-uppercase-hex", "a digest written in uppercase hex (so it differs from the content's)", breaks: ["CKA-IDX-001", "CKA-IDX-005"],
                    replacing("\"sha256\":\"0e1c641804d6495f", "\"sha256\":\"0E1C641804D6495F")),
            invalid("v2-idx-not-object", "cka-index.json is an empty JSON array", index { _ in "[]\n" }),
            invalid("v2-idx-truncated", "cka-index.json is cut three bytes before its end", index { String($0.dropLast(3)) }),
            invalid("v2-idx-unknown-member", "an unknown member vendor in the index", breaks: ["CKA-GEN-014"],
                    replacing(",\"indexOffset\"", ",\"vendor\":true,\"indexOffset\"")),
            .v2("v2-idx-x-member", "x- members in the index (allowed and ignored)", requirements: ["CKA-GEN-014"], flags: [.index]) {
                V2TestArchive.workedExample(replacing(",\"indexOffset\"", ",\"x-vendor\":[{\"a\":null}],\"indexOffset\""))
            },
            invalid("v2-idx-unknown-section-member", "a section object of the index has an unknown member files",
                    breaks: ["CKA-GEN-014"], replacing("\"entries\":2,", "\"entries\":2,\"files\":1,")),
            invalid("v2-idx-whitespace", "a space after the index's opening brace", breaks: ["CKA-V2-054"],
                    replacing("{\"format\":", "{ \"format\":")),
            invalid("v2-idx-unicode-escape", "the header path written with a needless \\u escape", breaks: ["CKA-V2-054"],
                    replacing("\"cka-header.json\"", "\"cka-header.js\\u006fn\"")),
            invalid("v2-idx-header-end", "header.end is one block after the first marker", breaks: ["CKA-IDX-002"],
                    replacing("\"start\":0,\"end\":2048", "\"start\":0,\"end\":2560")),
            invalid("v2-idx-header-start", "header.start is 512", breaks: ["CKA-IDX-002"],
                    replacing("\"start\":0,\"end\":2048", "\"start\":512,\"end\":2048")),
            invalid("v2-idx-header-digest", "header.sha256 is all zeros", breaks: ["CKA-IDX-002"],
                    replacing("28d2ea2888feae846c20887868bb7786f601cab6139538a967cfced0ad712df3", zeros)),
            invalid("v2-idx-section-path", "the metadata section's path is meta/", breaks: ["CKA-IDX-003"],
                    replacing("\"path\":\"metadata/\"", "\"path\":\"meta/\"")),
            invalid("v2-idx-section-critical", "the index lists the checkpoint section as not critical", breaks: ["CKA-IDX-003"],
                    replacing("{\"kind\":\"checkpoint\",\"critical\":true", "{\"kind\":\"checkpoint\",\"critical\":false")),
            invalid("v2-idx-section-gap", "the rootfs section's start overlaps the checkpoint section", breaks: ["CKA-IDX-003"],
                    replacing("\"start\":5632,\"end\":8192", "\"start\":5120,\"end\":8192")),
            invalid("v2-idx-section-missing", "the index does not list the rootfs section", breaks: ["CKA-IDX-003"], index { text in
                let r = text.range(of: ",{\"kind\":\"rootfs\"")!
                let end = text.range(of: "}]", range: r.upperBound..<text.endIndex)!
                return String(text[..<r.lowerBound]) + String(text[end.lowerBound...].dropFirst())
            }),
            invalid("v2-idx-entry-count", "the rootfs section's entry count is one too high", breaks: ["CKA-IDX-004"],
                    replacing("\"entries\":3,", "\"entries\":4,")),
            invalid("v2-idx-section-digest", "a section digest is wrong", breaks: ["CKA-IDX-004"],
                    replacing("b8593a9eb4a57c34d4a5e6d5185194ae800a62db1e4e3d57dff7e43b06ecfa21", String(repeating: "a", count: 64))),
            .v2Bytes("v2-idx-span-header-byte", "the mtime field of checkpoint/inventory.img changed after the index was made: the section's span digest differs, the file digests do not",
                     breaks: ["CKA-IDX-004"], flags: [.index]) { bytes, built in
                V2Patch.header(&bytes, at: built.layout.block("checkpoint/inventory.img")) { V2Patch.put(&$0, "00000000001", at: 136, width: 12) }
            },
            invalid("v2-idx-file-size", "a file object's size is one too high", breaks: ["CKA-IDX-005"],
                    replacing("\"size\":48,", "\"size\":49,")),
            invalid("v2-idx-file-offset", "a file object's offset is one block off", breaks: ["CKA-IDX-005"],
                    replacing("\"offset\":4096,", "\"offset\":4608,")),
            invalid("v2-idx-extra-file", "the index lists a file the archive does not hold", breaks: ["CKA-IDX-005"],
                    replacing("{\"path\":\"metadata/config.dump\"", "{\"path\":\"metadata/x\",\"size\":1,\"offset\":1,\"sha256\":\"\(zeros)\"},{\"path\":\"metadata/config.dump\"")),
            .v2Bytes("v2-idx-content-flipped", "one content bit of rootfs/tree/etc/app.conf flipped after the index was made",
                     breaks: ["CKA-IDX-005"], flags: [.index]) { bytes, built in
                bytes[Int(built.layout.entry("rootfs/tree/etc/app.conf").dataOffset)] ^= 1
            },
            invalid("v2-idx-offset-17-digits", "indexOffset has 17 digits", breaks: ["CKA-IDX-006"],
                    replacing("0000000000003800", "00000000000003800")),
            invalid("v2-idx-offset-wrong", "indexOffset names the wrong block", breaks: ["CKA-IDX-006"],
                    replacing("0000000000003800", "0000000000003a00")),
            invalid("v2-idx-offset-not-hex", "indexOffset holds a non-hex digit", breaks: ["CKA-IDX-006"],
                    replacing("\"indexOffset\":\"0000000000003800\"", "\"indexOffset\":\"000000000000380G\"")),
            invalid("v2-idx-compressed-start-unframed", "compressedStart in an archive that is not framed",
                    breaks: ["CKA-IDX-007"], replacing("\"end\":5632,", "\"end\":5632,\"compressedStart\":1,")),
            .v2Invalid("v2-idx-pin-mismatch", "the worked example validated with a wrong pinned index digest",
                       breaks: ["CKA-IDX-010"], flags: [.index],
                       indexPin: .value("sha256:" + String(repeating: "1", count: 64))) { _ in },
            .v2("v2-unknown-section", "The worked example with a section of unknown ancillary kind: skipped by decoders, counted and digested in the index",
                requirements: ["CKA-V2-017"], flags: [.index, .sectionOrder], unknownSection),
            .v2Bytes("v2-idx-unknown-section-flipped", "a file of an unknown ancillary section changed after the index was made: still digested",
                     breaks: ["CKA-IDX-005"], flags: [.index], base: "v2-unknown-section",
                     from: unknownSection) { bytes, built in
                bytes[Int(built.layout.entry("future-kind/data.bin").dataOffset)] ^= 1
            },
            .v2Invalid("v2-idx-unknown-section-count", "the entry count of an unknown ancillary section is wrong",
                       breaks: ["CKA-IDX-004"], flags: [.index], base: "v2-unknown-section",
                       from: unknownSection) { a in
                a.indexText = { $0.replacingOccurrences(of: "\"entries\":2,\"sha256\":\"", with: "\"entries\":3,\"sha256\":\"") }
            },
        ] + framedCases)
    }

    /// compressedStart in framed archives (CKA-IDX-007). A value off by one byte needs the members' boundaries,
    /// which the validator does not compute yet; that case joins when it does.
    static var framedCases: [VectorCase] {
        [CompressionFormat.gzip, .zstd].flatMap { c -> [VectorCase] in
            let name = c == .gzip ? "gzip" : "zstd"
            let start = { V2TestArchive.compressed(c, framed: true) }
            return [
                .v2Invalid("v2-idx-\(name)-framed-no-compressed-start", "a framed \(name) archive whose index lacks compressedStart",
                           breaks: ["CKA-IDX-007"], flags: [.index, .framing], base: "v2-\(name)-framed", from: start) { a in
                    a.indexText = { $0.replacingOccurrences(of: #""compressedStart":[0-9]+,"#, with: "", options: .regularExpression) }
                },
                .v2Invalid("v2-idx-\(name)-framed-decreasing-compressed-start", "a framed \(name) archive whose checkpoint section has compressedStart 1",
                           breaks: ["CKA-IDX-007"], flags: [.index, .framing], base: "v2-\(name)-framed", from: start) { a in
                    a.indexText = { text in
                        let r = text.range(of: #""kind":"checkpoint".*?"compressedStart":[0-9]+"#, options: .regularExpression)!
                        return text.replacingCharacters(in: r, with: text[r].replacingOccurrences(of: #"[0-9]+$"#, with: "1", options: .regularExpression))
                    }
                },
            ]
        }
    }
}
