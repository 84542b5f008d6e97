import ByteStreams
import CheckpointArchive
import Conformance
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// What `ckpt-vectors verify` found for one case.
public struct CaseOutcome: Sendable {
    public var id: String
    public var result: String
    /// Failed checks; the case passes when empty.
    public var problems: [String] = []
    /// Facts worth reporting that are no failure (e.g. the IDs found).
    public var notes: [String] = []
    /// The requirement IDs of the validator's findings.
    public var findings: [String] = []
    /// For invalid cases: whether `ckpt extract`'s decoder refused the archive.
    public var extractRefused: Bool?
    /// For invalid cases: `ckpt extract` accepted the archive, and none of its requirements binds decoders.
    public var decoderNotBound = false

    public var passed: Bool { problems.isEmpty }
}

/// What `ckpt-vectors verify` found for the whole corpus.
public struct VerificationReport: Sendable {
    /// Problems of the corpus as a whole (manifest, stale or missing files).
    public var corpusProblems: [String] = []
    public var notes: [String] = []
    public var outcomes: [CaseOutcome] = []

    public var passed: Bool { corpusProblems.isEmpty && outcomes.allSatisfy(\.passed) }

    /// A per-case report: one line per case, details for failures, a summary.
    public func render(verbose: Bool = false) -> String {
        var lines: [String] = []
        for o in outcomes {
            lines.append("\(o.passed ? "ok  " : "FAIL") \(o.id) (\(o.result)\(o.findings.isEmpty ? "" : ": " + o.findings.joined(separator: ", ")))")
            for p in o.problems { lines.append("       \(p)") }
            if verbose { for n in o.notes { lines.append("       note: \(n)") } }
        }
        for p in corpusProblems { lines.append("FAIL corpus: \(p)") }
        for n in notes { lines.append("note: \(n)") }
        let failed = outcomes.filter { !$0.passed }.count
        let notBound = outcomes.filter(\.decoderNotBound).count
        lines.append("\(outcomes.count) vectors: \(outcomes.count - failed) passed, \(failed) failed"
            + (corpusProblems.isEmpty ? "" : "; \(corpusProblems.count) corpus problems")
            + (notBound == 0 ? "" : "; \(notBound) invalid accepted by ckpt extract, decoder not bound"))
        return lines.joined(separator: "\n") + "\n"
    }
}

/// Checks the committed corpus against the generator, the validator and the extractor (CKA-VEC-004 to 007).
public enum CorpusVerifier {
    /// Verifies the corpus under `directory`.
    /// - Parameters:
    ///   - generated: the corpus made in memory (made from the registry when nil).
    ///   - extract: also extract every case (valid and acceptable: compare the tree; invalid: note refusal).
    /// - Throws: when the directory or its manifest cannot be read (a usage or I/O error, not a finding).
    public static func verify(directory: String, generated: GeneratedCorpus? = nil, extract: Bool = true) throws
        -> VerificationReport {
        let corpus = try generated ?? CorpusGenerator.generate()
        var report = VerificationReport()
        let manifestPath = directory + "/manifest.json"
        guard let data = FileManager.default.contents(atPath: manifestPath) else {
            throw VectorError("cannot read \(manifestPath)")
        }
        let committed: VectorManifest
        do {
            committed = try JSONDecoder().decode(VectorManifest.self, from: data)
        } catch {
            throw VectorError("\(manifestPath) does not decode as a manifest: \(error)")
        }
        report.corpusProblems += CommittedCorpus.compare(committed: committed, manifestBytes: [UInt8](data),
                                                        generated: corpus, directory: directory, notes: &report.notes)
        let committedCases = Dictionary(committed.cases.map { ($0.id, $0) }) { a, _ in a }
        for v in corpus.vectors {
            var outcome = CaseOutcome(id: v.entry.id, result: v.entry.result)
            let path = directory + "/" + v.entry.file
            if let c = committedCases[v.entry.id] {
                CommittedCorpus.compareFile(v, committed: c, path: path, into: &outcome)
            } else {
                outcome.problems.append("not in the committed manifest (run ckpt-vectors generate)")
            }
            if FileManager.default.fileExists(atPath: path) {
                validate(v, path: path, into: &outcome)
                if extract { VectorExtraction.check(v, path: path, into: &outcome) }
            }
            report.outcomes.append(outcome)
        }
        return report
    }

    /// Runs the validator on the committed file and compares verdict, findings and index digest.
    static func validate(_ v: GeneratedVector, path: String, into outcome: inout CaseOutcome) {
        var options = ValidatorOptions()
        options.expectedIndexDigest = v.entry.expectIndexDigest
        let source: FileSource
        do { source = try FileSource(path: path) } catch {
            outcome.problems.append("cannot open \(path): \(error)")
            return
        }
        let r = Validator(options: options).validate(file: path, source: source)
        let ids = Set(r.diagnostics.map(\.id))
        outcome.findings = CorpusGenerator.sortedIDs(Array(ids))
        if let io = r.ioError { outcome.problems.append("validator I/O error: \(io)") }
        if r.verdict.rawValue != v.entry.result {
            outcome.problems.append("validator verdict \(r.verdict.rawValue), expected \(v.entry.result)")
        }
        let describe = r.diagnostics.prefix(6).map { "\($0.id) \($0.path ?? "-")@\($0.offset.map(String.init) ?? "-"): \($0.message)" }
        switch v.entry.result {
        case "invalid":
            if ids.isDisjoint(with: v.entry.requirements) {
                outcome.problems.append("CKA-VEC-006: no finding whose ID is in requirements \(v.entry.requirements)")
            }
            if ids != Set(v.entry.requirements) {
                outcome.problems.append("findings \(outcome.findings) differ from requirements \(v.entry.requirements): "
                    + describe.joined(separator: " | "))
            }
            // The report has no malformed field; the validator starts the message of a malformed error with it.
            let malformed = r.diagnostics.first { $0.severity == .error }?.message.hasPrefix("malformed") ?? false
            if malformed, !v.entry.malformed {
                outcome.problems.append("the first error is malformed, the manifest says malformed=false")
            } else if !malformed, v.entry.malformed {
                outcome.notes.append("CKA-GEN-011: the validator does not label the first error malformed")
            }
        case "acceptable":
            if ids != Set(v.entry.requirements) || r.diagnostics.contains(where: { $0.severity == .error }) {
                outcome.problems.append("warnings \(outcome.findings) differ from requirements \(v.entry.requirements): "
                    + describe.joined(separator: " | "))
            }
        default:
            if !r.diagnostics.isEmpty { outcome.problems.append("findings on a valid case: " + describe.joined(separator: " | ")) }
        }
        if let expected = v.entry.indexDigest, let computed = r.indexDigest, expected != computed {
            outcome.problems.append("index digest \(computed), manifest says \(expected)")
        }
        if v.entry.result != "invalid", v.entry.indexDigest != nil, r.indexDigest == nil {
            outcome.problems.append("the validator computed no index digest")
        }
    }
}
