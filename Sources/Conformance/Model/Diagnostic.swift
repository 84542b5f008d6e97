/// One finding of the validator: which requirement, how serious, where, and why.
public struct Diagnostic: Sendable, Equatable {
    /// The requirement ID broken (`CKA-AREA-NNN`).
    public var id: String
    public var severity: Severity
    /// The entry (its name as stored), when the finding concerns one.
    public var path: String?
    /// Byte offset in the uncompressed tar stream.
    public var offset: Int64?
    /// Byte offset in the compressed file, when the archive is framed and it is known.
    public var compressedOffset: Int64?
    /// A one-line explanation a person understands.
    public var message: String

    public init(id: String, severity: Severity, path: String? = nil, offset: Int64? = nil,
                compressedOffset: Int64? = nil, message: String) {
        self.id = id
        self.severity = severity
        self.path = path
        self.offset = offset
        self.compressedOffset = compressedOffset
        self.message = message
    }
}

/// What the validator found in one archive.
public struct ValidationReport: Sendable {
    /// The file as named on the command line (`-` for standard input).
    public var file: String
    /// `v1` or `v2`, when the archive could be read far enough to tell.
    public var format: String?
    /// The profile (`podman`, `cri-o`, `containerd`, `generic`), when known.
    public var profile: String?
    /// Why that profile was chosen (the detection evidence), for people.
    public var profileReason: String?
    /// `none`, `gzip`, `zstd`, or the refused method.
    public var compression: String?
    /// Every finding, in the order found.
    public var diagnostics: [Diagnostic]
    /// The requirement IDs whose rules ran on this archive (for JUnit test cases).
    public var checked: [String]
    /// v2: the computed index digest.
    public var indexDigest: String?
    /// A read failure of the file itself (not a finding about the archive): the run is an I/O error.
    public var ioError: String?

    public init(file: String) {
        self.file = file
        diagnostics = []
        checked = []
    }

    /// invalid with any error, acceptable with only warnings, valid otherwise.
    public var verdict: Verdict {
        if diagnostics.contains(where: { $0.severity == .error }) { return .invalid }
        if diagnostics.contains(where: { $0.severity == .warning }) { return .acceptable }
        return .valid
    }
}
