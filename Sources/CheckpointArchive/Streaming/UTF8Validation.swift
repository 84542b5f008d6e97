/// Checks that bytes arriving in chunks are well-formed UTF-8 (Unicode table 3-7: no overlong forms, no
/// surrogates, nothing above U+10FFFF), as `String(validating:as:)` decides for the whole text at once.
public struct UTF8Validation: Sendable {
    /// Continuation bytes still expected by the current sequence.
    private var pending = 0
    /// The allowed range of the next continuation byte (narrower right after some lead bytes).
    private var low: UInt8 = 0x80
    private var high: UInt8 = 0xBF
    /// False once an ill-formed sequence was seen.
    public private(set) var isValid = true

    public init() {}

    /// Checks the next chunk.
    public mutating func feed(_ bytes: UnsafeRawBufferPointer) {
        guard isValid else { return }
        for b in bytes {
            if pending > 0 {
                guard b >= low, b <= high else {
                    isValid = false
                    return
                }
                pending -= 1
                (low, high) = (0x80, 0xBF)
                continue
            }
            switch b {
            case 0x00...0x7F: continue
            case 0xC2...0xDF: pending = 1
            case 0xE0: (pending, low) = (2, 0xA0)
            case 0xE1...0xEC, 0xEE, 0xEF: pending = 2
            case 0xED: (pending, high) = (2, 0x9F)
            case 0xF0: (pending, low) = (3, 0x90)
            case 0xF1...0xF3: pending = 3
            case 0xF4: (pending, high) = (3, 0x8F)
            default:
                isValid = false
                return
            }
        }
    }

    /// Whether everything fed is well-formed, the last sequence complete.
    public var isComplete: Bool { isValid && pending == 0 }
}
