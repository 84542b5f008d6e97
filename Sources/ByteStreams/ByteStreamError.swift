import SystemPackage

/// A failure below the formats: the operating system refused a read or write, or a size limit was hit.
public enum ByteStreamError: Error, Equatable, CustomStringConvertible {
    /// A system call failed; `operation` names it ("read", "write", "open ...").
    case system(operation: String, errno: Errno)
    /// More bytes than the caller allowed were about to be buffered.
    case limitExceeded(limit: Int64)

    public var description: String {
        switch self {
        case let .system(operation, errno): return "\(operation): \(errno.description)"
        case let .limitExceeded(limit): return "more than \(limit) bytes where at most that many are allowed"
        }
    }
}
