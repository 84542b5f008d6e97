import Foundation

/// What `ckpt-vectors run` found for one vector and one program (the decoder, or the encoder round trip).
public struct RunOutcome: Sendable {
    /// Which program the check ran.
    public enum Role: String, Sendable {
        case decoder
        case encoder
    }

    public var id: String
    public var tcId: Int
    public var format: String
    public var result: String
    public var role: Role
    /// What happened, in a few words (`refused (exit status 1)`, `tree equal`).
    public var summary = ""
    /// Why the case failed; it passes when empty.
    public var problems: [String] = []
    /// Why the case was not run, when it was not.
    public var skipped: String?
    /// Facts worth reporting that are no failure.
    public var notes: [String] = []
    /// The tail of the program's output, kept for failures.
    public var output = ""
    /// Seconds the program ran.
    public var duration: Double = 0

    public var passed: Bool { problems.isEmpty }

    /// The report line and, for failures, the details.
    public func render(verbose: Bool) -> [String] {
        let status = skipped != nil ? "skip" : passed ? "ok  " : "FAIL"
        let role = self.role == .encoder ? " [encoder]" : ""
        var lines = ["\(status) \(id)\(role) (\(result)): \(skipped ?? summary)"]
        for p in problems { lines.append("       \(p)") }
        if !passed, !output.isEmpty {
            lines.append("       output: " + output.split(separator: "\n").suffix(6).joined(separator: "\n               "))
        }
        if verbose { for n in notes { lines.append("       note: \(n)") } }
        return lines
    }
}

/// Every outcome of a run, and the summary.
public struct RunReport: Sendable {
    public var outcomes: [RunOutcome] = []
    /// Wall-clock seconds for the whole run.
    public var duration: Double = 0

    public init(outcomes: [RunOutcome] = [], duration: Double = 0) {
        self.outcomes = outcomes
        self.duration = duration
    }

    /// True when no case failed (skipped cases do not fail).
    public var passed: Bool { outcomes.allSatisfy(\.passed) }

    /// The summary lines, one per role that ran.
    public var summary: [String] {
        var lines: [String] = []
        for role in [RunOutcome.Role.decoder, .encoder] {
            let mine = outcomes.filter { $0.role == role }
            guard !mine.isEmpty else { continue }
            let skipped = mine.filter { $0.skipped != nil }.count
            let failed = mine.filter { !$0.passed }.count
            var line = "\(role.rawValue): \(mine.count) vectors: \(mine.count - failed - skipped) passed, \(failed) failed, "
                + "\(skipped) skipped"
            if role == .decoder {
                let notBound = mine.filter { $0.summary.hasPrefix("accepted") && $0.passed }.count
                if notBound > 0 { line += "; \(notBound) invalid accepted where no rule binds decoders" }
            }
            lines.append(line)
        }
        lines.append(String(format: "ran in %.1f s", duration))
        return lines
    }
}
