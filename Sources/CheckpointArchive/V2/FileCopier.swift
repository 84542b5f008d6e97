import CSysShims
import Crypto
import TarFormat
#if canImport(Glibc)
import Glibc
#endif

/// Copies a file's content into the tar writer while computing its SHA-256, in bounded memory.
///
/// When the output is an uncompressed file the content is not copied through user space: the kernel copies
/// it with `copy_file_range` (which shares extents on XFS and btrfs when the offsets are block-aligned) while
/// a second thread reads it from the page cache to hash it. Otherwise it is read in 1 MiB chunks, hashed on
/// a second thread while the chunk is compressed and written.
enum FileCopier {
    static let chunk = 1 << 20

    /// - Returns: the lowercase hex SHA-256 of the `size` bytes copied.
    /// - Throws: when the file cannot be opened without following a link, or its size changed since the scan.
    static func copy(from path: String, size: Int64, into tar: TarWriter, entry: String) throws -> String {
        let fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)
        guard fd >= 0 else { throw CheckpointError.system("open", path: path) }
        defer { close(fd) }
        if size > 0, let digest = try copyDirectly(fd: fd, size: size, into: tar, path: path, entry: entry) {
            return digest
        }
        _ = posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL)
        // Two buffers: while one is hashed on the hasher's thread and written here, the next is read.
        let hasher = BackgroundHasher()
        let buffers = (0..<2).map { _ in UnsafeMutableRawBufferPointer.allocate(byteCount: chunk, alignment: 4096) }
        defer {
            hasher.waitForBuffer()
            buffers.forEach { $0.deallocate() }
        }
        var left = size
        var which = 0
        while left > 0 {
            let buffer = buffers[which]
            let n = read(fd, buffer.baseAddress, Int(min(Int64(chunk), left)))
            if n < 0 {
                if errno == EINTR { continue }
                throw CheckpointError.system("read", path: path)
            }
            if n == 0 { throw CheckpointError("IO", "file shrank while it was being archived", entry: entry) }
            let part = UnsafeRawBufferPointer(rebasing: buffer[0..<n])
            hasher.waitForBuffer()  // the other buffer's hash is done before it is refilled next round
            hasher.submit(part)
            try tar.write(part)
            left -= Int64(n)
            which ^= 1
        }
        return hasher.finish()
    }

    /// Hashes through a read-only mapping and copies with `copy_file_range`; nil when the output cannot be
    /// written directly (then nothing was written).
    private static func copyDirectly(fd: Int32, size: Int64, into tar: TarWriter, path: String,
                                     entry: String) throws -> String? {
        var digest: String?
        var st = stat()
        guard fstat(fd, &st) == 0, Int64(st.st_size) == size else {
            throw CheckpointError("IO", "file changed size while it was being archived", entry: entry)
        }
        let wrote = try tar.writeDataDirectly { out in
            // The hasher reads the file (from the page cache) while the kernel copies it here: on a thread of
            // its own, through its own descriptor, for large files; inline for small ones, where starting a
            // thread costs more than it saves.
            let hashFD = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)
            guard hashFD >= 0 else { throw CheckpointError.system("open", path: path) }
            defer { close(hashFD) }
            let hashing = BackgroundFileHash(fd: hashFD, size: size, inline: size < 1 << 20)
            var copied: Int64 = 0
            while copied < size {
                let r = csys_copy_file_range(fd, copied, out, -1, UInt64(size - copied))
                if r < 0 {
                    if csys_errno() == EINTR { continue }
                    if copied == 0, [EXDEV, EINVAL, ENOSYS, EOPNOTSUPP].contains(csys_errno()) {
                        _ = try hashing.result()
                        return try copyThroughBuffer(fd: fd, size: size, to: out, path: path, entry: entry, digest: &digest)
                    }
                    throw CheckpointError.system("copy_file_range", path: path)
                }
                if r == 0 { throw CheckpointError("IO", "file shrank while it was being archived", entry: entry) }
                copied += r
            }
            digest = try hashing.result()
            return size
        }
        return wrote ? digest : nil
    }

    /// The fallback of the direct path when the kernel cannot copy between the two files.
    private static func copyThroughBuffer(fd: Int32, size: Int64, to out: Int32, path: String, entry: String,
                                          digest: inout String?) throws -> Int64 {
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: chunk, alignment: 4096)
        defer { buffer.deallocate() }
        var hasher = SHA256()
        var done: Int64 = 0
        while done < size {
            let n = pread(fd, buffer.baseAddress, Int(min(Int64(chunk), size - done)), off_t(done))
            if n < 0 {
                if errno == EINTR { continue }
                throw CheckpointError.system("read", path: path)
            }
            if n == 0 { throw CheckpointError("IO", "file shrank while it was being archived", entry: entry) }
            let part = UnsafeRawBufferPointer(rebasing: buffer[0..<n])
            hasher.update(bufferPointer: part)
            try writeAll(out, part, path: path)
            done += Int64(n)
        }
        digest = Hex.string(hasher.finalize())
        return size
    }

    private static func writeAll(_ fd: Int32, _ bytes: UnsafeRawBufferPointer, path: String) throws {
        var off = 0
        while off < bytes.count {
            let n = write(fd, bytes.baseAddress! + off, bytes.count - off)
            if n < 0 {
                if errno == EINTR { continue }
                throw CheckpointError.system("write", path: path)
            }
            off += n
        }
    }
}
