import FoundationEssentials
#if canImport(Glibc)
import Glibc
#endif

/// The sections an unpacked checkpoint directory holds (part 9), found from the directories present.
public struct UnpackedLayout {
    /// A planned section and the directory on disk that holds it.
    public struct PlannedSection {
        public var section: Section
        public var source: String
    }

    public var root: String
    public var profile: CheckpointProfile
    public var sections: [PlannedSection]

    /// Top-level names an unpacked directory may contain (CKA-DIR-009).
    static let topLevel: Set<String> = ["cka-header.json", "cka-index.json", "metadata", "checkpoint",
                                        "pre-checkpoint", "rootfs", "devshm", "volumes", "logs", "artifacts", "ext"]

    /// Reads the layout of `root`; `profile` overrides the one recorded in `cka-header.json`.
    public init(root: String, profile override: CheckpointProfile? = nil) throws {
        self.root = root
        let names = try DirectoryScanner.children(of: root)
        for name in names where !Self.topLevel.contains(name) {
            throw CheckpointError("CKA-DIR-009", "unexpected top-level name in the unpacked directory", entry: name)
        }
        func isDir(_ p: String) -> Bool {
            var st = stat()
            return lstat(p, &st) == 0 && (st.st_mode & S_IFMT) == S_IFDIR
        }
        var recorded: ArchiveHeader?
        var extCritical: [String: Bool] = [:]
        let headerPath = root + "/cka-header.json"
        if FileManager.default.fileExists(atPath: headerPath) {
            let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: headerPath)))
            let parsed = try ArchiveHeader.parse(bytes)
            recorded = parsed.header
            for s in parsed.header.sections where s.kind == .ext { extCritical[s.name ?? ""] = s.critical }
        }
        profile = override ?? recorded?.profile ?? .generic
        var plan: [PlannedSection] = []
        guard isDir(root + "/metadata") else {
            throw CheckpointError("CKA-DIR-001", "the unpacked directory has no metadata/", entry: "metadata/")
        }
        plan.append(PlannedSection(section: Section(.metadata), source: root + "/metadata"))
        let full = isDir(root + "/checkpoint"), pre = isDir(root + "/pre-checkpoint")
        guard full != pre else {
            throw CheckpointError("CKA-DIR-001", "the unpacked directory needs exactly one of checkpoint/ and pre-checkpoint/")
        }
        plan.append(PlannedSection(section: Section(full ? .checkpoint : .preCheckpoint),
                                   source: root + (full ? "/checkpoint" : "/pre-checkpoint")))
        if isDir(root + "/rootfs") { plan.append(PlannedSection(section: Section(.rootfs), source: root + "/rootfs")) }
        if isDir(root + "/devshm") { plan.append(PlannedSection(section: Section(.devshm), source: root + "/devshm")) }
        if isDir(root + "/volumes") {
            for name in try DirectoryScanner.children(of: root + "/volumes") {
                guard Section.isValidName(name), isDir(root + "/volumes/" + name) else {
                    throw CheckpointError("CKA-V2-022", "invalid volume name or not a directory", entry: "volumes/" + name)
                }
                plan.append(PlannedSection(section: Section(.volume, name: name), source: root + "/volumes/" + name))
            }
        }
        if isDir(root + "/logs") { plan.append(PlannedSection(section: Section(.logs), source: root + "/logs")) }
        if isDir(root + "/artifacts") {
            plan.append(PlannedSection(section: Section(.artifacts), source: root + "/artifacts"))
        }
        if isDir(root + "/ext") {
            for name in try DirectoryScanner.children(of: root + "/ext") {
                guard Section.isValidName(name), isDir(root + "/ext/" + name) else {
                    throw CheckpointError("CKA-V2-022", "invalid extension name or not a directory", entry: "ext/" + name)
                }
                plan.append(PlannedSection(section: Section(.ext, name: name, critical: extCritical[name] ?? false),
                                           source: root + "/ext/" + name))
            }
        }
        sections = plan
    }
}
