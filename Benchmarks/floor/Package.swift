// swift-tools-version:6.1
import PackageDescription

// The start-up floor of `ckpt-validate` (Benchmarks/validate.sh): a program that links what the validator must
// link (the Swift runtime, FoundationEssentials, which swift-crypto and swift-argument-parser bring, and libxml2
// for JUnit reports), built as the shipped binary is (Benchmarks/static-flags.sh), and does nothing.
let package = Package(
    name: "startup-floor",
    targets: [
        .systemLibrary(name: "CLibXML2", pkgConfig: "libxml-2.0"),
        .executableTarget(name: "startup-floor", dependencies: ["CLibXML2"]),
    ]
)
