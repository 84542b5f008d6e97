import CSysShims
import Crypto
import TarFormat
#if canImport(Glibc)
import Glibc
#endif

/// Copies a file's content into the tar writer while computing its SHA-256, in bounded memory.
///
/// When the output is an uncompressed file the content never passes through user-space buffers: the
/// source is mapped and hashed in place, and the kernel copies it with `copy_file_range` (which shares
/// extents on XFS and btrfs when the offsets are block-aligned). Otherwise it is read in 1 MiB chunks.
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

    /// Hashes through a read-only mapping and copies with `copy_file_range`; nil when the output cannot be
    /// written directly (then nothing was written).
    private static func copyDirectly(fd: Int32, size: Int64, into tar: TarWriter, path: String,
                                     entry: String) throws -> String? {
        var st = stat()
        guard fstat(fd, &st) == 0, Int64(st.st_size) == size else {
            throw CheckpointError("IO", "file changed size while it was being archived", entry: entry)
        }
        var digest: String?
        let wrote = try tar.writeDataDirectly { out in
            guard let map = mmap(nil, Int(size), PROT_READ, MAP_PRIVATE, fd, 0), map != MAP_FAILED else {
                throw CheckpointError.system("mmap", path: path)
            }
            defer { munmap(map, Int(size)) }
            _ = madvise(map, Int(size), MADV_SEQUENTIAL)
            var hasher = SHA256()
            var done: Int64 = 0
            var inputOffset: Int64 = 0
            while done < size {
                // Hash a slice, then let the kernel copy the same slice.
                let n = min(Int64(8 * chunk), size - done)
                hasher.update(bufferPointer: UnsafeRawBufferPointer(start: map + Int(done), count: Int(n)))
                var copied: Int64 = 0
                while copied < n {
                    let r = csys_copy_file_range(fd, inputOffset, out, -1, UInt64(n - copied))
                    if r < 0 {
                        if csys_errno() == EINTR { continue }
                        if copied == 0 && done == 0 && [EXDEV, EINVAL, ENOSYS, EOPNOTSUPP].contains(csys_errno()) {
                            // No in-kernel copy between these files: write from the mapping instead.
                            try writeAll(out, UnsafeRawBufferPointer(start: map, count: Int(size)), path: path)
                            digest = Hex.string(SHA256.hash(data: UnsafeRawBufferPointer(start: map, count: Int(size))))
                            return size
                        }
                        throw CheckpointError.system("copy_file_range", path: path)
                    }
                    if r == 0 { throw CheckpointError("IO", "file shrank while it was being archived", entry: entry) }
                    copied += r
                    inputOffset += r
                }
                done += n
            }
            digest = Hex.string(hasher.finalize())
            return size
        }
        return wrote ? digest : nil
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
