import SystemPackage
#if canImport(Glibc)
import Glibc
#endif

/// A buffered `ByteSource` over a file descriptor: a regular file, a pipe, or standard input.
///
/// On a seekable descriptor `skip` moves the file offset instead of reading, and the read-ahead starts
/// small after every seek, so listing an archive reads its headers but not the file data between them.
/// On a pipe `skip` reads through the data. `storageBytesRead` counts what was really read from the
/// descriptor, for benchmarks that prove data was not read.
///
/// A regular file can also be read ahead on a second thread (`startReadAhead`), at the offsets a planner
/// foresees; the bytes it did not foresee are read on the calling thread as before.
public final class FileSource: ByteSource {
    /// The descriptor read from.
    public let descriptor: FileDescriptor
    /// Whether the descriptor supports `lseek` (a regular file or block device).
    public let isSeekable: Bool
    /// Bytes read from the descriptor so far (seeked-over bytes are not counted).
    public private(set) var storageBytesRead: Int64 = 0
    /// While reading ahead: the reads this thread made itself, of bytes the planner had not foreseen.
    public private(set) var readAheadMisses = 0
    /// While reading ahead: the reads this thread made itself because the read-ahead thread was late.
    public private(set) var readAheadLate = 0
    /// Whether the read-ahead was given up because its thread was late `readAheadLateLimit` times: the source
    /// then reads on by itself, as it does without one.
    public private(set) var readAheadAbandoned = false
    /// How many late chunks give up the read-ahead: 4.
    ///
    /// A thread that is late that often is not getting a CPU of its own, and then it costs more than it gives. On
    /// the two-CPU benchmark machine, with a busy loop on the other CPU, a `--no-digests` check of the 2 GiB
    /// archive took 10.1 ms with the read-ahead kept whatever happened (deciles 7.4 to 11.5), 9.0 ms when it is
    /// given up (8.7 to 9.4), and 8.2 ms with no read-ahead at all; `tar -tf` 6.7 ms (medians of 60 runs in random
    /// order); what it keeps above that is presumably the patience before the fourth late chunk (0.45 ms) and the
    /// thread's start. On an idle machine 29 runs of 30 had no late chunk (the other had 10: the thread had
    /// stalled), and the medians were 5.90 ms given up against 5.95 ms kept (`tar -tf` 6.39 ms).
    public static let readAheadLateLimit = 4

    private let closeOnDeinit: Bool
    private let buffer: UnsafeMutableRawBufferPointer
    /// The bytes being handed out: `buffer`, or a chunk of the read-ahead thread.
    private var window: UnsafeMutableRawBufferPointer
    private var start = 0
    private var end = 0
    private var consumed: Int64 = 0
    private var readAhead: Int
    private static let minimumReadAhead = 16 * 1024
    /// The descriptor's offset (where the buffered bytes end) and the file's size, for seeking with one call;
    /// nil until first needed.
    private var descriptorOffset: Int64?
    private var knownSize: Int64 = -1
    /// The read-ahead thread (kept after it is given up, to be waited for when the source stops reading ahead),
    /// its chunk in `window` and the next chunk when it starts beyond the position.
    private var aheadQueue: ReadAheadQueue?
    /// The read-ahead thread while the source reads from it: nil before it starts and once it is given up.
    private var readingAhead: ReadAheadQueue? { readAheadAbandoned ? nil : aheadQueue }
    private var chunk: ReadAheadQueue.Chunk?
    private var nextChunk: ReadAheadQueue.Chunk?
    /// How long a refill waits for the read-ahead thread's next chunk before reading the bytes itself: long enough
    /// for the usual waits (tens of microseconds), short against a thread that is not running (on the benchmark
    /// machine it sometimes did not run for 4 to 6 ms). Shorter after a late chunk, until one comes in time again.
    private var aheadPatience = FileSource.defaultReadAheadPatience
    /// The default `readAheadPatience`: 300 µs.
    public static let defaultReadAheadPatience: Int64 = 300_000
    /// The usual `aheadPatience`, in nanoseconds (a test of what a plan foresees sets it longer than the test, so
    /// that a busy machine cannot turn a late chunk into a miss).
    public var readAheadPatience = FileSource.defaultReadAheadPatience {
        didSet { aheadPatience = readAheadPatience }
    }
    /// `aheadPatience` after a late chunk: enough for the thread to read one chunk once it runs, so that a reader
    /// faster than the thread does not leave it behind for good.
    private var latePatience: Int64 { min(readAheadPatience, 50_000) }

    /// Wraps an open descriptor.
    /// - Parameters:
    ///   - descriptor: the descriptor, positioned where reading starts.
    ///   - bufferSize: the largest single read from the descriptor.
    ///   - closeOnDeinit: whether the source owns and closes the descriptor.
    public init(descriptor: FileDescriptor, bufferSize: Int = 1 << 20, closeOnDeinit: Bool = false) {
        self.descriptor = descriptor
        self.closeOnDeinit = closeOnDeinit
        buffer = .allocate(byteCount: max(bufferSize, Self.minimumReadAhead), alignment: 4096)
        window = buffer
        var info = stat()
        let statOK = fstat(descriptor.rawValue, &info) == 0
        let kind = info.st_mode & S_IFMT
        isSeekable = statOK && (kind == S_IFREG || kind == S_IFBLK)
            && lseek(descriptor.rawValue, 0, SEEK_CUR) >= 0
        readAhead = isSeekable ? Self.minimumReadAhead : buffer.count
    }

    /// Opens `path` read-only; the source closes it when released.
    public convenience init(path: String, bufferSize: Int = 1 << 20) throws {
        let fd: FileDescriptor
        do {
            fd = try FileDescriptor.open(FilePath(path), .readOnly, options: [.closeOnExec])
        } catch let errno as Errno {
            throw ByteStreamError.system(operation: "open \(path)", errno: errno)
        }
        self.init(descriptor: fd, bufferSize: bufferSize, closeOnDeinit: true)
    }

    deinit {
        aheadQueue?.stop()
        buffer.deallocate()
        if closeOnDeinit { try? descriptor.close() }
    }

    public var position: Int64 { consumed }

    /// The size of the file when the descriptor is a regular file (or block device), nil for pipes.
    public var fileSize: Int64? {
        guard isSeekable else { return nil }
        var info = stat()
        return fstat(descriptor.rawValue, &info) == 0 ? Int64(info.st_size) : nil
    }

    public func read(upTo maxCount: Int) throws -> UnsafeRawBufferPointer {
        if start == end {
            try refill()
            if start == end { return UnsafeRawBufferPointer(start: nil, count: 0) }
        }
        let n = min(maxCount, end - start)
        defer { start += n; consumed += Int64(n) }
        return UnsafeRawBufferPointer(rebasing: window[start..<(start + n)])
    }

    public func skip(_ count: Int64) throws -> Int64 {
        let buffered = Int64(end - start)
        if count <= buffered || !isSeekable {
            let fromBuffer = min(count, buffered)
            start += Int(fromBuffer)
            consumed += fromBuffer
            return count <= buffered ? count : fromBuffer + (try skipByReading(count - fromBuffer))
        }
        // Seek past what is not buffered, but never beyond the end of the file (whose size is looked up again
        // only when the target lies beyond the size known: a file may grow). Reading ahead, every read is a
        // `pread` at the position: moving the position is all a skip does.
        if readingAhead == nil, descriptorOffset == nil {
            let here = lseek(descriptor.rawValue, 0, SEEK_CUR)
            guard here >= 0 else { throw ByteStreamError.system(operation: "lseek", errno: .current) }
            descriptorOffset = Int64(here)
        }
        // Where the buffered bytes end in the file.
        let here = readingAhead == nil ? descriptorOffset! : consumed + buffered
        let wanted = count - buffered
        if here + wanted > knownSize { try updateKnownSize() }
        let possible = min(wanted, max(0, knownSize - here))
        if readingAhead == nil {
            guard lseek(descriptor.rawValue, off_t(here + possible), SEEK_SET) >= 0 else {
                throw ByteStreamError.system(operation: "lseek", errno: .current)
            }
            descriptorOffset = here + possible
        }
        start = 0
        end = 0
        readAhead = Self.minimumReadAhead
        consumed += buffered + possible
        return buffered + possible
    }

    /// One `read` (at the descriptor's offset) or `pread` (at `offset`) of up to `count` bytes into `buffer`.
    private func readIntoBuffer(_ count: Int, at offset: Int64?) throws -> Int {
        while true {
            let n = offset.map { pread(descriptor.rawValue, buffer.baseAddress, count, off_t($0)) }
                ?? Glibc.read(descriptor.rawValue, buffer.baseAddress, count)
            if n < 0 {
                if errno == EINTR { continue }
                throw ByteStreamError.system(operation: "read", errno: .current)
            }
            storageBytesRead += Int64(n)
            return n
        }
    }

    private func updateKnownSize() throws {
        var info = stat()
        guard fstat(descriptor.rawValue, &info) == 0 else { throw ByteStreamError.system(operation: "fstat", errno: .current) }
        knownSize = Int64(info.st_size)
    }

    /// Starts reading ahead on a second thread, from the planner's first offset. Only for a regular file (false
    /// otherwise, or when no thread could be started); the thread stops when the source is released.
    @discardableResult
    public func startReadAhead(_ planner: ReadAheadPlanner) -> Bool {
        guard isSeekable, aheadQueue == nil else { return false }
        let queue = ReadAheadQueue(descriptor: descriptor.rawValue, planner: planner)
        guard queue.start() else { return false }
        aheadQueue = queue
        return true
    }

    /// Stops the read-ahead thread (the source reads on by itself); it also stops when the source is released.
    public func stopReadAhead() { aheadQueue?.stop() }

    private func refill() throws {
        if let queue = readingAhead { return try refill(from: queue) }
        start = 0
        end = 0
        window = buffer
        end = try readIntoBuffer(min(readAhead, buffer.count), at: nil)
        if let o = descriptorOffset { descriptorOffset = o + Int64(end) }
        // Sequential reading: grow the read-ahead towards the whole buffer.
        readAhead = min(buffer.count, readAhead * 2)
    }
}

extension FileSource {
    /// Refills the window at the position from the read-ahead chunks: the chunk holding the position, chunks
    /// behind it handed back; when none holds it (the planner did not foresee those bytes, or has stopped, or the
    /// thread is late), a `pread` of them on this thread, up to where the next chunk begins.
    private func refill(from queue: ReadAheadQueue) throws {
        let here = consumed
        start = 0
        end = 0
        window = buffer
        if let c = chunk {
            chunk = nil
            queue.recycle(c)
        }
        while true {
            let c: ReadAheadQueue.Chunk
            if let waiting = nextChunk {
                c = waiting
            } else {
                switch queue.take(patience: aheadPatience) {
                case let .chunk(taken):
                    c = taken
                case .finished:
                    return try readHere(from: here)
                case .late:
                    return try readLate(queue, at: here)
                }
            }
            nextChunk = nil
            if c.end <= here {
                storageBytesRead += Int64(c.count)
                queue.recycle(c)
                continue
            }
            if c.offset <= here {
                storageBytesRead += Int64(c.count)
                aheadPatience = readAheadPatience
                chunk = c
                window = c.bytes
                start = Int(here - c.offset)
                end = c.count
                return
            }
            nextChunk = c
            break
        }
        try readHere(from: here)
    }

    /// The window filled by this thread because the read-ahead thread is late: the read-ahead given up once that
    /// has happened `readAheadLateLimit` times, else a read of the bytes here and less patience until a chunk comes
    /// in time. Kept out of line: `refill(from:)` runs for every chunk, this rarely.
    @inline(never)
    private func readLate(_ queue: ReadAheadQueue, at here: Int64) throws {
        readAheadLate += 1
        if readAheadLate >= Self.readAheadLateLimit {
            try abandonReadAhead(queue, at: here)
            return try refill()
        }
        aheadPatience = latePatience
        try readHere(from: here, late: true)
    }

    /// Gives the read-ahead up (`readAheadLateLimit`): tells the thread to stop without waiting for it, hands its
    /// next chunk back, and reads on from `here` by itself, at the descriptor's offset.
    private func abandonReadAhead(_ queue: ReadAheadQueue, at here: Int64) throws {
        if let c = nextChunk {
            nextChunk = nil
            queue.recycle(c)
        }
        queue.cancel()
        readAheadAbandoned = true
        guard lseek(descriptor.rawValue, off_t(here), SEEK_SET) >= 0 else {
            throw ByteStreamError.system(operation: "lseek", errno: .current)
        }
        descriptorOffset = here
        readAhead = Self.minimumReadAhead
    }

    /// The window filled with a `pread` at `here`, up to where the next chunk begins: bytes the planner did not
    /// foresee, or (`late`) that the thread has not read yet.
    private func readHere(from here: Int64, late: Bool = false) throws {
        let gap = nextChunk.map { Int(min(Int64(buffer.count), $0.offset - here)) } ?? buffer.count
        if !late { readAheadMisses += 1 }
        end = try readIntoBuffer(min(readAhead, gap), at: here)
        readAhead = min(buffer.count, readAhead * 2)
    }
}

extension Errno {
    /// The calling thread's current errno.
    static var current: Errno { Errno(rawValue: errno) }
}
