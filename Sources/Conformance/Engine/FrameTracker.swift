/// Where the gzip members or zstd frames of a compressed archive begin, as the decoder meets them: the random
/// access points of a framed archive (CKA-FRM-001), and the compressed-file offset a diagnostic reports next
/// to its tar-stream offset (CKA-GEN-008).
///
/// Memory is fixed: the decoder runs at most its output buffer ahead of the reader, so only the member starts
/// around the reader's position are kept (the last `window` distinct tar offsets). Members that begin at the
/// same tar offset (empty members) are kept as one range of compressed offsets.
public final class FrameTracker {
    /// One tar offset at which members begin: the first and last compressed offset of those members.
    struct Start {
        var tarOffset: Int64
        var first: Int64
        var last: Int64
    }

    /// How many distinct member starts are kept.
    let window: Int
    /// Members begun so far.
    public private(set) var memberCount = 0
    private var starts: [Start] = []
    private var head = 0
    /// The greatest tar offset of a start that fell out of the window (lookups at or before it are unknown).
    private var forgottenUpTo: Int64 = -1

    public init(window: Int = 4096) { self.window = max(window, 2) }

    /// The decoder began a member at `compressedOffset` whose output begins at tar offset `tarOffset`.
    public func memberStarted(compressedOffset: Int64, tarOffset: Int64) {
        memberCount += 1
        if let i = newest, starts[i].tarOffset == tarOffset {
            starts[i].last = compressedOffset
            return
        }
        let s = Start(tarOffset: tarOffset, first: compressedOffset, last: compressedOffset)
        if starts.count < window {
            starts.append(s)
        } else {
            forgottenUpTo = starts[head].tarOffset
            starts[head] = s
            head = (head + 1) % window
        }
    }

    private var newest: Int? {
        guard !starts.isEmpty else { return nil }
        return starts.count < window ? starts.count - 1 : (head + window - 1) % window
    }

    /// The kept start with logical index `k` (0 the oldest); they are in increasing tar-offset order.
    private func start(_ k: Int) -> Start { starts[(head + k) % starts.count] }

    /// The logical index of the last kept start whose tar offset is at most `tarOffset`, nil if none.
    private func lastStart(atOrBefore tarOffset: Int64) -> Int? {
        var low = 0, high = starts.count  // the answer is in low - 1 ..< high
        while low < high {
            let mid = (low + high) / 2
            if start(mid).tarOffset <= tarOffset { low = mid + 1 } else { high = mid }
        }
        return low > 0 ? low - 1 : nil
    }

    /// What is known about member starts at `tarOffset`: the compressed offsets of the members beginning there,
    /// `.none` when none begins there, `.unknown` when the offset is older than the window.
    public enum Lookup: Equatable, Sendable {
        case members(first: Int64, last: Int64)
        case none
        case unknown
    }

    /// Whether members begin exactly at `tarOffset`.
    public func members(at tarOffset: Int64) -> Lookup {
        if let k = lastStart(atOrBefore: tarOffset), start(k).tarOffset == tarOffset {
            return .members(first: start(k).first, last: start(k).last)
        }
        return tarOffset <= forgottenUpTo ? .unknown : .none
    }

    /// The compressed offset of the member whose output holds the byte at `tarOffset` (the last member that
    /// begins at or before it), nil when that is older than the window or no member has begun.
    public func member(containing tarOffset: Int64) -> Int64? {
        // Forgotten starts all precede the kept ones, so a kept start at or before the offset is the right one.
        lastStart(atOrBefore: tarOffset).map { start($0).last }
    }
}
