import ArgumentParser
import Foundation

/// `ckpt-vectors`: generate and verify the golden corpus, and trace requirements to vectors.
struct CkptVectors: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ckpt-vectors",
        abstract: "Generate, verify and trace the golden test vectors (Spec/09-vectors.md), and run other implementations on them.",
        discussion: "Exit status: 0 success; 1 a vector or the corpus is wrong (or coverage.md is stale); 2 usage or I/O error.",
        subcommands: [Generate.self, Verify.self, Coverage.self, Run.self])
}

// Usage errors exit 2 (ArgumentParser's default is 64).
do {
    var command = try CkptVectors.parseAsRoot()
    try command.run()
} catch let code as ExitCode {
    exit(code.rawValue)
} catch {
    if CkptVectors.exitCode(for: error) == .success { CkptVectors.exit(withError: error) }
    FileHandle.standardError.write(Data(("ckpt-vectors: " + CkptVectors.fullMessage(for: error) + "\n").utf8))
    exit(2)
}
