import CheckpointArchive
import TarFormat

/// What the metadata, checkpoint and logs sections hold (5.3): CKA-V2-023, 024, 025, 037.
enum V2ContentRules {
    static let metadataNames: Set<String> = ["config.dump", "spec.dump", "network.status", "stats-dump", "bind.mounts",
                                             "status", "status.dump", "pod.options", "pod.dump"]

    /// What the content rules want to read of a regular file.
    enum Content {
        /// Nothing: the data is skipped (hashed when digests are verified).
        case none
        /// A JSON document, walked while it streams.
        case json
    }

    /// The entry rules of the metadata, checkpoint and logs sections; returns whether the content is checked.
    static func entry(_ h: TarHeader, in s: V2Section, report: V2Reporter) -> Content {
        guard h.type.isRegularFile, s.kind == .metadata || s.kind == .checkpoint || s.kind == .logs else { return .none }
        let relative = h.pathBytes.dropFirst(s.directory.count)
        switch s.kind {
        case .metadata:
            guard !relative.contains(0x2F) else {
                report("CKA-V2-023", "the metadata section holds only files directly under metadata/", h)
                return .none
            }
            let name = String(decoding: relative, as: UTF8.self)
            if name == "config.dump" { s.hasConfigDump = true }
            if name == "spec.dump" { s.hasSpecDump = true }
            guard metadataNames.contains(name) else {
                report("CKA-V2-024", "\(name) is not one of the v1 metadata files of part 4", h)
                return .none
            }
            return name == "stats-dump" ? .none : .json
        case .checkpoint:
            if relative.elementsEqual("inventory.img".utf8) { s.hasInventory = true }
        case .logs:
            if relative.contains(0x2F) {
                report("CKA-V2-037", "the logs section holds only files directly under logs/", h)
            } else if !Section.isValidName(String(decoding: relative, as: UTF8.self)) {
                report("CKA-V2-037", "the log file name \"\(String(decoding: relative, as: UTF8.self))\" does not "
                       + "match [A-Za-z0-9][A-Za-z0-9_.-]*", h)
            }
        default: break
        }
        return .none
    }

    /// Checks the content of a file the entry rules asked for, as it streams.
    static func content(_ input: V2JSONInput, of h: TarHeader, in s: V2Section, report: V2Reporter) throws {
        switch s.kind {
        case .metadata: try metadataFormat(input, h, report: report)
        case .rootfs: try V2RootfsRules.lists(input, h, in: s, report: report)
        default: break
        }
    }

    /// The rules that need the whole section: CKA-V2-023 (config.dump, spec.dump), CKA-V2-025, and the rootfs
    /// section's (CKA-V2-027, 029).
    static func sectionEnd(_ s: V2Section, report: V2Reporter) {
        switch s.kind {
        case .metadata:
            for (f, present) in [("config.dump", s.hasConfigDump), ("spec.dump", s.hasSpecDump)] where !present {
                report("CKA-V2-023", "the metadata section has no regular file metadata/\(f)", path: s.path, offset: s.start)
            }
        case .checkpoint where !s.hasInventory:
            report("CKA-V2-025", "the checkpoint section has no regular file checkpoint/inventory.img", path: s.path,
                   offset: s.start)
        case .rootfs:
            V2RootfsRules.end(s, report: report)
        default: break
        }
    }

    /// CKA-V2-024: the content formats of part 4 for the JSON metadata files (`stats-dump`, a CRIU image, is
    /// opaque here): the top-level type of table 4.2, `id` and `name` of `config.dump` (4.3), the string
    /// annotations of `spec.dump` (4.4), the members of `bind.mounts` (4.12, CKA-SEC-010 for destinations).
    /// The document is walked as it streams; findings about its content count only when it parses. Errors of
    /// the stream itself (not of the JSON) are thrown.
    static func metadataFormat(_ input: V2JSONInput, _ h: TarHeader, report: V2Reporter) throws {
        let name = String(h.path.split(separator: "/").last ?? "")
        var findings = V2PendingFindings(limit: 4 * report.collector.capPerRule)
        var c = V2JSONCursor(input)
        let expected: V2JSONKind = name == "bind.mounts" ? .array : .object
        do {
            guard let kind = try c.peek() else { throw V2JSONFailure(reason: "no JSON value", at: c.at) }
            if kind != expected {
                try c.skipValue()
                findings.add("CKA-V2-024", "\(name) must hold a JSON \(expected.rawValue), not \(kind.rawValue)")
            } else {
                switch name {
                case "config.dump": try configDump(&c, &findings)
                case "spec.dump": try specDump(&c, &findings)
                case "bind.mounts":
                    try c.array { c, i in try bindMount(&c, i, &findings) }
                default: try c.skipValue()
                }
            }
            if try c.hasMore() { throw V2JSONFailure(reason: "data after the JSON text", at: c.at) }
        } catch let error as V2JSONFailure {
            report("CKA-V2-024", "\(name) is not a valid JSON text: \(error)", h)
            return
        }
        findings.emit(h, report: report)
    }

    /// `config.dump` has the members `id` and `name` as strings (the last one counts when repeated).
    private static func configDump(_ c: inout V2JSONCursor, _ findings: inout V2PendingFindings) throws {
        var id = false, name = false
        try c.object { c, key in
            switch key {
            case "id": id = try c.stringValue() != nil
            case "name": name = try c.stringValue() != nil
            default: try c.skipValue()
            }
        }
        if !id || !name { findings.add("CKA-V2-024", "config.dump must have the members id and name as strings") }
    }

    /// The `annotations` of `spec.dump`, when present, are an object of strings.
    private static func specDump(_ c: inout V2JSONCursor, _ findings: inout V2PendingFindings) throws {
        var good = true
        try c.object { c, key in
            guard key == "annotations" else { return try c.skipValue() }
            var strings = true
            let isObject = try c.object { c, _ in
                if try c.peek() != .string { strings = false }
                try c.skipValue()
            }
            good = isObject && strings
        }
        if !good { findings.add("CKA-V2-024", "the annotations of spec.dump must be an object of strings") }
    }

    /// One element of `bind.mounts` (table 4.12).
    private static func bindMount(_ c: inout V2JSONCursor, _ i: Int, _ findings: inout V2PendingFindings) throws {
        var destination: String?, source: String?, type: String?, permissions: Int64?
        let isObject = try c.object { c, key in
            switch key {
            case "destination": destination = try c.stringValue()
            case "source": source = try c.stringValue()
            case "file_type": type = try c.stringValue()
            case "permissions": permissions = try c.integerValue()
            default: try c.skipValue()
            }
        }
        guard isObject else {
            findings.add("CKA-V2-024", "bind.mounts[\(i)] is not an object")
            return
        }
        if let destination {
            if let why = ContainerPath.problem(destination) {
                findings.add("CKA-SEC-010", "bind.mounts[\(i)].destination \(ContainerPath.quoted(destination)) \(why)")
            }
        } else {
            findings.add("CKA-V2-024", "bind.mounts[\(i)] has no destination string")
        }
        let s = source ?? ""
        let parts = s.split(separator: "/", omittingEmptySubsequences: false).dropFirst()
        if !s.hasPrefix("/") || parts.contains(where: { $0.isEmpty || $0 == "." || $0 == ".." }) {
            findings.add("CKA-V2-024", "bind.mounts[\(i)].source must be an absolute path without ., .. or empty components")
        }
        if type != "directory" && type != "file" {
            findings.add("CKA-V2-024", "bind.mounts[\(i)].file_type must be \"directory\" or \"file\"")
        }
        if !(permissions.map { (0...4095).contains($0) } ?? false) {
            findings.add("CKA-V2-024", "bind.mounts[\(i)].permissions must be an integer from 0 to 4095")
        }
    }
}

/// Findings about a document that count only once it has parsed completely (a syntax error is reported
/// alone), kept up to a limit (the collector reports at most its cap per requirement anyway).
struct V2PendingFindings {
    let limit: Int
    private(set) var items: [(id: String, message: String)] = []
    private(set) var dropped = 0

    init(limit: Int) { self.limit = limit }

    mutating func add(_ id: String, _ message: String) {
        if items.count < limit { items.append((id, message)) } else { dropped += 1 }
    }

    func emit(_ h: TarHeader, report: V2Reporter) {
        for f in items { report(f.id, f.message, h) }
        if dropped > 0, let last = items.last {
            report(last.id, "\(dropped) more findings in \(h.path) left out", h)
        }
    }
}
