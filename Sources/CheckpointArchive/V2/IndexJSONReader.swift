/// Reads `cka-index.json` straight into an `ArchiveIndex`, one member at a time, without building a JSON tree: a
/// Foundation tree of a million-file index took 3.4 KB per file record (3.3 GB), where the records themselves take
/// a tenth of that. Accepts any JSON text (whitespace, member order, unknown members skipped); whether the index is in
/// canonical form is checked afterwards by comparing bytes (CKA-IDX-001).
final class IndexJSONReader {
    struct Failure: Error { let why: String }

    private let bytes: [UInt8]
    private var i = 0
    private var depth = 0

    init(_ bytes: [UInt8]) { self.bytes = bytes }

    /// The index's top-level members; `nil` fields were absent.
    struct Members {
        var format: String?
        var version: Int64?
        var header: ArchiveIndex.Span?
        var headerMalformed = false
        var sections: [ArchiveIndex.SectionRecord] = []
        var files: [ArchiveIndex.FileRecord] = []
        var indexOffset: String?
    }

    /// Parses the whole text; throws `Failure` for a syntax error or a record of the wrong shape.
    func read() throws -> Members {
        var m = Members()
        skipSpace()
        try members { key in
            switch key {
            case "format": m.format = try optionalString()
            case "version": m.version = try optionalInteger()
            case "header":
                if let span = try span() { m.header = span } else { m.headerMalformed = true }
            case "sections": try elements { m.sections.append(try section()) }
            case "files": try elements { m.files.append(try file()) }
            case "indexOffset": m.indexOffset = try optionalString()
            default: try skipValue()
            }
        }
        skipSpace()
        guard i == bytes.count else { throw Failure(why: "not a JSON object") }
        return m
    }

    // MARK: - Records

    private func span() throws -> ArchiveIndex.Span? {
        var start: Int64?, end: Int64?, sha: String?
        guard peek() == 0x7B else { try skipValue(); return nil }
        try members { key in
            switch key {
            case "start": start = try optionalInteger()
            case "end": end = try optionalInteger()
            case "sha256": sha = try optionalString()
            default: try skipValue()
            }
        }
        guard let start, let end, let sha else { return nil }
        return ArchiveIndex.Span(start: start, end: end, sha256: sha)
    }

    private func section() throws -> ArchiveIndex.SectionRecord {
        var kind: String?, name: String?, critical: Bool?, start: Int64?, end: Int64?, sha: String?
        var entries: Int64?, compressedStart: Int64?
        guard peek() == 0x7B else { throw Failure(why: "a section is malformed") }
        try members { key in
            switch key {
            case "kind": kind = try optionalString()
            case "name": name = try optionalString()
            case "critical": critical = try optionalBool()
            case "start": start = try optionalInteger()
            case "end": end = try optionalInteger()
            case "sha256": sha = try optionalString()
            case "entries": entries = try optionalInteger()
            case "compressedStart": compressedStart = try optionalInteger()
            default: try skipValue()
            }
        }
        guard let kind, let critical, let start, let end, let sha, let entries, let count = Int(exactly: entries) else {
            throw Failure(why: "a section is malformed")
        }
        return ArchiveIndex.SectionRecord(section: Section(SectionKind(rawValue: kind) ?? .ext, name: name, critical: critical),
                                          span: ArchiveIndex.Span(start: start, end: end, sha256: sha),
                                          compressedStart: compressedStart, entries: count)
    }

    private func file() throws -> ArchiveIndex.FileRecord {
        var path: String?, size: Int64?, offset: Int64?, sha: String?
        guard peek() == 0x7B else { throw Failure(why: "a file record is malformed") }
        try members { key in
            switch key {
            case "path": path = try optionalString()
            case "size": size = try optionalInteger()
            case "offset": offset = try optionalInteger()
            case "sha256": sha = try optionalString()
            default: try skipValue()
            }
        }
        guard let path, let size, let offset, let sha else { throw Failure(why: "a file record is malformed") }
        return ArchiveIndex.FileRecord(path: path, size: size, offset: offset, sha256: sha)
    }

    // MARK: - Values of an expected type (nil when the value has another type; it is consumed either way)

    private func optionalString() throws -> String? {
        if peek() == 0x22 { return try string() }
        try skipValue()
        return nil
    }

    private func optionalInteger() throws -> Int64? {
        guard let c = peek(), c == 0x2D || (0x30...0x39).contains(c) else { try skipValue(); return nil }
        let text = try number()
        return Int64(text)
    }

    private func optionalBool() throws -> Bool? {
        if match("true") { return true }
        if match("false") { return false }
        try skipValue()
        return nil
    }

    // MARK: - Structure

    /// Calls `body` with each member's key, positioned at its value (which `body` must consume).
    private func members(_ body: (String) throws -> Void) throws {
        try enter()
        defer { depth -= 1 }
        try expect(0x7B)
        skipSpace()
        if peek() == 0x7D { i += 1; return }
        while true {
            skipSpace()
            guard peek() == 0x22 else { throw Failure(why: "not a JSON object") }
            let key = try string()
            skipSpace()
            try expect(0x3A)
            skipSpace()
            try body(key)
            skipSpace()
            if peek() == 0x2C { i += 1; continue }
            try expect(0x7D)
            return
        }
    }

    /// Calls `body` positioned at each element (which `body` must consume); a value that is not an array is skipped.
    private func elements(_ body: () throws -> Void) throws {
        guard peek() == 0x5B else { try skipValue(); return }
        try enter()
        defer { depth -= 1 }
        i += 1
        skipSpace()
        if peek() == 0x5D { i += 1; return }
        while true {
            skipSpace()
            try body()
            skipSpace()
            if peek() == 0x2C { i += 1; continue }
            try expect(0x5D)
            return
        }
    }

    private func skipValue() throws {
        skipSpace()
        switch peek() {
        case 0x7B: try members { _ in try skipValue() }
        case 0x5B: try elements { try skipValue() }
        case 0x22: _ = try string()
        case 0x74: guard match("true") else { throw Failure(why: "not a JSON object") }
        case 0x66: guard match("false") else { throw Failure(why: "not a JSON object") }
        case 0x6E: guard match("null") else { throw Failure(why: "not a JSON object") }
        default: _ = try number()
        }
    }

    private func enter() throws {
        depth += 1
        guard depth <= 64 else { throw Failure(why: "not a JSON object") }
    }

    // MARK: - Tokens

    private func peek() -> UInt8? { i < bytes.count ? bytes[i] : nil }

    private func skipSpace() {
        while i < bytes.count, bytes[i] == 0x20 || bytes[i] == 0x0A || bytes[i] == 0x0D || bytes[i] == 0x09 { i += 1 }
    }

    private func expect(_ c: UInt8) throws {
        guard peek() == c else { throw Failure(why: "not a JSON object") }
        i += 1
    }

    private func match(_ word: StaticString) -> Bool {
        let w = UnsafeBufferPointer(start: word.utf8Start, count: word.utf8CodeUnitCount)
        guard bytes.count - i >= w.count, bytes[i..<(i + w.count)].elementsEqual(w) else { return false }
        i += w.count
        return true
    }

    /// A JSON number (RFC 8259 grammar), returned as its text.
    private func number() throws -> String {
        let start = i
        if peek() == 0x2D { i += 1 }
        func digits() -> Int {
            let s = i
            while let c = peek(), (0x30...0x39).contains(c) { i += 1 }
            return i - s
        }
        let intStart = i
        let n = digits()
        guard n > 0, !(n > 1 && bytes[intStart] == 0x30) else { throw Failure(why: "not a JSON object") }
        if peek() == 0x2E {
            i += 1
            guard digits() > 0 else { throw Failure(why: "not a JSON object") }
        }
        if peek() == 0x65 || peek() == 0x45 {
            i += 1
            if peek() == 0x2B || peek() == 0x2D { i += 1 }
            guard digits() > 0 else { throw Failure(why: "not a JSON object") }
        }
        return String(decoding: bytes[start..<i], as: UTF8.self)
    }

    /// A JSON string (decoded by `V1JSON.stringBytes`); invalid UTF-8, control characters and bad escapes are
    /// syntax errors.
    private func string() throws -> String {
        guard peek() == 0x22 else { throw Failure(why: "not a JSON object") }
        let out: [UInt8]
        do { out = try V1JSON.stringBytes(bytes, at: &i) } catch { throw Failure(why: "not a JSON object") }
        guard let s = String(validating: out, as: UTF8.self) else { throw Failure(why: "not a JSON object") }
        return s
    }
}
