/// Container paths named by metadata (`deleted.files`, `rootfs/implied.dirs`, `bind.mounts` destinations),
/// checked like entry names (CKA-SEC-010, podman#27977).
public enum ContainerPath {
    /// Longest container path accepted (CKA-SEC-010).
    public static let maxLength = 4096

    /// Why `path` is not a valid container path under CKA-SEC-010, or nil when it is: it must start with
    /// `/`, not be `/` alone, have no empty, `.` or `..` component and no trailing `/`, contain no NUL and be
    /// at most 4096 bytes long (Swift strings are always valid UTF-8).
    public static func problem(_ path: String) -> String? {
        let b = Array(path.utf8)
        if b.isEmpty { return "empty path" }
        if b.count > maxLength { return "longer than \(maxLength) bytes" }
        if b.contains(0) { return "contains a NUL byte" }
        if b[0] != 0x2F { return "does not start with '/'" }
        if b.count == 1 { return "is '/' itself" }
        if b.last == 0x2F { return "ends with '/'" }
        for part in b.dropFirst().split(separator: 0x2F, omittingEmptySubsequences: false) {
            if part.isEmpty { return "has an empty component ('//')" }
            if part.elementsEqual([0x2E]) { return "has a '.' component" }
            if part.elementsEqual([0x2E, 0x2E]) { return "has a '..' component" }
        }
        return nil
    }

    /// Throws a CKA-SEC-010 error when `path` is not a valid container path.
    /// - Parameter entry: the metadata file the path comes from (e.g. `rootfs/deleted.files`).
    public static func check(_ path: String, entry: String? = nil, offset: Int64? = nil) throws {
        if let why = problem(path) {
            throw CheckpointError("CKA-SEC-010", "container path \(quoted(path)) \(why)", entry: entry, offset: offset)
        }
    }

    /// The components of a valid container path (`/usr/lib` -> `["usr", "lib"]`).
    static func components(_ path: String) -> [[UInt8]] {
        path.utf8.split(separator: 0x2F).map { Array($0) }
    }

    /// Parses a JSON array of strings (the grammar of `deleted.files`, 4.8) strictly (RFC 8259, UTF-8 only,
    /// nothing after the closing bracket). Elements are not checked here; `check` does that.
    /// - Throws: a `CheckpointError` with `requirement` when the bytes are not such an array (CKA-SEC-010 when
    ///   a string is not valid UTF-8).
    public static func parseList(_ bytes: [UInt8], requirement: String, entry: String? = nil,
                                 offset: Int64? = nil) throws -> [String] {
        let value: V1JSON.Value
        do { value = try V1JSON.parse(bytes) } catch let e as V1JSON.ParseError {
            let id = e.reason.contains("UTF-8") ? "CKA-SEC-010" : requirement
            throw CheckpointError(id, "not a valid JSON text: \(e)", entry: entry, offset: offset)
        }
        guard case let .array(items) = value else {
            throw CheckpointError(requirement, "must be a JSON array of strings, not \(value.typeName)", entry: entry,
                                  offset: offset)
        }
        return try items.map { item in
            guard let s = item.stringValue else {
                throw CheckpointError(requirement, "holds a \(item.typeName) where a path string belongs", entry: entry,
                                      offset: offset)
            }
            return s
        }
    }

    /// A path quoted for a message, with control characters escaped.
    public static func quoted(_ s: String) -> String { String(decoding: V1JSON.goQuoted(s), as: UTF8.self) }
}

import FoundationEssentials

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
