import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// How a program run by the vector runner ended.
public enum ChildTermination: Sendable, Equatable, CustomStringConvertible {
    /// It exited with this status.
    case exited(Int32)
    /// A signal killed it (a crash: SIGSEGV, SIGABRT, SIGILL, SIGXFSZ, SIGKILL from the OOM killer, ...).
    case signaled(Int32)
    /// It was still running at the deadline and was killed with its whole process group.
    case timedOut(Double)

    public var description: String {
        switch self {
        case let .exited(code): return "exit status \(code)"
        case let .signaled(signal): return "killed by signal \(signal) (\(Self.signalName(signal)))"
        case let .timedOut(seconds): return "still running after \(Self.seconds(seconds)) s (killed)"
        }
    }

    static func signalName(_ signal: Int32) -> String {
        let names: [Int32: String] = [SIGSEGV: "SIGSEGV", SIGABRT: "SIGABRT", SIGILL: "SIGILL", SIGBUS: "SIGBUS",
                                      SIGFPE: "SIGFPE", SIGKILL: "SIGKILL", SIGTRAP: "SIGTRAP", SIGXFSZ: "SIGXFSZ",
                                      SIGXCPU: "SIGXCPU", SIGTERM: "SIGTERM", SIGPIPE: "SIGPIPE"]
        return names[signal] ?? "signal \(signal)"
    }

    static func seconds(_ s: Double) -> String { String(format: "%.1f", s) }
}

/// What a run produced.
public struct ChildResult: Sendable {
    public var termination: ChildTermination
    /// Wall-clock duration in seconds.
    public var duration: Double
    /// The last bytes the program wrote to standard error (and standard output), for reports.
    public var output: String
}

/// Runs a shell command line the way the vector runner needs: `/bin/sh -c` in a new process group, standard
/// input from `/dev/null`, output to files outside every directory the runner compares, resource limits set by
/// the shell before the command starts (`ulimit -v` for memory, `ulimit -f` for the largest file written), and a
/// deadline after which the whole process group is killed (CKA-VEC-008: a hang is a failure).
public enum ChildProcess {
    /// Resource limits for one run; 0 means no limit.
    public struct Limits: Sendable {
        /// Address space, in MiB (`ulimit -v`).
        public var memoryMiB: Int
        /// Largest file the program may write, in MiB (`ulimit -f`; exceeding it raises SIGXFSZ).
        public var fileMiB: Int
        /// Seconds before the process group is killed.
        public var timeout: Double

        public init(memoryMiB: Int = 4096, fileMiB: Int = 1024, timeout: Double = 60) {
            self.memoryMiB = memoryMiB
            self.fileMiB = fileMiB
            self.timeout = timeout
        }
    }

    /// Runs `command` with `/bin/sh -c` in `directory`.
    /// - Parameters:
    ///   - logDirectory: where standard output and error are kept (must exist; files are overwritten).
    /// - Throws: `VectorError` when the shell cannot be started at all.
    public static func run(_ command: String, in directory: String, limits: Limits, logDirectory: String) throws
        -> ChildResult {
        var script = "cd \(ShellQuoting.quote(directory)) || exit 125\n"
        if limits.memoryMiB > 0 { script += "ulimit -v \(limits.memoryMiB * 1024) || exit 125\n" }
        // POSIX counts -f in 512-byte blocks.
        if limits.fileMiB > 0 { script += "ulimit -f \(limits.fileMiB * 2048) || exit 125\n" }
        script += command + "\n"
        let outPath = logDirectory + "/output"
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        posix_spawnattr_setpgroup(&attributes, 0)
        var mask = sigset_t()
        sigemptyset(&mask)
        posix_spawnattr_setsigmask(&attributes, &mask)
        var defaults = sigset_t()
        sigfillset(&defaults)
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, outPath, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)
        let arguments = ["/bin/sh", "-c", script]
        var argv: [UnsafeMutablePointer<CChar>?] = arguments.map { strdup($0) } + [nil]
        defer { for a in argv { free(a) } }
        var pid: pid_t = 0
        let start = Date()
        let rc = posix_spawn(&pid, "/bin/sh", &actions, &attributes, &argv, environ)
        guard rc == 0 else { throw VectorError("cannot start /bin/sh: \(String(cString: strerror(rc)))") }
        var status: Int32 = 0
        var termination: ChildTermination?
        var pause: useconds_t = 1000
        while termination == nil {
            let r = waitpid(pid, &status, WNOHANG)
            if r == pid {
                termination = decode(status)
            } else if r < 0, errno != EINTR {
                throw VectorError("waitpid: \(String(cString: strerror(errno)))")
            } else if Date().timeIntervalSince(start) > limits.timeout {
                kill(-pid, SIGKILL)
                while waitpid(pid, &status, 0) < 0, errno == EINTR {}
                termination = .timedOut(limits.timeout)
            } else {
                usleep(pause)
                pause = min(pause * 2, 20000)
            }
        }
        // Whatever the command left running in its group goes too.
        kill(-pid, SIGKILL)
        let duration = Date().timeIntervalSince(start)
        return ChildResult(termination: termination ?? .exited(0), duration: duration, output: tail(of: outPath))
    }

    /// Exit status or signal from a `waitpid` status; a shell reports a command killed by signal N as 128 + N.
    static func decode(_ status: Int32) -> ChildTermination {
        let signal = status & 0x7F
        if signal != 0 { return .signaled(signal) }
        let code = (status >> 8) & 0xFF
        if code > 128, code - 128 < 65 { return .signaled(code - 128) }
        return .exited(code)
    }

    /// The last 2000 bytes of a file, as text.
    static func tail(of path: String) -> String {
        guard let data = FileManager.default.contents(atPath: path) else { return "" }
        return String(decoding: data.suffix(2000), as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
    }
}
