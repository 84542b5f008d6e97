import TarFormat
import XCTest

/// `PaxRecordGrammar.keyString`: the literals it returns for frequent keys are the strings decoding would give,
/// and every other key, near misses and invalid UTF-8 included, is decoded.
final class PaxKeyStringTests: XCTestCase {
    private func key(_ bytes: [UInt8]) -> String {
        bytes.withUnsafeBufferPointer { PaxRecordGrammar.keyString($0) }
    }

    func testKeysComeBackAsDecoding() {
        let keys = ["uid", "gid", "path", "size", "mtime", "atime", "ctime", "CKA.pad", "linkpath", "CKA.index",
                    "CKA.section", "CKA.version", "CKA.section.critical", "", "u", "uix", "Uid", "paths", "mtim",
                    "mtimes", "MTIME", "CKA.Pad", "linkpatH", "CKA.indey", "CKA.sectioN", "CKA.section.criticaL",
                    "SCHILY.xattr.user.a", "GNU.sparse.map", "comment", "hdrcharset", "ü-key", "CKA.versio"]
        for k in keys {
            XCTAssertEqual(key(Array(k.utf8)), k, k)
            XCTAssertEqual(key(Array(k.utf8)), String(decoding: Array(k.utf8), as: UTF8.self), k)
        }
        // Invalid UTF-8 of a frequent key's length is decoded with replacement characters.
        XCTAssertEqual(key([0x6D, 0x74, 0xFF, 0x6D, 0x65]), "mt\u{FFFD}me")
        XCTAssertEqual(key([0xC3]), "\u{FFFD}")
    }
}
