/// A tar timestamp: whole seconds since the epoch plus nanoseconds (pax records carry sub-seconds).
public struct TarTime: Hashable, Comparable, Sendable, CustomStringConvertible {
    /// Seconds since 1970-01-01T00:00:00Z; negative before it.
    public var seconds: Int64
    /// Nanoseconds added to `seconds`, 0 ..< 1_000_000_000.
    public var nanoseconds: Int32

    public init(seconds: Int64, nanoseconds: Int32 = 0) {
        self.seconds = seconds
        self.nanoseconds = nanoseconds
    }

    public static func < (a: TarTime, b: TarTime) -> Bool {
        (a.seconds, a.nanoseconds) < (b.seconds, b.nanoseconds)
    }

    /// The pax record form: `seconds[.fraction]` with trailing zeros of the fraction removed.
    public var paxString: String {
        if nanoseconds == 0 { return String(seconds) }
        // A negative time with a fraction is written as the negative whole part minus the fraction.
        var whole = seconds
        var frac = Int64(nanoseconds)
        var sign = ""
        if seconds < 0 {
            whole = -(seconds + 1)
            frac = 1_000_000_000 - frac
            sign = "-"
        }
        var digits = String(frac)
        digits = String(repeating: "0", count: 9 - digits.count) + digits
        while digits.hasSuffix("0") { digits.removeLast() }
        return "\(sign)\(whole).\(digits)"
    }

    /// Parses a pax time value (`-?digits[.digits]`); fractions beyond nanoseconds are truncated.
    public init?(paxString: String) {
        var text = paxString
        guard let parsed = text.withUTF8({ Self.parse(UnsafeRawBufferPointer($0)) }) else { return nil }
        self = parsed
    }

    /// Parses the bytes of a pax time value, in one pass and without allocating.
    public static func parse(_ bytes: UnsafeRawBufferPointer) -> TarTime? {
        guard let base = bytes.baseAddress, !bytes.isEmpty else { return nil }
        let p = base.assumingMemoryBound(to: UInt8.self)
        let n = bytes.count
        let negative = p[0] == 0x2D
        var i = negative ? 1 : 0
        let wholeStart = i
        var whole: Int64 = 0
        // Eighteen digits cannot overflow an Int64: only the digits after them are checked.
        let unchecked = min(n, wholeStart + 18)
        while i < unchecked {
            let d = p[i] &- 0x30
            guard d < 10 else { break }
            whole = whole &* 10 &+ Int64(d)
            i += 1
        }
        while i < n {
            let d = p[i] &- 0x30
            guard d < 10 else { break }
            let (m, o1) = whole.multipliedReportingOverflow(by: 10)
            let (a, o2) = m.addingReportingOverflow(Int64(d))
            guard !o1, !o2 else { return nil }
            whole = a
            i += 1
        }
        guard i > wholeStart else { return nil }
        var nanos: Int64 = 0
        if i < n {
            // Only a '.' and at least one digit may follow the whole seconds.
            guard p[i] == 0x2E, i + 1 < n else { return nil }
            i += 1
            var digits = 0
            while i < n {
                let d = p[i] &- 0x30
                guard d < 10 else { return nil }
                if digits < 9 {
                    nanos = nanos &* 10 &+ Int64(d)
                    digits += 1
                }
                i += 1
            }
            while digits < 9 {
                nanos &*= 10
                digits += 1
            }
        }
        if negative {
            return nanos > 0 ? TarTime(seconds: -whole - 1, nanoseconds: Int32(1_000_000_000 - nanos))
                : TarTime(seconds: -whole)
        }
        return TarTime(seconds: whole, nanoseconds: Int32(nanos))
    }

    public var description: String { paxString }
}
