import ByteStreams
import Compression
@testable import Conformance
import TarFormat
import XCTest

/// The version marker and `cka-header.json` (5.1), and the header members of 5.7 and 5.8.
final class V2HeaderRuleTests: XCTestCase {
    func testVersionMarker001() throws {
        try assertRule("CKA-V2-001") { a in a.headerEntry = { $0.path = "header.json" } }
        try assertRule("CKA-V2-001") { a in a.entries.update("metadata/config.dump") { $0 = $0.with(["CKA.version": "2"]) } }
    }

    func testOtherVersionsStopTheCheck002() throws {
        let found = try assertRule("CKA-V2-002") { a in
            a.headerEntry = { $0.paxRecords = [PaxRecord(key: "CKA.version", value: "3")] }
            a.entries.update("metadata/spec.dump") { $0.header.mode = 0o644 }
        }
        XCTAssertEqual(found.ids, ["CKA-V2-002"], "nothing after an unsupported version is interpreted")
    }

    func testHeaderDocument003() throws {
        try assertRule("CKA-V2-003") { a in a.headerText = { $0 + "\n" } }
        try assertRule("CKA-V2-003") { a in a.headerText = { String($0.dropLast()) } }
        try assertRule("CKA-V2-003") { a in
            a.headerText = { $0.replacingOccurrences(of: "\"version\":2,\"profile\":\"podman\",", with: "\"profile\":\"podman\",\"version\":2,") }
        }
        try assertRule("CKA-V2-003") { a in a.headerText = { $0.replacingOccurrences(of: "\"creator\":\"ckpt\",", with: "") } }
        try assertRule("CKA-V2-003") { a in a.headerText = { $0.replacingOccurrences(of: "\"alignment\":0", with: "\"alignment\":\"0\"") } }
        try assertRule("CKA-V2-003") { a in a.headerText = { _ in "[1]\n" } }
        try assertRule("CKA-V2-003") { a in a.headerText = { _ in "{\"format\":" } }
        try assertRule("CKA-V2-003") { a in
            a.headerText = { $0.replacingOccurrences(of: "{\"kind\":\"metadata\",", with: "{\"kind\":\"metadata\",\"name\":\"m\",") }
        }
    }

    func testFormatAndVersion004() throws {
        try assertRule("CKA-V2-004") { a in a.headerText = { $0.replacingOccurrences(of: "checkpoint-archive", with: "checkpoint-archiv") } }
        try assertRule("CKA-V2-004") { a in a.headerText = { $0.replacingOccurrences(of: "\"version\":2", with: "\"version\":3") } }
    }

    func testProfile006() throws {
        try assertRule("CKA-V2-006", { a in a.profile = "docker" }, variant: { a in a.profile = "generic" })
    }

    func testDeclaredSections007() throws {
        try assertRule("CKA-V2-007") { a in
            a.headerText = { $0.replacingOccurrences(of: ",{\"kind\":\"rootfs\",\"critical\":true}", with: "") }
        }
        try assertRule("CKA-V2-007") { a in
            a.headerText = { $0.replacingOccurrences(of: "{\"kind\":\"rootfs\",\"critical\":true}", with: "{\"kind\":\"rootfs\",\"critical\":false}") }
        }
    }

    func testCompression008() throws {
        try assertRule("CKA-V2-008", { a in a.headerText = { $0.replacingOccurrences(of: "\"none\"", with: "\"gzip\"") } },
                       variant: { a in a.compression = .gzip })
        try assertRule("CKA-V2-008", { a in
            a.compression = .zstd
            a.headerText = { $0.replacingOccurrences(of: "\"zstd\"", with: "\"gzip\"") }
        })
    }

    func testCanonicalForm054() throws {
        try assertRule("CKA-V2-054") { a in a.headerText = { $0.replacingOccurrences(of: "\"format\":", with: "\"format\": ") } }
        try assertRule("CKA-V2-054") { a in a.headerText = { $0.replacingOccurrences(of: "\"ckpt\"", with: "\"ck\\/pt\"") } }
        try assertRule("CKA-V2-054") { a in a.headerText = { $0.replacingOccurrences(of: "\"ckpt\"", with: "\"\\u0063kpt\"") } }
        try assertRule("CKA-V2-054") { a in a.headerText = { $0.replacingOccurrences(of: "\"alignment\":0", with: "\"alignment\":0.0") } }
        try assertRule("CKA-V2-054") { a in a.headerText = { "\u{FEFF}" + $0 } }
        // Escapes the canonical form requires are accepted.
        let outcome = try V2Check.run({ () -> V2TestArchive in
            var a = V2TestArchive()
            a.headerText = { $0.replacingOccurrences(of: "\"ckpt\"", with: "\"ck\\\"pt\\\\ \\t\\u001f é\"") }
            return a
        }())
        XCTAssertEqual(outcome.diagnostics, [], V2Check.describe(outcome))
    }

    func testUnknownMembers014() throws {
        try assertRule("CKA-GEN-014", { a in
            a.headerText = { $0.replacingOccurrences(of: "\"creator\":\"ckpt\",", with: "\"creator\":\"ckpt\",\"vendor\":1,") }
        }, variant: { a in
            a.headerText = { $0.replacingOccurrences(of: "\"creator\":\"ckpt\",", with: "\"creator\":\"ckpt\",\"x-vendor\":{\"a\":[1]},") }
        })
        try assertRule("CKA-GEN-014") { a in
            a.headerText = { $0.replacingOccurrences(of: "{\"kind\":\"metadata\",", with: "{\"kind\":\"metadata\",\"size\":1,") }
        }
    }

    func testFramedNeedsCompressionFRM009() throws {
        try assertRule("CKA-FRM-009") { a in a.headerText = { $0.replacingOccurrences(of: "\"framed\":false", with: "\"framed\":true") } }
    }

    func testAlignmentValue001() throws {
        try assertRule("CKA-ALN-001", { a in a.alignment = 1000; a.writerAlignment = 0 }, variant: { a in
            a.alignment = 512
            a.entries.insert([.bytes("checkpoint/pages-1.img", Array(repeating: 7, count: 3000))], after: "checkpoint/inventory.img")
        })
        try assertRule("CKA-ALN-001") { a in a.alignment = 2 << 20; a.writerAlignment = 0 }
    }

    func testAlignmentWithCompression007IsAWarning() throws {
        let found = try assertRule("CKA-ALN-007", { a in a.alignment = 512; a.compression = .gzip },
                                   variant: { a in a.alignment = 512 })
        XCTAssertEqual(found.diagnostics.map(\.severity), [.warning])
    }
}
