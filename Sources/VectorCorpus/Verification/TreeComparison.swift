/// Equality of unpacked directories (CKA-DIR-012) between an expected tree and a scanned one: the same paths and,
/// for each, type, permission bits, numeric owner, link target, device numbers, xattrs and content; hard-linked
/// names hard-linked in both. `cka-index.json` is never compared.
public enum TreeComparison {
    /// The differences, one line each (empty when the trees are equal).
    /// - Parameter compareOwners: false when the extraction could not restore owners (not privileged).
    public static func differences(expected: [TreeEntry], actual: [TreeEntry], compareOwners: Bool = true) -> [String] {
        // Keyed by the path's bytes (names differing only by Unicode normalisation are distinct, CKA-SEC-024).
        let want = Dictionary(TreeScanner.normalized(expected.filter { $0.path != "cka-index.json" })
            .map { (Array($0.path.utf8), $0) }) { a, _ in a }
        let have = Dictionary(actual.map { (Array($0.path.utf8), $0) }) { a, _ in a }
        var out: [String] = []
        for key in Set(want.keys).union(have.keys).sorted(by: { $0.lexicographicallyPrecedes($1) }) {
            let path = String(decoding: key, as: UTF8.self)
            switch (want[key], have[key]) {
            case let (w?, h?):
                var a = w
                var b = h
                if !compareOwners {
                    (a.uid, a.gid, b.uid, b.gid) = (0, 0, 0, 0)
                }
                if a.xattrs?.isEmpty == true { a.xattrs = nil }
                if b.xattrs?.isEmpty == true { b.xattrs = nil }
                if a != b { out.append("\(path): expected \(a), extracted \(b)") }
            case let (w?, nil):
                out.append("\(path): missing (expected \(w))")
            case let (nil, h?):
                out.append("\(path): unexpected \(h)")
            case (nil, nil):
                break
            }
        }
        return out
    }
}
