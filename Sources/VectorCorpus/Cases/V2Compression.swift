import Compression

/// Compression errors of v2 archives (part 3): each case damages the compressed bytes of a valid vector, so that
/// decoding stops with a malformed error (ported from Tests/ConformanceTests/TarMalformedInputTests, on v2
/// archives instead of bare tar streams).
enum V2Compression {
    static func gzip() -> V2TestArchive { V2TestArchive.compressed(.gzip, framed: false) }
    static func zstd() -> V2TestArchive { V2TestArchive.compressed(.zstd, framed: false) }

    static var group: VectorGroup {
        VectorGroup(name: "v2-compression", cases: [
            .v2Bytes("v2-cmp-not-a-tar", "the first header block of an uncompressed archive has a wrong checksum: neither compressed nor tar",
                     breaks: ["CKA-CMP-003"], flags: [.checksum], malformed: true) { bytes, _ in bytes[148] ^= 0x01 },
            .v2Bytes("v2-cmp-gzip-crc", "the gzip trailer's CRC-32 is wrong", breaks: ["CKA-CMP-006"], flags: [.checksum],
                     base: "v2-gzip", from: gzip, malformed: true) { bytes, _ in bytes[bytes.count - 8] ^= 0xFF },
            .v2Bytes("v2-cmp-gzip-truncated", "the gzip stream is cut inside its trailer", breaks: ["CKA-CMP-010"],
                     flags: [.truncated], base: "v2-gzip", from: gzip, malformed: true) { bytes, _ in bytes.removeLast(6) },
            .v2Bytes("v2-cmp-gzip-trailing-garbage", "text after the last gzip member", breaks: ["CKA-CMP-009"],
                     base: "v2-gzip", from: gzip, malformed: true) { bytes, _ in bytes += Array("garbage".utf8) },
            .v2Bytes("v2-cmp-zstd-checksum", "the zstd frame's content checksum is wrong", breaks: ["CKA-CMP-007"],
                     flags: [.checksum], base: "v2-zstd", from: zstd, malformed: true) { bytes, _ in bytes[bytes.count - 1] ^= 0xFF },
            .v2Bytes("v2-cmp-zstd-truncated", "the zstd stream is cut inside its last block", breaks: ["CKA-CMP-010"],
                     flags: [.truncated], base: "v2-zstd", from: zstd, malformed: true) { bytes, _ in bytes.removeLast(10) },
            .v2Bytes("v2-cmp-zstd-dictionary", "a zstd frame that needs dictionary 7 before the archive's frame",
                     breaks: ["CKA-CMP-008"], base: "v2-zstd", from: zstd, malformed: true) { bytes, _ in
                bytes = [0x28, 0xB5, 0x2F, 0xFD, 0x21, 0x07, 0x00, 0x01, 0x00, 0x00] + bytes
            },
            .v2Bytes("v2-cmp-uncompressed-truncated", "an uncompressed archive cut inside the index entry's data",
                     breaks: ["CKA-TAR-001"], flags: [.truncated], malformed: true) { bytes, _ in bytes.removeLast(1024 + 700) },
        ])
    }
}
