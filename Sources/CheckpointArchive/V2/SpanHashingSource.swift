import ByteStreams
import Crypto

/// A `ByteSource` under the tar reader of a v2 decoder that computes span digests (CKA-IDX-014) while the
/// stream is read: every byte is hashed into the current span except those read while `excludingData` is
/// set (regular-file content, hashed separately by the file's own digest).
///
/// A span boundary is only recognised after the marker's headers have been read, so the bytes consumed
/// since the last entry boundary are kept (bounded by the pax header limit) and moved into the new span when
/// `startSpan()` is called.
public final class SpanHashingSource: ByteSource {
    private let inner: ByteSource
    private var span = SHA256()
    private var atBoundary = SHA256()
    private var sinceBoundary: [UInt8] = []
    private var recording = false
    public var excludingData = false

    public init(_ inner: ByteSource) { self.inner = inner }

    public var position: Int64 { inner.position }

    public func read(upTo maxCount: Int) throws -> UnsafeRawBufferPointer {
        let chunk = try inner.read(upTo: maxCount)
        if !excludingData {
            span.update(bufferPointer: chunk)
            if recording { sinceBoundary.append(contentsOf: chunk) }
        }
        return chunk
    }

    public func skip(_ count: Int64) throws -> Int64 {
        // Skipped bytes still count for the span, so they are read, unless they are file content (which is
        // outside every span): then the inner source may seek over them.
        excludingData ? try inner.skip(count) : try skipByReading(count)
    }

    /// Marks an entry boundary: the state of the span here is kept until the entry's headers are read.
    public func markEntryBoundary() {
        atBoundary = span
        sinceBoundary.removeAll(keepingCapacity: true)
        recording = true
    }

    /// The headers of the entry begun at the last boundary have been read: stop recording them.
    public func entryHeadersRead() { recording = false }

    /// The entry begun at the last boundary starts a new span: returns the finished span's digest (up to the
    /// boundary) and starts the new span with the entry's header bytes.
    public func startSpan() -> String {
        let digest = Hex.string(atBoundary.finalize())
        span = SHA256()
        sinceBoundary.withUnsafeBytes { span.update(bufferPointer: $0) }
        return digest
    }
}

/// The data of the current tar entry, hashed as it is read (for the file digests of the index). The hash of
/// each chunk runs on a second thread while the consumer writes the chunk out; the chunk stays valid until
/// the next read, which first waits for that hash.
public final class HashingEntrySource: ByteSource {
    /// Files smaller than this are hashed on the reading thread: handing them to another thread costs more
    /// than it saves.
    public static let backgroundThreshold: Int64 = 1 << 20

    private let inner: ByteSource
    private let background: BackgroundHasher?
    private var inline = SHA256()
    private var consumed: Int64 = 0

    /// - Parameter size: the entry's size, which decides whether hashing runs on a second thread.
    public init(_ inner: ByteSource, size: Int64 = .max) {
        self.inner = inner
        background = size >= Self.backgroundThreshold ? BackgroundHasher() : nil
    }

    public var position: Int64 { consumed }

    public func read(upTo maxCount: Int) throws -> UnsafeRawBufferPointer {
        background?.waitForBuffer()
        let chunk = try inner.read(upTo: maxCount)
        if let background { background.submit(chunk) } else { inline.update(bufferPointer: chunk) }
        consumed += Int64(chunk.count)
        return chunk
    }

    public func skip(_ count: Int64) throws -> Int64 { try skipByReading(count) }

    /// Reads whatever the consumer left, then returns the digest.
    public func finish() throws -> String {
        while try !read(upTo: 1 << 20).isEmpty {}
        return background?.finish() ?? Hex.string(inline.finalize())
    }
}
