import Compression

/// CKA-CMP-002 as a finding: an archive whose first bytes are a compression magic number is decompressed, and
/// when that fails although its first 512 bytes are also a valid tar header, readers disagree about it: GNU tar
/// and Python's `tarfile` try tar first and read it uncompressed, magic-first readers (libarchive, this package)
/// read a corrupt compressed stream. The archive is then reported as ambiguous rather than as corrupt
/// (CKA-CMP-006/007).
enum AmbiguousStart {
    /// Reports CKA-CMP-002 when `error` stopped the decompression of an archive that starts with `head` and that is
    /// also a tar stream.
    /// - Returns: the compression the magic number names when it reported, nil otherwise.
    static func report(_ error: Error, head: [UInt8], to collector: DiagnosticCollector) -> CompressionFormat? {
        guard let e = error as? CompressionError, case .corrupt = e,
              head.count >= 512, isTarHeader(Array(head.prefix(512))) else { return nil }
        let format = CompressionFormat.detect(prefix: head)
        collector.report("CKA-CMP-002", "malformed: the archive starts with the \(format) magic number, so it is read as \(format), "
                         + "and that fails (\(e.description)); but its first 512 bytes are also a valid tar header, which "
                         + "readers that try tar first (GNU tar, Python's tarfile) read uncompressed", offset: 0)
        return format
    }

    /// A header block with the ustar (or GNU) magic whose checksum matches its unsigned sum.
    static func isTarHeader(_ block: [UInt8]) -> Bool {
        let raw = block.withUnsafeBytes { TarRawBlock($0, offset: 0) }
        guard raw.hasUstarOrGNUMagic, let recorded = TarRawBlock.octalValue(raw.field(TarRawBlock.checksum)) else { return false }
        let sum = block.indices.reduce(0) { $0 + (TarRawBlock.checksum.range.contains($1) ? 0x20 : Int(block[$1])) }
        return recorded == Int64(sum)
    }
}
