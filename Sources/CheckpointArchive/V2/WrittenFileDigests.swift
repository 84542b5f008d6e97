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
///
/// Memory stays bounded whatever the number of files: the jobs go to a `ParallelRangeHasher` per batch of
/// `batchJobs` files; when a batch is full the batch before it (long since hashed, as a rule) is finished and
/// its digests go, in slot order, to a spool. Batches cover increasing slots, so the spool ends up sorted by
/// slot, the order `IndexComparison` reads the files in.
final class WrittenFileDigests: WrittenFileObserver, @unchecked Sendable {
    /// Files per hasher batch.
    let batchJobs: Int
    private let archive: Int32
    private var current: ParallelRangeHasher
    private var jobsInCurrent = 0
    private var previous: ParallelRangeHasher?
    private var expected: (slot: Int, entry: String, offset: Int64, size: Int64)?
    private var claimed = false
    /// Digests of finished batches: (slot, hex digest), by increasing slot.
    private let digests: RecordSpool
    private var failure: Error?

    /// - Parameters:
    ///   - archive: the archive file's descriptor (read with `pread` only).
    ///   - budget: for the spool of finished digests, and the files per hasher batch (the digests of two
    ///     batches at most are held in memory).
    init(archive: Int32, budget: MemoryBudget) {
        self.archive = archive
        batchJobs = max(1, budget.digestBatchFiles)
        digests = budget.makeSpool()
        current = Self.makeHasher()
    }

    deinit {
        current.shutdown()
        previous?.shutdown()
    }

    /// Two batches may be in flight: each gets half the bytes `ParallelRangeHasher` queues by default.
    private static func makeHasher() -> ParallelRangeHasher { ParallelRangeHasher(maxPendingBytes: 128 << 20) }

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
            current.submit(.init(fd: own, owned: true), offset: 0, size: e.size, slot: e.slot, entry: e.entry)
        } else {
            current.submit(.init(fd: archive, owned: false), offset: e.offset, size: e.size, slot: e.slot, entry: e.entry)
        }
    }

    /// After the sink returned: a file it did not write is hashed from the archive.
    func settle() {
        guard let e = expected else { return }
        if !claimed {
            current.submit(.init(fd: archive, owned: false), offset: e.offset, size: e.size, slot: e.slot, entry: e.entry)
        }
        expected = nil
        jobsInCurrent += 1
        if jobsInCurrent >= batchJobs { rotate() }
    }

    /// Finishes the batch before the current one and starts a new batch.
    private func rotate() {
        if let previous { drain(previous) }
        previous = current
        current = Self.makeHasher()
        jobsInCurrent = 0
    }

    /// Waits for a batch and spools its digests by slot; keeps the first failure.
    private func drain(_ hasher: ParallelRangeHasher) {
        do {
            let batch = try hasher.finish()
            for slot in batch.keys.sorted() {
                digests.append { w in
                    w.int(Int64(slot))
                    w.string(batch[slot]!)
                }
            }
        } catch {
            if failure == nil { failure = error }
        }
    }

    /// Waits for every digest; returns them by increasing slot (`(slot, hex digest)` records).
    /// - Throws: the first read failure of any job, or the spool's I/O failure.
    func finish() throws -> RecordSpool {
        if let previous { drain(previous) }
        previous = nil
        drain(current)
        if let failure { throw failure }
        if let io = digests.ioError { throw CheckpointError("IO", "file digests: \(io)") }
        return digests
    }

    /// Reads one record of `finish()`'s spool.
    static func record(_ r: RecordReader) -> (slot: Int, sha256: [UInt8]) {
        var r = r
        return (Int(r.int()), r.data())
    }
}
