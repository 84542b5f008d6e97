import Conformance
import Foundation

/// Which vectors cover each requirement a validator checks (CKA-VEC-003), and which rule files report it.
public struct Traceability: Sendable {
    /// One V requirement and its vectors.
    public struct Row: Sendable {
        public var requirement: Requirement
        /// `invalid` (or, for SHOULD rules, `acceptable`) cases whose findings include the ID.
        public var breaking: [String]
        /// Those of `breaking` whose findings are exactly this ID (the case breaks only this requirement).
        public var isolated: [String]
        /// `valid` cases listing the ID in `requirements`.
        public var valid: [String]
        /// Source files of the validator that report the ID.
        public var rules: [String]

        public var area: String { RequirementOrder.area(requirement.id) }
        /// Covered by at least one breaking and one valid case.
        public var covered: Bool { !breaking.isEmpty && !valid.isEmpty }
    }

    public var rows: [Row]

    /// Computes the rows from the manifest's cases and the validator's findings per case id.
    /// - Parameters:
    ///   - findings: case id -> IDs of the validator's findings; for `invalid` and `acceptable` cases the manifest's
    ///     `requirements` when nil (`verify` checks that they are equal).
    ///   - ruleFiles: requirement ID -> files of the validator reporting it (`Traceability.ruleFiles`).
    public init(manifest: VectorManifest, findings: [String: [String]]? = nil, ruleFiles: [String: [String]] = [:]) {
        var breaking: [String: [String]] = [:]
        var isolated: [String: [String]] = [:]
        var valid: [String: [String]] = [:]
        for c in manifest.cases {
            if c.result == "valid" {
                for id in c.requirements { valid[id, default: []].append(c.id) }
                continue
            }
            let found = Set(findings?[c.id] ?? c.requirements)
            for id in found { breaking[id, default: []].append(c.id) }
            if found.count == 1, let only = found.first { isolated[only, default: []].append(c.id) }
        }
        rows = RequirementCatalog.checkable.map { r in
            Row(requirement: r, breaking: breaking[r.id] ?? [], isolated: isolated[r.id] ?? [], valid: valid[r.id] ?? [],
                rules: ruleFiles[r.id] ?? [])
        }
    }

    /// The V requirements without a breaking or a valid vector.
    public var uncovered: [Row] { rows.filter { !$0.covered } }

    /// Uncovered requirement IDs by area.
    public var uncoveredByArea: [String: [String]] {
        Dictionary(grouping: uncovered, by: \.area).mapValues { $0.map(\.requirement.id) }
    }

    // MARK: - Sources

    /// Requirement ID -> the files under `roots` (relative to `base`) whose source mentions it as a string literal.
    public static func ruleFiles(base: String, roots: [String] = ["Sources/Conformance/Rules"]) -> [String: [String]] {
        var out: [String: [String]] = [:]
        for (file, ids) in literals(base: base, roots: roots) {
            for id in ids { out[id, default: []].append(file) }
        }
        return out.mapValues { $0.sorted() }
    }

    /// Every requirement ID literal (`"CKA-AREA-NNN"`) in the Swift sources under `roots`: the IDs the validator
    /// and the decoder it runs can report.
    public static func emittableIDs(base: String, roots: [String] = ["Sources/Conformance", "Sources/CheckpointArchive"])
        -> Set<String> {
        Set(literals(base: base, roots: roots).flatMap(\.value))
    }

    static func literals(base: String, roots: [String]) -> [String: Set<String>] {
        let pattern = try! NSRegularExpression(pattern: "\"(CKA-[A-Z0-9]+-[0-9]{3})\"")
        var out: [String: Set<String>] = [:]
        for root in roots {
            guard let walker = FileManager.default.enumerator(atPath: base + "/" + root) else { continue }
            for case let rel as String in walker where rel.hasSuffix(".swift") {
                guard let text = try? String(contentsOfFile: base + "/" + root + "/" + rel, encoding: .utf8) else { continue }
                let range = NSRange(text.startIndex..., in: text)
                let ids = pattern.matches(in: text, range: range).compactMap { m in
                    Range(m.range(at: 1), in: text).map { String(text[$0]) }
                }
                if !ids.isEmpty { out[root + "/" + rel, default: []].formUnion(ids) }
            }
        }
        return out
    }
}
