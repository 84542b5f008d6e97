/// A stream of bytes being written: a file, a pipe, memory, or a compressor in front of one of those.
public protocol ByteSink: AnyObject {
    /// The number of bytes written to this sink so far.
    var position: Int64 { get }

    /// Writes all of `bytes`.
    func write(_ bytes: UnsafeRawBufferPointer) throws

    /// Pushes buffered bytes to the layer below (for a file: to the kernel).
    func flush() throws
}

extension ByteSink {
    /// Writes the bytes of an array.
    public func write(_ bytes: [UInt8]) throws {
        try bytes.withUnsafeBytes { try write($0) }
    }

    /// Writes `count` zero bytes.
    public func writeZeros(_ count: Int) throws {
        var left = count
        let zeros = [UInt8](repeating: 0, count: min(count, 64 * 1024))
        while left > 0 {
            let n = min(left, zeros.count)
            try zeros.withUnsafeBytes { try write(UnsafeRawBufferPointer(rebasing: $0[0..<n])) }
            left -= n
        }
    }
}

/// A sink that keeps everything in memory; for tests, vectors and small archives.
public final class MemorySink: ByteSink {
    /// Everything written so far.
    public private(set) var bytes: [UInt8] = []

    public init() {}

    public var position: Int64 { Int64(bytes.count) }

    public func write(_ bytes: UnsafeRawBufferPointer) throws { self.bytes.append(contentsOf: bytes) }

    public func flush() throws {}
}

/// A sink that can let its caller write straight to the underlying file descriptor (with
/// `copy_file_range`, for example), bypassing user-space buffers.
public protocol DirectWriteSink: ByteSink {
    /// Flushes everything buffered and returns the descriptor, positioned where the next byte goes; nil
    /// when this sink cannot be bypassed (it transforms the bytes, or is not backed by a descriptor).
    func beginDirectWrite() throws -> Int32?
    /// Records that `count` bytes were written to the descriptor directly since `beginDirectWrite`.
    func endDirectWrite(_ count: Int64)
}
