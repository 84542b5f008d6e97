import ByteStreams
import TarFormat

/// An `UnpackedEntrySink` that extracts nothing: it counts entries and bytes per section and keeps the small
/// metadata files an inspection needs (`config.dump`, `spec.dump`, the head of `dump.log`).
public final class InspectionSink: UnpackedEntrySink {
    /// Entry and byte counts of one section.
    public struct SectionStats: Sendable, Equatable {
        public var section: Section
        public var entries = 0
        public var bytes: Int64 = 0
    }

    private var stats: [Section: SectionStats] = [:]

    /// The sections seen, in the order of CKA-V2-015 (v1 archives interleave them).
    public var sections: [SectionStats] {
        stats.values.sorted { $0.section.precedes($1.section) }
    }
    /// Content of the kept files, by unpacked path.
    public private(set) var kept: [String: [UInt8]] = [:]

    static let keptFiles: Set<String> = ["metadata/config.dump", "metadata/spec.dump", "logs/dump.log",
                                         "cka-header.json"]
    static let keepLimit = 16 << 20

    public init() {}

    public func add(_ header: TarHeader, section: Section, data: ByteSource, reflink: ReflinkSource?) throws {
        if header.path != "cka-header.json" {
            stats[section, default: SectionStats(section: section)].entries += 1
            stats[section, default: SectionStats(section: section)].bytes += header.type.isRegularFile ? header.size : 0
        }
        if Self.keptFiles.contains(header.path) {
            var bytes = try data.readBytes(Self.keepLimit)
            if header.path == "logs/dump.log" { bytes = Array(bytes.prefix(64 * 1024)) }
            kept[header.path] = bytes
        }
        _ = try data.skip(Int64.max)
    }
}
