/// Numbers the names of a tar stream component by component, so that a name and all its parents are found or
/// recorded in time and memory proportional to the name's length, whatever its depth.
///
/// Keeping every parent of a name as a byte string of its own costs the depth times the length: a 61,000-byte name
/// 1,000 components deep has 30 MB of parents. Here a parent is one node (its parent's number and one component),
/// shared by every name below it.
public struct PathTable: Sendable {
    /// One component-wise prefix of a name: its node and where it ends in the name.
    public struct Prefix: Sendable, Equatable {
        public let node: Int
        /// The prefix is `name[..<end]`.
        public let end: Int
    }

    private struct Key: Hashable, Sendable {
        let parent: Int
        let component: [UInt8]
    }

    private var nodes: [Key: Int] = [:]

    /// The number of the empty name, the parent of every top-level component.
    public static let root = 0

    public init() {}

    /// The number of names (and parents) recorded.
    public var count: Int { nodes.count }

    /// The prefixes of `name` ending at each `/` and at its end (the last one is the name itself), recorded when new.
    /// Empty components (`a//b`, a trailing `/`) are skipped.
    public mutating func intern(_ name: [UInt8]) -> [Prefix] {
        var out: [Prefix] = []
        var node = Self.root
        var start = 0
        for i in 0...name.count where i == name.count || name[i] == 0x2F {
            if i > start {
                let key = Key(parent: node, component: Array(name[start..<i]))
                if let known = nodes[key] {
                    node = known
                } else {
                    node = nodes.count + 1
                    nodes[key] = node
                }
                out.append(Prefix(node: node, end: i))
            }
            start = i + 1
        }
        return out
    }

    /// The number of `name` when it was recorded (as a name or a parent), without recording anything.
    public func find(_ name: [UInt8]) -> Int? {
        var node = Self.root
        var start = 0
        var any = false
        for i in 0...name.count where i == name.count || name[i] == 0x2F {
            if i > start {
                guard let known = nodes[Key(parent: node, component: Array(name[start..<i]))] else { return nil }
                node = known
                any = true
            }
            start = i + 1
        }
        return any ? node : nil
    }
}
