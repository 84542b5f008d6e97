import Compression

/// The shape of `config.dump` (table 4.3): Podman's full `libpod.ContainerConfig`, or checkpointctl's reduced
/// `ContainerConfig` written indented (CRI-O, `metadata.WriteJSONFile`) or compact (containerd, `json.Marshal`).
public enum V1ConfigDumpShape: String, Sendable, Equatable {
    case libpod
    case reducedIndented = "reduced-indented"
    case reducedCompact = "reduced-compact"
    /// Valid JSON that matches neither shape (checkpointctl's test fixtures use `{}`).
    case unknown
}

/// What a v1 archive says about the engine that wrote it (CKA-V1-019, table 4.13).
public struct V1ProfileSignals: Sendable, Equatable {
    /// Whether `spec.dump` was found and parsed as a JSON object.
    public var specDumpParsed: Bool = false
    /// `spec.dump` `annotations["io.container.manager"]`, when present and a string.
    public var containerManager: String?
    /// `spec.dump` has the annotation `io.kubernetes.cri-o.Metadata` (what checkpointctl reads for CRI-O).
    public var hasCRIOMetadataAnnotation = false
    /// `spec.dump` has annotations starting with `io.kubernetes.cri.` (what checkpointctl reads for containerd).
    public var hasCRIAnnotations = false
    /// Top-level names (after stripping `./`), in the order of their first appearance.
    public var topLevelNames: [String] = []
    /// The compression of `rootfs-diff.tar`'s content (`.none` for a plain nested tar), nil without one.
    public var rootfsDiffCompression: CompressionFormat?
    /// The shape of `config.dump`, nil when absent or not JSON.
    public var configDumpShape: V1ConfigDumpShape?
    /// The compression of the outer stream.
    public var outerCompression: CompressionFormat = .none
    /// The archive has a `./` root entry (it was made by `tar -C dir .`, not by an engine), so its entry
    /// order says nothing about the engine.
    public var hasRootEntry = false

    public init() {}
}

/// The profile of a v1 archive and how the secondary signals agree with it.
public struct V1ProfileDetection: Sendable, Equatable {
    /// The profile of CKA-V1-019.
    public var profile: CheckpointProfile
    /// For the `generic` profile: the one engine every secondary signal points to, if they agree.
    public var suggestedProfile: CheckpointProfile?
    /// Each secondary signal that points to some engines, with the engines (table 4.13).
    public var evidence: [Evidence]
    /// CKA-V1-020 contradictions between the detected profile and the secondary signals (warnings).
    public var warnings: [CheckpointError]

    public struct Evidence: Sendable, Equatable {
        /// What was seen, e.g. `top-level name status.dump`.
        public var signal: String
        /// The engines that produce it.
        public var engines: Set<CheckpointProfile>
    }
}

/// Decides the v1 profile of an archive (CKA-V1-019) and checks the secondary signals (CKA-V1-020).
public enum V1ProfileDetector {
    static let engines: Set<CheckpointProfile> = [.podman, .crio, .containerd]

    /// `podman` if `io.container.manager` is `libpod`; `cri-o` if it is `cri-o`; otherwise `containerd` if
    /// a top-level `status.dump` exists; otherwise `generic`. The other signals of table 4.13 (exclusive
    /// names, `rootfs-diff.tar` compression, `config.dump` shape, outer compression, entry order) never change
    /// the profile; each one that contradicts it is returned as a CKA-V1-020 warning.
    public static func detect(_ s: V1ProfileSignals) -> V1ProfileDetection {
        let profile: CheckpointProfile
        switch s.containerManager {
        case "libpod": profile = .podman
        case "cri-o": profile = .crio
        default: profile = s.topLevelNames.contains("status.dump") ? .containerd : .generic
        }
        let evidence = Self.evidence(s)
        var warnings: [CheckpointError] = []
        if profile != .generic {
            for e in evidence where !e.engines.contains(profile) {
                let names = e.engines.isEmpty ? "no known engine"
                    : e.engines.map(\.rawValue).sorted().joined(separator: ", ")
                warnings.append(CheckpointError("CKA-V1-020",
                                                "\(e.signal) points to \(names), but the archive's profile is \(profile.rawValue)"))
            }
        }
        var suggested: CheckpointProfile?
        if profile == .generic, !evidence.isEmpty {
            let common = evidence.reduce(engines) { $0.intersection($1.engines) }
            if common.count == 1 { suggested = common.first }
        }
        return V1ProfileDetection(profile: profile, suggestedProfile: suggested, evidence: evidence, warnings: warnings)
    }

    /// The secondary signals of table 4.13 present in `s`.
    static func evidence(_ s: V1ProfileSignals) -> [V1ProfileDetection.Evidence] {
        typealias E = V1ProfileDetection.Evidence
        var out: [E] = []
        if let m = s.containerManager {
            switch m {
            case "libpod": out.append(E(signal: "io.container.manager libpod", engines: [.podman]))
            case "cri-o": out.append(E(signal: "io.container.manager cri-o", engines: [.crio]))
            default: out.append(E(signal: "io.container.manager \(m)", engines: []))
            }
        } else if s.specDumpParsed {
            out.append(E(signal: "no io.container.manager annotation", engines: [.containerd]))
        }
        if s.hasCRIOMetadataAnnotation {
            out.append(E(signal: "annotation io.kubernetes.cri-o.Metadata", engines: [.crio]))
        }
        if s.hasCRIAnnotations { out.append(E(signal: "io.kubernetes.cri.* annotations", engines: [.containerd])) }
        for name in s.topLevelNames {
            if let engine = V1Names.exclusiveNames[name] {
                out.append(E(signal: "top-level name \(name)", engines: [engine]))
            } else if name == V1Names.deletedFiles {
                out.append(E(signal: "top-level name deleted.files", engines: [.podman, .crio]))
            } else if name == "dump.log" {
                out.append(E(signal: "top-level name dump.log", engines: [.crio, .containerd]))
            }
        }
        if let c = s.rootfsDiffCompression {
            out.append(c == .none ? E(signal: "plain rootfs-diff.tar", engines: [.podman, .crio])
                : E(signal: "\(c) rootfs-diff.tar", engines: c == .gzip ? [.containerd] : []))
        }
        switch s.configDumpShape {
        case .libpod?: out.append(E(signal: "libpod config.dump", engines: [.podman]))
        case .reducedIndented?: out.append(E(signal: "reduced indented config.dump", engines: [.crio]))
        case .reducedCompact?: out.append(E(signal: "reduced compact config.dump", engines: [.containerd]))
        case .unknown?, nil: break
        }
        if s.outerCompression != .none {
            out.append(E(signal: "\(s.outerCompression) outer compression", engines: [.podman]))
        }
        if !s.hasRootEntry, s.topLevelNames.count > 1 {
            var consistent: Set<CheckpointProfile> = []
            if isOrdered(s.topLevelNames, by: V1Names.podmanOrder) { consistent.insert(.podman) }
            if isOrdered(s.topLevelNames, by: V1Names.crioOrder) { consistent.insert(.crio) }
            if s.topLevelNames == s.topLevelNames.sorted(by: { $0.utf8.lexicographicallyPrecedes($1.utf8) }) {
                consistent.insert(.containerd)
            }
            if consistent != engines {
                out.append(E(signal: "entry order", engines: consistent))
            }
        }
        return out
    }

    /// Whether the names the list knows appear in its order (unknown names are ignored).
    static func isOrdered(_ names: [String], by order: [String]) -> Bool {
        var last = -1
        for n in names {
            guard let i = order.firstIndex(of: n) else { continue }
            if i < last { return false }
            last = i
        }
        return true
    }

    /// Reads the signals `spec.dump` carries into `signals`.
    /// - Returns: false when the bytes are not a JSON object.
    @discardableResult
    public static func readSpecDump(_ bytes: [UInt8], into signals: inout V1ProfileSignals) -> Bool {
        guard let v = try? V1JSON.parse(bytes), case .object = v else { return false }
        signals.specDumpParsed = true
        if case let .object(annotations)? = v["annotations"] {
            signals.containerManager = annotations.last(where: { $0.key == "io.container.manager" })?.value.stringValue
            signals.hasCRIOMetadataAnnotation = annotations.contains { $0.key == "io.kubernetes.cri-o.Metadata" }
            signals.hasCRIAnnotations = annotations.contains { $0.key.hasPrefix("io.kubernetes.cri.") }
        }
        return true
    }

    /// The shape of a `config.dump`, nil when it is not a JSON object.
    public static func configDumpShape(_ bytes: [UInt8]) -> V1ConfigDumpShape? {
        guard let v = try? V1JSON.parse(bytes), case let .object(members) = v else { return nil }
        let keys = Set(members.map(\.key))
        // Members only libpod.ContainerConfig has (rootfsImageID is omitted for --rootfs containers).
        if !keys.isDisjoint(with: ["rootfsImageID", "spec", "lockID", "namedVolumes", "createCommand"]) { return .libpod }
        // checkpointctl's ContainerConfig always has checkpointedTime (no omitempty).
        if keys.contains("checkpointedTime") { return bytes.contains(0x0A) ? .reducedIndented : .reducedCompact }
        return .unknown
    }

    /// The `io.container.manager` annotation of a `spec.dump`, nil when absent.
    /// - Throws: `CheckpointError` (CKA-V1-001) when the bytes are not a JSON object.
    public static func containerManager(specDump bytes: [UInt8]) throws -> String? {
        var s = V1ProfileSignals()
        guard readSpecDump(bytes, into: &s) else {
            throw CheckpointError("CKA-V1-001", "spec.dump is not a JSON object", entry: "spec.dump")
        }
        return s.containerManager
    }
}
