@testable import Conformance
import TarFormat
import XCTest

/// How entries are encoded in v2: header fields, pax keys and pax extended headers.
final class V2EncodingRuleTests: XCTestCase {
    func testMagic007() throws {
        try assertRule("CKA-TAR-007") { a in
            a.patch = { bytes, layout in
                V2Patch.header(&bytes, at: layout.block("metadata/config.dump")) {
                    $0.replaceSubrange(257..<265, with: Array("ustar  \u{0}".utf8))
                }
            }
        }
        try assertRule("CKA-TAR-007") { a in
            a.patch = { bytes, layout in
                V2Patch.header(&bytes, at: layout.paxBlock("metadata/")) { $0[263] = 0x30; $0[264] = 0x31 }
            }
        }
    }

    func testPaxKeys025() throws {
        try assertRule("CKA-TAR-025", { a in a.entries.update("rootfs/tree/etc/app.conf") { $0 = $0.with(["comment": "hi"]) } },
                       variant: { a in
            a.entries.update("rootfs/tree/etc/app.conf") { $0 = $0.with(["SCHILY.xattr.security.selinux": "x", "mtime": "1.5"]) }
        })
        try assertRule("CKA-TAR-025") { a in a.entries.update("rootfs/tree/etc/app.conf") { $0 = $0.with(["GNU.foo": "1"]) } }
    }

    func testCKARecords005() throws {
        try assertRule("CKA-V2-005") { a in a.entries.update("metadata/config.dump") { $0 = $0.with(["CKA.foo": "1"]) } }
        try assertRule("CKA-V2-005") { a in a.entries.update("metadata/config.dump") { $0 = $0.with(["CKA.section.name": "x"]) } }
        try assertRule("CKA-V2-005") { a in a.entries.update("checkpoint/") { $0 = $0.with(["CKA.index": "1"]) } }
        try assertRule("CKA-V2-005") { a in a.headerEntry = { $0.paxRecords.append(PaxRecord(key: "CKA.section", value: "metadata")) } }
    }

    func testNameField031() throws {
        let long = "rootfs/tree/etc/" + String(repeating: "n", count: 120)
        let accented = "rootfs/tree/etc/é-" + String(repeating: "é", count: 60)
        try assertRule("CKA-TAR-031", { a in
            a.entries.update("metadata/config.dump") { $0 = $0.with(["path": "metadata/config.dump"]) }
        }, variant: { a in
            a.entries += [.file(long, "x", mode: 0o644), .file(accented, "y", mode: 0o644)]
            a.entries.swapAt(a.entries.count - 1, a.entries.count - 2)
        })
        try assertRule("CKA-TAR-031") { a in
            a.patch = { bytes, layout in
                V2Patch.header(&bytes, at: layout.block("metadata/config.dump")) {
                    V2Patch.put(&$0, "config.dump", at: 0, width: 100)
                    V2Patch.put(&$0, "metadata", at: 345, width: 155)
                }
            }
        }
        try assertRule("CKA-TAR-031") { a in
            a.entries += [.file("rootfs/tree/etc/zz", "", mode: 0o644)]
            a.patch = { bytes, layout in
                V2Patch.header(&bytes, at: layout.block("rootfs/tree/etc/zz")) { V2Patch.put(&$0, "rootfs/tree/etc/zé", at: 0, width: 100) }
            }
        }
    }

    func testLinkField032() throws {
        let target = "/usr/share/" + String(repeating: "t", count: 120)
        try assertRule("CKA-TAR-032", { a in
            a.entries.update("rootfs/tree/etc/localtime") { $0 = $0.with(["linkpath": "/usr/share/zoneinfo/UTC"]) }
        }, variant: { a in a.entries.update("rootfs/tree/etc/localtime") { $0.header.linkName = target } })
    }

    func testNameForm036() throws {
        try assertRule("CKA-TAR-036") { a in a.entries += [.file("./rootfs/tree/x", "")] }
        try assertRule("CKA-TAR-036") { a in a.entries += [.file("rootfs/tree/x/", "", mode: 0o644)] }
        try assertRule("CKA-TAR-036") { a in
            a.patch = { bytes, layout in
                V2Patch.header(&bytes, at: layout.block("rootfs/tree/etc/")) { V2Patch.put(&$0, "rootfs/tree/etc", at: 0, width: 100) }
            }
        }
    }

    func testLimits044() throws {
        try assertRule("CKA-TAR-044", { a in a.entries += [.file("rootfs/tree/" + String(repeating: "a", count: 256), "")] },
                       variant: { a in a.entries += [.file("rootfs/tree/" + String(repeating: "a", count: 255), "")] })
        try assertRule("CKA-TAR-044") { a in
            a.entries += [.file("ext/" + Array(repeating: "d", count: 256).joined(separator: "/"), "")]
        }
        try assertRule("CKA-TAR-044") { a in
            a.entries.update("rootfs/tree/etc/app.conf") { e in
                e.header.xattrs = (0..<129).map { TarXattr(name: "user.\(1000 + $0)", value: [1]) }
            }
        }
        try assertRule("CKA-TAR-044") { a in
            a.entries.update("rootfs/tree/etc/localtime") { $0.header.linkName = "/" + String(repeating: "l/", count: 2100) }
        }
    }

    func testPaxHeaderNames049() throws {
        try assertRule("CKA-V2-049") { a in
            a.patch = { bytes, layout in
                V2Patch.header(&bytes, at: layout.paxBlock("metadata/")) { V2Patch.put(&$0, "PaxHeaders/metadata", at: 0, width: 100) }
            }
        }
        try assertRule("CKA-V2-049") { a in
            a.patch = { bytes, layout in
                V2Patch.header(&bytes, at: layout.paxBlock("rootfs/")) { V2Patch.put(&$0, "0000600", at: 100, width: 8) }
            }
        }
        try assertRule("CKA-V2-049") { a in
            a.patch = { bytes, layout in
                V2Patch.header(&bytes, at: layout.paxBlock("checkpoint/")) { V2Patch.put(&$0, "root", at: 265, width: 32) }
            }
        }
        // Long and non-ASCII names: cut to 100 bytes on a character boundary.
        var a = V2TestArchive()
        a.entries += [.file("rootfs/tree/" + String(repeating: "ü", count: 60), "", mode: 0o644)]
        let outcome = try V2Check.run(a)
        XCTAssertEqual(outcome.diagnostics, [], V2Check.describe(outcome))
    }

    func testRecordOrder050() throws {
        try assertRule("CKA-V2-050") { a in
            a.patch = { bytes, layout in
                let body = layout.paxBlock("metadata/") + 512
                let swapped = Array("26 CKA.section.critical=1\n24 CKA.section=metadata\n".utf8)
                XCTAssertEqual(Array(bytes[body..<(body + 50)]), Array("24 CKA.section=metadata\n26 CKA.section.critical=1\n".utf8))
                bytes.replaceSubrange(body..<(body + 50), with: swapped)
            }
        }
    }

    func testPaxHeaderOnlyWhenNeeded051() throws {
        try assertRule("CKA-V2-051", { a in a.entries.update("rootfs/tree/etc/app.conf") { $0 = $0.with(["uid": "0"]) } },
                       variant: { a in a.entries.update("rootfs/tree/etc/app.conf") { $0.header.uid = 3_000_000 } })
    }
}
