import ArgumentParser
import Foundation
import VectorCorpus

extension CkptVectors {
    /// `ckpt-vectors verify`: the committed corpus against the generator, the validator and the extractor.
    struct Verify: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Regenerate the corpus in memory and check it against the committed files, the validator and the extractor.",
            discussion: """
                Uncompressed archives must be byte-identical, compressed ones must decompress to the same stream \
                (CKA-VEC-007). Every vector is validated: the verdict must be the manifest's result and, for invalid \
                and acceptable cases, the IDs of the findings exactly its requirements. Valid and acceptable vectors \
                are extracted and compared with their tree (CKA-VEC-005).
                """)

        @Option(help: "The vectors directory.")
        var vectors = "Vectors"

        @Flag(help: "Do not extract the vectors.")
        var noExtract = false

        @Flag(help: "Print notes for every case.")
        var verbose = false

        func run() throws {
            let report = try CorpusVerifier.verify(directory: vectors, extract: !noExtract)
            print(report.render(verbose: verbose), terminator: "")
            if !report.passed { throw ExitCode(1) }
        }
    }
}
