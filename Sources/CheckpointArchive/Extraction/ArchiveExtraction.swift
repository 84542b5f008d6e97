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
        switch opened.format {
        case .v2:
            let decoder = V2Decoder(stream: opened.stream, expectedIndexDigest: expectedIndexDigest)
            decoder.reflinkDescriptor = reflinkDescriptor
            let result = try decoder.decode(into: extractor)
            if let archiveDescriptor {
                try FramedLocatorCheck.verify(descriptor: archiveDescriptor, compression: opened.compression,
                                              result: result)
            }
            if let index = try? ArchiveIndexFile(result) { try extractor.addFile("cka-index.json", contents: index.bytes) }
            return ExtractionSummary(format: .v2, profile: result.header.profile, compression: opened.compression,
                                     sections: result.header.sections, indexDigest: result.indexDigest,
                                     warnings: extractor.warnings)
        case .v1:
            if expectedIndexDigest != nil {
                throw CheckpointError("CKA-IDX-010", "a v1 archive has no index to pin")
            }
            var options = V1ReaderOptions()
            options.reflinkDescriptor = reflinkDescriptor
            let summary = try V1Reader(options: options).read(decompressed: opened.stream,
                                                               compression: opened.compression, into: extractor)
            if let refusal = summary.refusals.first { throw refusal }
            let header = ArchiveHeader(profile: summary.profile, compression: opened.compression, framed: false,
                                       alignment: 0, creator: "ckpt", sections: summary.sections)
            try extractor.addFile("cka-header.json", contents: header.canonicalBytes)
            return ExtractionSummary(format: .v1, profile: summary.profile, compression: opened.compression,
                                     sections: summary.sections, indexDigest: nil,
                                     warnings: summary.warnings + extractor.warnings)
        }
    }
}

/// The index content to keep in the unpacked directory (it lets `ckpt` and people compare digests later).
struct ArchiveIndexFile {
    let bytes: [UInt8]
    init(_ result: V2DecodeResult) throws { bytes = result.index.canonicalBytes }
}
