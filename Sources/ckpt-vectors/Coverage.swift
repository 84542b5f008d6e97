import ArgumentParser
import Foundation
import VectorCorpus

extension CkptVectors {
    /// `ckpt-vectors coverage`: requirement -> vectors -> rule, as Spec/coverage.md.
    struct Coverage: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Print (or write, or check) Spec/coverage.md: which vectors break and meet each V requirement.")

        @Option(help: "The vectors directory.")
        var vectors = "Vectors"

        @Option(help: "The repository root (for the validator's sources).")
        var root = "."

        @Option(help: "Write the report to this file.")
        var out: String?

        @Option(help: "Fail (exit 1) unless this file holds the current report.")
        var check: String?

        func run() throws {
            guard let data = FileManager.default.contents(atPath: vectors + "/manifest.json") else {
                throw ValidationError("cannot read \(vectors)/manifest.json")
            }
            let manifest = try JSONDecoder().decode(VectorManifest.self, from: data)
            let text = CoverageReport.render(Traceability(manifest: manifest, ruleFiles: Traceability.ruleFiles(base: root)))
            if let check {
                guard FileManager.default.contents(atPath: check) == Data(text.utf8) else {
                    FileHandle.standardError.write(Data("ckpt-vectors: \(check) is stale; run ckpt-vectors coverage --out \(check)\n".utf8))
                    throw ExitCode(1)
                }
                print("ckpt-vectors: \(check) is current")
            } else if let out {
                try Data(text.utf8).write(to: URL(fileURLWithPath: out))
            } else {
                print(text, terminator: "")
            }
        }
    }
}
