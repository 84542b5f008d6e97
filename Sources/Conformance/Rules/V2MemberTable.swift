/// The members a JSON object of a table may have, in canonical order.
struct V2MemberTable {
    let names: [String]
    let optional: Set<String>

    init(_ names: [String], optional: Set<String> = []) {
        self.names = names
        self.optional = optional
    }

    /// What is wrong with an object's member names: unknown members (not `x-`, CKA-GEN-014), and a
    /// description of missing, repeated or misordered members (nil when none).
    func problems(_ keys: [String], required: Set<String>? = nil) -> (unknown: [String], layout: String?) {
        // The usual case, checked without building sets: known members in table order, each required one present.
        var last = -1
        var found = 0
        var fine = true
        for k in keys {
            guard let i = names.firstIndex(of: k), i > last else {
                fine = false
                break
            }
            last = i
            if required.map({ $0.contains(k) }) ?? !optional.contains(k) { found += 1 }
        }
        if fine, found == (required?.count ?? names.count - optional.count) { return ([], nil) }
        let unknown = keys.filter { !names.contains($0) && !$0.hasPrefix("x-") }
        let known = keys.filter { names.contains($0) }
        var seen = Set<String>()
        let repeated = known.filter { !seen.insert($0).inserted }
        let needed = required ?? Set(names).subtracting(optional)
        let missing = names.filter { needed.contains($0) && !seen.contains($0) }
        let positions = known.compactMap { names.firstIndex(of: $0) }
        let ordered = zip(positions, positions.dropFirst()).allSatisfy { $0 < $1 }
        var parts: [String] = []
        if !missing.isEmpty { parts.append("missing \(missing.joined(separator: ", "))") }
        if !repeated.isEmpty { parts.append("repeated \(Set(repeated).sorted().joined(separator: ", "))") }
        if repeated.isEmpty, !ordered { parts.append("members not in the order \(names.joined(separator: ", "))") }
        return (unknown, parts.isEmpty ? nil : parts.joined(separator: "; "))
    }
}
