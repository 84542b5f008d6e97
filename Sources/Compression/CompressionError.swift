/// Why a compressed stream could not be decoded or encoded.
///
/// Every case names the format and, where it applies, the offset in the compressed input (bytes the
/// decoder had consumed from its inner source, in that source's `position` terms) and in the decompressed
/// output. `description` is one line a person can act on, such as
/// `"zstd: truncated stream at compressed offset 1234 (after 5678 decompressed bytes)"`.
///
/// Errors from the inner `ByteSource` or `ByteSink` (for example `ByteStreamError`) are passed through
/// unchanged, not wrapped.
public enum CompressionError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The stream is in a format recognised but not decoded here (lz4), or not encoded here (bzip2, xz).
    case unsupported(CompressionFormat)
    /// The compressed data is invalid (bad header, bad block, checksum mismatch ...).
    case corrupt(CompressionFormat, compressedOffset: Int64, message: String)
    /// The input ended in the middle of a gzip member or zstd frame; the offset is where it ended.
    case truncated(CompressionFormat, compressedOffset: Int64, decompressedOffset: Int64)
    /// A complete member or frame is followed by bytes that do not start another one.
    case trailingGarbage(CompressionFormat, compressedOffset: Int64)
    /// A zstd frame needs a larger window (history buffer) than `DecompressionLimits.maxWindowLog` allows.
    case windowTooLarge(windowSize: UInt64, maxWindowLog: Int, compressedOffset: Int64)
    /// An xz stream needs more decoder memory (its dictionary) than the limit derived from
    /// `DecompressionLimits.maxWindowLog` allows.
    case memoryLimitExceeded(CompressionFormat, needed: UInt64, limit: UInt64, compressedOffset: Int64)
    /// A zstd frame needs a dictionary (a non-zero Dictionary_ID); dictionaries are not supported.
    case dictionaryRequired(dictionaryID: UInt32, compressedOffset: Int64)
    /// The stream decompresses to more than `DecompressionLimits.maxOutputBytes` bytes.
    case outputLimitExceeded(CompressionFormat, limit: Int64, compressedOffset: Int64)
    /// Decompressed size over compressed size went above `DecompressionLimits.maxExpansionRatio`.
    case expansionRatioExceeded(CompressionFormat, ratio: Double, limit: Double,
                                compressedOffset: Int64, decompressedOffset: Int64)
    /// zlib or libzstd failed for a reason other than bad input (out of memory, bad parameter ...).
    case library(CompressionFormat, code: Int, message: String)
    /// An encoder was asked for a compression level the format does not have.
    case invalidLevel(CompressionFormat, level: Int, range: ClosedRange<Int>)
    /// An encoder was written to after `finish()`.
    case writeAfterFinish(CompressionFormat)

    /// The format the error is about.
    public var format: CompressionFormat {
        switch self {
        case let .unsupported(f), let .corrupt(f, _, _), let .truncated(f, _, _), let .trailingGarbage(f, _),
             let .outputLimitExceeded(f, _, _), let .expansionRatioExceeded(f, _, _, _, _),
             let .library(f, _, _), let .invalidLevel(f, _, _), let .writeAfterFinish(f),
             let .memoryLimitExceeded(f, _, _, _):
            return f
        case .windowTooLarge, .dictionaryRequired:
            return .zstd
        }
    }

    /// The offset in the compressed input where the problem was found, when known.
    public var compressedOffset: Int64? {
        switch self {
        case let .corrupt(_, offset, _), let .truncated(_, offset, _), let .trailingGarbage(_, offset),
             let .windowTooLarge(_, _, offset), let .dictionaryRequired(_, offset),
             let .outputLimitExceeded(_, _, offset), let .memoryLimitExceeded(_, _, _, offset),
             let .expansionRatioExceeded(_, _, _, offset, _):
            return offset
        case .unsupported, .library, .invalidLevel, .writeAfterFinish:
            return nil
        }
    }

    public var description: String {
        switch self {
        case let .unsupported(f):
            return "unsupported compression: \(f)"
        case let .corrupt(f, offset, message):
            return "\(f): corrupt data at compressed offset \(offset): \(message)"
        case let .truncated(f, offset, out):
            return "\(f): truncated stream at compressed offset \(offset) (after \(out) decompressed bytes)"
        case let .trailingGarbage(f, offset):
            return "\(f): unexpected bytes after the end of the compressed data at compressed offset \(offset)"
        case let .windowTooLarge(window, maxLog, offset):
            return "zstd: frame at compressed offset \(offset) needs a \(Self.bytes(window)) window, "
                + "more than the limit of \(Self.bytes(UInt64(1) << UInt64(maxLog))) (window log \(maxLog))"
        case let .memoryLimitExceeded(f, needed, limit, offset):
            return "\(f): the stream at compressed offset \(offset) needs \(Self.bytes(needed)) of decoder memory, "
                + "more than the limit of \(Self.bytes(limit))"
        case let .dictionaryRequired(id, offset):
            return "zstd: frame at compressed offset \(offset) needs dictionary \(id); dictionaries are not supported"
        case let .outputLimitExceeded(f, limit, offset):
            return "\(f): decompressed data exceeds the limit of \(limit) bytes "
                + "(at compressed offset \(offset))"
        case let .expansionRatioExceeded(f, ratio, limit, offset, out):
            return "\(f): expansion ratio \(Self.ratio(ratio)):1 exceeds the limit of \(Self.ratio(limit)):1 "
                + "(\(out) bytes from \(offset) compressed bytes)"
        case let .library(f, code, message):
            return "\(f): library error \(code): \(message)"
        case let .invalidLevel(f, level, range):
            return "\(f): compression level \(level) is outside \(range.lowerBound)...\(range.upperBound)"
        case let .writeAfterFinish(f):
            return "\(f): write after the compressed stream was finished"
        }
    }

    private static func bytes(_ n: UInt64) -> String {
        let units: [(UInt64, String)] = [(1 << 30, "GiB"), (1 << 20, "MiB"), (1 << 10, "KiB")]
        for (size, unit) in units where n >= size && n % size == 0 { return "\(n / size) \(unit)" }
        return "\(n)-byte"
    }

    private static func ratio(_ r: Double) -> String {
        guard r.isFinite else { return "\(r)" }
        return r >= 100 ? String(Int(r.rounded())) : String(Double(Int((r * 10).rounded())) / 10)
    }
}
