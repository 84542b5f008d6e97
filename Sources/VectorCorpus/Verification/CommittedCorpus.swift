import Foundation

/// Compares the committed `Vectors/` with the corpus made in memory (CKA-VEC-004, CKA-VEC-007).
enum CommittedCorpus {
    /// Manifest, tree files and stale files. Compressed archives may differ byte-wise when made with another
    /// compressor version; then only their `sha256` in the manifest may differ, and it must match the committed
    /// file.
    static func compare(committed: VectorManifest, manifestBytes: [UInt8], generated: GeneratedCorpus,
                        directory: String, notes: inout [String]) -> [String] {
        var problems: [String] = []
        if manifestBytes != generated.files["manifest.json"] {
            var relaxed = generated.manifest
            let committedSha = Dictionary(committed.cases.map { ($0.id, $0.sha256) }) { a, _ in a }
            for g in relaxed.testGroups.indices {
                for t in relaxed.testGroups[g].tests.indices where relaxed.testGroups[g].tests[t].compression != "none" {
                    let id = relaxed.testGroups[g].tests[t].id
                    relaxed.testGroups[g].tests[t].sha256 = committedSha[id] ?? relaxed.testGroups[g].tests[t].sha256
                }
            }
            if ManifestJSON.render(relaxed) == manifestBytes {
                notes.append("manifest.json differs only in the sha256 of compressed files (another compressor version)")
            } else {
                problems.append("manifest.json differs from the generator's (run ckpt-vectors generate): "
                    + firstDifference(manifestBytes, generated.files["manifest.json"] ?? []))
            }
        }
        if committed.numberOfTests != committed.cases.count {
            problems.append("CKA-VEC-004: numberOfTests \(committed.numberOfTests), \(committed.cases.count) cases")
        }
        if committed.cases.map(\.tcId) != (0..<committed.cases.count).map({ $0 + 1 }) {
            problems.append("CKA-VEC-004: tcId values are not consecutive from 1")
        }
        if Set(committed.cases.map(\.id)).count != committed.cases.count { problems.append("CKA-VEC-004: duplicate ids") }
        for (path, bytes) in generated.files where path.hasPrefix("trees/") {
            let full = directory + "/" + path
            if FileManager.default.contents(atPath: full).map([UInt8].init) != bytes {
                problems.append("\(path) is missing or differs from the generator's")
            }
        }
        for owned in GeneratedCorpus.ownedDirectories {
            let dir = directory + "/" + owned
            guard let walker = FileManager.default.enumerator(atPath: dir) else { continue }
            for case let rel as String in walker {
                var isDir: ObjCBool = false
                if FileManager.default.fileExists(atPath: dir + "/" + rel, isDirectory: &isDir), !isDir.boolValue,
                   generated.files[owned + "/" + rel] == nil {
                    problems.append("stale file \(owned)/\(rel) (no case makes it; run ckpt-vectors generate)")
                }
            }
        }
        return problems
    }

    /// One archive: byte-identical when uncompressed, the same decompressed stream otherwise; its digest as the
    /// committed manifest says.
    static func compareFile(_ v: GeneratedVector, committed: ManifestCase, path: String, into outcome: inout CaseOutcome) {
        guard let data = FileManager.default.contents(atPath: path) else {
            outcome.problems.append("\(v.entry.file) is missing")
            return
        }
        let bytes = [UInt8](data)
        if V2TestArchive.sha256(bytes) != committed.sha256 {
            outcome.problems.append("CKA-VEC-004: sha256 of \(v.entry.file) does not match the manifest")
        }
        if v.entry.compression == "none" {
            if bytes != v.bytes {
                outcome.problems.append("CKA-VEC-007: \(v.entry.file) differs from the generator's bytes: "
                    + firstDifference(bytes, v.bytes))
            }
        } else {
            let stream = (try? CorpusGenerator.decompressed(bytes)).map(V2TestArchive.sha256)
            if stream != v.entry.streamSha256 || committed.streamSha256 != v.entry.streamSha256 {
                outcome.problems.append("CKA-VEC-007: the decompressed stream of \(v.entry.file) differs from the generator's")
            }
        }
    }

    static func firstDifference(_ a: [UInt8], _ b: [UInt8]) -> String {
        let i = zip(a, b).enumerated().first { $0.element.0 != $0.element.1 }?.offset ?? min(a.count, b.count)
        return "first difference at byte \(i) (sizes \(a.count) and \(b.count))"
    }
}
