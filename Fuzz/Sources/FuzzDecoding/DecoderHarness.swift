import ByteStreams
import Compression
import FuzzSupport

/// Hands out its bytes one at a time, so a decoder sees every header split across reads.
final class TrickleSource: ByteSource {
    private let inner: MemorySource
    init(_ bytes: UnsafeRawBufferPointer) { inner = MemorySource(bytes) }
    var position: Int64 { inner.position }
    func read(upTo maxCount: Int) throws -> UnsafeRawBufferPointer { try inner.read(upTo: min(maxCount, 1)) }
    func skip(_ count: Int64) throws -> Int64 { try inner.skip(count) }
}

/// What one way of consuming a decoder gave: the decompressed byte count and the error that ended it.
struct DecodeOutcome: Equatable {
    var bytes: Int64
    var error: String?
    /// The error's case without its offsets: offsets of corrupt zstd data and of exceeded limits depend on how
    /// much input the decoder had buffered (libzstd does not say where in its input an error lies), so only
    /// the kind must agree across input chunkings.
    var kind: String?
}

/// Decodes the input of one format three ways (reading in varying chunks, skipping, reading from a source
/// that trickles one byte at a time) under an output limit, and requires the same outcome from each: the
/// decoders must never crash, never exceed the limit, and never depend on how their input was chunked.
public enum DecoderHarness {
    /// The output limit for the fuzzer: far above what small inputs decode to unless they are bombs.
    static let outputLimit: Int64 = 8 << 20

    public static func run(_ format: CompressionFormat, _ bytes: UnsafeRawBufferPointer) -> CInt {
        // The first byte picks the limits, so the ratio check and the window limit are fuzzed too.
        let selector = bytes.first ?? 0
        let limits = DecompressionLimits(maxWindowLog: selector & 1 == 0 ? 27 : 20,
                                         maxOutputBytes: outputLimit,
                                         maxExpansionRatio: selector & 2 == 0 ? nil : 1024,
                                         expansionCheckMinimumOutput: 1 << 16)
        let read = decode(format, MemorySource(bytes), limits) { try Fuzz.drain($0) }
        let skipped = decode(format, MemorySource(bytes), limits) { source in
            var total: Int64 = 0
            while true {
                let n = try source.skip(100_003)
                total += n
                if n < 100_003 { return total }
            }
        }
        Fuzz.require(read == skipped, "read gave \(read), skip gave \(skipped)")
        if bytes.count <= 4096 {
            // The expansion ratio is measured against the input consumed so far, which depends on chunking.
            var steady = limits
            steady.maxExpansionRatio = nil
            let whole = decode(format, MemorySource(bytes), steady) { try Fuzz.drain($0) }
            let trickled = decode(format, TrickleSource(bytes), steady) { try Fuzz.drain($0, seed: 3) }
            // libzstd reports neither the input nor the output position of a failing call, so what it decoded
            // in that call before the error is lost: the byte count before a zstd error may differ too. liblzma
            // finds damage a few symbols sooner or later depending on how much input it holds (Python's lzma module
            // shows the same), so the byte count before an xz error may differ as well (Fuzz/README.md, item 8).
            let sameBytes = whole.bytes == trickled.bytes || ((format == .zstd || format == .xz) && whole.error != nil)
            Fuzz.require(sameBytes && whole.kind == trickled.kind,
                         "chunked input gave \(whole), one byte at a time \(trickled)")
        }
        Fuzz.require(read.bytes <= outputLimit, "decoded \(read.bytes) bytes past the limit \(outputLimit)")
        return 0
    }

    private static func decode(_ format: CompressionFormat, _ inner: ByteSource, _ limits: DecompressionLimits,
                               _ consume: (ByteSource) throws -> Int64) -> DecodeOutcome {
        let source: ByteSource
        do { source = try format.makeDecoder(inner, limits: limits) } catch {
            return DecodeOutcome(bytes: 0, error: "setup: \(error)", kind: "setup")
        }
        var total: Int64 = 0
        var failure: String?
        var kind: String?
        do { total = try consume(source) } catch {
            failure = String(describing: error)
            kind = (error as? CompressionError).flatMap { Mirror(reflecting: $0).children.first?.label }
                ?? String(describing: type(of: error))
            total = source.position
        }
        Fuzz.require(source.position == total, "position \(source.position) after \(total) bytes")
        if let decoder = source as? DecompressingSource {
            Fuzz.require(decoder.compressedPosition <= inner.position, "compressed position past what was read")
        }
        // After an error every later call must throw again (DecompressingSource's contract), never return data.
        if failure != nil {
            let again = Result { try source.read(upTo: 1).count }
            if case let .success(n) = again { Fuzz.require(false, "a read after an error returned \(n) bytes, no error") }
        }
        return DecodeOutcome(bytes: total, error: failure, kind: kind)
    }
}
