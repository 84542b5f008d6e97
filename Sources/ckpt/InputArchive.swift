import ByteStreams
import Compression
import SystemPackage
#if canImport(Glibc)
import Glibc
#endif

/// An archive named on the command line (`-` for standard input), opened and decompressed.
struct InputArchive {
    /// The raw file or pipe.
    let file: FileSource
    /// The detected compression.
    let compression: CompressionFormat
    /// The decompressed tar stream.
    let stream: ByteSource

    init(path: String) throws {
        file = path == "-" ? FileSource(descriptor: .standardInput) : try FileSource(path: path)
        let decoded = try openDecompressed(file, limits: decompressionBudget(file))
        compression = decoded.format
        stream = decoded.source
    }
}

/// The decompression budget of CKA-SEC-019: 1024 times the compressed size when it is known (a regular file),
/// otherwise an expansion-ratio limit of 1024 checked as the stream is read.
func decompressionBudget(_ file: FileSource) -> DecompressionLimits {
    var st = stat()
    if file.isSeekable, fstat(file.descriptor.rawValue, &st) == 0 {
        return .budget(compressedSize: max(Int64(st.st_size), 1 << 20))
    }
    return DecompressionLimits(maxExpansionRatio: 1024)
}

/// The size of a regular file source, or 0.
func fileSize(_ file: FileSource) -> Int64 {
    var st = stat()
    return file.isSeekable && fstat(file.descriptor.rawValue, &st) == 0 ? Int64(st.st_size) : 0
}
