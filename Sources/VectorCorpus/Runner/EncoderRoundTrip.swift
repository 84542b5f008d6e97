import ByteStreams
import Conformance
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// The encoder half of `ckpt-vectors run`, for every valid vector: our decoder unpacks the vector, the encoder
/// under test (`CMD {dir} {archive}`) writes an archive from that directory, our validator must find the archive
/// `valid` (CKA-GEN-005), and our decoder must unpack it to the vector's tree again (CKA-DIR-012, `cka-header.json`
/// on `profile` and the `sections` present in the unpacked directory: a section of unknown kind is not unpacked,
/// so no encoder can write it again). The encoder runs with the same deadline and limits as a decoder, in a fresh
/// sentinel parent for `{archive}`, and must change nothing but `{archive}` (the unpacked directory included).
struct EncoderRoundTrip {
    let runner: VectorRunner
    let workspace: RunWorkspace

    func run(_ encoder: CommandTemplate, group: ManifestGroup, test: ManifestCase) -> RunOutcome {
        var o = RunOutcome(id: test.id, tcId: test.tcId, format: group.format, result: test.result, role: .encoder)
        let privileged = geteuid() == 0
        let vector = runner.options.vectors + "/" + test.file
        do {
            let dir = try workspace.makeCase(test.tcId, sentinelParents: ["out"])
            defer { workspace.removeCase(dir) }
            let source = dir + "/source"
            try FileManager.default.createDirectory(atPath: source, withIntermediateDirectories: false)
            let unpacked = source + "/unpacked"
            do {
                try VectorExtraction.extract(vector, to: unpacked, expectIndexDigest: test.expectIndexDigest,
                                             devices: privileged)
            } catch {
                o.skipped = "our decoder cannot unpack the vector here: \(error)"
                return o
            }
            let archive = dir + "/out/archive.tar"
            let command = encoder.render(["dir": unpacked, "archive": archive])
            o.notes.append("command: \(command)")
            let excluded = "\(test.tcId)/out/archive.tar"
            let before = DirectorySnapshot.take(workspace.root, excluding: [excluded])
            let r = try ChildProcess.run(command, in: dir + "/out", limits: runner.options.limits,
                                         logDirectory: workspace.logs)
            o.duration = r.duration
            o.output = r.output
            o.problems += VectorRunner.runProblems(r, program: "encoder")
            for change in before.changes(to: DirectorySnapshot.take(workspace.root, excluding: [excluded])).prefix(8) {
                o.problems.append("wrote outside {archive} or changed {dir}: \(change)")
            }
            guard case let .exited(status) = r.termination, status != 126, status != 127 else {
                o.summary = "\(r.termination)"
                return o
            }
            guard status == 0 else {
                o.summary = "the encoder failed (exit status \(status))"
                o.problems.append("the encoder failed on a valid unpacked directory (exit status \(status))")
                return o
            }
            guard RunWorkspace.type(at: archive) == S_IFREG else {
                o.summary = "no archive"
                o.problems.append("the encoder exited 0 but {archive} is not a regular file")
                return o
            }
            let verdict = validate(archive)
            if let problem = verdict.problem {
                o.summary = "the validator says \(verdict.text)"
                o.problems.append(problem)
                return o
            }
            let back = dir + "/back"
            try FileManager.default.createDirectory(atPath: back, withIntermediateDirectories: false)
            do {
                try VectorExtraction.extract(archive, to: back + "/unpacked", expectIndexDigest: nil, devices: privileged)
            } catch {
                o.summary = "our decoder refuses the archive"
                o.problems.append("our decoder refuses the encoder's archive: \(error)")
                return o
            }
            let diffs = try runner.treeDifferences(group: group, test: test, archive: vector, unpacked: back + "/unpacked",
                                                   reencoded: true)
            if diffs.isEmpty {
                o.summary = "valid, unpacks to the same tree"
            } else {
                o.summary = "valid, unpacks to a different tree"
                o.problems.append("CKA-DIR-012: the encoder's archive unpacks to a different tree: "
                    + diffs.prefix(8).joined(separator: "; "))
            }
        } catch {
            o.problems.append("runner: \(error)")
        }
        return o
    }

    /// Our validator's verdict on the encoder's archive; a problem unless it is `valid` (CKA-GEN-005).
    func validate(_ archive: String) -> (text: String, problem: String?) {
        let source: FileSource
        do { source = try FileSource(path: archive) } catch { return ("unreadable", "cannot open {archive}: \(error)") }
        let r = Validator().validate(file: archive, source: source)
        guard r.verdict != .valid else { return ("valid", nil) }
        let findings = r.diagnostics.prefix(5).map { "\($0.severity.rawValue) \($0.id) \($0.path ?? "-")@\($0.offset.map(String.init) ?? "-"): \($0.message)" }
        return (r.verdict.rawValue, "CKA-GEN-005: the validator finds the encoder's archive \(r.verdict.rawValue): "
            + findings.joined(separator: " | ") + (r.ioError.map { " (I/O: \($0))" } ?? ""))
    }
}
