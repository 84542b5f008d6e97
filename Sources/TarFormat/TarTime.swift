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
        var text = Substring(paxString)
        var negative = false
        if text.first == "-" { negative = true; text = text.dropFirst() }
        let parts = text.split(separator: ".", maxSplits: 1, omittingEmptySubsequences: false)
        guard let wholeText = parts.first, !wholeText.isEmpty, wholeText.utf8.allSatisfy({ $0 >= 48 && $0 <= 57 }),
              let whole = Int64(wholeText) else { return nil }
        var nanos: Int64 = 0
        if parts.count == 2 {
            let frac = parts[1]
            guard !frac.isEmpty, frac.utf8.allSatisfy({ $0 >= 48 && $0 <= 57 }) else { return nil }
            var digits = String(frac.prefix(9))
            digits += String(repeating: "0", count: 9 - digits.count)
            nanos = Int64(digits) ?? 0
        }
        if negative {
            if nanos > 0 {
                self.init(seconds: -whole - 1, nanoseconds: Int32(1_000_000_000 - nanos))
            } else {
                self.init(seconds: -whole)
            }
        } else {
            self.init(seconds: whole, nanoseconds: Int32(nanos))
        }
    }

    public var description: String { paxString }
}
