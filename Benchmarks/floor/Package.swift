// swift-tools-version:6.1
import PackageDescription

// The start-up floor of `ckpt-validate` (Benchmarks/validate.sh): a program that links what the validator must
// link (the Swift runtime, Foundation, and FoundationXML for JUnit reports), built as the shipped binary is
// (Benchmarks/static-flags.sh), and does nothing.
let package = Package(
    name: "startup-floor",
    targets: [.executableTarget(name: "startup-floor")]
)
