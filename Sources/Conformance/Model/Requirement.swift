/// How serious a broken requirement is (CKA-GEN-003): MUST gives an error, SHOULD a warning.
public enum Severity: String, Sendable, Comparable, CaseIterable {
    case warning
    case error

    public static func < (a: Severity, b: Severity) -> Bool { a == .warning && b == .error }
}

/// One requirement of the specification.
public struct Requirement: Sendable, Equatable {
    /// `CKA-AREA-NNN`.
    public var id: String
    /// The conformance classes, e.g. `E,D,V`.
    public var classes: String
    /// The severity a validator reports, for requirements marked V; nil otherwise.
    public var severity: Severity?
    /// A one-line summary from the specification.
    public var summary: String
    /// The specification file that defines it.
    public var part: String

    /// Whether a validator checks it from the archive bytes.
    public var isCheckable: Bool { classes.split(separator: ",").contains("V") }
}

extension RequirementCatalog {
    private static let byID: [String: Requirement] = Dictionary(uniqueKeysWithValues: all.map { ($0.id, $0) })

    /// The requirement with this ID.
    public static func requirement(_ id: String) -> Requirement? { byID[id] }

    /// The requirements a validator checks.
    public static var checkable: [Requirement] { all.filter(\.isCheckable) }
}

/// A verdict for one archive, as the specification defines them (part 1).
public enum Verdict: String, Sendable, CaseIterable {
    /// The archive follows every requirement.
    case valid
    /// The archive breaks a MUST requirement or cannot be decoded (malformed).
    case invalid
    /// The archive is valid but breaks a SHOULD requirement.
    case acceptable
}
