import Compression

/// Valid (and one acceptable) v2 archives in every encoding: uncompressed, gzip and zstd, whole-stream and framed,
/// aligned at 512, 4096 and 65536 bytes.
enum V2Matrix {
    static var group: VectorGroup {
        var cases: [VectorCase] = []
        for c in [CompressionFormat.gzip, .zstd] {
            let name = c == .gzip ? "gzip" : "zstd"
            cases.append(.v2("v2-\(name)", "The worked example compressed with \(name) as one stream",
                             requirements: ["CKA-CMP-002", c == .gzip ? "CKA-CMP-006" : "CKA-CMP-007", "CKA-V2-008"]) {
                V2TestArchive.compressed(c, framed: false)
            })
            cases.append(.v2("v2-\(name)-framed", "The worked example, framed \(name): a member/frame per section and the index locator",
                             requirements: ["CKA-FRM-001", c == .gzip ? "CKA-FRM-003" : "CKA-FRM-004", "CKA-FRM-005",
                                            "CKA-FRM-006", "CKA-IDX-007", "CKA-V2-008"], flags: [.framing]) {
                V2TestArchive.compressed(c, framed: true)
            })
            cases.append(.v2("v2-\(name)-framed-every-section", "Every section kind, framed \(name) (many members or frames)",
                             requirements: ["CKA-FRM-001", "CKA-FRM-005", "CKA-IDX-007"], flags: [.framing, .sectionOrder]) {
                var a = V2Fixtures.everySection
                a.compression = c
                a.framed = true
                return a
            })
            cases.append(.v2("v2-\(name)-typical", "The typical Podman checkpoint compressed with \(name) as one stream",
                             requirements: ["CKA-V2-008"]) {
                var a = V2Fixtures.typical
                a.compression = c
                return a
            })
        }
        for alignment in [512, 4096, 65536] {
            cases.append(.v2("v2-aligned-\(alignment)", "Files of 1 KiB to 70 KiB (CRIU pages, rootfs blobs), uncompressed, aligned at \(alignment) with CKA.pad records",
                             requirements: ["CKA-ALN-001", "CKA-ALN-002", "CKA-ALN-003", "CKA-ALN-004", "CKA-ALN-007",
                                            "CKA-FRM-009"],
                             flags: [.alignment]) {
                var a = V2Fixtures.payload
                a.alignment = alignment
                return a
            })
        }
        cases.append(.v2("v2-zstd-framed-aligned-4096", "Framed zstd that declares alignment 4096: alignment then holds only for the decompressed stream (a SHOULD NOT)",
                         result: .acceptable, requirements: ["CKA-ALN-007"], flags: [.alignment, .framing]) {
            var a = V2Fixtures.payload
            a.alignment = 4096
            a.compression = .zstd
            a.framed = true
            return a
        })
        cases.append(.v2("v2-gzip-aligned-512", "Whole-stream gzip that declares alignment 512 (a SHOULD NOT)",
                         result: .acceptable, requirements: ["CKA-ALN-007"], flags: [.alignment]) {
            var a = V2Fixtures.payload
            a.alignment = 512
            a.compression = .gzip
            return a
        })
        return VectorGroup(name: "v2-matrix", cases: cases)
    }
}
