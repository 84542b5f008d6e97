#if canImport(Glibc)
import Glibc
#endif

/// The file digests of a v2 decode from a seekable, uncompressed archive, computed on worker threads from
/// the files as written (or, when a sink does not write a file, from the archive's bytes) while the decoder
/// goes on, and handed back before the index is checked.
///
/// Hashing the written file, not the archive, means the digest covers exactly what is on disk even if the
/// archive changes during extraction; and the kernel's copy or extent sharing never has to pass the data
/// through the process to hash it on the way.
final class WrittenFileDigests: WrittenFileObserver, @unchecked Sendable {
    private let hasher = ParallelRangeHasher()
    private let archive: Int32
    private var expected: (slot: Int, entry: String, offset: Int64, size: Int64)?
    private var claimed = false

    /// - Parameter archive: the archive file's descriptor (read with `pread` only).
    init(archive: Int32) { self.archive = archive }

    deinit { hasher.shutdown() }

    /// The next regular file the sink may write: its slot among the index's files and its data in the archive.
    func expect(slot: Int, entry: String, dataOffset: Int64, size: Int64) {
        expected = (slot, entry, dataOffset, size)
        claimed = false
    }

    func fileWritten(descriptor: Int32, size: Int64) {
        guard let e = expected, !claimed else { return }
        claimed = true
        let own = dup(descriptor)
        if own >= 0 {
            hasher.submit(.init(fd: own, owned: true), offset: 0, size: e.size, slot: e.slot, entry: e.entry)
        } else {
            hasher.submit(.init(fd: archive, owned: false), offset: e.offset, size: e.size, slot: e.slot, entry: e.entry)
        }
    }

    /// After the sink returned: a file it did not write is hashed from the archive.
    func settle() {
        guard let e = expected else { return }
        if !claimed {
            hasher.submit(.init(fd: archive, owned: false), offset: e.offset, size: e.size, slot: e.slot, entry: e.entry)
        }
        expected = nil
    }

    /// Waits for every digest; by slot.
    func finish() throws -> [Int: String] { try hasher.finish() }
}
