import ArgumentParser
import Conformance

/// `ckpt-validate`: the conformance validator (its rules arrive with the validator work).
struct CkptValidate: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ckpt-validate",
        abstract: "Check checkpoint archives against the Checkpoint Archive specification.")

    @Argument(help: "Archives to check, or - for standard input.")
    var files: [String] = []

    func run() throws {
        throw ValidationError("the validator is not implemented yet; see issue 5")
    }
}

CkptValidate.main()
