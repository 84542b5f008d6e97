import ByteStreams
import Compression
import TarFormat

/// An archive opened for reading: its compression, its format (v1 or v2) decided from the first entry, and
/// the decompressed tar stream positioned at its start.
public struct OpenedArchive {
    /// The raw file or pipe.
    public let file: ByteSource
    public let compression: CompressionFormat
    /// v2 when entry 0 carries `CKA.version` (CKA-V2-001), v1 otherwise.
    public let format: CheckpointFormat
    /// The decompressed tar stream from its first byte.
    public let stream: ByteSource
}

/// The two archive formats of the specification.
public enum CheckpointFormat: String, Sendable, CaseIterable {
    case v1
    case v2
}

public enum ArchiveOpener {
    /// How many bytes of the tar stream are looked at to tell v2 from v1.
    static let peekSize = 64 * 1024
    /// The part of the peek parsed first: entry 0's headers nearly always fit in it, and the peek reader copies
    /// what it is given. Only when entry 0 does not parse from it is the whole peek parsed.
    static let firstPeekSize = 4 * 1024

    /// Detects compression and format without consuming anything (the peeked bytes are replayed).
    /// - Parameter prepare: called with the decoder of a compressed archive before anything is decoded (a
    ///   validator sets `onMemberStart` there).
    public static func open(_ file: ByteSource, limits: DecompressionLimits = .default,
                            prepare: ((DecompressingSource) -> Void)? = nil) throws -> OpenedArchive {
        let decoded = try openDecompressed(file, limits: limits)
        if let decoder = decoded.decoder { prepare?(decoder) }
        // The peeked bytes are read once, into the replaying source (a copy of 64 KiB costs 16 page faults).
        let replay = try PrefixedSource(peeking: peekSize, from: decoded.source)
        let head = replay.prefixBytes
        // A truncated peek still yields entry 0's headers when they fit in it.
        let part = UnsafeRawBufferPointer(rebasing: head[0..<min(head.count, firstPeekSize)])
        var first = try? TarReader(source: MemorySource(part)).next()
        if first == nil, head.count > firstPeekSize { first = try? TarReader(source: MemorySource(head)).next() }
        let format: CheckpointFormat = first?.paxValue("CKA.version") != nil ? .v2 : .v1
        return OpenedArchive(file: file, compression: decoded.format, format: format, stream: replay)
    }
}
