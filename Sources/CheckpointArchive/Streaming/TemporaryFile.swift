#if canImport(Glibc)
import Glibc
#endif

/// Anonymous scratch files for the bounded-memory structures (`RecordSpool`, `NameTable`, `DeferredDirectories`,
/// the encoder's `SpoolFile`): created in a temporary directory and unlinked at once, so that one never outlives
/// the process and has no name another process could open; closed on exec.
enum TemporaryFile {
    /// The directory scratch files go to: `given`, else `$TMPDIR` when set and not empty, else `/tmp`.
    static func directory(_ given: String? = nil) -> String {
        if let given { return given }
        if let env = getenv("TMPDIR"), env.pointee != 0 { return String(cString: env) }
        return "/tmp"
    }

    /// Creates and unlinks a file named `prefix` and a random suffix in `directory`.
    /// - Returns: its descriptor, or why it could not be created.
    static func openUnlinked(in directory: String, prefix: String) -> Result<Int32, TemporaryFileError> {
        var template = Array(((directory.hasSuffix("/") ? directory : directory + "/") + prefix + "-XXXXXX").utf8CString)
        let fd = template.withUnsafeMutableBufferPointer { mkstemp($0.baseAddress!) }
        guard fd >= 0 else {
            return .failure(TemporaryFileError(
                description: "cannot create a temporary file in \(directory): \(String(cString: strerror(errno)))"))
        }
        template.withUnsafeBufferPointer { _ = unlink($0.baseAddress!) }
        _ = fcntl(fd, F_SETFD, FD_CLOEXEC)
        return .success(fd)
    }
}

/// Why a scratch file could not be created.
struct TemporaryFileError: Error, CustomStringConvertible {
    let description: String
}
