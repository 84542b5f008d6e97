#if canImport(Glibc)
import Glibc
#endif

/// How a `TarReader` stream ends: the end-of-archive marker after the last entry, and what follows it.
extension TarReader {
    /// Reads to the end of the stream after the end-of-archive marker, recording trailing bytes.
    /// - Returns: how the archive ended.
    @discardableResult
    public func finish() throws -> TarEnd {
        while try next() != nil {}
        guard var e = ended else { throw TarError(.io("reader has no end"), offset: source.position) }
        if e.marker == .twoZeroBlocks, e.trailingBytes == 0 {
            while true {
                let start = source.position
                let chunk = try source.read(upTo: 1 << 20)
                if chunk.isEmpty { break }
                e.trailingBytes += Int64(chunk.count)
                if e.firstTrailingGarbageOffset == nil, let i = Self.firstNonZero(chunk) {
                    e.firstTrailingGarbageOffset = start + Int64(i)
                }
            }
            ended = e
        }
        return e
    }

    /// A page of zeros for `firstNonZero`.
    private static let zeroPage = [UInt8](repeating: 0, count: 4096)

    /// The index of the first non-zero byte of `chunk`, comparing a page at a time with `memcmp`: trailing zero
    /// padding can be large (a decompression bomb's gigabyte), and a loop per byte costs seconds per gigabyte in
    /// debug builds.
    static func firstNonZero(_ chunk: UnsafeRawBufferPointer) -> Int? {
        var at = 0
        while at < chunk.count {
            let n = min(zeroPage.count, chunk.count - at)
            let differs = zeroPage.withUnsafeBytes { memcmp(chunk.baseAddress! + at, $0.baseAddress!, n) != 0 }
            if differs { return (at..<(at + n)).first { chunk[$0] != 0 } }
            at += n
        }
        return nil
    }

    /// Reads the block after a zero block: a second zero block (the marker), the end of the stream, or garbage.
    func readEndMarker(at: Int64) throws -> TarHeader? {
        let got = try readBlock()
        let raw = UnsafeRawBufferPointer(block)
        if got == 0 || (got < HeaderBlock.size && HeaderBlock.isZero(UnsafeRawBufferPointer(rebasing: raw[0..<got]))) {
            ended = TarEnd(marker: .oneZeroBlock, offset: at)
            return nil
        }
        guard got == HeaderBlock.size, HeaderBlock.isZero(raw) else {
            throw TarError(.garbageAfterZeroBlock, offset: at + Int64(HeaderBlock.size))
        }
        ended = TarEnd(marker: .twoZeroBlocks, offset: at)
        return nil
    }
}
