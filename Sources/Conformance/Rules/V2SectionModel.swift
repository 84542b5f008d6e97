import CheckpointArchive
import TarFormat

/// One section as the stream holds it (table 5.7), and what its content rules remember while it is read.
/// Only the current section is held; a closed one goes to the run's spool as a `V2SectionRecord`.
final class V2Section {
    /// The `CKA.section` value as written.
    let kindName: String
    /// nil for a kind this version does not define.
    let kind: SectionKind?
    let name: String?
    let critical: Bool
    /// The marker's name as stored.
    let path: String
    /// The marker's name with one trailing `/`: every entry of the section starts with it (CKA-V2-013).
    let directory: [UInt8]
    let start: Int64
    var end: Int64
    var entries = 1
    var sha256: String?
    var closed = false
    /// The members or frames that begin at `start` (framed archives, when the decoder reports them).
    var frames: FrameTracker.Lookup?
    /// The previous entry's name without its trailing `/`, for the order of CKA-V2-048.
    var previousName: [UInt8]?
    /// The files whose presence CKA-V2-023 and 025 require, seen directly in the section.
    var hasConfigDump = false
    var hasSpecDump = false
    var hasInventory = false
    var rootfs: V2RootfsState?

    init(kindName: String, name: String?, critical: Bool, marker h: TarHeader, names: NameTable, spoolMemory: Int) {
        self.kindName = kindName
        kind = SectionKind(rawValue: kindName)
        self.name = name
        self.critical = critical
        path = h.path
        var dir = h.pathBytes
        while dir.last == 0x2F { dir.removeLast() }
        previousName = dir
        directory = dir + [0x2F]
        start = h.headerOffset
        end = h.headerOffset
        if kind == .rootfs { rootfs = V2RootfsState(names: names, spoolMemory: spoolMemory) }
    }

    /// rootfs, devshm and volume sections hold a file system (table 5.4).
    var isFileSystem: Bool { kind == .rootfs || kind == .devshm || kind == .volume }

    /// What the index comparison needs of the closed section.
    var record: V2SectionRecord {
        var compressed: (Int64, Int64)?
        if case let .members(first, last)? = frames { compressed = (first, last) }
        return V2SectionRecord(kindName: kindName, name: name, critical: critical, path: path, start: start, end: end,
                               entries: entries, sha256: sha256, frames: compressed, framesKnown: frames != .unknown)
    }
}

/// A closed section as the index comparison (CKA-IDX-003, 004, 007) needs it.
struct V2SectionRecord {
    var kindName: String
    var name: String?
    var critical: Bool
    var path: String
    var start: Int64
    var end: Int64
    var entries: Int
    var sha256: String?
    /// The first and last archive offset of the members that begin at `start`, when any do.
    var frames: (first: Int64, last: Int64)?
    /// False when the member starts at `start` were not known (older than the tracker's window).
    var framesKnown: Bool

    var encoded: RecordWriter {
        var w = RecordWriter()
        w.string(kindName)
        w.optionalString(name)
        w.bool(critical)
        w.string(path)
        w.int(start)
        w.int(end)
        w.int(Int64(entries))
        w.optionalString(sha256)
        w.optionalInt(frames?.first)
        w.int(frames?.last ?? 0)
        w.bool(framesKnown)
        return w
    }

    init(kindName: String, name: String?, critical: Bool, path: String, start: Int64, end: Int64, entries: Int,
         sha256: String?, frames: (Int64, Int64)?, framesKnown: Bool) {
        self.kindName = kindName
        self.name = name
        self.critical = critical
        self.path = path
        self.start = start
        self.end = end
        self.entries = entries
        self.sha256 = sha256
        self.frames = frames
        self.framesKnown = framesKnown
    }

    init(_ r: RecordReader) {
        var r = r
        kindName = r.string()
        name = r.optionalString()
        critical = r.bool()
        path = r.string()
        start = r.int()
        end = r.int()
        entries = Int(r.int())
        sha256 = r.optionalString()
        let first = r.optionalInt()
        let last = r.int()
        frames = first.map { ($0, last) }
        framesKnown = r.bool()
    }
}
