/// The ids of the valid v1 cases that the invalid and acceptable ones start from.
public enum V1Base {
    /// A typical Podman checkpoint as `podman container checkpoint --export --compress none` writes it.
    public static let podman = "v1-podman"
    /// A CRI-O checkpoint as kubelet's checkpoint API makes CRI-O write it.
    public static let crio = "v1-crio"
    /// A containerd checkpoint as its CRI `CheckpointContainer` writes it (modes tightened to 0600).
    public static let containerd = "v1-containerd"
}

extension VectorCase {
    /// A `valid` (or `acceptable`) v1 case built by `make`; its expected tree is derived from the same description
    /// (`ExpectedTree.v1`) and its profile by the rule of CKA-V1-019. Every v1 case carries `LegacyProfile`.
    /// - Parameter requirements: the rules the case shows being met (valid) or the SHOULD rules it breaks
    ///   (acceptable).
    public static func v1(_ id: String, _ description: String, result: Result = .valid, requirements: [String] = [],
                          flags: [VectorFlag] = [], base: String? = nil,
                          _ make: @escaping () -> V1TestArchive) -> VectorCase {
        let archive = make()
        return VectorCase(id: id, description: description, result: result, requirements: requirements,
                          flags: Array(Set(flags + [.legacyProfile])).sorted(), format: .v1,
                          profile: Profile(rawValue: archive.profile.rawValue) ?? .generic, base: base) {
            let a = make()
            return VectorArchive(bytes: try a.build(), tree: ExpectedTree.v1(a))
        }
    }

    /// An `invalid` (or, with `result: .acceptable`, an acceptable) v1 case: `mutate` applied to `start()`, which is
    /// the valid case `base`.
    /// - Parameter requirements: exactly the IDs the validator reports for the archive.
    public static func v1Changed(_ id: String, _ description: String, result: Result = .invalid,
                                 breaks requirements: [String], flags: [VectorFlag] = [], base: String,
                                 from start: @escaping () -> V1TestArchive, malformed: Bool = false,
                                 _ mutate: @escaping (inout V1TestArchive) -> Void) -> VectorCase {
        var archive = start()
        mutate(&archive)
        return VectorCase(id: id, description: description, result: result, requirements: requirements,
                          flags: Array(Set(flags + [.legacyProfile])).sorted(), format: .v1,
                          profile: Profile(rawValue: archive.profile.rawValue) ?? .generic, base: base,
                          malformed: malformed) {
            var a = start()
            mutate(&a)
            return VectorArchive(bytes: try a.build(), tree: result == .invalid ? nil : ExpectedTree.v1(a))
        }
    }
}
