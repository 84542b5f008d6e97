import ByteStreams
import CheckpointArchive
import Foundation
import TarFormat

/// `cka-header.json` in an unpacked directory, compared as CKA-DIR-012 says: on `profile` and `sections` only.
/// Another implementation's decoder may write the header of a v1 archive with its own `creator`, or keep the
/// `compression` of the archive it read; none of that makes two unpacked directories different.
public struct HeaderEquivalence: Equatable, Sendable {
    /// One element of `sections`; `critical` nil when the expectation does not fix it.
    public struct SectionSummary: Equatable, Sendable, CustomStringConvertible {
        public var kind: String
        public var name: String?
        public var critical: Bool?

        public var description: String {
            kind + (name.map { " '\($0)'" } ?? "") + (critical.map { $0 ? " (critical)" : " (not critical)" } ?? "")
        }
    }

    public var profile: String
    public var sections: [SectionSummary]

    /// The summary of header JSON bytes; nil when they are not a JSON object with a string `profile` and an array
    /// of `sections` objects.
    public static func parse(_ bytes: [UInt8]) -> HeaderEquivalence? {
        guard let object = try? JSONSerialization.jsonObject(with: Data(bytes)) as? [String: Any],
              let profile = object["profile"] as? String, let list = object["sections"] as? [[String: Any]] else {
            return nil
        }
        var sections: [SectionSummary] = []
        for item in list {
            guard let kind = item["kind"] as? String else { return nil }
            sections.append(SectionSummary(kind: kind, name: item["name"] as? String, critical: item["critical"] as? Bool))
        }
        return HeaderEquivalence(profile: profile, sections: sections)
    }

    /// What a vector's unpacked directory must say: for v2, the header the archive carries as entry 0 (extracted
    /// verbatim); for v1, the manifest group's profile and the sections the expected tree holds, in the order of
    /// CKA-V2-015 (`critical` left open for `ext` sections, which the converter chooses).
    public static func expected(archive path: String, format: String, profile: String, tree: [TreeEntry]) -> HeaderEquivalence? {
        if format == "v2" {
            guard let file = try? FileSource(path: path),
                  let opened = try? ArchiveOpener.open(file, limits: .forInput(compressedSize: file.fileSize)) else { return nil }
            let reader = TarReader(source: opened.stream)
            guard let first = try? reader.next(), first.path == "cka-header.json",
                  let bytes = try? reader.readData(limit: 1 << 20) else { return nil }
            return parse(bytes)
        }
        return HeaderEquivalence(profile: profile, sections: sectionsOf(tree))
    }

    /// The expectation without sections of kinds this version does not know: a decoder skips them (CKA-V2-018), so
    /// an encoder that derives the sections from the directories present (CKA-DIR-008) cannot list them again.
    public var knownKindsOnly: HeaderEquivalence {
        var copy = self
        copy.sections = sections.filter { SectionKind(rawValue: $0.kind) != nil }
        return copy
    }

    /// The sections an unpacked directory holds (part 9), by its top-level directories.
    static func sectionsOf(_ tree: [TreeEntry]) -> [SectionSummary] {
        var found: [Section] = []
        for e in tree where e.type == "dir" {
            let parts = e.path.split(separator: "/").map(String.init)
            if parts.count == 1, let kind = SectionKind(rawValue: parts[0]), !kind.isNamed {
                found.append(Section(kind))
            } else if parts.count == 2, parts[0] == "volumes" || parts[0] == "ext" {
                found.append(Section(parts[0] == "volumes" ? .volume : .ext, name: parts[1]))
            }
        }
        return found.sorted { $0.precedes($1) }.map {
            SectionSummary(kind: $0.kind.rawValue, name: $0.name, critical: $0.kind == .ext ? nil : $0.critical)
        }
    }

    /// The differences between this expectation and the header found in the unpacked directory `root`.
    public func differences(unpacked root: String) -> [String] {
        let path = root + "/cka-header.json"
        guard let data = FileManager.default.contents(atPath: path) else { return ["cka-header.json: missing"] }
        guard let found = Self.parse([UInt8](data)) else {
            return ["cka-header.json: not a JSON object with profile and sections"]
        }
        var out: [String] = []
        if found.profile != profile { out.append("cka-header.json: profile \(found.profile), expected \(profile)") }
        let matches = found.sections.count == sections.count && zip(found.sections, sections).allSatisfy { f, e in
            f.kind == e.kind && f.name == e.name && (e.critical == nil || f.critical == e.critical)
        }
        if !matches { out.append("cka-header.json: sections \(found.sections), expected \(sections)") }
        return out
    }
}
