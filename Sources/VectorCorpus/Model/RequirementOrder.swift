import Conformance

/// The order of requirement IDs in the specification (RequirementCatalog order; unknown IDs last).
public enum RequirementOrder {
    private static let index: [String: Int] = Dictionary(
        uniqueKeysWithValues: RequirementCatalog.all.enumerated().map { ($0.element.id, $0.offset) })

    /// The position of `id` in the specification.
    public static func rank(_ id: String) -> Int { index[id] ?? Int.max }

    /// The area of an ID: `CKA-IDX-005` -> `IDX`.
    public static func area(_ id: String) -> String {
        let parts = id.split(separator: "-")
        return parts.count == 3 ? String(parts[1]) : id
    }
}
