import ByteStreams
import TarFormat

/// An `UnpackedEntrySink` that extracts nothing: it counts entries and bytes per section and keeps what an
/// inspection needs: a few members of `config.dump` and `spec.dump` (`InspectedMetadata`, read as they stream),
/// the head of `dump.log` and `cka-header.json`.
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
    /// Content of the kept files, by unpacked path: the first 64 KiB of `logs/dump.log`, `cka-header.json`.
    public private(set) var kept: [String: [UInt8]] = [:]
    /// The string members of `config.dump` an inspection reports (nil when the file is absent or not a JSON
    /// object).
    public private(set) var config: [String: String]?
    /// The annotations of `spec.dump` an inspection reports (nil when the file is absent, not a JSON object, or
    /// has no annotations object of strings only).
    public private(set) var annotations: [String: String]?

    static let keptFiles: Set<String> = ["logs/dump.log", "cka-header.json"]
    /// How much of a metadata file is read (a longer one is cut there, as it always was).
    static let keepLimit = 16 << 20
    static let configMembers: Set<String> = ["name", "id", "rootfsImageName", "rootfsImageRef", "rootfsImage",
                                             "runtime", "ociRuntime"]
    static let annotationKeys: Set<String> = ["io.container.manager", "io.kubernetes.cri-o.ImageName",
                                              "io.kubernetes.cri.image-name", "io.kubernetes.cri.container-name"]
    private let budget: MemoryBudget

    /// - Parameter budget: memory for reading the metadata files' annotations.
    public init(budget: MemoryBudget = MemoryBudget()) { self.budget = budget }

    public func add(_ header: TarHeader, section: Section, data: ByteSource, reflink: ReflinkSource?) throws {
        if header.path != "cka-header.json" {
            stats[section, default: SectionStats(section: section)].entries += 1
            stats[section, default: SectionStats(section: section)].bytes += header.type.isRegularFile ? header.size : 0
        }
        switch header.path {
        case "metadata/config.dump":
            config = try InspectedMetadata.strings(data, limit: Self.keepLimit, wanted: Self.configMembers)
        case "metadata/spec.dump":
            annotations = try InspectedMetadata.annotations(data, limit: Self.keepLimit, wanted: Self.annotationKeys,
                                                            budget: budget)
        case "logs/dump.log":
            kept[header.path] = try data.readBytes(64 * 1024)
        case "cka-header.json":
            kept[header.path] = try data.readBytes(Self.keepLimit)
        default:
            break
        }
        _ = try data.skip(Int64.max)
    }
}
