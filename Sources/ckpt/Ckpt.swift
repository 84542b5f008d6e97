import ArgumentParser

/// `ckpt`: create, extract, convert, list and inspect container checkpoint archives.
@main
struct Ckpt: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ckpt",
        abstract: "Create, extract, convert, list and inspect container checkpoint archives.",
        discussion: """
            Exit status: 0 on success, 1 when an archive is malformed or invalid, 2 on usage or I/O errors.
            """,
        version: "0.1.0",
        subcommands: [Create.self, Extract.self, Convert.self, List.self, Inspect.self])

    static func main() {
        CommandLine.runToExitCode(Self.self)
    }
}
