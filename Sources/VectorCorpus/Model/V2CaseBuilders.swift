import Compression

/// The ids of the valid cases that invalid cases most often start from.
public enum VectorBase {
    /// The worked example of part 10, uncompressed (`V2TestArchive()`).
    public static let workedExample = "v2-worked-example"
}

extension VectorCase {
    /// A `valid` (or `acceptable`) v2 case built by `make`; its expected tree is derived from the same
    /// description (`ExpectedTree.v2`).
    /// - Parameters:
    ///   - requirements: the rules the case shows being met (valid) or the SHOULD rules it breaks (acceptable).
    public static func v2(_ id: String, _ description: String, result: Result = .valid, requirements: [String] = [],
                          flags: [VectorFlag] = [], base: String? = nil, indexPin: IndexPin? = nil,
                          _ make: @escaping () -> V2TestArchive) -> VectorCase {
        let archive = make()
        return VectorCase(id: id, description: description, result: result, requirements: requirements, flags: flags,
                          format: .v2, profile: Profile(rawValue: archive.profile) ?? .generic, base: base,
                          framed: archive.framed && archive.compression != .none, indexPin: indexPin) {
            let a = make()
            return VectorArchive(bytes: try a.build().file, tree: ExpectedTree.v2(a))
        }
    }

    /// An `invalid` v2 case: `mutate` applied to `start()` (the worked example unless given), which is the case
    /// `base`.
    /// - Parameter requirements: exactly the IDs the validator reports for the archive.
    public static func v2Invalid(_ id: String, _ description: String, breaks requirements: [String],
                                 flags: [VectorFlag] = [], base: String = VectorBase.workedExample,
                                 from start: @escaping () -> V2TestArchive = { V2TestArchive() },
                                 malformed: Bool = false, indexPin: IndexPin? = nil,
                                 _ mutate: @escaping (inout V2TestArchive) -> Void) -> VectorCase {
        var archive = start()
        mutate(&archive)
        return VectorCase(id: id, description: description, result: .invalid, requirements: requirements,
                          flags: flags, format: .v2, profile: Profile(rawValue: archive.profile) ?? .generic,
                          base: base, framed: archive.framed && archive.compression != .none, malformed: malformed,
                          indexPin: indexPin) {
            var a = start()
            mutate(&a)
            return VectorArchive(bytes: try a.build().file)
        }
    }

    /// An `invalid` (or `acceptable`) v2 case whose archive file is changed after it was built from `start()`.
    public static func v2Bytes(_ id: String, _ description: String, result: Result = .invalid,
                               breaks requirements: [String], flags: [VectorFlag] = [],
                               base: String = VectorBase.workedExample,
                               from start: @escaping () -> V2TestArchive = { V2TestArchive() },
                               framed: Bool? = nil, malformed: Bool = false, indexPin: IndexPin? = nil,
                               _ change: @escaping (inout [UInt8], V2Built) throws -> Void) -> VectorCase {
        let archive = start()
        return VectorCase(id: id, description: description, result: result, requirements: requirements,
                          flags: flags, format: .v2, profile: Profile(rawValue: archive.profile) ?? .generic,
                          base: base, framed: framed ?? (archive.framed && archive.compression != .none),
                          malformed: malformed, indexPin: indexPin) {
            let a = start()
            let built = try a.build()
            var bytes = built.file
            try change(&bytes, built)
            return VectorArchive(bytes: bytes, tree: result == .invalid ? nil : ExpectedTree.v2(a))
        }
    }
}

extension V2TestArchive {
    /// The worked example with `change` applied (for `start:` arguments and variants).
    public static func workedExample(_ change: (inout V2TestArchive) -> Void) -> V2TestArchive {
        var a = V2TestArchive()
        change(&a)
        return a
    }

    /// The worked example compressed with `compression`, framed or not.
    public static func compressed(_ compression: CompressionFormat, framed: Bool) -> V2TestArchive {
        workedExample {
            $0.compression = compression
            $0.framed = framed
        }
    }
}
