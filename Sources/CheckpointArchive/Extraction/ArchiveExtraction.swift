import ByteStreams
import Compression

/// What extracting an archive found.
public struct ExtractionSummary: Sendable {
    public var format: CheckpointFormat
    public var profile: CheckpointProfile
    public var compression: CompressionFormat
    public var sections: [Section]
    /// v2: the verified index digest.
    public var indexDigest: String?
    /// Problems that did not stop extraction.
    public var warnings: [CheckpointError]
}

/// Decodes any checkpoint archive (v2, or a v1 profile) into a safe extractor, writing the files the unpacked
/// directory needs besides the archive's own entries: for v1, `cka-header.json` (CKA-DIR-001); the v1 reader
/// itself delivers `rootfs/implied.dirs` (CKA-DIR-004).
public enum ArchiveExtraction {
    /// Decodes `opened` into `extractor` (not yet committed).
    /// - Parameters:
    ///   - reflinkDescriptor: the archive file's descriptor when it is uncompressed and seekable.
    ///   - archiveDescriptor: the archive file's descriptor when it is a file (not a pipe), compressed or not:
    ///     a framed v2 archive's locator is then checked too (CKA-FRM-005, `FramedLocatorCheck`).
    public static func decode(_ opened: OpenedArchive, into extractor: SafeExtractor, reflinkDescriptor: Int32?,
                              archiveDescriptor: Int32? = nil,
                              expectedIndexDigest: String? = nil) throws -> ExtractionSummary {
        var compressionWarnings: [CheckpointError] = []
        if opened.compression == .bzip2 || opened.compression == .xz {
            // Podman's import reads bzip2 and xz, so a v1 archive in them is read (with a warning); v2 is refused.
            if opened.format == .v2 {
                let article = opened.compression == .xz ? "an" : "a"
                throw CheckpointError("CKA-CMP-005", "\(article) \(opened.compression)-compressed v2 archive is refused: v2 "
                                      + "allows only none, gzip and zstd", offset: 0)
            }
            compressionWarnings.append(CheckpointError("CKA-CMP-004", "\(opened.compression == .xz ? "an" : "a") \(opened.compression)-compressed v1 archive "
                                                      + "(read, as Podman's import does; no engine writes it)", offset: 0))
        }
        switch opened.format {
        case .v2:
            let decoder = V2Decoder(stream: opened.stream, expectedIndexDigest: expectedIndexDigest)
            decoder.reflinkDescriptor = reflinkDescriptor
            decoder.budget = extractor.options.memory
            let result = try decoder.decode(into: extractor)
            if let archiveDescriptor {
                try FramedLocatorCheck.verify(descriptor: archiveDescriptor, compression: opened.compression,
                                              result: result)
            }
            // The index as it parses (canonical JSON, vendor members left out), written as it is read back.
            try extractor.addFile("cka-index.json", size: try result.index.canonicalLength(),
                                  data: result.index.canonicalSource())
            return ExtractionSummary(format: .v2, profile: result.header.profile, compression: opened.compression,
                                     sections: result.header.sections, indexDigest: result.indexDigest,
                                     warnings: extractor.warnings)
        case .v1:
            if expectedIndexDigest != nil {
                throw CheckpointError("CKA-IDX-010", "a v1 archive has no index to pin")
            }
            var options = V1ReaderOptions()
            options.reflinkDescriptor = reflinkDescriptor
            // The names the reader tracks go to a temporary file beyond the budget, as the extractor's do.
            options.nameTableMemory = extractor.options.memory.nameTableBytes
            let summary = try V1Reader(options: options).read(decompressed: opened.stream,
                                                               compression: opened.compression, into: extractor)
            if let io = summary.temporaryFileError {
                throw CheckpointError("IO", "the decoder's temporary name table: \(io)")
            }
            if let refusal = summary.refusals.first { throw refusal }
            let header = ArchiveHeader(profile: summary.profile, compression: opened.compression, framed: false,
                                       alignment: 0, creator: "ckpt", sections: summary.sections)
            try extractor.addFile("cka-header.json", contents: header.canonicalBytes)
            return ExtractionSummary(format: .v1, profile: summary.profile, compression: opened.compression,
                                     sections: summary.sections, indexDigest: nil,
                                     warnings: compressionWarnings + summary.warnings + extractor.warnings)
        }
    }
}
