// swift-tools-version:6.1
import PackageDescription

// The modules form a one-way stack:
//   C shims (CZlib, CZstd, CBzip2, CLzma, CSysShims) -> ByteStreams
//   -> TarFormat (tar headers, pax, streaming reader/writer) and Compression (gzip, zstd, detection)
//   -> CheckpointArchive (sections, v1 profiles, v2 encoder/decoder) -> Conformance (rules, validator)
//   -> VectorCorpus (the golden test vectors: cases, generator, verifier, traceability)
//   -> the thin CLI targets ckpt, ckpt-validate, ckpt-vectors.
let package = Package(
    name: "checkpoint-archive",
    platforms: [.macOS(.v13)],
    products: [
        .library(name: "ByteStreams", targets: ["ByteStreams"]),
        .library(name: "TarFormat", targets: ["TarFormat"]),
        .library(name: "Compression", targets: ["Compression"]),
        .library(name: "CheckpointArchive", targets: ["CheckpointArchive"]),
        .library(name: "Conformance", targets: ["Conformance"]),
        .library(name: "VectorCorpus", targets: ["VectorCorpus"]),
        .executable(name: "ckpt", targets: ["ckpt"]),
        .executable(name: "ckpt-validate", targets: ["ckpt-validate"]),
        .executable(name: "ckpt-vectors", targets: ["ckpt-vectors"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-system", from: "1.8.1"),
        .package(url: "https://github.com/apple/swift-crypto", from: "4.5.2"),
    ],
    targets: [
        // C shims: system libraries and the few Linux calls Swift cannot see without _GNU_SOURCE.
        .systemLibrary(name: "CZlib", pkgConfig: "zlib", providers: [.apt(["zlib1g-dev"])]),
        .systemLibrary(name: "CZstd", pkgConfig: "libzstd", providers: [.apt(["libzstd-dev"])]),
        // Decoders only: Podman's import reads bzip2 and xz v1 archives, so a decoder must tell v1 (tolerated,
        // CKA-CMP-004) from v2 (refused, CKA-CMP-005) inside them. libbz2 ships no pkg-config file.
        .systemLibrary(name: "CBzip2", providers: [.apt(["libbz2-dev"])]),
        .systemLibrary(name: "CLzma", pkgConfig: "liblzma", providers: [.apt(["liblzma-dev"])]),
        // libxml2's tree and serialiser, for the JUnit report (the XML library under FoundationXML, used directly
        // so that `ckpt-validate` links no Foundation: see the README, "What a run costs before it starts").
        .systemLibrary(name: "CLibXML2", pkgConfig: "libxml-2.0", providers: [.apt(["libxml2-dev"])]),
        .target(name: "CSysShims", cSettings: [.define("_GNU_SOURCE")]),

        // Byte sources and sinks over file descriptors and memory; knows nothing of tar or compression.
        .target(name: "ByteStreams", dependencies: [
            "CSysShims",
            .product(name: "SystemPackage", package: "swift-system"),
        ]),
        // Tar headers, pax records, the streaming reader and the pax writer; knows nothing of checkpoints.
        .target(name: "TarFormat", dependencies: ["ByteStreams"]),
        // gzip and zstd codecs, bzip2 and xz decoders, and detection by magic bytes.
        .target(name: "Compression", dependencies: ["ByteStreams", "CZlib", "CZstd", "CBzip2", "CLzma"]),
        // Checkpoint archives: sections, v1 profiles, v2 encoder/decoder, safe extraction, conversion.
        .target(name: "CheckpointArchive", dependencies: [
            "TarFormat", "Compression", "ByteStreams", "CSysShims",
            .product(name: "Crypto", package: "swift-crypto"),
            .product(name: "SystemPackage", package: "swift-system"),
        ]),
        // Requirement rules, the validator engine, reports and the vector manifest.
        .target(name: "Conformance", dependencies: ["CheckpointArchive", "TarFormat", "Compression", "CLibXML2"]),

        // The golden vectors: case definitions by area, the archive builders they share with the tests, the
        // deterministic generator of Vectors/, the verifier and the requirement traceability.
        .target(name: "VectorCorpus", dependencies: [
            "Conformance", "CheckpointArchive", "TarFormat", "Compression", "ByteStreams", "CSysShims",
            .product(name: "Crypto", package: "swift-crypto"),
        ]),

        .executableTarget(name: "ckpt", dependencies: [
            "CheckpointArchive", "TarFormat", "Compression", "ByteStreams",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ]),
        .executableTarget(name: "ckpt-validate", dependencies: [
            "Conformance", "ByteStreams",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ]),
        .executableTarget(name: "ckpt-vectors", dependencies: [
            "VectorCorpus",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ]),

        // Shared helpers of the test targets: running real tools, temporary directories, product paths.
        .target(name: "TestSupport", dependencies: ["CSysShims"], path: "Tests/TestSupport"),
        .testTarget(name: "ByteStreamsTests", dependencies: ["ByteStreams", "CSysShims", "TestSupport"]),
        .testTarget(name: "TarFormatTests", dependencies: ["TarFormat", "ByteStreams", "Compression", "ckpt", "TestSupport"],
                    exclude: ["Fixtures"]),
        .testTarget(name: "CompressionTests", dependencies: ["Compression", "ByteStreams", "TestSupport"]),
        .testTarget(name: "SpecTests", dependencies: []),
        .testTarget(name: "ConformanceTests", dependencies: [
            "Conformance", "CheckpointArchive", "TarFormat", "Compression", "ByteStreams", "TestSupport",
            "VectorCorpus", "ckpt", "ckpt-validate",
        ]),
        .testTarget(name: "VectorTests", dependencies: [
            "VectorCorpus", "Conformance", "CheckpointArchive", "TarFormat", "Compression", "ByteStreams", "TestSupport",
            "ckpt-vectors", "ckpt",
        ], exclude: ["Fixtures"]),
        .testTarget(name: "CheckpointArchiveTests", dependencies: [
            "CheckpointArchive", "TarFormat", "Compression", "ByteStreams", "ckpt", "TestSupport", "CSysShims",
            .product(name: "Crypto", package: "swift-crypto"),
        ], exclude: ["Fixtures"]),
    ]
)
