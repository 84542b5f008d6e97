/// The kinds of section of table 5.3 of the specification.
public enum SectionKind: String, Sendable, CaseIterable, Comparable {
    case metadata
    case checkpoint
    case preCheckpoint = "pre-checkpoint"
    case rootfs
    case devshm
    case volume
    case logs
    case artifacts
    case ext

    /// Whether a decoder that does not know the kind must refuse the archive (table 5.3; `ext` chooses).
    public var defaultCritical: Bool {
        switch self {
        case .logs, .artifacts, .ext: return false
        default: return true
        }
    }

    /// Position in the required section order (CKA-V2-015); checkpoint and pre-checkpoint share a slot.
    public var orderRank: Int {
        switch self {
        case .metadata: return 0
        case .checkpoint, .preCheckpoint: return 1
        case .rootfs: return 2
        case .devshm: return 3
        case .volume: return 4
        case .logs: return 5
        case .artifacts: return 6
        case .ext: return 7
        }
    }

    public static func < (a: SectionKind, b: SectionKind) -> Bool { a.orderRank < b.orderRank }

    /// Whether the kind takes a name (`volumes/<name>/`, `ext/<name>/`).
    public var isNamed: Bool { self == .volume || self == .ext }
}

/// One section of a checkpoint: its kind, its name for volumes and extensions, and its critical flag.
public struct Section: Hashable, Sendable, CustomStringConvertible {
    public var kind: SectionKind
    public var name: String?
    public var critical: Bool

    public init(_ kind: SectionKind, name: String? = nil, critical: Bool? = nil) {
        self.kind = kind
        self.name = name
        self.critical = critical ?? kind.defaultCritical
    }

    /// The marker directory name with its trailing slash, e.g. `volumes/data/` (table 5.3).
    public var directory: String {
        switch kind {
        case .volume: return "volumes/\(name ?? "")/"
        case .ext: return "ext/\(name ?? "")/"
        default: return kind.rawValue + "/"
        }
    }

    /// What entries this section may hold (table 5.4).
    public var policy: EntryPolicy { EntryPolicy.forSection(kind) }

    /// Sort key for the required order (CKA-V2-015): kind rank, then name bytes.
    public func precedes(_ other: Section) -> Bool {
        if kind.orderRank != other.kind.orderRank { return kind.orderRank < other.kind.orderRank }
        return (name ?? "").utf8.lexicographicallyPrecedes((other.name ?? "").utf8)
    }

    public var description: String { name.map { "\(kind.rawValue) '\($0)'" } ?? kind.rawValue }

    /// Whether `name` is a valid volume or extension name (CKA-V2-022).
    public static func isValidName(_ name: String) -> Bool {
        let b = Array(name.utf8)
        guard !b.isEmpty, b.count <= 255, name != ".", name != ".." else { return false }
        func alnum(_ c: UInt8) -> Bool { (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5A) || (c >= 0x61 && c <= 0x7A) }
        guard alnum(b[0]) else { return false }
        return b.allSatisfy { alnum($0) || $0 == 0x5F || $0 == 0x2E || $0 == 0x2D }
    }
}

/// The v1 engine dialect a checkpoint comes from or is written for (table 5.1 `profile`).
public enum CheckpointProfile: String, Sendable, CaseIterable {
    case podman
    case crio = "cri-o"
    case containerd
    case generic
}
