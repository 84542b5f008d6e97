import CSysShims
import Crypto
import TarFormat
#if canImport(Glibc)
import Glibc
#endif

/// Copies a file's content into the tar writer and hashes it (SHA-256), in bounded memory.
///
/// When the output is an uncompressed file the content is not copied through user space: the kernel copies
/// it with `copy_file_range` (which shares extents on XFS and btrfs when the offsets are block-aligned), and
/// the digest is computed afterwards by the `DigestQueue`'s workers, which read back the bytes just written
/// from the output (so the digest is that of the archive's bytes, even if the source changes meanwhile), on
/// every core, while this thread copies the next files. Otherwise the file is read in 1 MiB chunks, hashed
/// on a second thread while the chunk is compressed and written.
enum FileCopier {
    static let chunk = 1 << 20

    /// Where digests of directly copied data are computed: the workers and a read descriptor of the output.
    /// The digests land by slot in the store given at creation.
    final class DigestQueue {
        let hasher: ParallelRangeHasher
        private var readBack: (out: Int32, fd: Int32)?

        init(digests: SlotDigestStore) { hasher = ParallelRangeHasher(digests: digests) }

        deinit {
            hasher.shutdown()
            if let readBack, readBack.fd >= 0 { close(readBack.fd) }
        }

        /// A descriptor that reads the output file `out`, opened once; nil where /proc is not mounted.
        func reader(for out: Int32) -> Int32? {
            if let readBack, readBack.out == out { return readBack.fd >= 0 ? readBack.fd : nil }
            if let readBack, readBack.fd >= 0 { close(readBack.fd) }
            let fd = open("/proc/self/fd/\(out)", O_RDONLY | O_CLOEXEC)
            readBack = (out, fd)
            return fd >= 0 ? fd : nil
        }

        /// Waits for every queued digest to be in the store.
        func complete() throws { try hasher.complete() }
    }

    /// Copies `size` bytes of the file at `path` as the data of the current entry.
    /// - Returns: the lowercase hex SHA-256 of the bytes, or nil when it was queued on `digests` under `slot`.
    /// - Throws: when the file cannot be opened without following a link, or its size changed since the scan.
    static func copy(from path: String, size: Int64, into tar: TarWriter, entry: String,
                     digests: DigestQueue?, slot: Int) throws -> String? {
        let fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)
        guard fd >= 0 else { throw CheckpointError.system("open", path: path) }
        defer { close(fd) }
        if size > 0, let digests, try copyDirectly(fd: fd, size: size, into: tar, path: path, entry: entry,
                                                   digests: digests, slot: slot) {
            return nil
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

    /// Copies with `copy_file_range` and queues the digest; false when the output cannot be written directly
    /// (then nothing was written).
    private static func copyDirectly(fd: Int32, size: Int64, into tar: TarWriter, path: String, entry: String,
                                     digests: DigestQueue, slot: Int) throws -> Bool {
        var st = stat()
        guard fstat(fd, &st) == 0, Int64(st.st_size) == size else {
            throw CheckpointError("IO", "file changed size while it was being archived", entry: entry)
        }
        return try tar.writeDataDirectly { out in
            let start = lseek(out, 0, SEEK_CUR)
            var copied: Int64 = 0
            while copied < size {
                let r = csys_copy_file_range(fd, copied, out, -1, UInt64(size - copied))
                if r < 0 {
                    if csys_errno() == EINTR { continue }
                    if copied == 0, [EXDEV, EINVAL, ENOSYS, EOPNOTSUPP].contains(csys_errno()) {
                        var digest: String?
                        let n = try copyThroughBuffer(fd: fd, size: size, to: out, path: path, entry: entry,
                                                      digest: &digest)
                        digests.hasher.submitDone(digest ?? "", slot: slot)
                        return n
                    }
                    throw CheckpointError.system("copy_file_range", path: path)
                }
                if r == 0 { throw CheckpointError("IO", "file shrank while it was being archived", entry: entry) }
                copied += r
            }
            if start >= 0, let reader = digests.reader(for: out) {
                digests.hasher.submit(.init(fd: reader, owned: false), offset: Int64(start), size: size, slot: slot,
                                      entry: entry)
            } else {
                // No way to read the output back (a pipe cannot take copy_file_range, so this is rare): hash
                // the source through a descriptor of the job's own.
                let own = dup(fd)
                guard own >= 0 else { throw CheckpointError.system("dup", path: path) }
                digests.hasher.submit(.init(fd: own, owned: true), offset: 0, size: size, slot: slot, entry: entry)
            }
            return size
        }
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
