import Foundation
import TestSupport
import VectorCorpus
import XCTest

/// The CRIU images the generator embeds are what CRIU's crit encodes from the committed JSON sources.
final class CRIUImageTests: XCTestCase {
    func testEmbeddedImagesAreCritOutput() throws {
        try TestTools.require("crit")
        let root = TestTools.repositoryRoot
        let out = try TestTools.temporaryDirectory(self).appendingPathComponent("CRIUImages.swift")
        let r = try TestTools.spawn(["bash", root.appendingPathComponent("Vectors/criu/make-images.sh").path, out.path])
        XCTAssertEqual(r.status, 0, r.stderrText)
        let made = try String(contentsOf: out, encoding: .utf8)
        let committed = try String(contentsOf: root.appendingPathComponent("Sources/VectorCorpus/Builders/CRIUImages.swift"),
                                   encoding: .utf8)
        XCTAssertTrue(made == committed, "Sources/VectorCorpus/Builders/CRIUImages.swift is stale: run Vectors/criu/make-images.sh")
    }

    func testImagesCarryCRIUMagic() {
        // Images start with CRIU's common magic (IMG_COMMON 0x54564319, IMG_SERVICE 0x55105940 for stats), the
        // inventory with its own magic.
        for (name, bytes) in CRIUImages.images {
            XCTAssertGreaterThan(bytes.count, 8, name)
            let first = bytes.prefix(4).reversed().reduce(UInt32(0)) { $0 << 8 | UInt32($1) }
            let expected: UInt32 = name == "inventory.img" ? 0x5831_3116 : name == "stats-dump.img" ? 0x5510_5940 : 0x5456_4319
            XCTAssertEqual(first, expected, name)
        }
    }
}
