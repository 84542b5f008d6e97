import ByteStreams
import CheckpointArchive
import TarFormat
#if canImport(Glibc)
import Glibc
#endif

/// The order and multiplicity of the known sections (CKA-V2-015, CKA-V2-016), in fixed memory: kinds without
/// a name are remembered; a named section repeats only next to its twin when the order is kept, so it is
/// compared with the last one (out of order it is CKA-V2-015 already).
struct V2SectionOrder {
    private var seen = Set<String>()
    private var last: (rank: Int, name: [UInt8])?

    mutating func add(_ kind: SectionKind, name: String?, _ h: TarHeader, report: V2Reporter) {
        let key: String
        switch kind {
        case .checkpoint, .preCheckpoint: key = "checkpoint or pre-checkpoint"
        case .volume, .ext: key = "\(kind.rawValue) '\(name ?? "")'"
        default: key = kind.rawValue
        }
        let here = (rank: kind.orderRank, name: Array((name ?? "").utf8))
        func before(_ a: (rank: Int, name: [UInt8]), _ b: (rank: Int, name: [UInt8])) -> Bool {
            a.rank < b.rank || (a.rank == b.rank && a.name.lexicographicallyPrecedes(b.name))
        }
        let repeated = kind.isNamed ? (last.map { $0.rank == here.rank && $0.name == here.name } ?? false)
            : !seen.insert(key).inserted
        if repeated {
            report("CKA-V2-016", "a second \(key) section", h)
        } else if let last, before(here, last) {
            report("CKA-V2-015", "section \(kind.rawValue)\(name.map { " '\($0)'" } ?? "") is out of order "
                   + "(metadata, checkpoint, rootfs, devshm, volumes by name, logs, artifacts, ext by name)", h)
        }
        if last.map({ before($0, here) }) ?? true { last = here }
    }

    /// CKA-V2-016: exactly one metadata and one checkpoint or pre-checkpoint section.
    func finish(report: V2Reporter, at offset: Int64) {
        for key in ["metadata", "checkpoint or pre-checkpoint"] where !seen.contains(key) {
            report("CKA-V2-016", "the archive has no \(key) section", path: nil, offset: offset)
        }
    }
}

/// Section markers, membership and the entry types of table 5.4.
enum V2SectionRules {
    /// Rules evaluated on every entry.
    static let entryIDs = ["CKA-V2-013", "CKA-V2-014", "CKA-V2-042", "CKA-V2-043", "CKA-CNV-001", "CKA-ALN-002",
                           "CKA-ALN-003", "CKA-ALN-004", "CKA-ALN-005"]

    /// The rules a section of this kind is checked against, beyond the marker rules.
    static func contentIDs(_ kind: SectionKind?) -> [String] {
        let common = ["CKA-V2-040", "CKA-V2-041", "CKA-V2-048"]
        switch kind {
        case .metadata: return common + ["CKA-V2-023", "CKA-V2-024", "CKA-V2-044", "CKA-V2-053", "CKA-SEC-010"]
        case .checkpoint: return common + ["CKA-V2-025", "CKA-V2-026", "CKA-V2-044", "CKA-V2-055"]
        case .preCheckpoint: return common + ["CKA-V2-026", "CKA-V2-044", "CKA-V2-055"]
        case .rootfs: return common + V2RootfsRules.ids + ["CKA-V2-053"]
        case .logs: return common + ["CKA-V2-037", "CKA-V2-044", "CKA-V2-053"]
        case .artifacts: return common + ["CKA-V2-038"]
        case .ext: return common + ["CKA-V2-039"]
        case .devshm, .volume: return common
        case nil: return []
        }
    }

    /// A marker opens a section: CKA-V2-010, 011, 012, 015, 016, 017, 020, 022, 053.
    static func openSection(_ h: TarHeader, records: [V2PaxRecord], order: inout V2SectionOrder, names: NameTable,
                            spoolMemory: Int, report: V2Reporter) -> V2Section {
        func value(_ key: String) -> String? { records.last(where: { $0.key == key })?.stringValue }
        let kindName = value("CKA.section") ?? ""
        let critical = value("CKA.section.critical")
        let name = value("CKA.section.name")
        let section = V2Section(kindName: kindName, name: name, critical: critical == "1", marker: h, names: names,
                                spoolMemory: spoolMemory)
        let kind = section.kind
        report.ran(["CKA-V2-010", "CKA-V2-011", "CKA-V2-012", "CKA-V2-015", "CKA-V2-016", "CKA-V2-017",
                    "CKA-V2-020", "CKA-V2-022"] + contentIDs(kind))
        markerForm(h, kind: kind, critical: critical, name: name, report: report)
        if let kind, kind.isNamed == (name != nil) {
            let expected = Section(kind, name: name).directory
            if h.path != expected {
                report("CKA-V2-011", "the marker of a \(kind.rawValue) section must be named \(expected)", h)
            }
        }
        if let kind, kind != .ext, let critical, critical == "0" || critical == "1",
           (critical == "1") != kind.defaultCritical {
            report("CKA-V2-012", "CKA.section.critical of a \(kind.rawValue) section must be "
                   + (kind.defaultCritical ? "1" : "0"), h)
        }
        if kind == nil, critical == "1" {
            report("CKA-V2-017", "a section of the unknown kind \"\(kindName)\" is critical", h)
        }
        if h.size != 0 { report("CKA-V2-020", "a section marker must have size 0", h) }
        if records.contains(where: { $0.key == "CKA.pad" }) {
            report("CKA-V2-020", "a section marker must not carry CKA.pad", h)
        }
        if kind?.isNamed == true, let name, !Section.isValidName(name) {
            report("CKA-V2-022", "the section name \"\(name)\" does not match [A-Za-z0-9][A-Za-z0-9_.-]* "
                   + "(at most 255 bytes, not . or ..)", h)
        }
        if let kind { order.add(kind, name: name, h, report: report) }
        if kind == .metadata || kind == .rootfs || kind == .logs { synthesized(h, mode: 0o755, report: report) }
        modeBitsAndXattrs(h, records: records, fileSystem: section.isFileSystem, report: report)
        return section
    }

    /// CKA-V2-010: a marker is a directory with `CKA.section.critical` 0 or 1, and `CKA.section.name` exactly
    /// for volume and ext sections.
    static func markerForm(_ h: TarHeader, kind: SectionKind?, critical: String?, name: String?, report: V2Reporter) {
        if h.type != .directory { report("CKA-V2-010", "a section marker must be a directory entry", h) }
        if critical != "0" && critical != "1" {
            report("CKA-V2-010", "a section marker needs CKA.section.critical with the value 0 or 1", h)
        }
        if let kind, kind.isNamed, name == nil {
            report("CKA-V2-010", "the marker of a \(kind.rawValue) section needs CKA.section.name", h)
        } else if let kind, !kind.isNamed, name != nil {
            report("CKA-V2-010", "the marker of a \(kind.rawValue) section must not carry CKA.section.name", h)
        }
    }

    /// CKA-V2-013, 014, 020: whether an entry lies inside the current section.
    static func belongs(_ h: TarHeader, to s: V2Section, report: V2Reporter) -> Bool {
        let name = withoutSlash(h.pathBytes)
        // Looked at only for the two lengths (every entry comes here).
        if name.count == 7 || name.count == 3, name.withUnsafeBytes({ $0.equals("volumes") || $0.equals("ext") }) {
            report("CKA-V2-014", "an entry for the intermediate directory \(h.path) (extractors create it)", h)
            return false
        }
        // The section's directory ends with '/': `inside` says the name starts with it, `named` that the name is
        // the directory itself (without its '/'). One memcmp over the raw bytes for both.
        let (inside, named) = h.pathBytes.withUnsafeBytes { p in
            s.directory.withUnsafeBytes { d -> (Bool, Bool) in
                let n = d.count
                guard n > 0 else { return (true, name.isEmpty) }
                guard p.count >= n - 1, n == 1 || memcmp(p.baseAddress!, d.baseAddress!, n - 1) == 0 else {
                    return (false, false)
                }
                return (p.count >= n && p[n - 1] == d[n - 1], name.count == n - 1)
            }
        }
        if named {
            report("CKA-V2-020", "the section directory is named by an entry other than its marker", h)
            return false
        }
        guard inside else {
            report("CKA-V2-013", "the entry lies outside the current section \(String(decoding: s.directory, as: UTF8.self))", h)
            return false
        }
        return true
    }

    /// The rules of an entry inside a section of a known kind; returns what the content rules want to read.
    static func entry(_ h: TarHeader, records: [V2PaxRecord], in s: V2Section,
                      report: V2Reporter) -> V2ContentRules.Content {
        modeBitsAndXattrs(h, records: records, fileSystem: s.isFileSystem, report: report)
        types(h, in: s, report: report)
        if h.type.isRegularFile, h.mode & 0o077 != 0, s.kind == .metadata || s.kind == .checkpoint
            || s.kind == .preCheckpoint || s.kind == .logs {
            report("CKA-V2-044", "mode 0\(String(h.mode & 0o7777, radix: 8)) gives group or others access; 0600 "
                   + "or stricter is expected", h)
        }
        if s.kind == .rootfs { return V2RootfsRules.entry(h, records: records, in: s, report: report) }
        ordering(h, in: s, report: report)
        return V2ContentRules.entry(h, in: s, report: report)
    }

    /// Table 5.4: symbolic links (CKA-V2-040), hard links and special files (CKA-V2-041), and the section's
    /// own list of types (CKA-V2-023, 026, 037, 038, 039).
    static func types(_ h: TarHeader, in s: V2Section, report: V2Reporter) {
        guard let kind = s.kind else { return }
        let policy = EntryPolicy.forSection(kind)
        switch h.type {
        case .symbolicLink:
            switch policy.symlinks {
            case .anyTarget: break
            case .checkpointParent where kind == .checkpoint && h.path == "checkpoint/parent":
                if h.linkName != "../pre-checkpoint" {
                    report("CKA-V2-026", "checkpoint/parent must link to ../pre-checkpoint", h)
                }
            case .relativeInside:
                if !LinkTargets.staysInside(link: h.path, target: h.linkName, root: String(decoding: s.directory, as: UTF8.self)) {
                    report("CKA-V2-040", "a symbolic link in the \(kind.rawValue) section must be relative and stay inside it", h)
                }
            default:
                report("CKA-V2-040", "symbolic links are not allowed here in the \(kind.rawValue) section", h)
            }
        case .hardLink, .characterDevice, .blockDevice, .fifo:
            if !policy.specialFiles {
                report("CKA-V2-041", "\(h.type) entries are allowed only in rootfs, devshm and volume sections", h)
            } else if h.type == .hardLink, !h.linkBytes.starts(with: s.directory) {
                report("CKA-V2-041", "a hard link's target must be in the same section", h)
            }
        case .directory where policy.directories: break
        default:
            guard !h.type.isRegularFile, let id = onlyRule[kind] else { return }
            report(id, "\(h.type) entries are not allowed in the \(kind.rawValue) section", h)
        }
    }

    /// The rule listing what a section may contain.
    static let onlyRule: [SectionKind: String] = [.metadata: "CKA-V2-023", .checkpoint: "CKA-V2-026",
                                                  .preCheckpoint: "CKA-V2-026", .logs: "CKA-V2-037",
                                                  .artifacts: "CKA-V2-038", .ext: "CKA-V2-039"]

    /// CKA-V2-042 and CKA-V2-043: setuid, setgid, sticky bits and xattrs only in file-system sections.
    static func modeBitsAndXattrs(_ h: TarHeader, records: [V2PaxRecord], fileSystem: Bool, report: V2Reporter) {
        guard !fileSystem else { return }
        if h.mode & 0o7000 != 0 {
            report("CKA-V2-042", "setuid, setgid or sticky bit outside rootfs, devshm and volume sections", h)
        }
        if records.contains(where: { $0.key.hasPrefix("SCHILY.xattr.") }) {
            report("CKA-V2-043", "SCHILY.xattr records outside rootfs, devshm and volume sections", h)
        }
    }

    /// CKA-V2-048: depth-first order with siblings in byte order; `/` sorts before every other byte, which
    /// is the same as comparing names component by component.
    static func ordering(_ h: TarHeader, in s: V2Section, report: V2Reporter) {
        let name = withoutSlash(h.pathBytes)
        guard var previous = s.previousName else {
            s.previousName = Array(name)
            return
        }
        s.previousName = nil  // unique while it is updated in place
        if order(previous, name) > 0 {
            report("CKA-V2-048", "out of depth-first byte order after \(String(decoding: previous, as: UTF8.self))", h)
        }
        previous.removeAll(keepingCapacity: true)
        previous.append(contentsOf: name)
        s.previousName = previous
    }

    /// The depth-first order of `a` and `b` (siblings in byte order: byte order with `/` below every other byte):
    /// negative when `a` precedes `b`, zero when they are equal, positive
    /// when `b` precedes `a`.
    static func order(_ a: [UInt8], _ b: ArraySlice<UInt8>) -> Int {
        a.withUnsafeBytes { a in
            b.withUnsafeBytes { b in
                let n = min(a.count, b.count)
                // Names share long prefixes: the common part is skipped a word at a time.
                var i = a.commonPrefixLength(with: b)
                while i < n {
                    let x = a[i] == 0x2F ? 0 : a[i], y = b[i] == 0x2F ? 0 : b[i]
                    if x != y { return x < y ? -1 : 1 }
                    i += 1
                }
                return a.count == b.count ? 0 : a.count < b.count ? -1 : 1
            }
        }
    }

    /// A name without its trailing `/`, without copying.
    static func withoutSlash(_ name: [UInt8]) -> ArraySlice<UInt8> { name.last == 0x2F ? name.dropLast() : name[...] }

    /// CKA-V2-053: the attributes of an entry the encoder synthesises.
    static func synthesized(_ h: TarHeader, mode: Int64, report: V2Reporter) {
        var problems: [String] = []
        if h.mode & 0o7777 != mode {
            problems.append("mode 0\(String(h.mode & 0o7777, radix: 8)) instead of 0\(String(mode, radix: 8))")
        }
        if h.uid != 0 || h.gid != 0 { problems.append("uid \(h.uid) gid \(h.gid) instead of 0") }
        if h.mtime != TarTime(seconds: 0) { problems.append("mtime \(h.mtime.paxString) instead of 0") }
        if !problems.isEmpty { report("CKA-V2-053", problems.joined(separator: ", "), h) }
    }

    /// CKA-V2-045: the index entry is the regular file `cka-index.json` with `CKA.index=1`.
    static func indexEntry(_ h: TarHeader, records: [V2PaxRecord], report: V2Reporter) {
        let value = records.last(where: { $0.key == "CKA.index" })?.stringValue
        if h.path != "cka-index.json" || !h.type.isRegularFile || value != "1" {
            report("CKA-V2-045", "the index entry must be the regular file cka-index.json with CKA.index=1", h)
        }
    }

    static let v1Names: Set<String> = ["config.dump", "spec.dump", "status.dump", "rootfs-diff.tar", "deleted.files",
                                       "devshm-checkpoint.tar", "network.status"]

    /// CKA-CNV-001: no top-level entries with the names v1 readers look for.
    static func legacyNames(_ h: TarHeader, report: V2Reporter) {
        // Only names of one component (with `./` or a trailing `/`) can be top-level.
        guard h.pathBytes.count < 4 || h.pathBytes.withUnsafeBytes({ $0.firstOffset(of: 0x2F, in: 2..<($0.count - 1)) }) == nil
        else { return }
        var name = h.path
        if name.hasPrefix("./") { name.removeFirst(2) }
        if name.hasSuffix("/") { name.removeLast() }
        if v1Names.contains(name) { report("CKA-CNV-001", "a top-level \(name) entry in a v2 archive", h) }
    }
}
