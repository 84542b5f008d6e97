import Compression
import Foundation
import TarFormat

/// The version marker and `cka-header.json` (5.1), and the header members of 5.7 and 5.8: each case is the
/// worked example with one change (ported from Tests/ConformanceTests/V2HeaderRuleTests).
enum V2Header {
    static func replacing(_ a: String, _ b: String) -> (inout V2TestArchive) -> Void {
        { archive in archive.headerText = { $0.replacingOccurrences(of: a, with: b) } }
    }

    static var group: VectorGroup {
        VectorGroup(name: "v2-header", cases: [
            .v2Invalid("v2-hdr-first-entry-name", "Entry 0 carries CKA.version=2 but is named header.json",
                       breaks: ["CKA-V2-001"]) { a in a.headerEntry = { $0.path = "header.json" } },
            .v2Invalid("v2-hdr-version-record-elsewhere", "A second entry (metadata/config.dump) carries CKA.version",
                       breaks: ["CKA-V2-001"]) { a in
                a.entries.update("metadata/config.dump") { $0 = $0.with(["CKA.version": "2"]) }
            },
            .v2Invalid("v2-hdr-unsupported-version", "Entry 0 carries CKA.version=3: refused as an unsupported version, nothing else interpreted",
                       breaks: ["CKA-V2-002"]) { a in
                a.headerEntry = { $0.paxRecords = [PaxRecord(key: "CKA.version", value: "3")] }
                a.entries.update("metadata/spec.dump") { $0.header.mode = 0o644 }
            },
            .v2Invalid("v2-hdr-two-line-feeds", "cka-header.json ends with two line feeds", breaks: ["CKA-V2-003"]) { a in
                a.headerText = { $0 + "\n" }
            },
            .v2Invalid("v2-hdr-no-line-feed", "cka-header.json lacks its final line feed", breaks: ["CKA-V2-003"]) { a in
                a.headerText = { String($0.dropLast()) }
            },
            .v2Invalid("v2-hdr-member-order", "profile before version in cka-header.json",
                       breaks: ["CKA-V2-003"], replacing("\"version\":2,\"profile\":\"podman\",", "\"profile\":\"podman\",\"version\":2,")),
            .v2Invalid("v2-hdr-missing-creator", "cka-header.json has no creator member",
                       breaks: ["CKA-V2-003"], replacing("\"creator\":\"ckpt\",", "")),
            .v2Invalid("v2-hdr-alignment-string", "alignment is the string \"0\"",
                       breaks: ["CKA-V2-003"], replacing("\"alignment\":0", "\"alignment\":\"0\"")),
            .v2Invalid("v2-hdr-not-object", "cka-header.json is the JSON array [1]", breaks: ["CKA-V2-003"]) { a in
                a.headerText = { _ in "[1]\n" }
            },
            .v2Invalid("v2-hdr-truncated-json", "cka-header.json is cut inside the first member", breaks: ["CKA-V2-003"]) { a in
                a.headerText = { _ in "{\"format\":" }
            },
            .v2Invalid("v2-hdr-name-on-metadata", "the header gives the metadata section a name",
                       breaks: ["CKA-V2-003", "CKA-V2-007"],
                       replacing("{\"kind\":\"metadata\",", "{\"kind\":\"metadata\",\"name\":\"m\",")),
            .v2Invalid("v2-hdr-format-name", "format is checkpoint-archiv",
                       breaks: ["CKA-V2-004"], replacing("checkpoint-archive", "checkpoint-archiv")),
            .v2Invalid("v2-hdr-version-3", "the header's version member is 3",
                       breaks: ["CKA-V2-004"], replacing("\"version\":2", "\"version\":3")),
            .v2Invalid("v2-hdr-profile-docker", "profile is docker, not one of the four profiles",
                       breaks: ["CKA-V2-006"]) { a in a.profile = "docker" },
            .v2("v2-hdr-profile-generic", "The worked example with profile generic", requirements: ["CKA-V2-006"]) {
                V2TestArchive.workedExample { $0.profile = "generic" }
            },
            .v2Invalid("v2-hdr-section-missing", "the header does not list the rootfs section", breaks: ["CKA-V2-007"],
                       flags: [.sectionOrder], replacing(",{\"kind\":\"rootfs\",\"critical\":true}", "")),
            .v2Invalid("v2-hdr-section-critical", "the header lists rootfs as not critical", breaks: ["CKA-V2-007"],
                       flags: [.sectionOrder],
                       replacing("{\"kind\":\"rootfs\",\"critical\":true}", "{\"kind\":\"rootfs\",\"critical\":false}")),
            .v2Invalid("v2-hdr-compression-claim", "an uncompressed archive whose header says gzip",
                       breaks: ["CKA-V2-008"], replacing("\"none\"", "\"gzip\"")),
            .v2Invalid("v2-hdr-compression-zstd-as-gzip", "a zstd archive whose header says gzip", breaks: ["CKA-V2-008"],
                       base: "v2-zstd", from: { V2TestArchive.compressed(.zstd, framed: false) },
                       replacing("\"zstd\"", "\"gzip\"")),
            .v2Invalid("v2-hdr-unknown-critical-kind", "the header lists an unknown section kind as critical",
                       breaks: ["CKA-V2-007", "CKA-V2-009"], flags: [.sectionOrder],
                       replacing("]}", ",{\"kind\":\"future\",\"critical\":true}]}")),
            .v2Invalid("v2-hdr-whitespace", "a space after a colon in cka-header.json",
                       breaks: ["CKA-V2-054"], replacing("\"format\":", "\"format\": ")),
            .v2Invalid("v2-hdr-escaped-slash", "creator written with an escaped slash", breaks: ["CKA-V2-054"],
                       replacing("\"ckpt\"", "\"ck\\/pt\"")),
            .v2Invalid("v2-hdr-unicode-escape", "creator written with a needless \\u escape", breaks: ["CKA-V2-054"],
                       replacing("\"ckpt\"", "\"\\u0063kpt\"")),
            .v2Invalid("v2-hdr-fraction", "alignment written as 0.0 (not an integer either)", breaks: ["CKA-V2-003", "CKA-V2-054"],
                       replacing("\"alignment\":0", "\"alignment\":0.0")),
            .v2Invalid("v2-hdr-bom", "cka-header.json starts with a byte order mark", breaks: ["CKA-V2-054"]) { a in
                a.headerText = { "\u{FEFF}" + $0 }
            },
            .v2("v2-hdr-required-escapes", "creator holds every character the canonical form escapes, and é unescaped",
                requirements: ["CKA-V2-054"]) {
                V2TestArchive.workedExample(replacing("\"ckpt\"", "\"ck\\\"pt\\\\ \\t\\u001f é\""))
            },
            .v2Invalid("v2-hdr-unknown-member", "an unknown member vendor in cka-header.json", breaks: ["CKA-GEN-014"],
                       replacing("\"creator\":\"ckpt\",", "\"creator\":\"ckpt\",\"vendor\":1,")),
            .v2("v2-hdr-x-member", "an x- member in cka-header.json (allowed and ignored)", requirements: ["CKA-GEN-014"]) {
                V2TestArchive.workedExample(replacing("\"creator\":\"ckpt\",", "\"creator\":\"ckpt\",\"x-vendor\":{\"a\":[1]},"))
            },
            .v2Invalid("v2-hdr-unknown-section-member", "a section object of the header has an unknown member size",
                       breaks: ["CKA-GEN-014"], replacing("{\"kind\":\"metadata\",", "{\"kind\":\"metadata\",\"size\":1,")),
            .v2Invalid("v2-hdr-framed-uncompressed", "an uncompressed archive whose header says framed",
                       breaks: ["CKA-FRM-009", "CKA-IDX-007"], flags: [.framing],
                       replacing("\"framed\":false", "\"framed\":true")),
            .v2Invalid("v2-hdr-alignment-1000", "alignment 1000 is not a power of two", breaks: ["CKA-ALN-001"],
                       flags: [.alignment]) { a in a.alignment = 1000; a.writerAlignment = 0 },
            .v2Invalid("v2-hdr-alignment-2mib", "alignment 2 MiB is above the maximum", breaks: ["CKA-ALN-001"],
                       flags: [.alignment]) { a in a.alignment = 2 << 20; a.writerAlignment = 0 },
        ])
    }
}
