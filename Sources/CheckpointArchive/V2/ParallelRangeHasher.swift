import ByteStreams
import Crypto
import FoundationEssentials
#if canImport(Glibc)
import Glibc
#endif

/// SHA-256 digests of byte ranges of files, computed by worker threads while the caller goes on copying.
///
/// The encoder and decoder must hash every byte of file content, and on an uncompressed file the copy itself
/// costs less than the hash. Hashing one file at a time beside the copy leaves the hash as the critical path;
/// here every core hashes a different file, and the caller only waits when the work queued ahead of the
/// workers passes `maxPendingBytes` (so the ranges are still in the page cache when they are read) or at
/// `finish()`.
///
/// A job reads with `pread`, so it never moves a descriptor's offset and several jobs may share one.
///
/// Digests land by slot in a `SlotDigestStore`, which keeps them in a temporary file past a small memory
/// budget: the hasher's memory does not grow with the number of jobs.
final class ParallelRangeHasher: @unchecked Sendable {
    /// The read descriptor of a job and whether the job closes it when done.
    struct Input {
        let fd: Int32
        let owned: Bool
    }

    private struct Job {
        let input: Input
        let offset: Int64
        let size: Int64
        let slot: Int
        let entry: String
    }

    /// Bytes queued ahead of the workers before `submit` waits.
    let maxPendingBytes: Int64
    /// Jobs queued ahead of the workers before `submit` waits (each may hold a descriptor open).
    let maxPendingJobs = 256
    private let condition = ConditionLock()
    private var queue: [Job] = []
    private var head = 0
    private var pendingBytes: Int64 = 0
    private var running = 0
    private var closed = false
    /// Where the digests land, by slot.
    let digests: SlotDigestStore
    private var failure: CheckpointError?

    /// - Parameters:
    ///   - workers: hashing threads; by default one per active processor, at most 8.
    ///   - maxPendingBytes: how far the caller may run ahead of the hashing, in bytes of queued ranges.
    ///   - digests: where the digests land by slot; a fresh store by default.
    init(workers: Int = min(8, max(1, ProcessInfo.processInfo.activeProcessorCount)),
         maxPendingBytes: Int64 = 256 << 20, digests: SlotDigestStore = SlotDigestStore()) {
        self.maxPendingBytes = maxPendingBytes
        self.digests = digests
        var started = 0
        for _ in 0..<max(1, workers) where DetachedThread.start(stackSize: 1 << 20, { [self] in work() }) {
            started += 1
        }
        if started == 0 {
            failure = CheckpointError("IO", "could not start a thread to hash file content")
            closed = true
        }
    }

    /// Stops the workers after the job each is on and drops the queued ones (closing their owned
    /// descriptors). `finish` calls it; callers that leave early (on an error) must call it themselves, or the
    /// workers wait for jobs forever.
    func shutdown() {
        condition.lock()
        closed = true
        for job in queue[head...] where job.input.owned { close(job.input.fd) }
        queue.removeAll()
        head = 0
        condition.broadcast()
        condition.unlock()
    }

    /// Queues the digest of `size` bytes at `offset` of `input`, stored under `slot`. Waits while more than
    /// `maxPendingBytes` are queued. An owned descriptor is closed by the job (or by `finish`/`deinit`).
    func submit(_ input: Input, offset: Int64, size: Int64, slot: Int, entry: String) {
        condition.lock()
        while (pendingBytes > 0 && pendingBytes + size > maxPendingBytes || queue.count - head >= maxPendingJobs)
                && failure == nil && !closed {
            condition.wait()
        }
        if closed {
            condition.unlock()
            if input.owned { close(input.fd) }
            return
        }
        queue.append(Job(input: input, offset: offset, size: size, slot: slot, entry: entry))
        pendingBytes += size
        condition.signal()
        condition.unlock()
    }

    /// Records a digest computed elsewhere (64 hex digits) under `slot`.
    func submitDone(_ digest: String, slot: Int) {
        digests.set(slot, hex: digest)
    }

    /// The first failure so far, without waiting: lets a decoder stop early.
    var firstFailure: CheckpointError? {
        condition.lock()
        defer { condition.unlock() }
        return failure
    }

    /// Waits for every queued job and stops the workers; the digests are then all in `digests`.
    /// - Throws: the first read failure of any job.
    func complete() throws {
        condition.lock()
        while head < queue.count || running > 0 { condition.wait() }
        let error = failure
        condition.unlock()
        shutdown()
        if let error { throw error }
    }

    /// Waits for every queued job, stops the workers and returns the digests (lowercase hex) by slot, all in
    /// memory: for callers with few files; others read `digests` after `complete()`.
    /// - Throws: the first read failure of any job.
    func finish() throws -> [Int: String] {
        try complete()
        return try digests.dictionary()
    }

    private func work() {
        let chunk = 1 << 20
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: chunk, alignment: 4096)
        defer { buffer.deallocate() }
        while true {
            condition.lock()
            while head == queue.count && !closed { condition.wait() }
            if head == queue.count {
                condition.unlock()
                return
            }
            let job = queue[head]
            head += 1
            if head > 1024 && head * 2 > queue.count {
                queue.removeFirst(head)
                head = 0
            }
            running += 1
            condition.unlock()

            var hasher = SHA256()
            var done: Int64 = 0
            var error: CheckpointError?
            while done < job.size {
                let n = pread(job.input.fd, buffer.baseAddress, Int(min(Int64(chunk), job.size - done)),
                              off_t(job.offset + done))
                if n < 0 && errno == EINTR { continue }
                if n <= 0 {
                    error = CheckpointError("IO", "could not read back \(job.size) bytes to hash them", entry: job.entry,
                                            offset: job.offset + done)
                    break
                }
                hasher.update(bufferPointer: UnsafeRawBufferPointer(rebasing: buffer[0..<n]))
                done += Int64(n)
            }
            if job.input.owned { close(job.input.fd) }
            if error == nil { digests.set(job.slot, digest: hasher.finalize()) }

            condition.lock()
            if let error { failure = failure ?? error }
            pendingBytes -= job.size
            running -= 1
            condition.broadcast()
            condition.unlock()
        }
    }
}
