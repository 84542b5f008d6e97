import CSysShims
#if canImport(Glibc)
import Glibc
#endif

/// Decides, on a read-ahead thread, which bytes of a file its reader will want next.
///
/// A planner only guesses: a reader that wants bytes it did not foresee reads them itself (`FileSource`), so a
/// wrong guess costs time, never correctness.
public protocol ReadAheadPlanner: AnyObject {
    /// The offset of the next bytes to read ahead; nil when there is nothing more to foresee.
    var nextOffset: Int64? { get }
    /// Looks at `bytes`, just read at `offset`: a whole chunk, or a shorter probe after a gap (`ReadAheadQueue`);
    /// fewer only at the end of the file. A planner may also be shown bytes its reader already holds before the
    /// thread starts (a peek at the start of the file), so that the thread does not read them again.
    func inspect(_ bytes: UnsafeRawBufferPointer, at offset: Int64)
}

/// A thread that reads a regular file ahead of its reader, at the offsets a `ReadAheadPlanner` names, into a
/// bounded ring of chunks handed over in file order.
///
/// It uses `pread` only, so the descriptor's offset is never moved. Memory: `chunkCount` chunks of `chunkSize`.
/// The reader hands each chunk back (`recycle`) once it is past it; the thread waits while every chunk is out and
/// is woken only when half of them are free again, so that the two threads meet rarely.
///
/// A read that follows on from the one before fills a whole chunk. A read after a gap (the planner skipped bytes,
/// such as the data of a large file) is a short probe of `probeSize` bytes: what lies there is not known yet, and
/// is often a header and little more. A planner that wants more names the probe's end next, which follows on and
/// fills a whole chunk. On a v2 archive's big files this took the read-ahead thread's time for the checkpoint
/// images' headers from about 15 µs a header (64 KiB copied, 16 fresh pages of the ring touched) to a few.
///
/// The thread keeps off the CPU its reader was running on when it was started (`csys_keep_off_cpu`; it may run on
/// any other its reader may use), before it reads anything. Two threads that wake each other in turn are otherwise
/// often kept on one CPU by the scheduler, which places a woken thread near its waker: on the two-CPU benchmark
/// machine, in about half the `ckpt-validate --no-digests` runs of the 2 GiB archive the thread read 286 of its 302
/// chunks on the reader's CPU while the other CPU idled, and the reader waited 1.2 to 1.8 ms for chunks instead of
/// 0.13 to 0.35 ms. The reader, for its part, keeps to the CPU it was on from the thread's start until `stop()`
/// (`csys_pin_to_cpu`, its former CPUs given back by `stop()`): when the scheduler moved it at a wake-up, its caches
/// stayed behind; a run of the 2 GiB archive took 0.1 ms less (6.22 against 6.34 ms, and 6.20 against 6.30 and 6.22
/// against 6.33 in two other rounds; medians of 150 to 200 runs in random order, the same binary).
final class ReadAheadQueue: @unchecked Sendable {
    /// A run of file bytes read ahead.
    struct Chunk {
        let offset: Int64
        let bytes: UnsafeMutableRawBufferPointer
        let count: Int
        var end: Int64 { offset + Int64(count) }
    }

    private let descriptor: Int32
    private let planner: ReadAheadPlanner
    private let chunkSize: Int
    private let chunkCount: Int
    /// The size of a read after a gap.
    private let probeSize: Int
    /// On the heap: a pthread mutex or condition must not move, and Swift promises a stored property's address
    /// only for the duration of one call that takes it with `&`.
    private let mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
    private let chunkReady = UnsafeMutablePointer<pthread_cond_t>.allocate(capacity: 1)
    private let chunkFree = UnsafeMutablePointer<pthread_cond_t>.allocate(capacity: 1)
    // Guarded by `mutex`.
    private var ready: [Chunk] = []
    private var readyHead = 0
    private var free: [UnsafeMutableRawBufferPointer] = []
    private var finished = false
    private var cancelled = false
    private var producerWaiting = false
    private var thread: pthread_t?
    /// The CPU the reader was running on when it started the thread, or -1 when not known.
    private var readerCPU: Int32 = -1
    /// The reader's thread and the CPUs it could run on before it was kept to `readerCPU`, nil when it was not.
    private var reader = pthread_t()
    private var readerCPUs: UnsafeMutableRawPointer?
    /// The chunks' memory, mapped by the thread itself.
    private var memory: UnsafeMutableRawBufferPointer?
    /// Whether `memory` is a mapping of its own (else it was allocated).
    private var mapped = false

    init(descriptor: Int32, planner: ReadAheadPlanner, chunkSize: Int = 64 << 10, chunkCount: Int = 16,
         probeSize: Int = 8 << 10) {
        self.descriptor = descriptor
        self.planner = planner
        self.chunkSize = chunkSize
        self.chunkCount = chunkCount
        self.probeSize = max(1, min(probeSize, chunkSize))
        pthread_mutex_init(mutex, nil)
        pthread_cond_init(chunkReady, nil)
        pthread_cond_init(chunkFree, nil)
        ready.reserveCapacity(chunkCount)
    }

    /// Maps the chunks, in one mapping of small pages (`MADV_NOHUGEPAGE`, whatever the system's default).
    ///
    /// A transparent huge page was tried (the ring in a 2 MiB-aligned block advised `MADV_HUGEPAGE`): one fault of
    /// 40 to 90 µs instead of 256 small ones (300 µs in all, spread over the thread's first reads). On the
    /// benchmark machine, a nested virtual machine, the thread then often ran 4 to 5 ms before it handed over its
    /// first chunk (a system-wide trace: on its CPU throughout, from the fault that woke `khugepaged`), while the
    /// reader waited and read on its own; presumably the hypervisor was backing the 2 MiB page by page.
    /// On the 2 GiB archive (300 runs in random order, 1 December), runs 1.5 ms or more over the median: 19 and 23
    /// with the huge page, 2 and 11 with small pages, as many as `tar -tf` had in the same rounds (2 and 11); medians
    /// 5.68 and 5.73 ms against 5.64 and 5.72, means 5.95 and 6.06 against 5.68 and 5.86.
    /// The pages are not made present in advance (`MAP_POPULATE` took 0.4 ms for 1 MiB here, which the reader
    /// waited out before its first chunk): the first `pread` into them faults them in, on this thread.
    private func allocateChunks() {
        let bytes = chunkSize * chunkCount
        let m = mmap(nil, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0)
        let memory: UnsafeMutableRawBufferPointer
        let mapped = m != nil && m != MAP_FAILED
        if mapped, let m {
            madvise(m, bytes, MADV_NOHUGEPAGE)
            memory = UnsafeMutableRawBufferPointer(start: m, count: bytes)
        } else {
            memory = .allocate(byteCount: bytes, alignment: 4096)
        }
        pthread_mutex_lock(mutex)
        self.memory = memory
        self.mapped = mapped
        for i in 0..<chunkCount {
            free.append(UnsafeMutableRawBufferPointer(rebasing: memory[(i * chunkSize)..<((i + 1) * chunkSize)]))
        }
        pthread_mutex_unlock(mutex)
    }

    deinit {
        stop()
        if let memory {
            if mapped { munmap(memory.baseAddress, memory.count) } else { memory.deallocate() }
        }
        pthread_cond_destroy(chunkFree)
        pthread_cond_destroy(chunkReady)
        pthread_mutex_destroy(mutex)
        chunkFree.deallocate()
        chunkReady.deallocate()
        mutex.deallocate()
    }

    /// Starts the thread; false when it could not be created (the reader then reads everything itself).
    func start() -> Bool {
        readerCPU = csys_current_cpu()
        var t = pthread_t()
        let context = Unmanaged.passRetained(self).toOpaque()
        let status = pthread_create(&t, nil, { context in
            let queue = Unmanaged<ReadAheadQueue>.fromOpaque(context!).takeRetainedValue()
            queue.run()
            return nil
        }, context)
        guard status == 0 else {
            Unmanaged<ReadAheadQueue>.fromOpaque(context).release()
            return false
        }
        thread = t
        // After the thread is created, so that it does not inherit the one CPU.
        reader = pthread_self()
        readerCPUs = csys_pin_to_cpu(readerCPU)
        return true
    }

    /// Stops the thread and waits for it; chunks handed out stay valid until the queue is released.
    func stop() {
        guard let t = thread else { return }
        requestStop()
        pthread_join(t, nil)
        thread = nil
        restoreReaderCPUs()
    }

    /// Tells the thread to stop after the read it is making, without waiting for it (it may not be running), and
    /// lets the reader run on any of its CPUs again. `stop()` (or releasing the queue) still waits for it.
    /// Called by the reader only.
    func cancel() {
        guard thread != nil else { return }
        requestStop()
        restoreReaderCPUs()
    }

    private func requestStop() {
        pthread_mutex_lock(mutex)
        cancelled = true
        pthread_cond_signal(chunkFree)
        pthread_mutex_unlock(mutex)
    }

    /// Gives the reader back the CPUs it could run on before `start()` kept it to one.
    private func restoreReaderCPUs() {
        guard readerCPUs != nil else { return }
        csys_restore_affinity(reader, readerCPUs)
        readerCPUs = nil
    }

    /// What `take` found.
    enum Taken {
        /// The next chunk in file order.
        case chunk(Chunk)
        /// The thread has read all it will.
        case finished
        /// None came within the patience given: the thread is behind, or is not running.
        case late
    }

    /// The next chunk in file order, waiting at most `patience` nanoseconds while the thread is behind.
    func take(patience: Int64) -> Taken {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        if readyHead == ready.count, !finished, patience > 0 {
            var now = timespec()
            clock_gettime(CLOCK_REALTIME, &now)
            let base = Int64(now.tv_sec) * 1_000_000_000 + Int64(now.tv_nsec)
            let end = patience > Int64.max - base ? Int64.max : base + patience
            var deadline = timespec(tv_sec: Int(end / 1_000_000_000), tv_nsec: Int(end % 1_000_000_000))
            while readyHead == ready.count, !finished {
                if pthread_cond_timedwait(chunkReady, mutex, &deadline) == ETIMEDOUT { break }
            }
        }
        guard readyHead < ready.count else { return finished ? .finished : .late }
        let c = ready[readyHead]
        readyHead += 1
        if readyHead == ready.count {
            ready.removeAll(keepingCapacity: true)
            readyHead = 0
        }
        return .chunk(c)
    }

    /// Gives a chunk back to the thread.
    func recycle(_ chunk: Chunk) {
        pthread_mutex_lock(mutex)
        free.append(chunk.bytes)
        if producerWaiting, free.count >= chunkCount / 2 {
            producerWaiting = false
            pthread_cond_signal(chunkFree)
        }
        pthread_mutex_unlock(mutex)
    }

    private func run() {
        _ = csys_keep_off_cpu(readerCPU)
        allocateChunks()
        var last: Int64 = -1
        /// Where the last read ended: a read from there follows on; one from anywhere else is a probe.
        var lastEnd: Int64 = 0
        // A planner must move forward: one that names an offset again (or an earlier one) is not followed.
        while let offset = planner.nextOffset, offset > last, offset >= 0 {
            last = offset
            pthread_mutex_lock(mutex)
            while free.isEmpty, !cancelled {
                producerWaiting = true
                pthread_cond_wait(chunkFree, mutex)
            }
            let stop = cancelled
            let buffer = stop ? nil : free.removeLast()
            pthread_mutex_unlock(mutex)
            guard let buffer else { break }
            let wanted = offset == lastEnd ? chunkSize : probeSize
            let n = readFully(UnsafeMutableRawBufferPointer(rebasing: buffer[0..<wanted]), at: offset)
            guard n >= 0 else {
                pthread_mutex_lock(mutex)
                free.append(buffer)
                pthread_mutex_unlock(mutex)
                break
            }
            planner.inspect(UnsafeRawBufferPointer(rebasing: buffer[0..<n]), at: offset)
            pthread_mutex_lock(mutex)
            ready.append(Chunk(offset: offset, bytes: buffer, count: n))
            pthread_cond_signal(chunkReady)
            pthread_mutex_unlock(mutex)
            lastEnd = offset + Int64(n)
            if n < wanted { break }
        }
        pthread_mutex_lock(mutex)
        finished = true
        pthread_cond_signal(chunkReady)
        pthread_mutex_unlock(mutex)
    }

    /// `pread` until the buffer is full or the file ends; -1 on an error (the reader meets it again itself).
    private func readFully(_ buffer: UnsafeMutableRawBufferPointer, at offset: Int64) -> Int {
        var filled = 0
        while filled < buffer.count {
            let n = pread(descriptor, buffer.baseAddress! + filled, buffer.count - filled, off_t(offset) + off_t(filled))
            if n < 0 {
                if errno == EINTR { continue }
                return -1
            }
            if n == 0 { break }
            filled += n
        }
        return filled
    }
}
