import ArgumentParser
#if canImport(Glibc)
import Glibc
#endif

/// The usual command lines run without ArgumentParser's start-up cost; anything else (help, usage errors)
/// goes through it. Usage errors exit 2 (ArgumentParser's default is 64).
do {
    if let run = QuickArguments.parse(CommandLine.arguments.dropFirst()) {
        try run.run()
    } else {
        var command = try CkptValidate.parseAsRoot()
        try command.run()
    }
} catch let status as ExitStatus {
    exit(status.code)
} catch let code as ExitCode {
    exit(code.rawValue)
} catch {
    if CkptValidate.exitCode(for: error) == .success { CkptValidate.exit(withError: error) }
    StandardStreams.error(CkptValidate.fullMessage(for: error) + "\n")
    exit(2)
}
