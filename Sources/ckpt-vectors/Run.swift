import ArgumentParser
import Foundation
import VectorCorpus

extension CkptVectors {
    /// `ckpt-vectors run --decoder 'CMD {archive} {dir}'`: another implementation against the corpus.
    struct Run: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Run another implementation's decoder (and encoder) on every vector and judge it by the manifest.",
            discussion: """
                The decoder must refuse every invalid vector whose requirements bind decoders (non-zero exit, an \
                absent or empty {dir}) and unpack every valid and acceptable vector to the manifest's tree \
                (CKA-DIR-012; cka-header.json on profile and sections). Nothing beside {dir} may change (the command \
                runs in a fresh sentinel parent directory, on a copy of the archive); a crash (a signal, or a shell \
                status above 128), a hang past --timeout or more output than --max-output fails the case whatever \
                the expected result (CKA-VEC-008); exit statuses 126 and 127 mean the command could not be run. \
                With --encoder, every valid vector is unpacked by ckpt, encoded by the command, validated (it must be \
                valid) and unpacked again to the same tree. Commands run with /bin/sh -c; placeholders are replaced \
                by single-quoted paths. Exit status: 0 when every case passes, 1 otherwise, 2 on usage or I/O errors.
                """)

        @Option(help: ArgumentHelp("The decoder under test; {archive} and {dir} are replaced.", valueName: "CMD {archive} {dir}"))
        var decoder: String?

        @Option(help: ArgumentHelp("The encoder under test; {dir} and {archive} are replaced.", valueName: "CMD {dir} {archive}"))
        var encoder: String?

        @Option(parsing: .unconditional, help: ArgumentHelp("Appended to the decoder command for vectors that pin the index digest ({digest} is replaced); without it they are skipped.",
                                   valueName: "ARGS {digest}"))
        var pin: String?

        @Option(help: "Write JUnit XML to this file.")
        var junit: String?

        @Option(help: "The vectors directory.")
        var vectors = "Vectors"

        @Option(help: "Only vectors whose id matches this shell pattern (or contains it, without * ? [); repeatable.")
        var filter: [String] = []

        @Option(help: "Seconds each command may run before it is killed and the case fails.")
        var timeout: Double = 60

        @Option(help: "Address-space limit of each command in MiB (ulimit -v; 0 for none).")
        var memoryLimit = 4096

        @Option(help: "The most a decoder may write into {dir}, and the largest file any command may write, in MiB.")
        var maxOutput = 1024

        @Flag(help: "Print notes (the command line, why an accepted invalid vector binds no decoder) for every case.")
        var verbose = false

        func validate() throws {
            if decoder == nil, encoder == nil { throw ValidationError("give --decoder, --encoder or both") }
            if timeout <= 0 { throw ValidationError("--timeout must be positive") }
            if memoryLimit < 0 || maxOutput <= 0 { throw ValidationError("--memory-limit and --max-output must not be negative") }
        }

        func run() throws {
            var options = RunOptions()
            options.vectors = vectors
            do {
                options.decoder = try decoder.map { try CommandTemplate($0, requiring: ["archive", "dir"]) }
                options.encoder = try encoder.map { try CommandTemplate($0, requiring: ["dir", "archive"]) }
                options.pin = try pin.map { try CommandTemplate($0, requiring: ["digest"]) }
            } catch {
                throw ValidationError("\(error)")
            }
            options.filters = filter
            options.limits = ChildProcess.Limits(memoryMiB: memoryLimit, fileMiB: maxOutput, timeout: timeout)
            options.outputLimitMiB = maxOutput
            let runner = try VectorRunner(options: options)
            if runner.selected.isEmpty { throw ValidationError("no vector matches \(filter)") }
            // Unbuffered, so that a long run shows each case as it ends.
            func say(_ lines: [String]) { FileHandle.standardOutput.write(Data((lines.joined(separator: "\n") + "\n").utf8)) }
            let report = try runner.run { say($0.render(verbose: verbose)) }
            say(report.summary)
            if let junit {
                try RunJUnit.render(report).write(to: URL(fileURLWithPath: junit))
            }
            if !report.passed { throw ExitCode(1) }
        }
    }
}
