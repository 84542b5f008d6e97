import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// `ckpt-vectors run`: holds another implementation to the committed corpus (part 7) through its command line.
///
/// For every selected vector the decoder command runs on a copy of the archive, inside a fresh sentinel parent
/// directory, with a deadline and resource limits (`ChildProcess`). It passes when:
///
/// - it neither crashes (killed by a signal, or a shell status above 128), hangs past the deadline, nor writes more
///   than the output budget, whatever the expected result (CKA-VEC-008);
/// - nothing beside `{dir}` changed: the case directory (the archive copy, the sentinel parent and its sentinel
///   file) is snapshotted before and after (CKA-VEC-006);
/// - for an `invalid` vector, it refuses (a non-zero exit status) and leaves no `{dir}`, or an empty one (a decoder
///   restores nothing in part, CKA-GEN-006, CKA-IDX-009); accepting it fails the case only when one of the case's
///   requirements binds decoders (`DecoderBinding`), and is otherwise reported as "decoder not bound";
/// - for a `valid` or `acceptable` vector, it exits 0 and `{dir}` equals the manifest's tree under CKA-DIR-012
///   (`TreeComparison`, with `cka-header.json` compared on `profile` and `sections` only, `HeaderEquivalence`).
///
/// Exit statuses 126 and 127 (the shell could not run the command) fail every case: they would otherwise look
/// like refusals. With an encoder, every valid vector also goes through `EncoderRoundTrip`.
public final class VectorRunner {
    public let options: RunOptions
    public let manifest: VectorManifest

    /// Reads `options.vectors/manifest.json`.
    /// - Throws: `VectorError` when it cannot be read or decoded, or when neither a decoder nor an encoder is given.
    public init(options: RunOptions) throws {
        guard options.decoder != nil || options.encoder != nil else {
            throw VectorError("give a decoder (--decoder), an encoder (--encoder) or both")
        }
        self.options = options
        let path = options.vectors + "/manifest.json"
        guard let data = FileManager.default.contents(atPath: path) else { throw VectorError("cannot read \(path)") }
        do {
            manifest = try JSONDecoder().decode(VectorManifest.self, from: data)
        } catch {
            throw VectorError("\(path) does not decode as a manifest: \(error)")
        }
    }

    /// The selected cases with their groups, in `tcId` order.
    public var selected: [(group: ManifestGroup, test: ManifestCase)] {
        manifest.testGroups.flatMap { g in g.tests.map { (g, $0) } }.filter { options.selects($0.1.id) }
            .sorted { $0.1.tcId < $1.1.tcId }
    }

    /// Runs every selected case; `each` sees every outcome as soon as it is known.
    public func run(each: (RunOutcome) -> Void = { _ in }) throws -> RunReport {
        let started = Date()
        let workspace = try RunWorkspace()
        var report = RunReport()
        for (group, test) in selected {
            if let decoder = options.decoder {
                let o = runDecoder(decoder, group: group, test: test, workspace: workspace)
                each(o)
                report.outcomes.append(o)
            }
            if let encoder = options.encoder, test.result == "valid" {
                let o = EncoderRoundTrip(runner: self, workspace: workspace).run(encoder, group: group, test: test)
                each(o)
                report.outcomes.append(o)
            }
        }
        report.duration = Date().timeIntervalSince(started)
        return report
    }

    /// The expected tree of a valid or acceptable case (`tree`, or the file `treeFile` names).
    func expectedTree(_ test: ManifestCase) throws -> [TreeEntry] {
        if let tree = test.tree { return tree }
        guard let file = test.treeFile else { throw VectorError("\(test.id) has neither tree nor treeFile") }
        let path = options.vectors + "/" + file
        guard let data = FileManager.default.contents(atPath: path) else { throw VectorError("cannot read \(path)") }
        return try JSONDecoder().decode([TreeEntry].self, from: data)
    }

    // MARK: - The decoder

    func runDecoder(_ decoder: CommandTemplate, group: ManifestGroup, test: ManifestCase,
                    workspace: RunWorkspace) -> RunOutcome {
        var o = RunOutcome(id: test.id, tcId: test.tcId, format: group.format, result: test.result, role: .decoder)
        var command: String
        var pinned = ""
        if let digest = test.expectIndexDigest {
            guard let pin = options.pin else {
                o.skipped = "the case pins the index digest; pass --pin 'OPTION {digest}' to run it"
                return o
            }
            pinned = " " + pin.render(["digest": digest])
        }
        do {
            let dir = try workspace.makeCase(test.tcId, sentinelParents: ["parent"])
            defer { workspace.removeCase(dir) }
            let name = URL(fileURLWithPath: test.file).lastPathComponent
            let archive = dir + "/" + name
            try FileManager.default.copyItem(atPath: options.vectors + "/" + test.file, toPath: archive)
            let unpacked = dir + "/parent/unpacked"
            command = decoder.render(["archive": archive, "dir": unpacked]) + pinned
            let excluded = "\(test.tcId)/parent/unpacked"
            let before = DirectorySnapshot.take(workspace.root, excluding: [excluded])
            let r = try ChildProcess.run(command, in: dir + "/parent", limits: options.limits, logDirectory: workspace.logs)
            o.duration = r.duration
            o.output = r.output
            o.notes.append("command: \(command)")
            o.problems += Self.runProblems(r, program: "decoder")
            for change in before.changes(to: DirectorySnapshot.take(workspace.root, excluding: [excluded])).prefix(8) {
                o.problems.append("CKA-VEC-006: wrote outside {dir}: \(change)")
            }
            let written = RunWorkspace.bytesBelow(unpacked)
            if written > Int64(options.outputLimitMiB) << 20 {
                o.problems.append("CKA-VEC-008: wrote \(written) bytes into {dir}, more than the \(options.outputLimitMiB) MiB budget")
            }
            guard case let .exited(status) = r.termination, status != 126, status != 127 else {
                o.summary = "\(r.termination)"
                return o
            }
            if test.result == "invalid" {
                judgeInvalid(&o, test: test, status: status, unpacked: unpacked)
            } else {
                try judgeValid(&o, group: group, test: test, status: status, unpacked: unpacked)
            }
        } catch {
            o.problems.append("runner: \(error)")
        }
        return o
    }

    /// Crashes, hangs and commands that could not be run (CKA-VEC-008).
    static func runProblems(_ r: ChildResult, program: String) -> [String] {
        switch r.termination {
        case .signaled: return ["CKA-VEC-008: the \(program) crashed: \(r.termination)"]
        case .timedOut: return ["CKA-VEC-008: the \(program) hangs: \(r.termination)"]
        case .exited(126), .exited(127): return ["the \(program) command could not be run (\(r.termination))"]
        case .exited: return []
        }
    }

    func judgeInvalid(_ o: inout RunOutcome, test: ManifestCase, status: Int32, unpacked: String) {
        if status != 0 {
            o.summary = "refused (exit status \(status))"
            let left = (try? FileManager.default.contentsOfDirectory(atPath: unpacked)) ?? []
            if !left.isEmpty || (RunWorkspace.type(at: unpacked).map { $0 != S_IFDIR } ?? false) {
                o.problems.append("CKA-GEN-006: refused, but left a partial {dir} behind (\(left.sorted().prefix(5)))")
            }
            return
        }
        let binding = DecoderBinding.decoderRules(test.requirements)
        if binding.isEmpty {
            o.summary = "accepted; decoder not bound (\(test.requirements.joined(separator: ", ")) bind encoders and validators only)"
        } else {
            o.summary = "accepted an invalid archive"
            o.problems.append("CKA-GEN-006: accepted an invalid archive; it breaks the decoder rule(s) "
                + binding.joined(separator: ", ") + ": " + test.description)
        }
    }

    func judgeValid(_ o: inout RunOutcome, group: ManifestGroup, test: ManifestCase, status: Int32,
                    unpacked: String) throws {
        guard status == 0 else {
            o.summary = "refused a \(test.result) archive (exit status \(status))"
            o.problems.append("CKA-VEC-005: refused a \(test.result) archive (exit status \(status))")
            return
        }
        let diffs = try treeDifferences(group: group, test: test, archive: options.vectors + "/" + test.file,
                                        unpacked: unpacked)
        if diffs.isEmpty {
            o.summary = "tree equal (CKA-DIR-012)"
        } else {
            o.summary = "tree differs"
            o.problems.append("CKA-VEC-005: {dir} differs from the expected tree: " + diffs.prefix(8).joined(separator: "; "))
        }
    }

    /// CKA-DIR-012 between the case's expected tree and the directory `unpacked`; `archive` is the vector whose
    /// header the unpacked directory's `cka-header.json` must agree with (`reencoded`: on the sections an encoder
    /// can see in the unpacked directory).
    func treeDifferences(group: ManifestGroup, test: ManifestCase, archive: String, unpacked: String,
                         reencoded: Bool = false) throws -> [String] {
        guard RunWorkspace.type(at: unpacked) == S_IFDIR else { return ["{dir} is not a directory"] }
        let expected = try expectedTree(test)
        let actual = try TreeScanner.scan(unpacked)
        var diffs = TreeComparison.differences(expected: expected.filter { $0.path != "cka-header.json" },
                                               actual: actual.filter { $0.path != "cka-header.json" },
                                               compareOwners: options.compareOwners)
        if let h = actual.first(where: { $0.path == "cka-header.json" }), h.type != "file" {
            diffs.append("cka-header.json: a \(h.type), not a regular file")
        }
        if let header = HeaderEquivalence.expected(archive: archive, format: group.format, profile: group.profile,
                                                   tree: expected) {
            diffs += (reencoded ? header.knownKindsOnly : header).differences(unpacked: unpacked)
        } else {
            diffs.append("cannot read the header the vector carries")
        }
        return diffs
    }
}
