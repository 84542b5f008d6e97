import Foundation
import XCTest
#if canImport(Glibc)
import Glibc
#endif

extension TestTools {
    /// Runs `arguments[0]` (looked up in PATH) like `run`, but with posix_spawnp and waitpid: Foundation's
    /// `Process.waitUntilExit` polls its run loop and costs about 50 ms a command, which adds up in tests that
    /// run hundreds of commands.
    /// - Parameters:
    ///   - stdin: bytes fed to standard input, or nil for /dev/null.
    ///   - directory: the working directory.
    ///   - environment: variables added to (or replacing those of) this process's environment.
    @discardableResult
    public static func spawn(_ arguments: [String], stdin: Data? = nil, directory: URL? = nil,
                             environment: [String: String]? = nil) throws -> ProcessResult {
        precondition(!arguments.isEmpty)
        let temp = FileManager.default.temporaryDirectory.path
        let id = UUID().uuidString
        let outPath = "\(temp)/out-\(id)", errPath = "\(temp)/err-\(id)"
        var inPath = "/dev/null"
        if let stdin {
            inPath = "\(temp)/in-\(id)"
            try stdin.write(to: URL(fileURLWithPath: inPath))
        }
        defer {
            unlink(outPath)
            unlink(errPath)
            if stdin != nil { unlink(inPath) }
        }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, inPath, O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, outPath, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        posix_spawn_file_actions_addopen(&actions, 2, errPath, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        var argv = arguments
        if let directory {
            // posix_spawn_file_actions_addchdir_np is not portable; let the shell change directory.
            argv = ["/bin/sh", "-c", "cd \"$0\" && exec \"$@\"", directory.path] + arguments
        }
        var env = ProcessInfo.processInfo.environment
        if let environment { env.merge(environment) { $1 } }
        let cArgs = argv.map { strdup($0) } + [nil]
        let cEnv = env.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer {
            cArgs.forEach { free($0) }
            cEnv.forEach { free($0) }
        }
        var pid = pid_t()
        let rc = posix_spawnp(&pid, argv[0], &actions, nil, cArgs, cEnv)
        guard rc == 0 else {
            throw NSError(domain: NSPOSIXErrorDomain, code: Int(rc),
                          userInfo: [NSLocalizedDescriptionKey: "posix_spawnp \(argv[0]): \(String(cString: strerror(rc)))"])
        }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 {
            guard errno == EINTR else { throw NSError(domain: NSPOSIXErrorDomain, code: Int(errno)) }
        }
        // WIFEXITED / WEXITSTATUS / WTERMSIG are macros Swift does not import.
        let exitStatus = status & 0x7F == 0 ? (status >> 8) & 0xFF : 128 + (status & 0x7F)
        return ProcessResult(status: exitStatus, stdout: (try? Data(contentsOf: URL(fileURLWithPath: outPath))) ?? Data(),
                             stderr: (try? Data(contentsOf: URL(fileURLWithPath: errPath))) ?? Data())
    }
}

/// The Go `archive/tar` lister of Tests/TarFormatTests/Fixtures/gotar (standard library only, built offline),
/// for every test target: `gotar list [--sha256] ARCHIVE` prints one JSON object per member.
public enum GoTarLister {
    nonisolated(unsafe) private static var built: String?
    private static let lock = NSLock()

    /// Builds the helper once per test process (into a temporary directory) and returns its path.
    /// Fails the test when Go is missing or the build fails (CI installs Go).
    public static func binary(file: StaticString = #filePath, line: UInt = #line) throws -> String {
        lock.lock()
        defer { lock.unlock() }
        if let built, FileManager.default.fileExists(atPath: built) { return built }
        try TestTools.require("go", file: file, line: line)
        let source = TestTools.repositoryRoot.appendingPathComponent("Tests/TarFormatTests/Fixtures/gotar")
        let temp = FileManager.default.temporaryDirectory
        let out = temp.appendingPathComponent("gotar-\(UUID().uuidString)")
        let cache = temp.appendingPathComponent("gocache")
        let r = try TestTools.spawn(["go", "build", "-trimpath", "-buildvcs=false", "-o", out.path, "."], directory: source,
                                    environment: ["GOCACHE": cache.path, "GOPATH": cache.appendingPathComponent("path").path,
                                                  "GOFLAGS": "-mod=mod", "GOPROXY": "off", "GO111MODULE": "on",
                                                  "CGO_ENABLED": "0"])
        guard r.status == 0 else {
            XCTFail("go build of gotar failed: \(r.stderrText)", file: file, line: line)
            throw XCTSkip("no Go helper")
        }
        built = out.path
        return out.path
    }

    /// Go's listing of an archive (uncompressed, gzip or bzip2; not zstd), one JSON object per member, with
    /// `sha256` of each regular file's content when `digests` is set. Asserts that Go read it without error.
    public static func list(_ archive: String, digests: Bool = false, file: StaticString = #filePath,
                            line: UInt = #line) throws -> [[String: Any]] {
        let r = try TestTools.spawn([try binary(file: file, line: line), "list"] + (digests ? ["--sha256"] : []) + [archive])
        XCTAssertEqual(r.status, 0, "gotar list \(archive): \(r.stderrText)", file: file, line: line)
        return try r.stdoutText.split(separator: "\n").map { line in
            try XCTUnwrap(JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
        }
    }
}
