import Foundation
import TestSupport
import VectorCorpus
import XCTest

/// The corpus generated in memory and the verification of the committed `Vectors/`, made once per test process
/// (verification validates and extracts every vector).
enum SharedVerification {
    nonisolated(unsafe) private static var cached: (GeneratedCorpus, VerificationReport)?
    private static let lock = NSLock()

    static var vectorsDirectory: String { TestTools.repositoryRoot.appendingPathComponent("Vectors").path }

    static func result() throws -> (corpus: GeneratedCorpus, report: VerificationReport) {
        lock.lock()
        defer { lock.unlock() }
        if let cached { return cached }
        let corpus = try CorpusGenerator.generate()
        let report = try CorpusVerifier.verify(directory: vectorsDirectory, generated: corpus)
        cached = (corpus, report)
        return (corpus, report)
    }
}
