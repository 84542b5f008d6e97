import Crypto
import TarFormat
#if canImport(Glibc)
import Glibc
#endif

/// Copies a file's content into the tar writer while computing its SHA-256, in bounded memory.
enum FileCopier {
    static let chunk = 1 << 20

    /// - Returns: the lowercase hex SHA-256 of the `size` bytes copied.
    /// - Throws: when the file cannot be opened without following a link, or its size changed since the scan.
    static func copy(from path: String, size: Int64, into tar: TarWriter, entry: String) throws -> String {
        let fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)
        guard fd >= 0 else { throw CheckpointError.system("open", path: path) }
        defer { close(fd) }
        _ = posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL)
        var hasher = SHA256()
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: chunk, alignment: 4096)
        defer { buffer.deallocate() }
        var left = size
        while left > 0 {
            let n = read(fd, buffer.baseAddress, Int(min(Int64(chunk), left)))
            if n < 0 {
                if errno == EINTR { continue }
                throw CheckpointError.system("read", path: path)
            }
            if n == 0 { throw CheckpointError("IO", "file shrank while it was being archived", entry: entry) }
            let part = UnsafeRawBufferPointer(rebasing: buffer[0..<n])
            hasher.update(bufferPointer: part)
            try tar.write(part)
            left -= Int64(n)
        }
        return Hex.string(hasher.finalize())
    }
}
