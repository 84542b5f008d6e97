import ByteStreams
import Compression
import TarFormat

// MARK: - Error translation

/// Turns the errors of the layers below (tar, compression, byte streams) into `CheckpointError`s naming a
/// requirement, so that every failure of the v1 reader and writer is typed the same way.
enum V1ErrorMapping {
    /// The requirement a tar reader error breaks.
    static func requirement(_ kind: TarError.Kind) -> String {
        switch kind {
        case .truncated: return "CKA-TAR-001"
        case .badChecksum: return "CKA-TAR-004"
        case .invalidNumericField: return "CKA-TAR-012"
        case .negativeValue: return "CKA-TAR-013"
        case .invalidPaxRecord: return "CKA-TAR-020"
        case .invalidPaxValue: return "CKA-TAR-024"
        case let .limitExceeded(limit, _, _):
            if limit == "pax header" { return "CKA-TAR-027" }
            if limit.contains("name length") || limit.contains("path depth") { return "CKA-TAR-043" }
            if limit.hasPrefix("sparse") { return "CKA-TAR-010" }
            return "CKA-SEC-014"
        case .garbageAfterZeroBlock: return "CKA-TAR-005"
        case .invalidSparseMap: return "CKA-TAR-010"
        case .invalidHeader: return "CKA-TAR-022"
        case .unencodable: return "CKA-GEN-005"
        case .io: return "IO"
        }
    }

    /// The requirement a decompression error breaks.
    static func requirement(_ e: CompressionError) -> String {
        switch e {
        case .unsupported: return "CKA-CMP-001"
        case let .corrupt(f, _, _):
            switch f {
            case .zstd: return "CKA-CMP-007"
            case .bzip2, .xz: return "CKA-CMP-014"
            default: return "CKA-CMP-006"
            }
        case .truncated: return "CKA-CMP-010"
        case .trailingGarbage: return "CKA-CMP-009"
        case .dictionaryRequired: return "CKA-CMP-008"
        case .windowTooLarge, .memoryLimitExceeded, .outputLimitExceeded, .expansionRatioExceeded: return "CKA-SEC-020"
        case .library, .invalidLevel, .writeAfterFinish: return "IO"
        }
    }

    /// Translates an error of the outer stream; `CheckpointError`s and foreign errors pass unchanged.
    static func outer(_ error: Error) -> Error {
        switch error {
        case let e as TarError:
            return CheckpointError(requirement(e.kind), "tar: " + e.reason, entry: e.entry, offset: e.offset)
        case let e as CompressionError:
            return CheckpointError(requirement(e), "archive: \(e.description)", offset: nil)
        case let e as ByteStreamError:
            return CheckpointError("IO", e.description)
        default:
            return error
        }
    }
}

/// The current outer entry's data as a `ByteSource`, with errors of the outer stream already translated, so
/// that a nested reader above it can tell its own errors (nested offsets) from the outer stream's.
final class V1OuterEntrySource: ByteSource {
    private let inner: TarEntrySource

    init(_ reader: TarReader) { inner = TarEntrySource(reader) }

    var position: Int64 { inner.position }

    func read(upTo maxCount: Int) throws -> UnsafeRawBufferPointer {
        do { return try inner.read(upTo: maxCount) } catch { throw V1ErrorMapping.outer(error) }
    }

    func skip(_ count: Int64) throws -> Int64 {
        do { return try inner.skip(count) } catch { throw V1ErrorMapping.outer(error) }
    }
}

/// An empty source, for entries without data.
final class V1EmptySource: ByteSource {
    var position: Int64 { 0 }
    func read(upTo maxCount: Int) throws -> UnsafeRawBufferPointer { UnsafeRawBufferPointer(start: nil, count: 0) }
    func skip(_ count: Int64) throws -> Int64 { 0 }
}

// MARK: - Sinks used by the writer

/// Counts bytes and discards them: computes the exact size of a nested tar (or a compressed layer) from
/// the headers that will be written, without writing anything.
final class V1CountingSink: ByteSink {
    private(set) var position: Int64 = 0
    func write(_ bytes: UnsafeRawBufferPointer) throws { position += Int64(bytes.count) }
    func flush() throws {}
    /// Counts `count` bytes written by other means (file data whose size is known).
    func advance(_ count: Int64) { position += count }
}

/// Writes a nested tar straight into the data of the outer tar's current entry. When the outer archive goes
/// uncompressed to a file, the nested tar's file data can be copied into it by the kernel as well.
final class V1NestedEntrySink: DirectWriteSink {
    private let outer: TarWriter
    private(set) var position: Int64 = 0

    init(_ outer: TarWriter) { self.outer = outer }

    func write(_ bytes: UnsafeRawBufferPointer) throws {
        try outer.write(bytes)
        position += Int64(bytes.count)
    }

    /// The outer entry is flushed with the outer archive; nothing to do here.
    func flush() throws {}

    func beginDirectWrite() throws -> Int32? {
        guard let direct = outer.sink as? DirectWriteSink else { return nil }
        return try direct.beginDirectWrite()
    }

    func endDirectWrite(_ count: Int64) {
        (outer.sink as? DirectWriteSink)?.endDirectWrite(count)
        // The nested writer checked `count` against its entry, which lies inside the outer entry.
        try? outer.didWriteDataExternally(count)
        position += count
    }
}

/// Collects bytes in memory up to a limit; beyond it, writing throws `V1BoundedMemorySink.Overflow`.
final class V1BoundedMemorySink: ByteSink {
    struct Overflow: Error {}
    let limit: Int
    private(set) var bytes: [UInt8] = []

    init(limit: Int) { self.limit = limit }

    var position: Int64 { Int64(bytes.count) }

    func write(_ chunk: UnsafeRawBufferPointer) throws {
        guard bytes.count + chunk.count <= limit else { throw Overflow() }
        bytes.append(contentsOf: chunk)
    }

    func flush() throws {}
}
