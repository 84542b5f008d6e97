import ByteStreams
import CheckpointArchive
import TarFormat

/// The tar-layer rules on the records of pax extended headers (CKA-TAR-021, 023, 024, 041), read through the
/// spans of the body without copying. Each is a static function of the body alone that hands its findings (ID,
/// message) to a closure: the rules report them, and the read-ahead thread's screen (`bodyScreen`) only asks
/// whether there is any.
extension TarLayerRules {
    /// A finding of a body check: requirement ID and message.
    typealias BodyFinding = (_ id: String, _ message: String) -> Void

    /// The checks of one pax extended header's body, in the order they report.
    static func checkBody(_ r: TarPaxBody.Records, format: CheckpointFormat, _ finding: BodyFinding) {
        duplicateKeys(r, finding)
        recordEncoding(r, v1: format == .v1, finding)
        recordValues(r, finding)
        if format == .v2 { xattrNamespaces(r, finding) }
    }

    /// The body checks as a screen for the read-ahead thread (`HeaderScreen`): true when a body breaks no record
    /// rule (a body the reader refuses fails it). A body that passes there is not checked again here. It reads the
    /// body through the spans the plan found parsing it, or finds them itself.
    public static func bodyScreen(format: CheckpointFormat) -> HeaderScreen.BodyTest {
        let storage = SpanStorage()
        return { body, known in
            let spans: [TarPaxBody.Span]
            if let known {
                spans = known
            } else {
                guard TarPaxBody.spans(body, into: &storage.spans) else { return false }
                spans = storage.spans
            }
            var clean = true
            checkBody(TarPaxBody.Records(body: body, spans: spans), format: format) { _, _ in clean = false }
            return clean
        }
    }

    /// The spans of the body being screened, storage reused: the screen runs on one thread at a time (the
    /// read-ahead thread, and before it starts the one that shows the plan the file's first bytes).
    private final class SpanStorage: @unchecked Sendable {
        var spans: [TarPaxBody.Span] = []
    }

    /// CKA-TAR-021: no key twice in one extended header.
    static func duplicateKeys(_ r: TarPaxBody.Records, _ finding: BodyFinding) {
        guard r.count > 1 else { return }
        var reported: [Int] = []
        for i in 1..<r.count where !reported.contains(where: { r.key($0).elementsEqual(r.key(i)) }) {
            if (0..<i).contains(where: { r.key($0).elementsEqual(r.key(i)) }) {
                reported.append(i)
                finding("CKA-TAR-021", "pax key '\(r.keyString(i))' appears more than once in one extended header")
            }
        }
    }

    /// CKA-TAR-023: keys and values are UTF-8 (`SCHILY.xattr.*` values excepted); in v1 non-UTF-8 `path` and
    /// `linkpath` values are names, reported as CKA-TAR-030 warnings with the entry.
    static func recordEncoding(_ r: TarPaxBody.Records, v1: Bool, _ finding: BodyFinding) {
        for i in 0..<r.count {
            let key = r.key(i)
            guard TarPaxBody.isUTF8(key) else {
                finding("CKA-TAR-023", "a pax key is not valid UTF-8")
                continue
            }
            if key.hasPrefix("SCHILY.xattr.") { continue }
            let value = r.value(i)
            if key.equals("path") || key.equals("linkpath") {
                if value.contains(0) { continue }  // the reader refuses it (malformed)
                if v1 { continue }
            }
            if !TarPaxBody.isUTF8(value) {
                finding("CKA-TAR-023", "the value of pax record '\(r.keyString(i))' is not valid UTF-8")
            }
        }
    }

    /// CKA-TAR-024: `size`, `uid`, `gid` decimal non-negative below 2^63 without sign; `mtime` decimal seconds.
    static func recordValues(_ r: TarPaxBody.Records, _ finding: BodyFinding) {
        for i in 0..<r.count {
            let key = r.key(i)
            let ok: Bool
            switch key.count {  // the length first: most keys are none of these
            case 3 where key.equals("uid") || key.equals("gid"), 4 where key.equals("size"):
                ok = Self.isDecimalInteger(r.value(i))
            case 5 where key.equals("mtime"):
                ok = Self.isDecimalTime(r.value(i))
            default:
                continue
            }
            if !ok {
                finding("CKA-TAR-024", "malformed: pax record '\(r.keyString(i))' has the invalid value "
                        + "'\(TarNames.display(Array(r.value(i))))'")
            }
        }
    }

    /// Decimal digits only, at most 19 significant ones, at most `Int64.max`.
    static func isDecimalInteger(_ v: UnsafeRawBufferPointer) -> Bool {
        guard let p = v.baseAddress?.assumingMemoryBound(to: UInt8.self), !v.isEmpty else { return false }
        let n = v.count
        var i = 0
        while i < n, p[i] == 0x30 { i += 1 }  // leading zeros are not significant
        // More than 19 significant digits exceed Int64.max; up to 19 cannot overflow a UInt64.
        guard n - i <= 19 else { return false }
        var value: UInt64 = 0
        while i < n {
            let d = p[i] &- 0x30
            guard d < 10 else { return false }
            value = value &* 10 &+ UInt64(d)
            i += 1
        }
        return value <= UInt64(Int64.max)
    }

    /// An optional `-`, a decimal integer, and optionally `.` and one or more digits.
    static func isDecimalTime(_ v: UnsafeRawBufferPointer) -> Bool {
        let start = v.first == 0x2D ? 1 : 0
        var dot = start
        while dot < v.count, v[dot] != 0x2E { dot += 1 }
        guard isDecimalInteger(UnsafeRawBufferPointer(rebasing: v[start..<dot])) else { return false }
        guard dot < v.count else { return true }
        guard dot + 1 < v.count else { return false }
        for i in (dot + 1)..<v.count where v[i] &- 0x30 >= 10 { return false }
        return true
    }

    /// CKA-TAR-041: v2 xattrs only in `user.`, `security.`, `system.posix_acl_access`, `system.posix_acl_default`.
    static func xattrNamespaces(_ r: TarPaxBody.Records, _ finding: BodyFinding) {
        for i in 0..<r.count where r.key(i).hasPrefix("SCHILY.xattr.") {
            let name = String(r.keyString(i).dropFirst("SCHILY.xattr.".count))
            if name.hasPrefix("user.") || name.hasPrefix("security.") || name == "system.posix_acl_access"
                || name == "system.posix_acl_default" { continue }
            finding("CKA-TAR-041", "extended attribute '\(name)' is outside the allowed namespaces")
        }
    }
}
