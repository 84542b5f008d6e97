/// Case constructors for the minimal v1 Podman archive (`V1MiniArchive`) of the tar-layer and hostile vectors,
/// named apart from those of the full v1 corpus.
extension VectorCase {
    /// A `valid` (or `acceptable`) v1 Podman case built by `make`, with the tree the archive stands for.
    static func v1Mini(_ id: String, _ description: String, result: Result = .valid, requirements: [String] = [],
                       flags: [VectorFlag] = [], base: String? = nil, _ make: @escaping () -> V1MiniArchive) -> VectorCase {
        VectorCase(id: id, description: description, result: result, requirements: requirements,
                   flags: flags + [.legacyProfile], format: .v1, profile: .podman, base: base) {
            let a = make()
            return VectorArchive(bytes: try a.build(), tree: a.tree())
        }
    }

    /// An `invalid` (or `acceptable`, with a tree) v1 Podman case: `mutate` applied to `start()`, the case `base`.
    static func v1MiniInvalid(_ id: String, _ description: String, result: Result = .invalid,
                              breaks requirements: [String], flags: [VectorFlag] = [], base: String = V1MiniArchive.baseID,
                              from start: @escaping () -> V1MiniArchive = { V1MiniArchive() }, malformed: Bool = false,
                              _ mutate: @escaping (inout V1MiniArchive) throws -> Void) -> VectorCase {
        VectorCase(id: id, description: description, result: result, requirements: requirements,
                   flags: flags + [.legacyProfile], format: .v1, profile: .podman, base: base, malformed: malformed) {
            var a = start()
            try mutate(&a)
            return VectorArchive(bytes: try a.build(), tree: result == .invalid ? nil : a.tree())
        }
    }

    /// An `invalid` v1 Podman case whose archive file is changed after it was built from `start()`.
    static func v1MiniBytes(_ id: String, _ description: String, breaks requirements: [String], flags: [VectorFlag] = [],
                            base: String = V1MiniArchive.baseID,
                            from start: @escaping () -> V1MiniArchive = { V1MiniArchive() }, malformed: Bool = false,
                            _ change: @escaping (inout [UInt8], V1MiniArchive) throws -> Void) -> VectorCase {
        VectorCase(id: id, description: description, result: .invalid, requirements: requirements,
                   flags: flags + [.legacyProfile], format: .v1, profile: .podman, base: base, malformed: malformed) {
            let a = start()
            var bytes = try a.build()
            try change(&bytes, a)
            return VectorArchive(bytes: bytes)
        }
    }
}
