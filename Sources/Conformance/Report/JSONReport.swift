import TarFormat

/// The machine report: one JSON object per file, one per line, with the keys `file`, `verdict`, `format`,
/// `profile`, `compression`, `indexDigest` and `diagnostics` (each with `id`, `severity`, `path`, `offset`,
/// `compressedOffset`, `message`; unknown values are null).
public enum JSONReport {
    public static func render(_ r: ValidationReport) -> String {
        func str(_ s: String?) -> String { s.map(JSONObjectWriter.quote) ?? "null" }
        func num(_ n: Int64?) -> String { n.map { String($0) } ?? "null" }
        var o = JSONObjectWriter()
        o.string("file", r.file)
        o.string("verdict", r.verdict.rawValue)
        o.raw("format", str(r.format))
        o.raw("profile", str(r.profile))
        o.raw("compression", str(r.compression))
        o.raw("indexDigest", str(r.indexDigest))
        let items = r.diagnostics.map { d -> String in
            var x = JSONObjectWriter()
            x.string("id", d.id)
            x.string("severity", d.severity.rawValue)
            x.raw("path", str(d.path))
            x.raw("offset", num(d.offset))
            x.raw("compressedOffset", num(d.compressedOffset))
            x.string("message", d.message)
            return x.finish()
        }
        o.raw("diagnostics", "[" + items.joined(separator: ",") + "]")
        return o.finish()
    }
}
