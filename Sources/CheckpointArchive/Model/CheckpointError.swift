/// A checkpoint archive or unpacked directory that breaks a requirement of the specification.
///
/// Every error names the requirement (`CKA-AREA-NNN`), the entry when there is one, and the byte offset
/// in the uncompressed tar stream when it comes from an archive.
public struct CheckpointError: Error, Equatable, CustomStringConvertible {
    /// The requirement ID broken, e.g. `CKA-SEC-002`.
    public var requirement: String
    /// A one-line explanation a person understands.
    public var message: String
    /// The entry (or unpacked path) concerned.
    public var entry: String?
    /// Offset in the uncompressed tar stream, when known.
    public var offset: Int64?

    public init(_ requirement: String, _ message: String, entry: String? = nil, offset: Int64? = nil) {
        self.requirement = requirement
        self.message = message
        self.entry = entry
        self.offset = offset
    }

    public var description: String {
        var s = "[\(requirement)] \(message)"
        if let entry { s += " (entry '\(entry)')" }
        if let offset { s += " at byte offset \(offset)" }
        return s
    }
}
