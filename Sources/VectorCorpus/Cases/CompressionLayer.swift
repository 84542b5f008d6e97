import Compression

/// The compression layer (part 3): methods the specification does not allow, in real bzip2, xz and lz4 streams
/// built by the generator (`Bzip2Writer`, `StoredContainers`), and detection by magic bytes.
enum CompressionLayer {
    /// The worked example's tar stream.
    static func workedExampleTar() throws -> [UInt8] { try V2TestArchive().build().tar }

    static func recompressed(_ id: String, _ method: String, breaks: [String], _ compress: @escaping ([UInt8]) -> [UInt8])
        -> VectorCase {
        VectorCase(id: id, description: "the worked example's tar stream compressed with \(method)", result: .invalid,
                   requirements: breaks, format: .v2, profile: .podman, base: VectorBase.workedExample, malformed: true) {
            VectorArchive(bytes: compress(try workedExampleTar()))
        }
    }

    /// The zstd worked example behind a skippable frame: valid, and detected as zstd by the skippable frame's magic.
    static var skippableFirst: VectorCase {
        VectorCase(id: "v2-cmp-zstd-skippable-first", description: "the zstd worked example behind a 12-byte skippable frame (magic 0x184D2A50): detected as zstd by that frame",
                   result: .valid, requirements: ["CKA-CMP-002", "CKA-CMP-005", "CKA-CMP-007"], format: .v2, profile: .podman) {
            let a = V2TestArchive.compressed(.zstd, framed: false)
            let skippable: [UInt8] = [0x50, 0x2A, 0x4D, 0x18, 0x04, 0x00, 0x00, 0x00] + Array("CKA!".utf8)
            return VectorArchive(bytes: skippable + (try a.build().file), tree: ExpectedTree.v2(a))
        }
    }

    static var group: VectorGroup {
        VectorGroup(name: "compression-layer", cases: [
            skippableFirst,
            recompressed("v2-cmp-lz4", "lz4 (a frame of uncompressed blocks)", breaks: ["CKA-CMP-001"], StoredContainers.lz4),
            recompressed("v2-cmp-bzip2", "bzip2", breaks: ["CKA-CMP-001"]) { Bzip2Writer.compress($0) },
            recompressed("v2-cmp-xz", "xz (LZMA2 uncompressed chunks)", breaks: ["CKA-CMP-001"], StoredContainers.xz),
            .v2Bytes("v2-cmp-gzip-magic-tar", "an uncompressed archive whose first header's name field starts with the gzip magic 1F 8B 08 and an invalid deflate block: GNU tar and Python read a tar, magic-first readers a corrupt gzip",
                     breaks: ["CKA-CMP-002"], flags: [.parserDifferential], malformed: true) { bytes, _ in
                V2Patch.header(&bytes, at: 0) { b in
                    b.replaceSubrange(0..<11, with: [0x1F, 0x8B, 0x08, 0x00, 0, 0, 0, 0, 0x00, 0xFF, 0x07])
                }
            },
        ])
    }
}
