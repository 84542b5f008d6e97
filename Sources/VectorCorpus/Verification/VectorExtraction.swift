import ByteStreams
import CheckpointArchive
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Extracts a vector with the CheckpointArchive extractor (what `ckpt extract` runs) into a fresh directory inside
/// an empty sandbox, and compares the result with the expected tree (CKA-VEC-005), or checks that an invalid
/// archive was refused without anything written beside the destination (CKA-VEC-006). Accepting an invalid
/// archive fails the case only when one of its requirements binds decoders (`DecoderBinding`); otherwise the
/// case is noted as "decoder not bound".
enum VectorExtraction {
    static func check(_ v: GeneratedVector, path: String, into outcome: inout CaseOutcome) {
        let sandbox = FileManager.default.temporaryDirectory.appendingPathComponent("ckpt-vectors-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: sandbox) }
        do {
            try FileManager.default.createDirectory(atPath: sandbox, withIntermediateDirectories: false)
        } catch {
            outcome.problems.append("cannot create \(sandbox): \(error)")
            return
        }
        let destination = sandbox + "/unpacked"
        let privileged = geteuid() == 0
        var failure: Error?
        do {
            try extract(path, to: destination, expectIndexDigest: v.entry.expectIndexDigest, devices: privileged)
        } catch {
            failure = error
        }
        let left = ((try? FileManager.default.contentsOfDirectory(atPath: sandbox)) ?? []).filter { $0 != "unpacked" }
        if !left.isEmpty { outcome.problems.append("extraction left \(left) beside the destination") }
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
