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

    /// Detects compression and format without consuming anything (the peeked bytes are replayed).
    /// - Parameter prepare: called with the decoder of a compressed archive before anything is decoded (a
    ///   validator sets `onMemberStart` there).
    public static func open(_ file: ByteSource, limits: DecompressionLimits = .default,
                            prepare: ((DecompressingSource) -> Void)? = nil) throws -> OpenedArchive {
        let decoded = try openDecompressed(file, limits: limits)
        if let decoder = decoded.decoder { prepare?(decoder) }
        let head = try decoded.source.readBytes(peekSize)
        let replay = PrefixedSource(prefix: head, inner: decoded.source)
        let reader = TarReader(source: MemorySource(head))
        // A truncated peek still yields entry 0's headers when they fit in the first 64 KiB.
        let first = try? reader.next()
        let format: CheckpointFormat = first?.paxValue("CKA.version") != nil ? .v2 : .v1
        return OpenedArchive(file: file, compression: decoded.format, format: format, stream: replay)
    }
}
