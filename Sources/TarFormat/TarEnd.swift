/// How a tar stream ended: which end-of-archive marker it had and what came after it.
public struct TarEnd: Equatable, Sendable {
    /// The end-of-archive marker found.
    public enum Marker: String, Equatable, Sendable {
        /// Two zero blocks, as POSIX requires.
        case twoZeroBlocks = "two-zero-blocks"
        /// One zero block and then the end of the stream (GNU tar warns "A lone zero block").
        case oneZeroBlock = "one-zero-block"
        /// The stream ended at a header boundary with no zero block at all.
        case none
    }

    /// The marker found.
    public var marker: Marker
    /// Offset of the marker (or of the end of the stream when there is none).
    public var offset: Int64
    /// Bytes after the two zero blocks (zero padding to a record size is normal).
    public var trailingBytes: Int64 = 0
    /// Offset of the first non-zero byte after the marker, if any: data a tar reader silently ignores.
    public var firstTrailingGarbageOffset: Int64?

    public init(marker: Marker, offset: Int64) {
        self.marker = marker
        self.offset = offset
    }
}
