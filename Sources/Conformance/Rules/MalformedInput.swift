import ByteStreams
import CheckpointArchive
import Compression
import TarFormat

/// Turns the error that stopped decoding (a `TarError`, `CompressionError`, `CheckpointError` or
/// `ByteStreamError`) into a finding with the requirement it breaks (part 1.3: a malformed archive, or for a
/// `CheckpointError` of the v1 reader, the invalid entry it stopped at).
///
/// A finding the tar-layer rules already reported for the same requirement at the same place (offset or path)
/// is not reported twice; nor is a limit error at an offset where a size rule (CKA-TAR-027/028, CKA-SEC-015)
/// already reported the header.
public enum MalformedInput {
    /// What `report` did with an error.
    public enum Outcome: Equatable, Sendable {
        /// Reported as a finding of this requirement (or found already reported under it).
        case reported(String)
        /// Not a property of the archive (a read error of the file, a library failure): the caller reports it as
        /// an I/O error, not as a finding.
        case notAFinding(String)
    }

    /// Reports `error`.
    /// - Parameters:
    ///   - format: the archive's format version when known (base-256 negative `size` in v2 is CKA-TAR-014; bzip2
    ///     and xz are CKA-CMP-004 in v1, CKA-CMP-005 in v2, CKA-CMP-001 when the version is not known).
    ///   - compression: the outer compression when known: a first block of an uncompressed archive that is not a
    ///     header (its checksum does not match) is CKA-CMP-003.
    @discardableResult
    public static func report(_ error: Error, to collector: DiagnosticCollector, format: CheckpointFormat? = nil,
                              compression: CompressionFormat? = nil) -> Outcome {
        switch error {
        case let e as TarError:
            guard let (id, message) = finding(e, format: format, compression: compression) else {
                return .notAFinding(e.description)
            }
            return add(id, message, path: e.entry, offset: e.offset, limit: isLimit(e.kind), to: collector)
        case let e as CompressionError:
            guard let id = requirement(e, format: format) else { return .notAFinding(e.description) }
            var offset: Int64?
            if case let .truncated(_, _, decompressed) = e { offset = decompressed }
            return add(id, "malformed: \(e.description)", path: nil, offset: offset, limit: isResourceLimit(e),
                       to: collector, compressedOffset: e.compressedOffset)
        case let e as CheckpointError:
            guard e.requirement.hasPrefix("CKA-") else { return .notAFinding(e.description) }
            var id = e.requirement
            if id == "CKA-TAR-004", e.offset == 0, compression == CompressionFormat.none {
                id = "CKA-CMP-003"
            }
            return add(id, e.message, path: e.entry, offset: e.offset, limit: limitIDs.contains(id), to: collector)
        case let e as ByteStreamError:
            if case .limitExceeded = e {
                return add("CKA-TAR-043", "resource limit: \(e.description)", path: nil, offset: nil, limit: true,
                           to: collector)
            }
            return .notAFinding(e.description)
        default:
            return .notAFinding(String(describing: error))
        }
    }

    /// Records that the compression rules ran for an archive whose first bytes say `compression` (the detection
    /// of CKA-CMP-002), and reports a refused method (bzip2, xz, lz4: CKA-CMP-001, 004 or 005).
    public static func noteCompression(_ compression: CompressionFormat, format: CheckpointFormat? = nil,
                                       to collector: DiagnosticCollector) {
        collector.ran("CKA-CMP-001", "CKA-CMP-002", "CKA-CMP-010")
        switch compression {
        case .none: collector.ran("CKA-CMP-003")
        case .gzip: collector.ran("CKA-CMP-006", "CKA-CMP-009")
        case .zstd: collector.ran("CKA-CMP-007", "CKA-CMP-008", "CKA-CMP-009")
        case .bzip2, .xz, .lz4: report(CompressionError.unsupported(compression), to: collector, format: format)
        }
    }

    // MARK: - Mapping

    /// Requirements of resource limits rather than of the archive's form.
    static let limitIDs: Set<String> = ["CKA-TAR-043", "CKA-SEC-014", "CKA-SEC-020", "CKA-TAR-027"]

    /// The requirement and message for a tar reader error, nil when it is no property of the archive.
    static func finding(_ e: TarError, format: CheckpointFormat?, compression: CompressionFormat?) -> (String, String)? {
        let text = e.description
        let firstBlock = e.offset == 0 && compression == CompressionFormat.none
        switch e.kind {
        case .truncated:
            return ("CKA-TAR-001", "malformed: the stream ends inside a header or data block: \(text)")
        case .badChecksum:
            return firstBlock ? ("CKA-CMP-003", "malformed: the archive is neither compressed nor a tar stream: \(text)")
                : ("CKA-TAR-004", "malformed: \(text)")
        case let .invalidNumericField(field):
            if firstBlock, field == "chksum" {
                return ("CKA-CMP-003", "malformed: the archive is neither compressed nor a tar stream: \(text)")
            }
            return (field == "chksum" ? "CKA-TAR-004" : "CKA-TAR-012", "malformed: \(text)")
        case let .negativeValue(field):
            if field != "size" { return ("CKA-TAR-010", "malformed: \(text)") }
            return (format == .v2 ? "CKA-TAR-014" : "CKA-TAR-013", "malformed: negative base-256 size: \(text)")
        case let .invalidPaxRecord(reason):
            return (reason.contains("contains NUL") ? "CKA-TAR-023" : "CKA-TAR-020", "malformed: \(text)")
        case let .invalidPaxValue(key):
            return (key.hasPrefix("GNU.sparse.") ? "CKA-TAR-010" : "CKA-TAR-024", "malformed: \(text)")
        case let .limitExceeded(limit, value, _):
            switch limit {
            case "pax header":
                return ("CKA-TAR-027", "pax extended header of \(value) bytes refused: \(text)")
            case "sparse segments", "sparse map size":
                return ("CKA-TAR-010", "sparse map refused: \(text)")
            default:
                // Names longer than the reader's limit, entry counts, data read into memory: a resource limit
                // (CKA-TAR-043), not invalidity.
                return ("CKA-TAR-043", "resource limit: \(text)")
            }
        case .garbageAfterZeroBlock:
            return ("CKA-TAR-005", "malformed: a lone zero block is followed by a non-zero block: \(text)")
        case .invalidSparseMap:
            return ("CKA-TAR-010", "malformed sparse map: \(text)")
        case .invalidHeader:
            return ("CKA-TAR-022", "malformed: \(text)")
        case .unencodable, .io:
            return nil
        }
    }

    static func isLimit(_ kind: TarError.Kind) -> Bool {
        if case .limitExceeded = kind { return true }
        return false
    }

    /// The requirement a decompression error breaks, nil when it is no property of the archive.
    static func requirement(_ e: CompressionError, format: CheckpointFormat?) -> String? {
        switch e {
        case let .unsupported(f):
            guard f == .bzip2 || f == .xz else { return "CKA-CMP-001" }
            switch format {
            case .v1?: return "CKA-CMP-004"
            case .v2?: return "CKA-CMP-005"
            case nil: return "CKA-CMP-001"
            }
        case let .corrupt(f, _, _): return f == .zstd ? "CKA-CMP-007" : "CKA-CMP-006"
        case .truncated: return "CKA-CMP-010"
        case .trailingGarbage: return "CKA-CMP-009"
        case .dictionaryRequired: return "CKA-CMP-008"
        case .windowTooLarge, .outputLimitExceeded, .expansionRatioExceeded: return "CKA-SEC-020"
        case .library, .invalidLevel, .writeAfterFinish: return nil
        }
    }

    /// Adds the finding unless the same requirement was reported at the same offset or path already, or (for a
    /// limit) a size rule already reported a header at this offset.
    static func add(_ id: String, _ message: String, path: String?, offset: Int64?, limit: Bool,
                    to collector: DiagnosticCollector, compressedOffset: Int64? = nil) -> Outcome {
        let seen = collector.diagnostics.contains { d in
            if d.id == id, (offset != nil && d.offset == offset) || d.path == path { return true }
            return limit && offset != nil && d.offset == offset && sizeRules.contains(d.id)
        }
        if seen {
            collector.ran(id)
        } else {
            collector.report(id, message, path: path, offset: offset, compressedOffset: compressedOffset)
        }
        return .reported(id)
    }

    static let sizeRules: Set<String> = ["CKA-TAR-027", "CKA-TAR-028", "CKA-SEC-015"]

    /// Whether the error is a decompression budget or window limit (CKA-SEC-019/020), not a defect of the data.
    static func isResourceLimit(_ e: CompressionError) -> Bool {
        switch e {
        case .windowTooLarge, .outputLimitExceeded, .expansionRatioExceeded: return true
        default: return false
        }
    }
}
