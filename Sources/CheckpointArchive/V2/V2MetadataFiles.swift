import Crypto
import FoundationEssentials
import TarFormat

/// The metadata files the v2 decoder reads for what they say (CKA-SEC-010: paths in metadata are checked like
/// entry names before anything uses them): the lists of container paths `rootfs/deleted.files` and
/// `rootfs/implied.dirs` (CKA-V2-028, 029) and the mount destinations of `metadata/bind.mounts`.
///
/// Such a file may be 64 MiB (table 2.9), so it is checked as it streams, in fixed memory (`V2JSONCursor` over
/// a window of the entry's data), with the verdicts of parsing it whole with `V1JSON` (as
/// `ContainerPathList.parse` does): the text must be valid UTF-8 (else CKA-SEC-010), then valid JSON without a
/// byte order mark, then an array of strings, non-empty, then each path valid (CKA-SEC-010) and not a repeat.
/// The content formats of the metadata files (CKA-V2-024) bind encoders and validators only; a decoder reads
/// `bind.mounts` for the destinations alone, which a runtime would mount onto. The bytes wait in a spool and
/// reach the sink only once they passed.
struct V2MetadataFile {
    /// The content, to hand to the sink.
    let content: SpooledBytes
    /// The content's SHA-256 (lowercase hex).
    let digest: String

    /// Reads a path list entry (`requirement` names the list's own rule), calling `path` with each element.
    static func pathList(_ h: TarHeader, requirement: String, budget: MemoryBudget,
                         read: @escaping () throws -> UnsafeRawBufferPointer,
                         path: (String) -> Void) throws -> V2MetadataFile {
        let stream = Stream(budget: budget, read: read)
        let seen = budget.makeNameTable()
        var notArray: String?, nonString: String?, firstProblem: CheckpointError?
        var count = 0
        let syntax = try stream.walk { c in
            guard let kind = try c.peek() else { throw V2JSONFailure(reason: "invalid value", at: c.at) }
            guard kind == .array else {
                try c.skipValue()
                notArray = kind.rawValue
                return
            }
            try c.array { c, _ in
                count += 1
                guard try c.peek() == .string else {
                    let kind = try c.peek()
                    try c.skipValue()
                    if nonString == nil { nonString = kind?.rawValue ?? "value" }
                    return
                }
                let p = try c.string()
                guard firstProblem == nil, nonString == nil else { return }
                if let why = ContainerPath.problem(p) {
                    firstProblem = CheckpointError("CKA-SEC-010", "container path \(p.debugDescription) \(why)")
                } else if seen.insert(Self.key(p), flags: 1) != nil {
                    firstProblem = CheckpointError(requirement, "duplicate path \(p.debugDescription)")
                } else {
                    path(p)
                }
            }
        }
        let file = try stream.finish()
        func refuse(_ id: String, _ why: String) -> CheckpointError {
            CheckpointError(id, why, entry: h.path, offset: h.headerOffset)
        }
        if !stream.utf8.isComplete { throw refuse("CKA-SEC-010", "not a valid JSON text: not valid UTF-8 at JSON byte 0") }
        if let syntax {
            throw refuse(syntax.reason.contains("surrogate") || syntax.reason.contains("UTF-8") ? "CKA-SEC-010" : requirement,
                         "not a valid JSON text: \(syntax)")
        }
        if let notArray { throw refuse(requirement, "must be a JSON array of strings, not \(notArray)") }
        if let nonString { throw refuse(requirement, "holds a \(nonString) where a path string belongs") }
        if count == 0 { throw refuse(requirement, "the list is empty") }
        if var firstProblem {
            firstProblem.entry = h.path
            firstProblem.offset = h.headerOffset
            throw firstProblem
        }
        if let io = seen.ioError ?? file.content.ioError {
            throw CheckpointError("IO", "the decoder's temporary records: \(io)", entry: h.path, offset: h.headerOffset)
        }
        return file
    }

    /// Reads `metadata/bind.mounts`: a destination that is not a valid container path is refused
    /// (CKA-SEC-010); text that is not a JSON array, and elements without a string `destination`, break
    /// CKA-V2-024 only, which binds encoders.
    static func bindMounts(_ h: TarHeader, budget: MemoryBudget,
                           read: @escaping () throws -> UnsafeRawBufferPointer) throws -> V2MetadataFile {
        let stream = Stream(budget: budget, read: read)
        var isArray = false
        var firstProblem: CheckpointError?
        let syntax = try stream.walk { c in
            guard let kind = try c.peek() else { throw V2JSONFailure(reason: "invalid value", at: c.at) }
            isArray = kind == .array
            try c.array { c, i in
                var destination: String?
                try c.object { c, key in
                    if key == "destination" { destination = try c.stringValue() }
                }
                if firstProblem == nil, let destination, let why = ContainerPath.problem(destination) {
                    firstProblem = CheckpointError(
                        "CKA-SEC-010", "bind.mounts[\(i)].destination \(ContainerPath.quoted(destination)) \(why)",
                        entry: h.path, offset: h.headerOffset)
                }
            }
        }
        let file = try stream.finish()
        if stream.utf8.isComplete, syntax == nil, isArray, let firstProblem { throw firstProblem }
        if let io = file.content.ioError {
            throw CheckpointError("IO", "the decoder's temporary records: \(io)", entry: h.path, offset: h.headerOffset)
        }
        return file
    }

    /// A path as a key of canonically equivalent spellings (as `Set<String>` compares them): its NFC bytes, from
    /// the standard library's own normaliser, the one `String`'s equality uses (public though underscored; the
    /// library does not link Foundation, whose `precomposedStringWithCanonicalMapping` did the same).
    static func key(_ p: String) -> NameTable.Key {
        p.utf8.allSatisfy { $0 < 0x80 } ? NameTable.key(p.utf8) : NameTable.key(p._nfcCodeUnits)
    }

    /// The entry's data as it streams: hashed, checked as UTF-8, spooled, and walked as JSON.
    private final class Stream {
        let content: SpooledBytes
        var utf8 = UTF8Validation()
        var hash = SHA256()
        let read: () throws -> UnsafeRawBufferPointer

        init(budget: MemoryBudget, read: @escaping () throws -> UnsafeRawBufferPointer) {
            content = SpooledBytes(budget: budget)
            self.read = read
        }

        private func next() throws -> UnsafeRawBufferPointer {
            let chunk = try read()
            utf8.feed(chunk)
            hash.update(bufferPointer: chunk)
            content.append(chunk)
            return chunk
        }

        /// Walks the text with `body` (which reads one JSON value), then checks that nothing follows; returns the
        /// first syntax error (nil when the text is one JSON value). A byte order mark is a syntax error, as in
        /// `V1JSON`; nesting may go 512 deep.
        func walk(_ body: (inout V2JSONCursor) throws -> Void) throws -> V2JSONFailure? {
            let input = V2JSONInput { [unowned self] in try next() }
            do {
                if try input.matches([0xEF, 0xBB, 0xBF], at: 0) { return V2JSONFailure(reason: "invalid value", at: 0) }
                var cursor = V2JSONCursor(input, maxDepth: 512)
                try body(&cursor)
                if try cursor.hasMore() { return V2JSONFailure(reason: "data after the JSON value", at: cursor.at) }
            } catch let e as V2JSONFailure {
                return e
            }
            return nil
        }

        /// Reads what the walk left, and returns the file.
        func finish() throws -> V2MetadataFile {
            while try !next().isEmpty {}
            return V2MetadataFile(content: content, digest: Hex.string(hash.finalize()))
        }
    }
}
