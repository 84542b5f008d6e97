import ArgumentParser
import ByteStreams
import CheckpointArchive
import Compression
import TarFormat
#if canImport(Glibc)
import Glibc
#endif

/// The exit statuses every `ckpt` command uses.
enum ExitStatus: Int32 {
    case success = 0
    /// The archive is malformed or breaks the specification.
    case badArchive = 1
    /// Wrong arguments, or the file system or a pipe failed.
    case usageOrIO = 2
}

/// Writes a line to standard error.
func printError(_ message: String) {
    let bytes = Array((message + "\n").utf8)
    _ = bytes.withUnsafeBytes { write(2, $0.baseAddress, $0.count) }
}

/// Maps an error thrown by a command to its exit status.
func exitStatus(for error: Error) -> ExitStatus {
    switch error {
    case let e as TarError:
        if case .io = e.kind { return .usageOrIO }
        return .badArchive
    case is CompressionError: return .badArchive
    case let e as CheckpointError: return e.isIOError ? .usageOrIO : .badArchive
    case is ByteStreamError: return .usageOrIO
    default: return .usageOrIO
    }
}

extension CommandLine {
    /// Parses and runs `Command`, turning every failure into the documented exit status:
    /// argument errors exit 2 (not ArgumentParser's 64), help and version exit 0.
    static func runToExitCode<Command: ParsableCommand>(_ root: Command.Type) -> Never {
        do {
            var command = try root.parseAsRoot()
            try command.run()
            exit(0)
        } catch let code as ExitCode {
            exit(code.rawValue)
        } catch {
            if root.exitCode(for: error) == .success { root.exit(withError: error) }
            if error is TarError || error is CompressionError || error is ByteStreamError || error is CheckpointError {
                printError("ckpt: \(error)")
                exit(exitStatus(for: error).rawValue)
            }
            printError(root.fullMessage(for: error))
            exit(ExitStatus.usageOrIO.rawValue)
        }
    }
}
