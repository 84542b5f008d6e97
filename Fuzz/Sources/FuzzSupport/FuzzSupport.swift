import ByteStreams
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// What the harnesses share. Harness files are `main.swift` files whose top-level code never runs (libFuzzer
/// supplies `main`), so any state lives here, in lazily initialised statics.
public enum Fuzz {
    /// Stops the run with a message libFuzzer reports as a crash: a broken invariant is a finding.
    public static func require(_ condition: @autoclosure () -> Bool, _ message: @autoclosure () -> String,
                               file: StaticString = #fileID, line: UInt = #line) {
        if !condition() {
            let text = "fuzz invariant broken at \(file):\(line): \(message())\n"
            _ = text.utf8CString.withUnsafeBufferPointer { write(2, $0.baseAddress, $0.count - 1) }
            abort()
        }
    }

    /// Reads `source` to its end in chunks of varying size; returns the number of bytes read.
    @discardableResult
    public static func drain(_ source: ByteSource, seed: Int = 0) throws -> Int64 {
        let sizes = [1, 7, 512, 4096, 65_536, 1 << 20]
        var total: Int64 = 0
        var i = seed
        while true {
            let chunk = try source.read(upTo: sizes[i % sizes.count])
            i += 1
            if chunk.isEmpty { return total }
            total += Int64(chunk.count)
        }
    }

    /// A private directory for this process (under /dev/shm when it exists: tmpfs keeps the harness fast),
    /// created on first use and removed when the process exits normally.
    public static let scratch: String = {
        let base = FileManager.default.fileExists(atPath: "/dev/shm") ? "/dev/shm" : NSTemporaryDirectory()
        let path = "\(base)/ckpt-fuzz-\(getpid())"
        try? FileManager.default.removeItem(atPath: path)
        precondition(mkdir(path, 0o700) == 0, "cannot create \(path)")
        atexit { try? FileManager.default.removeItem(atPath: Fuzz.scratchPath) }
        return path
    }()

    /// `scratch` without creating it (for the exit handler).
    static var scratchPath: String { "\(FileManager.default.fileExists(atPath: "/dev/shm") ? "/dev/shm" : NSTemporaryDirectory())/ckpt-fuzz-\(getpid())" }

    /// The names in a directory (without `.` and `..`), sorted; empty when it cannot be read.
    public static func names(in directory: String) -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []).sorted()
    }

    /// Removes a tree without following symbolic links; as root, modes cannot stop it.
    public static func removeTree(_ path: String) {
        var info = stat()
        guard lstat(path, &info) == 0 else { return }
        if info.st_mode & S_IFMT == S_IFDIR {
            chmod(path, 0o700)
            for name in names(in: path) { removeTree(path + "/" + name) }
            rmdir(path)
        } else {
            unlink(path)
        }
    }
}

/// A scratch file holding the current input, read back through a `FileSource` as `ckpt-validate` reads a file
/// (so the validator's seeking and `pread` of the tail run too).
public final class ScratchFile: Sendable {
    public let path: String
    public let descriptor: Int32

    public init(name: String) {
        path = Fuzz.scratch + "/" + name
        descriptor = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
        precondition(descriptor >= 0, "cannot create \(path)")
    }

    /// Replaces the content with `bytes` and rewinds.
    public func store(_ bytes: UnsafeRawBufferPointer) {
        precondition(ftruncate(descriptor, 0) == 0)
        var done = 0
        while done < bytes.count {
            let n = pwrite(descriptor, bytes.baseAddress! + done, bytes.count - done, off_t(done))
            precondition(n > 0, "pwrite failed")
            done += n
        }
        precondition(lseek(descriptor, 0, SEEK_SET) == 0)
    }
}
