/// A `ByteSource` that first replays bytes already read from another source, then continues with it.
///
/// This is how a reader peeks at the start of a stream (for example to recognise a compression format
/// by its magic bytes) without losing those bytes: it reads a few bytes from `inner`, wraps `inner` in a
/// `PrefixedSource` carrying them, and hands the wrapper on. Both `read` and `skip` go to `inner` once the
/// prefix is used up, so a seekable file stays seekable.
///
/// `position` is reported in `inner`'s terms: the prefix is taken to be the bytes that were just read
/// from `inner`, so before anything is consumed `position == inner.position - prefix.count`.
public final class PrefixedSource: ByteSource {
    /// The source read from once the prefix is used up.
    public let inner: ByteSource
    /// The allocation the prefix lies at the start of (longer when a peek got fewer bytes than it asked for).
    private let storage: UnsafeMutableRawBufferPointer
    private let prefix: UnsafeMutableRawBufferPointer
    private var prefixOffset = 0

    /// Replays `prefix`, then reads from `inner`.
    /// - Parameters:
    ///   - prefix: the bytes most recently read from `inner`, in order.
    ///   - inner: the source they came from.
    public init<C: Collection>(prefix: C, inner: ByteSource) where C.Element == UInt8 {
        self.inner = inner
        let storage = UnsafeMutableRawBufferPointer.allocate(byteCount: prefix.count, alignment: 16)
        // Contiguous bytes (an array, the usual case) are copied as memory. `copyBytes(of:)` on a collection of
        // unknown type looks up the collection's associated types at run time, and the first such lookup of a
        // run searches every protocol conformance in the binary (some 150,000 instructions here).
        let copied: Void? = prefix.withContiguousStorageIfAvailable {
            storage.copyMemory(from: UnsafeRawBufferPointer($0))
        }
        if copied == nil { storage.copyBytes(of: prefix) }
        self.storage = storage
        self.prefix = storage
    }

    /// Reads up to `count` bytes from `inner` into the prefix (fewer only at the end of `inner`), to replay them:
    /// a peek without a copy of the bytes in between.
    public init(peeking count: Int, from inner: ByteSource) throws {
        self.inner = inner
        storage = .allocate(byteCount: count, alignment: 16)
        let got: Int
        do { got = try inner.readFully(into: storage) } catch {
            storage.deallocate()
            throw error
        }
        prefix = UnsafeMutableRawBufferPointer(rebasing: storage[0..<got])
    }

    deinit { storage.deallocate() }

    /// The whole prefix, replayed or not; valid while the source lives.
    public var prefixBytes: UnsafeRawBufferPointer { UnsafeRawBufferPointer(prefix) }

    /// The number of prefix bytes not yet handed out.
    public var remainingPrefixCount: Int { prefix.count - prefixOffset }

    public var position: Int64 { inner.position - Int64(remainingPrefixCount) }

    public func read(upTo maxCount: Int) throws -> UnsafeRawBufferPointer {
        guard maxCount > 0 else { return UnsafeRawBufferPointer(start: nil, count: 0) }
        if prefixOffset < prefix.count {
            let n = min(maxCount, prefix.count - prefixOffset)
            defer { prefixOffset += n }
            return UnsafeRawBufferPointer(rebasing: prefix[prefixOffset..<(prefixOffset + n)])
        }
        return try inner.read(upTo: maxCount)
    }

    public func skip(_ count: Int64) throws -> Int64 {
        guard count > 0 else { return 0 }
        let fromPrefix = min(count, Int64(remainingPrefixCount))
        prefixOffset += Int(fromPrefix)
        if fromPrefix == count { return count }
        return fromPrefix + (try inner.skip(count - fromPrefix))
    }
}
