import ByteStreams
import CheckpointArchive
import Compression
import TarFormat

/// What `V1Checker` found out about a v1 archive besides its findings.
public struct V1CheckResult: Sendable {
    /// The profile whose rules were applied (`podman`, `cri-o`, `containerd`, `generic`), nil when the archive
    /// could not be read far enough to tell and no profile was forced.
    public var profile: String?
    /// Why that profile (the detection evidence of CKA-V1-019, or that it was forced), for people.
    public var profileReason: String?
    /// A read error of the archive file (not a finding of the archive) that ended the check.
    public var ioError: String?

    public init(profile: String? = nil, profileReason: String? = nil, ioError: String? = nil) {
        self.profile = profile
        self.profileReason = profileReason
        self.ioError = ioError
    }
}

/// Checks a v1 archive: one pass of `V1Reader` over the decompressed stream with the tar-layer rules watching the
/// outer stream and every nested tar (CKA-V1-006), then the rules of part 4 for the archive's profile.
///
/// The reader's own refusals become findings with their requirement IDs, and the read goes on after each one
/// where the stream allows (CKA-GEN-012): a refused entry is skipped, a nested tar that cannot be read further
/// is left for the next outer entry, the checks at the end (required files) and the profile rules run on what
/// was read. Malformed outer input (a bad header, truncation, broken compression) still ends the check there.
/// Rules of single entries (modes, `checkpoint/` entries, JSON metadata, `stats-dump`) are reported as the
/// entries arrive; the collector caps the findings of each requirement.
public final class V1Checker {
    let collector: DiagnosticCollector
    let options: ValidatorOptions
    let compression: CompressionFormat

    public init(collector: DiagnosticCollector, options: ValidatorOptions, compression: CompressionFormat) {
        self.collector = collector
        self.options = options
        self.compression = compression
    }

    /// One pass over the decompressed v1 stream; never throws (malformed input is reported through
    /// `MalformedInput` and ends the check). `options.profile` may force the podman, cri-o or containerd rules.
    public func check(stream: ByteSource) -> V1CheckResult {
        var readerOptions = V1ReaderOptions()
        readerOptions.limits = options.tarLimits
        readerOptions.nameTableMemory = options.nameTableMemory
        if let limits = options.decompressionLimits { readerOptions.decompressionLimits = limits }
        var reader = V1Reader(options: readerOptions)
        let watcher = V1StreamWatcher(collector: collector, nameTableMemory: options.nameTableMemory)
        let sink = V1EvidenceSink(watcher: watcher)
        reader.observer = watcher
        watcher.refused = { [unowned self, unowned watcher] error in
            // Reported and read past, unless it is no finding about the archive (a read error of the file).
            if case .notAFinding = self.reportReaderError(error, watcher: watcher) { return false }
            return true
        }
        collector.ran("CKA-V1-001", "CKA-V1-002", "CKA-V1-003", "CKA-V1-005", "CKA-V1-006", "CKA-V1-007",
                      "CKA-V1-008", "CKA-V1-009", "CKA-V1-010", "CKA-V1-012", "CKA-V1-013", "CKA-V1-014",
                      "CKA-V1-015", "CKA-V1-017", "CKA-V1-018", "CKA-SEC-010", "CKA-CMP-013")
        let summary: V1ReadSummary
        do {
            summary = try reader.read(decompressed: stream, compression: compression, into: sink)
        } catch {
            var result = V1CheckResult()
            if let forced = forcedProfile {
                result.profile = forced.rawValue
                result.profileReason = "forced by --profile \(forced.rawValue)"
            } else {
                result.profileReason = "the archive could not be read to its end"
            }
            if case let .notAFinding(text) = reportReaderError(error, watcher: watcher) { result.ioError = text }
            return result
        }
        // The warnings found while reading were reported as they came (see V1StreamWatcher); these are the rest,
        // with the refusals found at the end.
        for w in summary.refusals + summary.warnings.dropFirst(watcher.warningsSeen) where Self.passesThrough(w) {
            collector.report(w.requirement, w.message, path: w.entry, offset: w.offset)
        }
        let profile = forcedProfile ?? summary.profile
        let rules = V1ProfileRules(collector: collector, summary: summary, profile: profile, facts: watcher.facts,
                                   metadata: sink.metadata)
        rules.run()
        return V1CheckResult(profile: profile.rawValue, profileReason: reason(summary, profile: profile),
                             ioError: summary.temporaryFileError ?? watcher.temporaryFileError)
    }

    var forcedProfile: CheckpointProfile? {
        switch options.profile {
        case .podman: return .podman
        case .crio: return .crio
        case .containerd: return .containerd
        case .auto, .v2: return nil
        }
    }

    /// The reader's error as a finding; a few of its v2-worded IDs are named by their v1 rule here.
    func reportReaderError(_ error: Error, watcher: V1StreamWatcher) -> MalformedInput.Outcome {
        guard var e = error as? CheckpointError else {
            return MalformedInput.report(error, to: collector, format: .v1, compression: compression)
        }
        switch e.requirement {
        case "CKA-V2-033":
            // An opaque whiteout at the layer root deletes '/', which no container path may name.
            e.requirement = "CKA-SEC-010"
        case "CKA-V2-037" where (e.entry ?? "").hasPrefix(V1Names.crioLogPath) || (e.entry ?? "").hasPrefix("./" + V1Names.crioLogPath):
            e.requirement = "CKA-CRIO-004"
        default:
            break
        }
        return MalformedInput.report(e, to: collector, format: .v1, compression: compression)
    }

    /// Warnings of the reader that are findings of a v1 rule this checker does not evaluate itself.
    static func passesThrough(_ w: CheckpointError) -> Bool {
        guard let requirement = RequirementCatalog.requirement(w.requirement), requirement.isCheckable else { return false }
        if w.requirement.hasPrefix("CKA-V2-") { return false }
        // Evaluated by V1ProfileRules for the profile actually applied (a forced one included).
        return !["CKA-V1-007", "CKA-V1-016", "CKA-V1-020", "CKA-CTRD-003"].contains(w.requirement)
    }

    /// Why the archive has `profile`.
    func reason(_ summary: V1ReadSummary, profile: CheckpointProfile) -> String {
        let detected = Self.detectionReason(summary)
        if let forced = forcedProfile {
            if forced == summary.profile { return "forced by --profile \(forced.rawValue), as detected: \(detected)" }
            return "forced by --profile \(forced.rawValue); detection says \(summary.profile.rawValue): \(detected)"
        }
        return detected
    }

    static func detectionReason(_ summary: V1ReadSummary) -> String {
        let manager = summary.signals.containerManager
        switch summary.profile {
        case .podman: return "spec.dump annotation io.container.manager is \"libpod\""
        case .crio: return "spec.dump annotation io.container.manager is \"cri-o\""
        case .containerd:
            return manager.map { "io.container.manager is \"\($0)\" and the archive has a top-level status.dump" }
                ?? "no io.container.manager annotation and a top-level status.dump"
        case .generic:
            var text = manager.map { "io.container.manager is \"\($0)\" (neither libpod nor cri-o)" }
                ?? "no io.container.manager annotation"
            text += " and no top-level status.dump"
            if let s = summary.detection.suggestedProfile { text += "; the other signals point to \(s.rawValue)" }
            return text
        }
    }
}

/// What the checker learns from the stream as `V1Reader` reads it, for the rules that need the whole archive.
struct V1StreamFacts {
    /// An outer entry under `checkpoint/` that is not a regular file directly in it (CKA-CTRD-007 candidates).
    struct CheckpointEntry {
        var name: String
        var type: TarEntryType
        var offset: Int64
    }

    /// The naming of one nested tar (CKA-POD-003, CKA-POD-004).
    struct NestedNames {
        var first: (name: String, type: TarEntryType, offset: Int64)?
        var entries = 0
        /// Entries after the first whose name does not start with `./` (or is `./` again).
        var withoutDotSlash: [(name: String, offset: Int64)] = []
        /// Entries whose name starts with `./` (or is `.`).
        var withDotSlash: [(name: String, offset: Int64)] = []
    }

    var checkpointEntries: [CheckpointEntry] = []
    /// Nested tars by their outer name, in order.
    var nested: [(label: String, names: NestedNames)] = []
    /// `<name>` of every `volumes/<name>.tar`.
    var volumeTars: [String] = []
    /// Outer offset of each top-level name's first entry.
    var topLevelOffsets: [String: Int64] = [:]
}

/// The `V1ReadObserver` of a check: creates the tar-layer rules of each stream, feeds them, and records facts.
final class V1StreamWatcher: V1ReadObserver {
    let collector: DiagnosticCollector
    var facts = V1StreamFacts()
    /// The rules of each stream by its name ("" for the outer stream).
    private var rules: [String: TarLayerRules] = [:]
    private var nestedBase: [String: Int64] = [:]
    private var nestedLayer: Set<String> = []
    /// Keeps at most this many examples of a naming problem per nested tar.
    private var keep: Int { collector.capPerRule + 1 }

    let nameTableMemory: Int

    init(collector: DiagnosticCollector, nameTableMemory: Int) {
        self.collector = collector
        self.nameTableMemory = nameTableMemory
    }

    func v1Reader(startsTar nestedIn: String?, dataOffset: Int64, compression: CompressionFormat) -> TarReaderObserver? {
        let r = TarLayerRules(collector: collector, format: .v1, nestedIn: nestedIn, baseOffset: dataOffset,
                              nameTableMemory: nameTableMemory)
        r.offsetsAreInDecompressedLayer = compression != .none
        rules[nestedIn ?? ""] = r
        if let nestedIn {
            nestedBase[nestedIn] = dataOffset
            if compression != .none { nestedLayer.insert(nestedIn) }
            facts.nested.append((nestedIn, V1StreamFacts.NestedNames()))
        }
        return r
    }

    func v1Reader(readEntry header: TarHeader, nestedIn: String?) {
        rules[nestedIn ?? ""]?.entry(header)
        if let nestedIn {
            nestedEntry(header, label: nestedIn)
        } else {
            outerEntry(header)
        }
    }

    func v1Reader(endedTar nestedIn: String?, end: TarEnd) {
        rules[nestedIn ?? ""]?.end(end)
        if let e = rules[nestedIn ?? ""]?.names.ioError { temporaryFileError = temporaryFileError ?? e }
        // A nested tar's names are not needed after it (its table can go).
        if let nestedIn { rules[nestedIn] = nil }
    }

    /// A failure of a name table's temporary file (the findings are then incomplete).
    private(set) var temporaryFileError: String?

    /// Warnings of the reader reported so far.
    private(set) var warningsSeen = 0

    func v1Reader(warns warning: CheckpointError) {
        warningsSeen += 1
        if V1Checker.passesThrough(warning) {
            collector.report(warning.requirement, warning.message, path: warning.entry, offset: warning.offset)
        }
    }

    /// Reports a refusal of the reader; true lets it go on.
    var refused: ((CheckpointError) -> Bool)?

    func v1Reader(continuesAfter error: CheckpointError) -> Bool { refused?(error) ?? false }

    /// The outer offset of a nested entry.
    func outerOffset(_ offset: Int64, label: String) -> Int64 {
        let base = nestedBase[label] ?? 0
        return nestedLayer.contains(label) ? base : base + offset
    }

    // MARK: - Outer entries

    private func outerEntry(_ h: TarHeader) {
        guard case let .name(n) = TarNames.normalise(h.pathBytes, v1: true), TarNames.problem(n) == nil else { return }
        let name = TarNames.display(n)
        let parts = name.split(separator: "/", maxSplits: 1).map(String.init)
        let top = parts[0]
        let rest = parts.count > 1 ? parts[1] : ""
        if facts.topLevelOffsets[top] == nil { facts.topLevelOffsets[top] = h.headerOffset }
        let isFile = h.type == .regular || h.type == .regularLegacy
        if top == V1Names.checkpointDirectory || top == V1Names.preCheckpointDirectory, !rest.isEmpty {
            // Only what CKA-CTRD-007 (decided at the end, for containerd) would report, as many as it reports.
            let flat = (h.type == .regular || h.type == .regularLegacy) && !rest.contains("/")
            if top == V1Names.checkpointDirectory, !flat, facts.checkpointEntries.count < keep {
                facts.checkpointEntries.append(.init(name: name, type: h.type, offset: h.headerOffset))
            }
            checkCheckpointEntry(h, name: name)
        }
        if isFile, (rest.isEmpty && (top == "config.dump" || top == "spec.dump"))
            || (!rest.isEmpty && (top == V1Names.checkpointDirectory || top == V1Names.preCheckpointDirectory)) {
            checkSecretMode(h, name: name)
        }
        if top == V1Names.volumesDirectory, isFile, rest.hasSuffix(".tar"), !rest.contains("/") {
            facts.volumeTars.append(String(rest.dropLast(4)))
        }
    }

    /// CKA-V1-012: only regular files and directories under `checkpoint/` and `pre-checkpoint/`, and the link
    /// `checkpoint/parent -> ../pre-checkpoint`.
    private func checkCheckpointEntry(_ h: TarHeader, name: String) {
        switch h.type {
        case .regular, .regularLegacy, .directory: return
        case .symbolicLink where name == "checkpoint/parent" && h.linkBytes == Array("../pre-checkpoint".utf8): return
        default:
            let what = h.type == .symbolicLink
                ? "a symbolic link (only checkpoint/parent -> ../pre-checkpoint is allowed)" : "a \(h.type) entry"
            collector.report("CKA-V1-012", "\(what) under \(name.hasPrefix("pre-") ? "pre-checkpoint" : "checkpoint")/",
                             path: h.path, offset: h.headerOffset)
        }
    }

    /// CKA-V1-009: CRIU images and `config.dump`/`spec.dump` should be mode 0600 or stricter.
    private func checkSecretMode(_ h: TarHeader, name: String) {
        let mode = h.mode & 0o7777
        if mode & ~0o600 != 0 {
            collector.report("CKA-V1-009", "mode 0\(String(mode, radix: 8)) is wider than 0600 for a file holding process "
                             + "memory or configuration", path: h.path, offset: h.headerOffset)
        }
    }

    // MARK: - Nested entries

    private func nestedEntry(_ h: TarHeader, label: String) {
        guard let i = facts.nested.lastIndex(where: { $0.label == label }) else { return }
        let raw = h.pathBytes
        let name = TarNames.display(raw)
        let at = outerOffset(h.headerOffset, label: label)
        var names = facts.nested[i].names
        if names.first == nil {
            names.first = (name, h.type, at)
        } else if !(raw.starts(with: [0x2E, 0x2F]) && raw.count > 2), names.withoutDotSlash.count < keep {
            names.withoutDotSlash.append((name, at))
        }
        if raw.starts(with: [0x2E, 0x2F]) || raw == [0x2E], names.withDotSlash.count < keep {
            names.withDotSlash.append((name, at))
        }
        names.entries += 1
        facts.nested[i].names = names
    }

    /// CKA-V1-013: `stats-dump` starts with CRIU's IMG_SERVICE and STATS magics and a payload length that fits.
    func checkStatsDump(prefix: [UInt8], size: Int64, path: String, offset: Int64) {
        func u32(_ at: Int) -> UInt32 {
            UInt32(prefix[at]) | UInt32(prefix[at + 1]) << 8 | UInt32(prefix[at + 2]) << 16 | UInt32(prefix[at + 3]) << 24
        }
        let problem: String?
        if prefix.count < 12 {
            problem = "it has \(size) bytes, fewer than the 12 of its header"
        } else if u32(0) != CRIUImages.serviceMagic || u32(4) != CRIUImages.statsMagic {
            problem = "it does not start with the IMG_SERVICE and STATS magic numbers (checkpointctl: \"unknown magic\")"
        } else if Int64(u32(8)) > size - 12 {
            problem = "its payload length \(u32(8)) does not fit in its \(size - 12) bytes after the header"
        } else {
            problem = nil
        }
        if let problem { collector.report("CKA-V1-013", "stats-dump: \(problem)", path: path, offset: offset) }
    }

    /// CKA-V1-007 for the JSON metadata files whose shape the reader does not check itself.
    func checkMetadataJSON(_ name: String, _ bytes: [UInt8], path: String, offset: Int64) {
        guard let expected = V1ProfileRules.jsonTypes[name] else { return }
        guard let type = V1MetadataJSON.topLevelType(bytes) else {
            collector.report("CKA-V1-007", "\(name) is not a valid UTF-8 JSON text", path: path, offset: offset)
            return
        }
        if type != expected {
            collector.report("CKA-V1-007", "\(name) holds a JSON \(type), not an \(expected)", path: path, offset: offset)
        }
    }
}

/// The unpacked entries `V1Reader` delivers, kept only as far as the rules need them: the JSON metadata files,
/// the head of `stats-dump` and of the CRIU images. All other data is left to the reader to skip.
final class V1EvidenceSink: UnpackedEntrySink {
    let watcher: V1StreamWatcher
    /// JSON metadata files by their v1 name.
    private(set) var metadata: [String: [UInt8]] = [:]

    init(watcher: V1StreamWatcher) { self.watcher = watcher }

    func add(_ header: TarHeader, section: Section, data: ByteSource, reflink: ReflinkSource?) throws {
        guard header.type == .regular else { return }
        let path = header.path
        if path.hasPrefix("metadata/") {
            let name = String(path.dropFirst("metadata/".count))
            if V1Names.jsonMetadataFiles.contains(name) {
                let bytes = try data.readAll(limit: 64 << 20)
                metadata[name] = bytes
                watcher.checkMetadataJSON(name, bytes, path: name, offset: header.headerOffset)
            } else if name == "stats-dump" {
                let prefix = try data.readBytes(12)
                watcher.checkStatsDump(prefix: prefix, size: header.size, path: name, offset: header.headerOffset)
            }
        } else if section.kind == .checkpoint || section.kind == .preCheckpoint {
            let prefix = try data.readBytes(CRIUImages.prefixLength)
            if let why = CRIUImages.problem(name: path, prefix: prefix, size: header.size) {
                watcher.collector.report(CRIUImages.v1RequirementID, "\(path): \(why)", path: path,
                                         offset: header.headerOffset)
            }
        }
    }
}
