import ArgumentParser
import Foundation
import VectorCorpus

extension CkptVectors {
    /// `ckpt-vectors generate --out Vectors`: writes every archive, tree file and the manifest.
    struct Generate: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Write the corpus and Vectors/manifest.json (the same bytes on every run).")

        @Option(help: "The vectors directory.")
        var out = "Vectors"

        func run() throws {
            let corpus = try CorpusGenerator.generate()
            try CorpusGenerator.write(corpus, to: out)
            let size = corpus.files.filter { $0.key != "manifest.json" && !$0.key.hasPrefix("trees/") }.values
                .reduce(0) { $0 + $1.count }
            print("ckpt-vectors: wrote \(corpus.vectors.count) vectors (\(size) bytes of archives) and manifest.json to \(out)")
        }
    }
}
