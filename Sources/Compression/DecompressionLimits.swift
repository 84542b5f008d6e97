/// Bounds on what a decoder will do for a stream, so that a hostile input (a "decompression bomb", or a
/// zstd frame that asks for a huge window) fails with a typed error instead of exhausting memory or disk.
///
/// Memory used by a decoder is bounded by its fixed buffers plus, for zstd, the window of at most
/// `2^maxWindowLog` bytes. Output size is unbounded unless `maxOutputBytes` or `maxExpansionRatio` is set.
public struct DecompressionLimits: Sendable, Equatable {
    /// The largest zstd window accepted, as a power of two. The default 27 (128 MiB) is zstd's own default
    /// limit; `zstd -d` needs `--memory` for more. Values are clamped to 10...31. gzip always uses a
    /// 32 KiB window and ignores this.
    public var maxWindowLog: Int

    /// The most decompressed bytes the stream may produce, or `nil` for no limit. Producing byte
    /// `maxOutputBytes + 1` throws `CompressionError.outputLimitExceeded`.
    public var maxOutputBytes: Int64?

    /// The largest allowed ratio of decompressed to compressed bytes consumed, or `nil` for no limit.
    /// Checked only once `expansionCheckMinimumOutput` bytes have been produced, so tiny streams of
    /// repetitive data pass. Exceeding it throws `CompressionError.expansionRatioExceeded`.
    public var maxExpansionRatio: Double?

    /// The decompressed size below which `maxExpansionRatio` is not checked (default 1 MiB).
    public var expansionCheckMinimumOutput: Int64

    /// Creates limits; the defaults limit only the zstd window (to 128 MiB).
    public init(maxWindowLog: Int = 27, maxOutputBytes: Int64? = nil, maxExpansionRatio: Double? = nil,
                expansionCheckMinimumOutput: Int64 = 1 << 20) {
        self.maxWindowLog = maxWindowLog
        self.maxOutputBytes = maxOutputBytes
        self.maxExpansionRatio = maxExpansionRatio
        self.expansionCheckMinimumOutput = expansionCheckMinimumOutput
    }

    /// zstd's default limits: a window of at most 128 MiB and no bound on output.
    public static let `default` = DecompressionLimits()

    /// A budget of `ratio` times the whole compressed size (CKA-SEC-019's default is 1024), for when that
    /// size is known up front (a regular file). Saturates instead of overflowing.
    public static func budget(compressedSize: Int64, ratio: Int64 = 1024,
                              maxWindowLog: Int = 27) -> DecompressionLimits {
        let (product, overflow) = max(compressedSize, 0).multipliedReportingOverflow(by: max(ratio, 0))
        return DecompressionLimits(maxWindowLog: maxWindowLog, maxOutputBytes: overflow ? Int64.max : product)
    }

    /// The default budget of CKA-SEC-019 for an input: 1024 times its compressed size when that is known (a
    /// regular file, counted as at least 1 MiB), otherwise an expansion ratio of 1024 checked as the stream is
    /// read (a pipe).
    public static func forInput(compressedSize: Int64?) -> DecompressionLimits {
        guard let size = compressedSize else { return DecompressionLimits(maxExpansionRatio: 1024) }
        return .budget(compressedSize: max(size, 1 << 20))
    }

    /// `maxWindowLog` clamped to what libzstd accepts (10...31).
    var effectiveWindowLog: Int { min(max(maxWindowLog, 10), 31) }
}

/// Counts a decoder's output and enforces `DecompressionLimits` on it.
struct OutputLimiter {
    let limits: DecompressionLimits
    let format: CompressionFormat
    /// Decompressed bytes produced so far (not necessarily handed out yet).
    private(set) var produced: Int64 = 0

    init(limits: DecompressionLimits, format: CompressionFormat) {
        self.limits = limits
        self.format = format
    }

    /// How many bytes the decoder may produce next: one more than the output limit allows, so that
    /// exceeding it is noticed, never more than `capacity`.
    func allowance(capacity: Int) -> Int {
        guard let max = limits.maxOutputBytes else { return capacity }
        let (left, overflow) = max.subtractingReportingOverflow(produced)
        if overflow || left < 0 { return 1 }
        return left >= Int64(capacity) ? capacity : Int(left) + 1
    }

    /// Records `count` newly produced bytes and throws if a limit is now exceeded.
    /// - Parameter compressedConsumed: compressed bytes consumed since the decoder started.
    /// - Parameter compressedOffset: the compressed offset to report.
    mutating func record(_ count: Int, compressedConsumed: Int64, compressedOffset: Int64) throws {
        produced += Int64(count)
        if let max = limits.maxOutputBytes, produced > max {
            throw CompressionError.outputLimitExceeded(format, limit: max, compressedOffset: compressedOffset)
        }
        if let ratio = limits.maxExpansionRatio, produced >= limits.expansionCheckMinimumOutput {
            let actual = Double(produced) / Double(Swift.max(compressedConsumed, 1))
            if actual > ratio {
                throw CompressionError.expansionRatioExceeded(
                    format, ratio: actual, limit: ratio,
                    compressedOffset: compressedOffset, decompressedOffset: produced)
            }
        }
    }
}
