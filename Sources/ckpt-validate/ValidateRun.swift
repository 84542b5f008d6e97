import ByteStreams
import Conformance
#if canImport(Glibc)
import Glibc
#endif

/// One `ckpt-validate` invocation, however its arguments were parsed: the settings and what to do with them.
struct ValidateRun: Equatable {
    enum OutputFormat: String, CaseIterable { case text, json, junit }

    static let defaultMaxPaxHeader: Int64 = 1 << 20
    static let defaultMaxEntries = 10_000_000
    static let defaultMaxDiagnostics = 20

    var profile: ValidatorOptions.ProfileChoice = .auto
    var format: OutputFormat = .text
    var strict = false
    var noDigests = false
    var expectIndexDigest: String?
    var maxPaxHeader = defaultMaxPaxHeader
    var maxEntries = defaultMaxEntries
    var maxDiagnostics = defaultMaxDiagnostics
    var quiet = false
    var files: [String] = []

    /// Why the files named cannot be checked (a usage error), nil when they can.
    var usageProblem: String? {
        if files.isEmpty { return "name at least one archive, or - for standard input" }
        if files.filter({ $0 == "-" }).count > 1 { return "standard input can be read once" }
        return nil
    }

    /// Checks every file and prints the reports; throws `ExitStatus` 1 or 2 as the verdicts and errors say.
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
                let report = validator.validate(file: file, source: source, progress: progress.enabled ? progress.update : nil)
                progress.finish()
                if let io = report.ioError {
                    StandardStreams.error("ckpt-validate: \(file): \(io)\n")
                    ioFailure = true
                } else {
                    reports.append(report)
                }
            } catch {
                StandardStreams.error("ckpt-validate: \(file): \(error)\n")
                ioFailure = true
            }
            if format == .json, let last = reports.last, last.file == file { print(JSONReport.render(last)) }
        }
        switch format {
        case .text: print(TextReport.render(reports))
        case .json: break
        case .junit: StandardStreams.output(JUnitReport.render(reports))
        }
        if ioFailure { throw ExitStatus(2) }
        if reports.contains(where: { $0.verdict == .invalid || (strict && $0.verdict == .acceptable) }) {
            throw ExitStatus(1)
        }
    }
}

/// The exit status a run ends with when it is not 0.
struct ExitStatus: Error {
    let code: Int32
    init(_ code: Int32) { self.code = code }
}

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
        StandardStreams.error(s)
        shown = true
    }

    func finish() { if shown { StandardStreams.error("\r\u{1B}[K") } }
}
