import ArgumentParser
import Conformance

/// `ckpt-validate`: check checkpoint archives against the specification, in one streaming pass each. The
/// arguments as ArgumentParser defines them (help, usage errors); `QuickArguments` reads the usual command
/// lines without it.
struct CkptValidate: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ckpt-validate",
        abstract: "Check checkpoint archives against the Checkpoint Archive specification.",
        discussion: """
            Every finding names the requirement (CKA-AREA-NNN), the entry, the byte offset and what is wrong. \
            Verdicts: valid; acceptable (only SHOULD-level warnings); invalid (a MUST is broken or the archive \
            cannot be decoded). Exit status: 0 when every file is valid or acceptable (with --strict: valid), \
            1 when any is invalid, 2 on usage or I/O errors.
            """)

    @Option(help: "Rules to apply: auto (decided from the archive, which is reported), v2, podman, crio, containerd.")
    var profile: ValidatorOptions.ProfileChoice = .auto

    @Option(help: "Report format: text, json (one object per file per line) or junit (XML).")
    var format: ValidateRun.OutputFormat = .text

    @Flag(help: "Treat acceptable (warnings only) as a failure.")
    var strict = false

    @Flag(help: "Do not verify v2 digests (structure is still checked; seeks over data when it can). No digest is computed: the index digest is reported only with --expect-index-digest.")
    var noDigests = false

    @Option(help: "Require the v2 index digest to be this sha256:<hex> value (CKA-IDX-010).")
    var expectIndexDigest: String?

    @Option(help: "Largest pax extended header accepted, in bytes.")
    var maxPaxHeader: Int64 = ValidateRun.defaultMaxPaxHeader

    @Option(help: "Most entries accepted in one archive.")
    var maxEntries: Int = ValidateRun.defaultMaxEntries

    @Option(help: "At most this many findings per requirement.")
    var maxDiagnostics: Int = ValidateRun.defaultMaxDiagnostics

    @Flag(help: "No progress on standard error.")
    var quiet = false

    @Argument(help: "Archives to check; - for standard input.")
    var files: [String]

    func validate() throws {
        if let problem = settings.usageProblem { throw ValidationError(problem) }
    }

    /// The settings parsed.
    var settings: ValidateRun {
        ValidateRun(profile: profile, format: format, strict: strict, noDigests: noDigests,
                    expectIndexDigest: expectIndexDigest, maxPaxHeader: maxPaxHeader, maxEntries: maxEntries,
                    maxDiagnostics: maxDiagnostics, quiet: quiet, files: files)
    }

    func run() throws { try settings.run() }
}

extension ValidatorOptions.ProfileChoice: ExpressibleByArgument {}
extension ValidateRun.OutputFormat: ExpressibleByArgument {}
