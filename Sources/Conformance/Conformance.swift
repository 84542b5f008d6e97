import CheckpointArchive

/// A validator verdict for one archive, as the specification defines them.
public enum Verdict: String, Sendable, CaseIterable {
    /// The archive follows every requirement.
    case valid
    /// The archive breaks a MUST requirement or cannot be decoded.
    case invalid
    /// The archive is valid but breaks a SHOULD requirement.
    case acceptable
}
