/// The bytes of a JSON text for `V2JSONCursor`: all of them, or a window over a stream (an entry's data), so
/// that a document of any size is walked in fixed memory. Positions are absolute; bytes before the start of
/// the current token are dropped as the window moves on, and a single token longer than `maxToken` bytes is a
/// failure rather than a reason to grow without bound.
public final class V2JSONInput {
    // `@exclusivity(unchecked)` below: see the README, "Unchecked exclusivity" (not public, changed only in
    // straight-line code that nothing re-enters).
    /// The loaded bytes (from `base` on).
    @exclusivity(unchecked) public private(set) var buffer: [UInt8]
    /// The absolute position of `buffer[0]`.
    @exclusivity(unchecked) public private(set) var base = 0
    private var ended: Bool
    private let next: (() throws -> UnsafeRawBufferPointer)?
    /// The longest token a streamed document may hold.
    public let maxToken: Int

    /// A whole document in memory.
    public init(_ bytes: [UInt8]) {
        buffer = bytes
        ended = true
        next = nil
        maxToken = .max
    }

    /// A document read in chunks from `next` (empty at its end).
    public init(maxToken: Int = 4 << 20, next: @escaping () throws -> UnsafeRawBufferPointer) {
        buffer = []
        ended = false
        self.next = next
        self.maxToken = maxToken
    }

    /// The byte at absolute position `i`, nil past the end of the document.
    @inline(__always)
    public func byte(_ i: Int) throws -> UInt8? {
        let j = i - base
        if j < buffer.count { return buffer[j] }
        return try load(i)
    }

    private func load(_ i: Int) throws -> UInt8? {
        while !ended, i - base >= buffer.count {
            guard let next else {
                ended = true
                break
            }
            let chunk = try next()
            if chunk.isEmpty {
                ended = true
            } else {
                buffer.append(contentsOf: chunk)
            }
            if buffer.count > maxToken + (64 << 10) {
                throw V2JSONFailure(reason: "a JSON token longer than \(maxToken) bytes", at: base + buffer.count)
            }
        }
        let j = i - base
        return j < buffer.count ? buffer[j] : nil
    }

    /// Lets go of the bytes before position `i` (nothing before it will be asked for again).
    @inline(__always)
    public func release(before i: Int) {
        let j = i - base
        if j >= 32 << 10, next != nil {
            buffer.removeSubrange(0..<j)
            base = i
        }
    }

    /// Loads up to `n` bytes from position `i` (fewer at the end of the document) and lends them.
    public func withLoaded<R>(from i: Int, count n: Int, _ body: (UnsafeBufferPointer<UInt8>) throws -> R) throws -> R {
        _ = try byte(i + n - 1)
        let start = i - base
        let end = min(buffer.count, start + n)
        return try buffer.withUnsafeBufferPointer { try body(UnsafeBufferPointer(rebasing: $0[start..<max(start, end)])) }
    }

    /// The bytes in `range`, which must have been loaded and not released.
    public func bytes(_ range: Range<Int>) -> ArraySlice<UInt8> { buffer[(range.lowerBound - base)..<(range.upperBound - base)] }

    /// Whether a run of bytes from `i` matches `word`.
    public func matches(_ word: [UInt8], at i: Int) throws -> Bool {
        for (k, c) in word.enumerated() where try byte(i + k) != c { return false }
        return true
    }
}
