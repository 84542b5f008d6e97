import ByteStreams
import CheckpointArchive
import Foundation
import TarFormat
import TestSupport
import XCTest

/// What decoding an archive gave, for comparing runs with different memory budgets: the error (requirement,
/// message, entry, offset) or the index digest, the unpacked `cka-index.json`, the extracted tree and the
/// warnings.
struct DecodeOutcome: Equatable, CustomStringConvertible {
    var error: String?
    var requirement: String?
    var entry: String?
    var offset: Int64?
    var indexDigest: String?
    var tree: [String: String] = [:]
    var warnings: [String] = []

    var description: String {
        if let error { return "refused: \(error)" }
        return "extracted \(tree.count) objects, index digest \(indexDigest ?? "-")"
    }
}

enum BoundedDecode {
    /// Extracts `archive` the way `ckpt extract` does (kernel copies and worker-thread digests for an
    /// uncompressed file) with `budget`, into a new directory below `work`.
    static func extract(_ archive: String, budget: MemoryBudget, work: URL, pin: String? = nil) throws -> DecodeOutcome {
        let file = try FileSource(path: archive)
        let destination = work.appendingPathComponent("x-\(UUID().uuidString)")
        var outcome = DecodeOutcome()
        do {
            let opened = try ArchiveOpener.open(file, limits: .forInput(compressedSize: file.fileSize))
            var options = SafeExtractor.Options.forCurrentUser
            options.memory = budget
            let extractor = try SafeExtractor(destination: destination.path, options: options)
            do {
                let reflink = opened.compression == .none ? file.descriptor.rawValue : nil
                let summary = try ArchiveExtraction.decode(opened, into: extractor, reflinkDescriptor: reflink,
                                                           archiveDescriptor: file.descriptor.rawValue,
                                                           expectedIndexDigest: pin)
                try extractor.commit()
                outcome.indexDigest = summary.indexDigest
                outcome.warnings = summary.warnings.map(\.description)
            } catch {
                extractor.abort()
                throw error
            }
        } catch let e as CheckpointError {
            outcome.error = e.description
            (outcome.requirement, outcome.entry, outcome.offset) = (e.requirement, e.entry, e.offset)
            return outcome
        } catch {
            outcome.error = "\(error)"
            return outcome
        }
        outcome.tree = FileTreeSnapshot.take(destination.path)
        if let index = fileBytes(destination.path + "/cka-index.json") {
            outcome.tree["index bytes"] = String(decoding: index, as: UTF8.self)
        }
        Sandbox.makeWritable(destination.path)
        try? FileManager.default.removeItem(at: destination)
        return outcome
    }

    /// What `ckpt inspect` reports with `budget` (or the error).
    static func inspect(_ archive: String, budget: MemoryBudget) throws -> String {
        let file = try FileSource(path: archive)
        do {
            let opened = try ArchiveOpener.open(file, limits: .forInput(compressedSize: file.fileSize))
            let r = try CheckpointInspector.inspect(opened, budget: budget)
            return "\(r.profile) \(r.sections) \(r.indexDigest ?? "-") \(r.containerName ?? "-")"
        } catch {
            return "refused: \(error)"
        }
    }

    /// The entries of a tar stream: path, type, header offset, data offset.
    static func entries(_ bytes: [UInt8]) throws -> [TarHeader] {
        let reader = TarReader(source: MemorySource(bytes))
        var out: [TarHeader] = []
        while let h = try reader.next() { out.append(h) }
        return out
    }

    /// Changes the ustar header block at `offset` and recomputes its checksum.
    static func rewriteBlock(_ bytes: inout [UInt8], at offset: Int, _ change: (inout [UInt8]) -> Void) {
        var block = Array(bytes[offset..<(offset + 512)])
        change(&block)
        for i in 148..<156 { block[i] = 0x20 }
        let sum = block.reduce(0) { $0 + Int($1) }
        block.replaceSubrange(148..<156, with: Array(String(format: "%06o", sum).utf8) + [0, 0x20])
        bytes.replaceSubrange(offset..<(offset + 512), with: block)
    }

    /// Sets a NUL-padded field of a header block.
    static func setField(_ block: inout [UInt8], _ range: Range<Int>, _ text: String) {
        let b = Array(text.utf8)
        precondition(b.count <= range.count)
        block.replaceSubrange(range, with: b + [UInt8](repeating: 0, count: range.count - b.count))
    }

    /// The peak resident set size, in KiB, of a child running `arguments` (measured by GNU time, `%M`), with
    /// its exit status.
    static func peakRSS(_ arguments: [String], stdin: URL? = nil) throws -> (kib: Int, status: Int32) {
        // GNU time measures the command alone: wait4's figure in this process (or in a Python parent) would carry
        // the spawning process's high-water mark over the child's exec.
        let result = try TestTools.run(["/usr/bin/time", "-f", "%M"] + arguments, stdinFile: stdin)
        let last = result.stderrText.split(separator: "\n").last.map(String.init) ?? ""
        guard let kib = Int(last.trimmingCharacters(in: .whitespaces)) else {
            throw CheckpointError("TEST", "could not measure: \(result.stderrText)")
        }
        return (kib, result.status)
    }
}
