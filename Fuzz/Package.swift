// swift-tools-version:6.1
import PackageDescription

// libFuzzer targets for the checkpoint-archive package (issue 7). A separate package so that a normal
// `swift build` / `swift test` of the main package never sees them. Build and run through Fuzz/run.sh:
//   swift build -c debug --sanitize=fuzzer --sanitize=address --scratch-path .build-fuzz --product FuzzTar
// The sanitizers apply to the main package's modules too, so libFuzzer sees their coverage.
let package = Package(
    name: "checkpoint-archive-fuzz",
    platforms: [.macOS(.v13)],
    dependencies: [
        .package(name: "checkpoint-archive", path: ".."),
    ],
    targets: [
        // Helpers shared by the harnesses: draining sources, the scratch directory, invariant checks.
        .target(name: "FuzzSupport", dependencies: [
            .product(name: "ByteStreams", package: "checkpoint-archive"),
        ]),
        // The decoder harness shared by FuzzGzip, FuzzZstd, FuzzBzip2 and FuzzXz.
        .target(name: "FuzzDecoding", dependencies: [
            "FuzzSupport",
            .product(name: "Compression", package: "checkpoint-archive"),
            .product(name: "ByteStreams", package: "checkpoint-archive"),
        ]),
        // TarReader over a MemorySource: every entry, every data byte, then the end of the stream.
        .executableTarget(name: "FuzzTar", dependencies: [
            "FuzzSupport",
            .product(name: "TarFormat", package: "checkpoint-archive"),
            .product(name: "ByteStreams", package: "checkpoint-archive"),
        ]),
        // GzipDecodingSource with DecompressionLimits, read and skip paths compared.
        .executableTarget(name: "FuzzGzip", dependencies: ["FuzzDecoding"]),
        // ZstdDecodingSource with DecompressionLimits, read and skip paths compared.
        .executableTarget(name: "FuzzZstd", dependencies: ["FuzzDecoding"]),
        // The bzip2 and xz decoders (CodecDecodingSource over libbz2 and liblzma), the same way.
        .executableTarget(name: "FuzzBzip2", dependencies: ["FuzzDecoding"]),
        .executableTarget(name: "FuzzXz", dependencies: ["FuzzDecoding"]),
        // `ckpt extract` without the CLI: ArchiveOpener + ArchiveExtraction (v2 decoder, v1 reader) into a
        // SafeExtractor in a scratch directory; checks nothing is left behind on failure or written beside it.
        .executableTarget(name: "FuzzExtract", dependencies: [
            "FuzzSupport",
            .product(name: "CheckpointArchive", package: "checkpoint-archive"),
            .product(name: "Compression", package: "checkpoint-archive"),
            .product(name: "ByteStreams", package: "checkpoint-archive"),
        ]),
        // ArchiveIndex.parse (the v2 decoder's reader of cka-index.json): round trips through the canonical form.
        .executableTarget(name: "FuzzIndex", dependencies: [
            "FuzzSupport",
            .product(name: "CheckpointArchive", package: "checkpoint-archive"),
        ]),
        // The Conformance Validator on the bytes (through a scratch file, as ckpt-validate reads files),
        // and its text/JSON reports.
        .executableTarget(name: "FuzzValidate", dependencies: [
            "FuzzSupport",
            .product(name: "Conformance", package: "checkpoint-archive"),
            .product(name: "CheckpointArchive", package: "checkpoint-archive"),
            .product(name: "TarFormat", package: "checkpoint-archive"),
            .product(name: "ByteStreams", package: "checkpoint-archive"),
        ]),
    ]
)
