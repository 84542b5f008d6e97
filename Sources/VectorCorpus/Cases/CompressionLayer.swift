import Compression

/// The compression layer (part 3): methods the specification does not allow, in real bzip2, xz and lz4 streams
/// built by the generator (`Bzip2Writer`, `StoredContainers`), and detection by magic bytes.
enum CompressionLayer {
    /// The worked example's tar stream.
    static func workedExampleTar() throws -> [UInt8] { try V2TestArchive().build().tar }

    static func recompressed(_ id: String, _ method: String, breaks: [String], malformed: Bool = true,
                             _ compress: @escaping ([UInt8]) -> [UInt8]) -> VectorCase {
        VectorCase(id: id, description: "the worked example's tar stream compressed with \(method)", result: .invalid,
                   requirements: breaks, format: .v2, profile: .podman, base: VectorBase.workedExample,
                   malformed: malformed) {
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

    /// The typical Podman export in bzip2 or xz, which Podman's import reads (CKA-CMP-004).
    static func v1Tolerated(_ format: CompressionFormat) -> V1TestArchive { LegacyPodmanFixtures.typical(format) }

    /// A change of the bytes of `v1-cmp-bzip2` or `v1-cmp-xz` (both acceptable, so the base named is their valid
    /// source, `v1-podman`).
    static func v1Damaged(_ id: String, _ description: String, _ format: CompressionFormat, breaks: [String],
                          flags: [VectorFlag], _ change: @escaping (inout [UInt8]) -> Void) -> VectorCase {
        VectorCase(id: id, description: description, result: .invalid, requirements: breaks,
                   flags: (flags + [.legacyProfile]).sorted(), format: .v1, profile: .podman,
                   base: V1Base.podman, malformed: true) {
            var bytes = try v1Tolerated(format).build()
            change(&bytes)
            return VectorArchive(bytes: bytes)
        }
    }

    /// bzip2 and xz around v1: read with a warning (acceptable), their checks verified (CKA-CMP-014), trailing
    /// bytes and truncation refused. The archives are smaller than the 64 KiB a reader decodes to tell v1 from v2,
    /// so a damaged one fails before its version is known and reports only the compression finding.
    static var tolerated: [VectorCase] {
        [
            .v1("v1-cmp-bzip2", "The typical Podman export compressed with bzip2 (a real bzip2 stream from the vectors' own writer): Podman's import reads it, so it is acceptable with a warning",
                result: .acceptable, requirements: ["CKA-CMP-004"], base: V1Base.podman) { v1Tolerated(.bzip2) },
            .v1("v1-cmp-xz", "The typical Podman export compressed with xz (LZMA2 uncompressed chunks, CRC-32 check): acceptable with a warning",
                result: .acceptable, requirements: ["CKA-CMP-004"], base: V1Base.podman) { v1Tolerated(.xz) },
            v1Damaged("v1-cmp-bzip2-block-crc", "v1-cmp-bzip2 with its first block's stored CRC changed: the block decodes, its CRC does not match", .bzip2,
                      breaks: ["CKA-CMP-014"], flags: [.checksum]) { $0[10] ^= 0x01 },
            v1Damaged("v1-cmp-bzip2-bad-magic", "v1-cmp-bzip2 whose first block magic is changed: nothing decodes, so neither v1 nor v2 can be told", .bzip2,
                      breaks: ["CKA-CMP-014"], flags: [.checksum]) { $0[4] ^= 0x01 },
            v1Damaged("v1-cmp-bzip2-trailing", "v1-cmp-bzip2 followed by 16 bytes that do not start another bzip2 stream", .bzip2,
                      breaks: ["CKA-CMP-009"], flags: []) { $0 += Array("not a bzip2 strm".utf8) },
            v1Damaged("v1-cmp-xz-data", "v1-cmp-xz with one byte of an uncompressed LZMA2 chunk changed: the block's CRC-32 check does not match", .xz,
                      breaks: ["CKA-CMP-014"], flags: [.checksum]) { $0[600] ^= 0x20 },
            v1Damaged("v1-cmp-xz-truncated", "v1-cmp-xz cut 20 bytes before its end (inside the index and stream footer)", .xz,
                      breaks: ["CKA-CMP-010"], flags: [.truncated]) { $0.removeLast(20) },
        ]
    }

    static var group: VectorGroup {
        VectorGroup(name: "compression-layer", cases: tolerated + [
            skippableFirst,
            recompressed("v2-cmp-lz4", "lz4 (a frame of uncompressed blocks)", breaks: ["CKA-CMP-001"], StoredContainers.lz4),
            recompressed("v2-cmp-bzip2", "bzip2: decoded, and refused as v2 (its header's compression \"none\" does not match either)",
                         breaks: ["CKA-CMP-005", "CKA-V2-008"], malformed: false) { Bzip2Writer.compress($0) },
            recompressed("v2-cmp-xz", "xz (LZMA2 uncompressed chunks): decoded, and refused as v2 (its header's compression \"none\" does not match either)",
                         breaks: ["CKA-CMP-005", "CKA-V2-008"], malformed: false, StoredContainers.xz),
            .v2Bytes("v2-cmp-gzip-magic-tar", "an uncompressed archive whose first header's name field starts with the gzip magic 1F 8B 08 and an invalid deflate block: GNU tar and Python read a tar, magic-first readers a corrupt gzip",
                     breaks: ["CKA-CMP-002"], flags: [.parserDifferential], malformed: true) { bytes, _ in
                V2Patch.header(&bytes, at: 0) { b in
                    b.replaceSubrange(0..<11, with: [0x1F, 0x8B, 0x08, 0x00, 0, 0, 0, 0, 0x00, 0xFF, 0x07])
                }
            },
        ])
    }
}
