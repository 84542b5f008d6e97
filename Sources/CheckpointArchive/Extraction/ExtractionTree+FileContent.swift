import ByteStreams
import CSysShims
import TarFormat
#if canImport(Glibc)
import Glibc
#endif

/// Regular files: creation and content, shared or copied in the kernel where the archive allows.
extension ExtractionTree {
    /// Creates a regular file with `O_CREAT | O_EXCL | O_NOFOLLOW` and fills it with exactly `size` bytes:
    /// shared or copied in the kernel from `reflink` when given and allowed, the rest read from `data`.
    /// `data` is always advanced by `size` bytes.
    func createRegularFile(_ dir: Int32, _ name: [UInt8], size: Int64, attributes: ObjectAttributes,
                           data: ByteSource, reflink: ReflinkSource?, entry: String, offset: Int64?) throws {
        // Read-write: a decoder's `WrittenFileObserver` reads the content back to verify it.
        let fd = withCName(name) { openat(dir, $0, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0o600) }
        guard fd >= 0 else {
            let code = csys_errno()
            if code == EEXIST || code == ELOOP {
                throw CheckpointError("CKA-TAR-037", "the path already exists", entry: entry, offset: offset)
            }
            throw CheckpointError.extractionIO("openat (create)", code, entry: entry, offset: offset)
        }
        let file = OwnedDescriptor(fd)
        try writeContent(file.fd, size: size, data: data, reflink: reflink, entry: entry, offset: offset)
        reflink?.observer?.fileWritten(descriptor: file.fd, size: size)
        try applyOnDescriptor(file.fd, attributes, modeAndTimes: true, entry: entry, offset: offset)
        if options.fsync, Glibc.fsync(file.fd) != 0 {
            throw CheckpointError.extractionIO("fsync", csys_errno(), entry: entry, offset: offset)
        }
        statistics.files += 1
    }

    func writeContent(_ fd: Int32, size: Int64, data: ByteSource, reflink: ReflinkSource?, entry: String,
                              offset: Int64?) throws {
        guard size >= 0 else {
            throw CheckpointError("CKA-SEC-016", "negative size \(size)", entry: entry, offset: offset)
        }
        var done: Int64 = 0
        if let reflink, options.useReflink, size > 0 {
            done = kernelCopy(from: reflink, to: fd, size: size)
            if done > 0 {
                let skipped = try data.skip(done)
                if skipped != done {
                    throw CheckpointError("CKA-SEC-016", "entry data ends after \(skipped) of \(size) bytes",
                                          entry: entry, offset: offset)
                }
            }
        }
        while done < size {
            let chunk = try data.read(upTo: Int(min(size - done, Int64(Self.chunkSize))))
            if chunk.isEmpty {
                throw CheckpointError("CKA-SEC-016", "entry data ends after \(done) of \(size) bytes",
                                      entry: entry, offset: offset)
            }
            var written = 0
            while written < chunk.count {
                let n = pwrite(fd, chunk.baseAddress! + written, chunk.count - written, off_t(done) + off_t(written))
                if n < 0 {
                    let code = csys_errno()
                    if code == EINTR { continue }
                    throw CheckpointError.extractionIO("pwrite", code, entry: entry, offset: offset)
                }
                written += n
            }
            done += Int64(chunk.count)
            statistics.bytesWritten += Int64(chunk.count)
        }
    }

    /// Shares the block-aligned part of the entry with `FICLONERANGE`, then copies what remains with
    /// `copy_file_range` (CKA-ALN-006). Stops at the first failure.
    /// - Returns: how many leading bytes of the file are in place.
    func kernelCopy(from source: ReflinkSource, to fd: Int32, size: Int64) -> Int64 {
        guard source.descriptor >= 0, source.offset >= 0 else { return 0 }
        var done: Int64 = 0
        var st = stat()
        let blockSize = fstat(fd, &st) == 0 && st.st_blksize >= 512 ? Int64(st.st_blksize) : 4096
        let aligned = size / blockSize * blockSize
        if aligned > 0, source.offset % blockSize == 0,
           csys_clone_range(source.descriptor, UInt64(source.offset), UInt64(aligned), fd, 0) == 0 {
            done = aligned
            statistics.bytesCloned += aligned
        }
        while done < size {
            let n = csys_copy_file_range(source.descriptor, source.offset + done, fd, done, UInt64(size - done))
            if n <= 0 { break }
            done += n
            statistics.bytesCopiedInKernel += n
        }
        return done
    }
}
