import FoundationEssentials
#if canImport(Glibc)
import Glibc
#endif

/// An anonymous scratch file: created in a temporary directory and unlinked at once, so it never outlives the
/// process and holds no name another process could open. The encoder's spools (`FileRecordSpool`,
/// `SlotDigestStore`) keep in it what would otherwise grow in memory with the number of entries.
///
/// Reads and writes are positioned (`pread`/`pwrite`), so they never move a shared file offset.
final class SpoolFile {
    let fd: Int32
    /// What the scratch file is for, in error messages.
    let purpose: String

    /// - Parameters:
    ///   - directory: where to create it; nil for `$TMPDIR`, else `/tmp`.
    ///   - purpose: a few words naming the data, for errors.
    init(directory: String?, purpose: String) throws {
        let dir = TemporaryFile.directory(directory)
        switch TemporaryFile.openUnlinked(in: dir, prefix: "ckpt-spool") {
        case let .success(fd): self.fd = fd
        case let .failure(e): throw CheckpointError("IO", "\(e) (for the \(purpose))", entry: dir)
        }
        self.purpose = purpose
    }

    deinit { close(fd) }

    /// Writes all of `bytes` at `offset`.
    func write(_ bytes: UnsafeRawBufferPointer, at offset: Int64) throws {
        var done = 0
        while done < bytes.count {
            let n = pwrite(fd, bytes.baseAddress! + done, bytes.count - done, off_t(offset + Int64(done)))
            if n < 0 {
                if errno == EINTR { continue }
                throw failure("write")
            }
            done += n
        }
    }

    func write(_ bytes: [UInt8], at offset: Int64) throws {
        try bytes.withUnsafeBytes { try write($0, at: offset) }
    }

    /// Reads up to `buffer.count` bytes at `offset`; fewer only at the end of the file.
    /// - Returns: the number of bytes read.
    func read(into buffer: UnsafeMutableRawBufferPointer, at offset: Int64) throws -> Int {
        var done = 0
        while done < buffer.count {
            let n = pread(fd, buffer.baseAddress! + done, buffer.count - done, off_t(offset + Int64(done)))
            if n < 0 {
                if errno == EINTR { continue }
                throw failure("read")
            }
            if n == 0 { break }
            done += n
        }
        return done
    }

    private func failure(_ call: String) -> CheckpointError {
        CheckpointError("IO", "\(call) of the temporary \(purpose) failed: \(String(cString: strerror(errno)))")
    }
}
