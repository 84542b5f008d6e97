/// Collects the diagnostics of one archive: severity comes from the requirement catalogue (CKA-GEN-003),
/// each requirement reports at most `capPerRule` findings (and one more saying how many were left out),
/// and every requirement whose rule ran is recorded for the JUnit report.
public final class DiagnosticCollector {
    public let capPerRule: Int
    public private(set) var diagnostics: [Diagnostic] = []
    private var counts: [String: Int] = [:]
    private(set) var checked: [String] = []
    private var checkedSet = Set<String>()
    /// For a compressed archive: the archive offset of the gzip member or zstd frame holding a tar-stream
    /// offset (set by the engine from the decoder's member starts, see `FrameTracker`).
    public var locate: ((Int64) -> Int64?)?

    public init(capPerRule: Int = 20) { self.capPerRule = capPerRule }

    /// Records that the rules of these requirements ran.
    public func ran(_ ids: String...) { for id in ids where checkedSet.insert(id).inserted { checked.append(id) } }

    /// Reports a broken requirement. Requirements not in the catalogue, or without V, are programming errors
    /// and reported as such (so a test finds them).
    /// - Parameters:
    ///   - offset: where in the uncompressed tar stream the finding was detected.
    ///   - compressedOffset: where in the archive file, when the caller knows; otherwise `locate(offset)`.
    public func report(_ id: String, _ message: String, path: String? = nil, offset: Int64? = nil,
                       compressedOffset: Int64? = nil) {
        ran(id)
        let requirement = RequirementCatalog.requirement(id)
        let severity = requirement?.severity ?? .error
        let n = counts[id, default: 0] + 1
        counts[id] = n
        if n > capPerRule {
            if n == capPerRule + 1 {
                diagnostics.append(Diagnostic(id: id, severity: severity, message:
                    "more findings of \(id) left out (at most \(capPerRule) are reported per requirement)"))
            }
            return
        }
        var text = message
        if requirement == nil { text = "(requirement not in the specification) " + text }
        var compressed = compressedOffset
        if compressed == nil, let offset, let located = locate?(offset) {
            compressed = located
            locatedIndices.append(diagnostics.count)
        }
        diagnostics.append(Diagnostic(id: id, severity: severity, path: path, offset: offset,
                                      compressedOffset: compressed, message: text))
    }

    /// The diagnostics whose compressed offset came from `locate`.
    private var locatedIndices: [Int] = []

    /// How many findings a requirement produced (including those left out).
    public func count(_ id: String) -> Int { counts[id, default: 0] }

    /// Drops the compressed offsets `locate` gave (the archive turned out not to be framed: a single member
    /// holds the whole stream, so the offset says nothing). Offsets the reporter gave stay (where decoding
    /// failed, for example).
    func forgetLocatedOffsets() {
        for i in locatedIndices { diagnostics[i].compressedOffset = nil }
        locatedIndices.removeAll()
    }
}
