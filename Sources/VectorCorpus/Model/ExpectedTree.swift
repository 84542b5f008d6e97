import CheckpointArchive
import Foundation
import TarFormat

/// The unpacked directory (part 9, table 7.5) a v2 archive stands for, derived from the entries the archive is
/// built from and the rules of the specification, not from a decoder:
///
/// - every entry's name is its path in the directory (CKA-DIR-002), `cka-header.json` included and
///   `cka-index.json` excluded (table 7.5);
/// - the directories `volumes` and `ext` that hold named sections are created by extractors (CKA-V2-014), mode
///   `0755`, owner 0;
/// - the entries of a section of unknown kind (ancillary) are not restored (CKA-V2-018);
/// - a hard link shares its target's inode, so it has the target's mode and owner.
public enum ExpectedTree {
    /// The tree of `archive`, sorted by the byte order of `path`.
    public static func v2(_ archive: V2TestArchive) -> [TreeEntry] {
        var out: [TreeEntry] = []
        let headerBytes = Array(archive.header().utf8)
        out.append(TreeEntry(path: "cka-header.json", type: "file", mode: 0o644, size: headerBytes.count,
                             sha256: V2TestArchive.sha256(headerBytes)))
        var byPath: [[UInt8]: TreeEntry] = [:]  // by the path's bytes (CKA-SEC-024)
        var skipping = false
        var containers = Set<String>()
        for e in archive.entries {
            let h = e.header
            if let kind = h.paxValue("CKA.section") {
                skipping = SectionKind(rawValue: kind) == nil
                if kind == "volume" { containers.insert("volumes") }
                if kind == "ext" { containers.insert("ext") }
            }
            if skipping { continue }
            let path = h.path.hasSuffix("/") ? String(h.path.dropLast()) : h.path
            var t = TreeEntry(path: path, type: type(h.type), mode: Int(h.mode), uid: Int(h.uid), gid: Int(h.gid))
            switch h.type {
            case .regular, .regularLegacy:
                t.size = e.data.count
                t.sha256 = V2TestArchive.sha256(e.data)
            case .symbolicLink:
                t.linkTarget = h.linkName
            case .hardLink:
                t.linkTarget = h.linkName
                if let target = byPath[Array(h.linkName.utf8)] {
                    t.mode = target.mode
                    t.uid = target.uid
                    t.gid = target.gid
                }
            case .characterDevice, .blockDevice:
                t.devMajor = Int(h.devMajor)
                t.devMinor = Int(h.devMinor)
            default:
                break
            }
            if !h.xattrs.isEmpty {
                t.xattrs = Dictionary(h.xattrs.map { ($0.name, Data($0.value).base64EncodedString()) }) { $1 }
            }
            byPath[Array(path.utf8)] = t
            out.append(t)
        }
        for c in containers.sorted() { out.append(TreeEntry(path: c, type: "dir", mode: 0o755)) }
        return sorted(out)
    }

    /// Sorted by the byte order of `path` (table 7.5).
    public static func sorted(_ tree: [TreeEntry]) -> [TreeEntry] {
        tree.sorted { Array($0.path.utf8).lexicographicallyPrecedes(Array($1.path.utf8)) }
    }

    static func type(_ t: TarEntryType) -> String {
        switch t {
        case .regular, .regularLegacy: return "file"
        case .directory: return "dir"
        case .symbolicLink: return "symlink"
        case .hardLink: return "hardlink"
        case .characterDevice: return "char"
        case .blockDevice: return "block"
        case .fifo: return "fifo"
        default: return "type-\(t.rawValue)"
        }
    }
}
