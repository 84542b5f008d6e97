import Conformance

/// Which requirements bind decoders: those whose class list names `D` (CKA-GEN-002). A decoder must refuse an
/// archive that breaks an error-severity D rule (CKA-GEN-006, CKA-GEN-007); a rule marked only E and V binds
/// encoders and validators, and a decoder that accepts an archive breaking only such rules conforms.
public enum DecoderBinding {
    /// The IDs among `requirements` whose class list names D, in the order given.
    public static func decoderRules(_ requirements: [String]) -> [String] {
        requirements.filter { RequirementCatalog.requirement($0)?.classes.split(separator: ",").contains("D") == true }
    }

    /// Whether an invalid case must be refused by every decoder: some requirement it breaks binds decoders.
    public static func mustRefuse(_ requirements: [String]) -> Bool { !decoderRules(requirements).isEmpty }
}
