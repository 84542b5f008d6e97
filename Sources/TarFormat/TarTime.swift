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
        var i = 0
        let negative = bytes.first == 0x2D
        if negative { i = 1 }
        var whole: Int64 = 0
        let wholeStart = i
        while i < bytes.count, bytes[i] != 0x2E {
            let c = bytes[i]
            guard c >= 0x30, c <= 0x39 else { return nil }
            let (m, o1) = whole.multipliedReportingOverflow(by: 10)
            let (a, o2) = m.addingReportingOverflow(Int64(c - 0x30))
            guard !o1, !o2 else { return nil }
            whole = a
            i += 1
        }
        guard i > wholeStart else { return nil }
        var nanos: Int64 = 0
        if i < bytes.count {
            i += 1  // the '.'
            guard i < bytes.count else { return nil }
            var digits = 0
            while i < bytes.count {
                let c = bytes[i]
                guard c >= 0x30, c <= 0x39 else { return nil }
                if digits < 9 {
                    nanos = nanos * 10 + Int64(c - 0x30)
                    digits += 1
                }
                i += 1
            }
            while digits < 9 {
                nanos *= 10
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
