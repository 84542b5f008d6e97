import ByteStreams
import CheckpointArchive
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Extracts a vector with the CheckpointArchive extractor (what `ckpt extract` runs) into a fresh directory below a
/// chain of sentinel directories, and compares the result with the expected tree (CKA-VEC-005), or checks that an
/// invalid archive was refused; for every vector, nothing outside the destination may change (CKA-VEC-006).
/// Accepting an invalid archive fails the case only when one of its requirements binds decoders
/// (`DecoderBinding`); otherwise the case is noted as "decoder not bound".
enum VectorExtraction {
    /// How many directories, each holding a sentinel file, lie between the sandbox and the destination: an archive
    /// whose names or links climb up to this many levels above the destination is caught changing one of them.
    static let sentinelDepth = 8
    /// Absolute paths the hostile vectors aim at; none may exist after an extraction that did not find it before.
    static let escapeProbes = ["/tmp/cka-escape"]

    /// - Parameter extractor: extracts the archive at its first argument into the directory of its second (the
    ///   CheckpointArchive extractor unless a test substitutes one).
    static func check(_ v: GeneratedVector, path: String, into outcome: inout CaseOutcome,
                      extractor: ((String, String) throws -> Void)? = nil) {
        let sandbox = FileManager.default.temporaryDirectory.appendingPathComponent("ckpt-vectors-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: sandbox) }
        var parent = sandbox
        do {
            try FileManager.default.createDirectory(atPath: sandbox, withIntermediateDirectories: false)
            for level in 1...sentinelDepth {
                try Data("sentinel \(level)\n".utf8).write(to: URL(fileURLWithPath: parent + "/sentinel"))
                parent += "/p\(level)"
                try FileManager.default.createDirectory(atPath: parent, withIntermediateDirectories: false)
            }
            try Data("sentinel\n".utf8).write(to: URL(fileURLWithPath: parent + "/sentinel"))
        } catch {
            outcome.problems.append("cannot create \(parent): \(error)")
            return
        }
        let destination = parent + "/unpacked"
        let relative = String(destination.dropFirst(sandbox.count + 1))
        func outside() -> [TreeEntry]? {
            (try? TreeScanner.scan(sandbox))?.filter { $0.path != relative && !$0.path.hasPrefix(relative + "/") }
        }
        let before = outside()
        let probes = escapeProbes.filter { !FileManager.default.fileExists(atPath: $0) }
        let privileged = geteuid() == 0
        var failure: Error?
        do {
            if let extractor {
                try extractor(path, destination)
            } else {
                try extract(path, to: destination, expectIndexDigest: v.entry.expectIndexDigest, devices: privileged)
            }
        } catch {
            failure = error
        }
        if let before {
            if let after = outside() {
                if before != after {
                    let changes = TreeComparison.differences(expected: before, actual: after)
                    outcome.problems.append("CKA-VEC-006: extraction changed the parents of the destination: "
                        + changes.prefix(4).joined(separator: "; "))
                }
            } else {
                outcome.problems.append("cannot scan \(sandbox) after the extraction")
            }
        } else {
            outcome.problems.append("cannot scan \(sandbox) before the extraction")
        }
        for probe in probes where FileManager.default.fileExists(atPath: probe) {
            outcome.problems.append("CKA-VEC-006: extraction created \(probe)")
            try? FileManager.default.removeItem(atPath: probe)
        }
        if v.entry.result == "invalid" {
            outcome.extractRefused = failure != nil
            if let failure {
                outcome.notes.append("ckpt extract refused it: \(failure)")
                if FileManager.default.fileExists(atPath: destination) {
                    outcome.problems.append("a refused extraction left its destination behind")
                }
            } else {
                let binding = DecoderBinding.decoderRules(v.entry.requirements)
                if binding.isEmpty {
                    outcome.decoderNotBound = true
                    outcome.notes.append("decoder not bound: ckpt extract accepted it, and \(v.entry.requirements) "
                        + "bind encoders and validators only")
                } else {
                    outcome.problems.append("CKA-GEN-006: ckpt extract accepted this invalid archive, which breaks the "
                        + "decoder rule(s) \(binding)")
                }
            }
            return
        }
        if let failure {
            outcome.problems.append("ckpt extract refused it: \(failure)")
            return
        }
        guard let expected = v.tree else {
            outcome.problems.append("no expected tree")
            return
        }
        do {
            let actual = try TreeScanner.scan(destination)
            let diffs = TreeComparison.differences(expected: expected, actual: actual, compareOwners: privileged)
            if !diffs.isEmpty {
                outcome.problems.append("CKA-VEC-005: the extracted tree differs: " + diffs.prefix(8).joined(separator: "; "))
            }
            if !privileged { outcome.notes.append("owners not compared (not running as root)") }
        } catch {
            outcome.problems.append("cannot scan the extracted tree: \(error)")
        }
    }

    /// `ckpt extract ARCHIVE DIR [--expect-index-digest D]`, device nodes allowed when privileged.
    static func extract(_ path: String, to destination: String, expectIndexDigest: String?, devices: Bool) throws {
        let file = try FileSource(path: path)
        let opened = try ArchiveOpener.open(file, limits: .forInput(compressedSize: file.fileSize))
        var options = SafeExtractor.Options.forCurrentUser
        options.allowDeviceNodes = devices
        let extractor = try SafeExtractor(destination: destination, options: options)
        do {
            _ = try ArchiveExtraction.decode(opened, into: extractor, reflinkDescriptor: nil,
                                             archiveDescriptor: file.descriptor.rawValue,
                                             expectedIndexDigest: expectIndexDigest)
            try extractor.commit()
        } catch {
            extractor.abort()
            throw error
        }
    }
}
