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
public final class FileSource: ByteSource {
    /// The descriptor read from.
    public let descriptor: FileDescriptor
    /// Whether the descriptor supports `lseek` (a regular file or block device).
    public let isSeekable: Bool
    /// Bytes read from the descriptor so far (seeked-over bytes are not counted).
    public private(set) var storageBytesRead: Int64 = 0

    private let closeOnDeinit: Bool
    private let buffer: UnsafeMutableRawBufferPointer
    private var start = 0
    private var end = 0
    private var consumed: Int64 = 0
    private var readAhead: Int
    private static let minimumReadAhead = 16 * 1024
    /// The descriptor's offset (where the buffered bytes end) and the file's size, for seeking with one call;
    /// nil until first needed.
    private var descriptorOffset: Int64?
    private var knownSize: Int64 = -1

    /// Wraps an open descriptor.
    /// - Parameters:
    ///   - descriptor: the descriptor, positioned where reading starts.
    ///   - bufferSize: the largest single read from the descriptor.
    ///   - closeOnDeinit: whether the source owns and closes the descriptor.
    public init(descriptor: FileDescriptor, bufferSize: Int = 1 << 20, closeOnDeinit: Bool = false) {
        self.descriptor = descriptor
        self.closeOnDeinit = closeOnDeinit
        buffer = .allocate(byteCount: max(bufferSize, Self.minimumReadAhead), alignment: 4096)
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
        return UnsafeRawBufferPointer(rebasing: buffer[start..<(start + n)])
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
        // only when the target lies beyond the size known: a file may grow).
        if descriptorOffset == nil {
            let here = lseek(descriptor.rawValue, 0, SEEK_CUR)
            guard here >= 0 else { throw ByteStreamError.system(operation: "lseek", errno: .current) }
            descriptorOffset = Int64(here)
        }
        let here = descriptorOffset!
        let wanted = count - buffered
        if here + wanted > knownSize {
            var info = stat()
            guard fstat(descriptor.rawValue, &info) == 0 else { throw ByteStreamError.system(operation: "fstat", errno: .current) }
            knownSize = Int64(info.st_size)
        }
        let possible = min(wanted, max(0, knownSize - here))
        guard lseek(descriptor.rawValue, off_t(here + possible), SEEK_SET) >= 0 else {
            throw ByteStreamError.system(operation: "lseek", errno: .current)
        }
        descriptorOffset = here + possible
        start = 0
        end = 0
        readAhead = Self.minimumReadAhead
        consumed += buffered + possible
        return buffered + possible
    }

    private func refill() throws {
        start = 0
        end = 0
        let want = min(readAhead, buffer.count)
        while true {
            let n = Glibc.read(descriptor.rawValue, buffer.baseAddress, want)
            if n < 0 {
                if errno == EINTR { continue }
                throw ByteStreamError.system(operation: "read", errno: .current)
            }
            end = n
            storageBytesRead += Int64(n)
            if let o = descriptorOffset { descriptorOffset = o + Int64(n) }
            break
        }
        // Sequential reading: grow the read-ahead towards the whole buffer.
        readAhead = min(buffer.count, readAhead * 2)
    }
}

extension Errno {
    /// The calling thread's current errno.
    static var current: Errno { Errno(rawValue: errno) }
}
