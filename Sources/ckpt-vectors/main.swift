import ArgumentParser
import Conformance

/// `ckpt-vectors`: generate and verify the golden corpus (arrives with the vectors work).
struct CkptVectors: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ckpt-vectors",
        abstract: "Generate, verify and run the golden test vectors.")

    func run() throws {
        throw ValidationError("the vector generator is not implemented yet; see issue 6")
    }
}

CkptVectors.main()
