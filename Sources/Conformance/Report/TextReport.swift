/// The report for people: per file a verdict line and its findings grouped by requirement, then a summary.
public enum TextReport {
    public static func render(_ reports: [ValidationReport]) -> String {
        var out: [String] = []
        for r in reports {
            var what = join([r.format, r.profile, r.compression].compactMap { $0 }, ", ")
            if let reason = r.profileReason { what += "; \(reason)" }
            out.append("\(r.file): \(r.verdict.rawValue.uppercased())\(what.isEmpty ? "" : " (\(what))")")
            var order: [String] = []
            var groups: [String: [Diagnostic]] = [:]
            for d in r.diagnostics {
                if groups[d.id] == nil { order.append(d.id) }
                groups[d.id, default: []].append(d)
            }
            for id in order {
                let list = groups[id]!
                let summary = RequirementCatalog.requirement(id)?.summary ?? ""
                out.append("  \(list[0].severity == .error ? "error" : "warning") \(id): \(summary)")
                for d in list {
                    var loc: [String] = []
                    if let p = d.path { loc.append("entry \(shown(p))") }
                    if let o = d.offset { loc.append("offset \(o)") }
                    if let c = d.compressedOffset { loc.append("compressed offset \(c)") }
                    out.append("    \(loc.isEmpty ? "" : join(loc, ", ") + ": ")\(d.message)")
                }
            }
            if let digest = r.indexDigest { out.append("  index digest \(digest)") }
        }
        // Counted in a loop: a dictionary keyed by verdict would be the run's only one, and the first use of a
        // generic type costs the runtime a search of every protocol conformance in the binary (0.1 ms).
        func count(_ v: Verdict) -> Int { reports.reduce(0) { $0 + ($1.verdict == v ? 1 : 0) } }
        out.append("\(reports.count) file\(reports.count == 1 ? "" : "s"): \(count(.valid)) valid, "
                   + "\(count(.acceptable)) acceptable, \(count(.invalid)) invalid")
        return join(out, "\n")
    }

    /// `parts.joined(separator:)`, in code specialised for arrays of strings: the standard library's version runs
    /// unspecialised here, and its look-up of an associated type at run time is a search of every protocol
    /// conformance in the binary the first time (some 150,000 instructions, on every run of `ckpt-validate`).
    static func join(_ parts: [String], _ separator: String) -> String {
        var out = ""
        out.reserveCapacity(parts.reduce(0) { $0 + $1.utf8.count + separator.utf8.count })
        for (i, part) in parts.enumerated() {
            if i > 0 { out += separator }
            out += part
        }
        return out
    }

    /// Entry names longer than this many bytes are shown by their start and end (a hostile archive's names reach
    /// 64 KiB); the JSON and JUnit reports carry them whole.
    static let longestShownName = 240

    /// The entry name quoted, or its first and last bytes (whole characters) and its length when it is longer than
    /// `longestShownName`.
    static func shown(_ path: String) -> String {
        let length = path.utf8.count
        guard length > longestShownName else { return "'\(path)'" }
        var head = "", tail = ""
        var used = 0
        for c in path {
            used += c.utf8.count
            if used > longestShownName * 2 / 3 { break }
            head.append(c)
        }
        used = 0
        for c in path.reversed() {
            used += c.utf8.count
            if used > longestShownName / 3 { break }
            tail.insert(c, at: tail.startIndex)
        }
        return "'\(head)...\(tail)' (\(length) bytes)"
    }
}
