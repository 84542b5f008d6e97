/// Collects the diagnostics of one archive: severity comes from the requirement catalogue (CKA-GEN-003),
/// each requirement reports at most `capPerRule` findings (and one more saying how many were left out),
/// and every requirement whose rule ran is recorded for the JUnit report.
public final class DiagnosticCollector {
    public let capPerRule: Int
    public private(set) var diagnostics: [Diagnostic] = []
    private var counts: [String: Int] = [:]
    private(set) var checked: [String] = []
    private var checkedSet = Set<String>()
    /// Archive offset of the current frame, for framed archives (set by the engine when known).
    var compressedOffset: Int64?

    public init(capPerRule: Int = 20) { self.capPerRule = capPerRule }

    /// Records that the rules of these requirements ran.
    public func ran(_ ids: String...) { for id in ids where checkedSet.insert(id).inserted { checked.append(id) } }

    /// Reports a broken requirement. Requirements not in the catalogue, or without V, are programming errors
    /// and reported as such (so a test finds them).
    public func report(_ id: String, _ message: String, path: String? = nil, offset: Int64? = nil) {
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
        diagnostics.append(Diagnostic(id: id, severity: severity, path: path, offset: offset,
                                      compressedOffset: compressedOffset, message: text))
    }

    /// How many findings a requirement produced (including those left out).
    public func count(_ id: String) -> Int { counts[id, default: 0] }
}
