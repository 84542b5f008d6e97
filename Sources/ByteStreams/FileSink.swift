import SystemPackage
#if canImport(Glibc)
import Glibc
#endif

/// A buffered `ByteSink` writing to a file descriptor.
public final class FileSink: DirectWriteSink {
    /// The descriptor written to.
    public let descriptor: FileDescriptor
    private let closeOnDeinit: Bool
    private let buffer: UnsafeMutableRawBufferPointer
    private var used = 0
    private var written: Int64 = 0

    /// Wraps an open descriptor; `closeOnDeinit` makes the sink own it.
    public init(descriptor: FileDescriptor, bufferSize: Int = 1 << 20, closeOnDeinit: Bool = false) {
        self.descriptor = descriptor
        self.closeOnDeinit = closeOnDeinit
        buffer = .allocate(byteCount: max(bufferSize, 4096), alignment: 4096)
    }

    deinit {
        try? flush()
        buffer.deallocate()
        if closeOnDeinit { try? descriptor.close() }
    }

    public var position: Int64 { written }

    public func write(_ bytes: UnsafeRawBufferPointer) throws {
        guard !bytes.isEmpty else { return }
        if used + bytes.count > buffer.count { try flush() }
        if bytes.count >= buffer.count {
            try writeThrough(bytes)
        } else {
            UnsafeMutableRawBufferPointer(rebasing: buffer[used..<(used + bytes.count)]).copyMemory(from: bytes)
            used += bytes.count
        }
        written += Int64(bytes.count)
    }

    public func beginDirectWrite() throws -> Int32? {
        try flush()
        return descriptor.rawValue
    }

    public func endDirectWrite(_ count: Int64) { written += count }

    public func flush() throws {
        guard used > 0 else { return }
        let pending = UnsafeRawBufferPointer(rebasing: buffer[0..<used])
        used = 0
        try writeThrough(pending)
    }

    private func writeThrough(_ bytes: UnsafeRawBufferPointer) throws {
        var offset = 0
        while offset < bytes.count {
            let n = Glibc.write(descriptor.rawValue, bytes.baseAddress! + offset, bytes.count - offset)
            if n < 0 {
                if errno == EINTR { continue }
                throw ByteStreamError.system(operation: "write", errno: .current)
            }
            offset += n
        }
    }
}
