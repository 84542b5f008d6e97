import ArgumentParser
import ByteStreams
import Conformance
import Foundation

/// `ckpt-validate`: check checkpoint archives against the specification, in one streaming pass each.
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

    enum OutputFormat: String, ExpressibleByArgument, CaseIterable { case text, json, junit }

    @Option(help: "Rules to apply: auto (decided from the archive, which is reported), v2, podman, crio, containerd.")
    var profile: ValidatorOptions.ProfileChoice = .auto

    @Option(help: "Report format: text, json (one object per file per line) or junit (XML).")
    var format: OutputFormat = .text

    @Flag(help: "Treat acceptable (warnings only) as a failure.")
    var strict = false

    @Flag(help: "Do not verify v2 digests (structure is still checked; seeks over data when it can).")
    var noDigests = false

    @Option(help: "Require the v2 index digest to be this sha256:<hex> value (CKA-IDX-010).")
    var expectIndexDigest: String?

    @Option(help: "Largest pax extended header accepted, in bytes.")
    var maxPaxHeader: Int64 = 1 << 20

    @Option(help: "Most entries accepted in one archive.")
    var maxEntries: Int = 10_000_000

    @Option(help: "At most this many findings per requirement.")
    var maxDiagnostics: Int = 20

    @Flag(help: "No progress on standard error.")
    var quiet = false

    @Argument(help: "Archives to check; - for standard input.")
    var files: [String]

    func validate() throws {
        guard !files.isEmpty else { throw ValidationError("name at least one archive, or - for standard input") }
        guard files.filter({ $0 == "-" }).count <= 1 else { throw ValidationError("standard input can be read once") }
    }

    func run() throws {
        var options = ValidatorOptions()
        options.profile = profile
        options.verifyDigests = !noDigests
        options.expectedIndexDigest = expectIndexDigest
        options.tarLimits.maxPaxHeaderSize = maxPaxHeader
        options.tarLimits.maxEntryCount = maxEntries
        options.maxDiagnosticsPerRule = maxDiagnostics
        let validator = Validator(options: options)
        var reports: [ValidationReport] = []
        var ioFailure = false
        for file in files {
            do {
                let source: FileSource = file == "-" ? FileSource(descriptor: .standardInput) : try FileSource(path: file)
                let progress = ValidateProgress(file: file, total: source.fileSize, quiet: quiet)
                let report = validator.validate(file: file, source: source, progress: progress.update)
                progress.finish()
                if let io = report.ioError {
                    FileHandle.standardError.write(Data("ckpt-validate: \(file): \(io)\n".utf8))
                    ioFailure = true
                } else {
                    reports.append(report)
                }
            } catch {
                FileHandle.standardError.write(Data("ckpt-validate: \(file): \(error)\n".utf8))
                ioFailure = true
            }
            if format == .json, let last = reports.last, last.file == file { print(JSONReport.render(last)) }
        }
        switch format {
        case .text: print(TextReport.render(reports))
        case .json: break
        case .junit: FileHandle.standardOutput.write(JUnitReport.render(reports))
        }
        if ioFailure { throw ExitCode(2) }
        if reports.contains(where: { $0.verdict == .invalid || (strict && $0.verdict == .acceptable) }) {
            throw ExitCode(1)
        }
    }
}

extension ValidatorOptions.ProfileChoice: ExpressibleByArgument {}

/// Progress on standard error when it is a terminal.
final class ValidateProgress {
    let file: String
    let total: Int64?
    let enabled: Bool
    private var next: Int64 = 256 << 20
    private var shown = false

    init(file: String, total: Int64?, quiet: Bool) {
        self.file = file
        self.total = total
        enabled = !quiet && isatty(2) == 1
    }

    func update(_ done: Int64) {
        guard enabled, done >= next else { return }
        next = done + (256 << 20)
        var s = "\r\(file): \(done >> 20) MiB"
        if let total, total > 0 { s += " of \(total >> 20) MiB" }
        FileHandle.standardError.write(Data(s.utf8))
        shown = true
    }

    func finish() { if shown { FileHandle.standardError.write(Data("\r\u{1B}[K".utf8)) } }
}

/// Usage errors exit 2 (ArgumentParser's default is 64).
do {
    var command = try CkptValidate.parseAsRoot()
    try command.run()
} catch let code as ExitCode {
    exit(code.rawValue)
} catch {
    if CkptValidate.exitCode(for: error) == .success { CkptValidate.exit(withError: error) }
    FileHandle.standardError.write(Data((CkptValidate.fullMessage(for: error) + "\n").utf8))
    exit(2)
}
