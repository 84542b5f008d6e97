import ByteStreams
import Compression
import SystemPackage

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
        let decoded = try openDecompressed(file, limits: .forInput(compressedSize: file.fileSize))
        compression = decoded.format
        stream = decoded.source
    }
}
