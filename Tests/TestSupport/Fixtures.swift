import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// The sanitizer this test process runs under: `swift test --sanitize=address|thread` instruments the products
/// of the same build too, so their memory figures include shadow memory and (ASan) a quarantine of freed blocks.
public enum Sanitizer: String, Sendable {
    case address, thread

    public static let current: Sanitizer? = {
        if dlsym(nil, "__tsan_init") != nil { return .thread }  // nil: RTLD_DEFAULT
        if dlsym(nil, "__asan_init") != nil { return .address }
        return nil
    }()
}

/// Deterministic pseudo-random bytes (SplitMix64), so failures reproduce.
public struct SeededRandom {
    private var state: UInt64

    public init(seed: UInt64) { state = seed }

    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    public mutating func bytes(_ count: Int) -> [UInt8] {
        var out = [UInt8]()
        out.reserveCapacity(count + 8)
        while out.count < count {
            withUnsafeBytes(of: next().littleEndian) { out.append(contentsOf: $0) }
        }
        out.removeLast(out.count - count)
        return out
    }
}

/// Writes the files of a fixture directory below `root` (parents created as needed, each with the mode given).
public struct FixtureTree {
    public let root: URL

    public init(_ root: URL) { self.root = root }

    public func dir(_ p: String, _ mode: Int = 0o755) throws {
        let url = root.appendingPathComponent(p)
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        try FileManager.default.setAttributes([.posixPermissions: mode], ofItemAtPath: url.path)
    }

    public func file(_ p: String, _ bytes: [UInt8], _ mode: Int = 0o600) throws {
        let url = root.appendingPathComponent(p)
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        try Data(bytes).write(to: url)
        try FileManager.default.setAttributes([.posixPermissions: mode], ofItemAtPath: url.path)
    }

    public func text(_ p: String, _ s: String, _ mode: Int = 0o600) throws { try file(p, Array(s.utf8), mode) }
}
