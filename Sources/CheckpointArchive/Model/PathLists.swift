import Foundation

/// A JSON array of container paths as `deleted.files` and `rootfs/implied.dirs` hold them.
public enum ContainerPathList {
    /// Parses and checks a list: a non-empty JSON array of distinct valid container paths.
    public static func parse(_ bytes: [UInt8], entry: String, requirement: String) throws -> [String] {
        let paths = try ContainerPath.parseList(bytes, requirement: requirement, entry: entry)
        guard !paths.isEmpty else { throw CheckpointError(requirement, "the list is empty", entry: entry) }
        var seen = Set<String>()
        for p in paths {
            if let why = ContainerPath.problem(p) {
                throw CheckpointError("CKA-SEC-010", "container path \(p.debugDescription) \(why)", entry: entry)
            }
            guard seen.insert(p).inserted else {
                throw CheckpointError(requirement, "duplicate path \(p.debugDescription)", entry: entry)
            }
        }
        return paths
    }

    /// Reads and checks a list file (at most 64 MiB).
    public static func read(path: String, entry: String, requirement: String) throws -> [String] {
        let data = try Data(contentsOf: URL(fileURLWithPath: path))
        guard data.count <= 64 << 20 else { throw CheckpointError(requirement, "the list is too large", entry: entry) }
        return try parse([UInt8](data), entry: entry, requirement: requirement)
    }

    /// The JSON as the engines write it (`json.MarshalIndent` with two spaces, no final newline).
    public static func encode(_ paths: [String]) -> [UInt8] {
        if paths.isEmpty { return Array("[]".utf8) }
        var out = Array("[\n".utf8)
        for (i, p) in paths.enumerated() {
            out += Array("  ".utf8)
            CanonicalJSON.appendString(p, to: &out)
            if i < paths.count - 1 { out.append(0x2C) }
            out.append(0x0A)
        }
        out.append(0x5D)
        return out
    }
}

/// Lexical checks of link targets.
public enum LinkTargets {
    /// Whether a relative `target` of the link at `link`, resolved lexically from the link's directory,
    /// stays inside `root` (a directory name ending in `/`).
    public static func staysInside(link: String, target: String, root: String) -> Bool {
        guard !target.hasPrefix("/"), !target.isEmpty else { return false }
        var parts = link.split(separator: "/").map(String.init)
        parts.removeLast()
        let rootDepth = root.split(separator: "/").count
        for component in target.split(separator: "/", omittingEmptySubsequences: true) {
            if component == "." { continue }
            if component == ".." {
                if parts.count <= rootDepth { return false }
                parts.removeLast()
            } else {
                parts.append(String(component))
            }
        }
        return parts.count >= rootDepth
    }
}
