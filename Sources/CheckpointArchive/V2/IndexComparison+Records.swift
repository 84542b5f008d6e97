/// The `sections` and `files` records of the index, each compared with the computed record at the same
/// position as it is read.
extension IndexComparison {
    /// A `sections` or `files` member: an array of objects (anything else counts as an empty list).
    func records(_ c: inout V2JSONCursor, isFiles: Bool, hashed: Bool) throws {
        guard try c.peek() == .array else {
            try c.skipValue()
            if isFiles { files.isArray = false } else { sections.isArray = false }
            canonicalBroken = true
            return
        }
        if hashed { hashCanonical(CanonicalIndexPieces.opening(isFiles ? 4 : 3)) }
        var piece: [UInt8] = []
        try c.array { c, i in
            piece.removeAll(keepingCapacity: true)
            if i > 0 { piece.append(0x2C) }
            if isFiles { try self.file(&c, i, piece: &piece) } else { try self.section(&c, i, piece: &piece) }
            if hashed { self.hashCanonical(piece) }
        }
        if hashed { hashCanonical(CanonicalIndexPieces.arrayEnd) }
    }

    /// Adds bytes to the canonical JSON being hashed (in chunks, unless the document already is not canonical).
    func hashCanonical<C: Collection>(_ bytes: C) where C.Element == UInt8 {
        guard !canonicalBroken else { return }
        canonicalChunk.append(contentsOf: bytes)
        if canonicalChunk.count >= 64 << 10 { flushCanonical() }
    }

    func flushCanonical() {
        canonical.update(data: canonicalChunk)
        canonicalChunk.removeAll(keepingCapacity: true)
    }

    /// Counts a record and says whether it is an object; one that is not is skipped, and the index is then not in
    /// the canonical form.
    private func isObjectRecord(_ c: inout V2JSONCursor, _ state: inout RecordState) throws -> Bool {
        state.listed += 1
        guard try c.peek() == .object else {
            try c.skipValue()
            state.allObjects = false
            canonicalBroken = true
            return false
        }
        return true
    }

    /// One section record (table 5.7).
    private func section(_ c: inout V2JSONCursor, _ i: Int, piece: inout [UInt8]) throws {
        guard try isObjectRecord(&c, &sections) else { return }
        let (m, others) = try scalarMembers(&c, Self.sectionMembers)
        let kind = m["kind"], name = m["name"], critical = m["critical"], path = m["path"], sha = m["sha256"]
        let start = m["start"], end = m["end"], compressedStart = m["compressedStart"], entries = m["entries"]
        guard let kindName = kind?.string, let isCritical = critical?.bool, let s = start?.int, let e = end?.int,
              let digest = sha?.string, let count = entries?.int else {
            if sections.malformed == nil { sections.malformed = "a section is malformed" }
            return
        }
        let known = SectionKind(rawValue: kindName)
        if known == nil { sections.unknownKind = true }
        let r = ArchiveIndex.SectionRecord(section: Section(known ?? .ext, name: name?.string, critical: isCritical),
                                           span: ArchiveIndex.Span(start: s, end: e, sha256: digest),
                                           compressedStart: compressedStart?.int, entries: Int(count))
        compressedStarts.append { $0.optionalInt(r.compressedStart) }
        CanonicalIndexPieces.section(r, into: &piece)
        let exact = !others && kindName == r.section.kind.rawValue && (name == nil || name?.string != nil)
            && critical?.isBoolean == true && path?.string == r.section.directory && start?.isNumber == true
            && end?.isNumber == true && entries?.isNumber == true
            && (compressedStart == nil || compressedStart?.isNumber == true)
        if !exact { sections.valuesExact = false }

        guard sections.malformed == nil, sections.allObjects, sections.firstDifference == nil,
              let record = sections.reader.next() else { return }
        let cs = ComputedIndex.section(record)
        func differ(_ id: String, _ why: String) {
            sections.firstDifference = CheckpointError(id, why, entry: cs.section.directory, offset: entry.headerOffset)
        }
        if r.section != cs.section {
            differ("CKA-IDX-003", "section \(r.section) in the index, \(cs.section) in the stream")
        } else if r.span.start != cs.span.start || r.span.end != cs.span.end {
            differ("CKA-IDX-003", "offsets of section \(cs.section) differ")
        } else if r.span.sha256 != cs.span.sha256 {
            differ("CKA-IDX-004", "digest mismatch for section \(cs.section)")
        } else if r.entries != cs.entries {
            differ("CKA-IDX-004", "section \(cs.section): \(r.entries) entries in the index, \(cs.entries) in the stream")
        }
    }

    /// One file record (table 5.8); a record in exactly the canonical form is read without allocating.
    private func file(_ c: inout V2JSONCursor, _ i: Int, piece: inout [UInt8]) throws {
        guard try isObjectRecord(&c, &files) else { return }
        let start = c.at
        if let f = try c.canonicalFileObject() {
            piece.append(contentsOf: c.input.bytes(start..<c.at))
            compareFile(i, path: c.input.bytes(f.path), size: f.size, offset: f.offset, sha256: c.input.bytes(f.sha256))
            return
        }
        let (m, others) = try scalarMembers(&c, Self.fileMembers)
        let path = m["path"], size = m["size"], offset = m["offset"], sha = m["sha256"]
        guard let p = path?.string, let s = size?.int, let o = offset?.int, let digest = sha?.string else {
            if files.malformed == nil { files.malformed = "a file record is malformed" }
            return
        }
        CanonicalIndexPieces.file(path: p, size: s, offset: o, sha256: digest, into: &piece)
        if others || size?.isNumber != true || offset?.isNumber != true { files.valuesExact = false }
        compareFile(i, path: Array(p.utf8), size: s, offset: o, sha256: Array(digest.utf8))
    }

    /// The members of the header, section and file objects (tables 5.6 to 5.8).
    static let headerMembers: Set<String> = ["path", "start", "end", "sha256"]
    static let sectionMembers: Set<String> = ["kind", "name", "critical", "path", "start", "end", "compressedStart",
                                              "entries", "sha256"]
    static let fileMembers: Set<String> = ["path", "size", "offset", "sha256"]

    /// The members of an index object named in `known`, read as scalars (a repeated member counts last, as in a
    /// parsed object); a vendor member (`x-`) is noted, and `others` says whether any other member was there.
    func scalarMembers(_ c: inout V2JSONCursor, _ known: Set<String>) throws -> (members: [String: Scalar], others: Bool) {
        var members: [String: Scalar] = [:]
        var others = false
        try c.object { c, key in
            if known.contains(key) {
                members[key] = try Scalar.read(&c)
            } else {
                if key.hasPrefix("x-") { self.hasVendor = true } else { others = true }
                try c.skipValue()
            }
        }
        return (members, others)
    }

    /// A recorded file against the computed file at the same position.
    private func compareFile<P: Collection, D: Collection>(_ slot: Int, path: P, size: Int64, offset: Int64,
                                                           sha256: D) where P.Element == UInt8, D.Element == UInt8 {
        guard files.malformed == nil, files.allObjects, files.firstDifference == nil,
              let record = files.reader.next() else { return }
        var f = ComputedIndex.file(record)
        if f.sha256.isEmpty { f.sha256 = lateDigest(slot) }
        // Names compare as strings (canonically equivalent spellings are equal), as the parsed index did.
        let samePath = path.elementsEqual(f.path)
            || String(decoding: Array(path), as: UTF8.self) == f.pathString
        if !samePath || size != f.size || offset != f.offset {
            files.firstDifference = CheckpointError("CKA-IDX-005", "file record does not match the entry",
                                                    entry: f.pathString, offset: entry.headerOffset)
        } else if !sha256.elementsEqual(f.sha256) {
            // The offset of the file's data in the stream, where the damage is.
            files.firstDifference = CheckpointError(
                "CKA-IDX-005", "content digest mismatch: sha256 \(String(decoding: f.sha256, as: UTF8.self)) of the "
                    + "data, \(String(decoding: Array(sha256), as: UTF8.self)) in the index",
                entry: f.pathString, offset: f.offset)
        }
    }

    /// The digest of the file at `slot` from the late digests (which are sorted by slot).
    private func lateDigest(_ slot: Int) -> [UInt8] {
        while let r = files.lateReader?.next() {
            let d = WrittenFileDigests.record(r)
            if d.slot == slot { return d.sha256 }
        }
        return []
    }
}

/// A scalar JSON value as a parsed index held it, with the casts `JSONSerialization` values allow: an integer
/// from a number with an integral value (or a boolean), a boolean from `true`, `false` or a number equal to 0
/// or 1, a string from a string.
enum Scalar {
    case string(String)
    case number(String)
    case boolean(Bool)
    case other

    /// Reads the next value (skipping it when it is null, an object or an array).
    static func read(_ c: inout V2JSONCursor) throws -> Scalar {
        switch try c.peek() {
        case .string?: return .string(try c.string())
        case .number?, .boolean?:
            switch try c.value() {
            case let .number(raw): return .number(raw)
            case let .bool(b): return .boolean(b)
            default: return .other
            }
        default:
            try c.skipValue()
            return .other
        }
    }

    var string: String? { if case let .string(s) = self { return s } else { return nil } }

    /// Written as an integer: digits, optionally a minus sign, no fraction or exponent.
    var isPlainInteger: Bool {
        if case let .number(raw) = self { return !raw.utf8.contains { $0 == 0x2E || $0 == 0x65 || $0 == 0x45 } }
        return false
    }

    /// A number (which, as a JSON value, equals any other spelling of its value, `2.0` and `2`; not a boolean).
    var isNumber: Bool { if case .number = self { return true } else { return false } }

    var isBoolean: Bool { if case .boolean = self { return true } else { return false } }

    var int: Int64? {
        switch self {
        case let .number(raw):
            if isPlainInteger { return Int64(raw) }
            guard let d = Double(raw), d.isFinite, d == d.rounded(.towardZero) else { return nil }
            return Int64(exactly: d)
        case let .boolean(b): return b ? 1 : 0
        default: return nil
        }
    }

    var bool: Bool? {
        switch self {
        case let .boolean(b): return b
        case let .number(raw):
            switch Double(raw) {
            case 0?: return false
            case 1?: return true
            default: return nil
            }
        default: return nil
        }
    }
}
