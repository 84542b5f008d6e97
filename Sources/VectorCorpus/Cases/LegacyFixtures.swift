import TarFormat

/// Source descriptions shared by the v1 case files: the parts every engine writes (CRIU images, logs) and the
/// JSON layouts of Go's encoders. The engine-specific archives are in `LegacyPodmanFixtures` and
/// `LegacyKubeFixtures`.
public enum LegacyFixtures {
    /// `json.MarshalIndent(list, "", "  ")` of plain ASCII strings (`deleted.files`).
    public static func goList(_ items: [String]) -> String {
        items.isEmpty ? "[]" : "[\n" + items.map { "  " + V2TestArchive.json($0) }.joined(separator: ",\n") + "\n]"
    }

    /// The CRIU images of one small process in `dir` (`checkpoint` or `pre-checkpoint`), as runc/crun leave
    /// them: the directory (0700), genuine crit-encoded images and raw pages (0600, as CRIU creates them), the
    /// runtime's `descriptors.json`, in `filepath.WalkDir` order; `parent` adds Podman's
    /// `checkpoint/parent -> ../pre-checkpoint` of `--with-previous`.
    public static func checkpoint(_ dir: String = "checkpoint", parent: Bool = false, mode: Int64 = 0o600)
        -> [V1TestEntry] {
        var out: [V1TestEntry] = [.dir(dir + "/", mode: 0o700)]
        for name in ["core-1.img", "descriptors.json", "fs-1.img", "ids-1.img", "inventory.img", "mm-1.img",
                     "pagemap-1.img", "pages-1.img", "parent", "pstree.img"] {
            switch name {
            case "descriptors.json": out.append(.file("\(dir)/\(name)", descriptors, mode: mode))
            case "pages-1.img": out.append(.bytes("\(dir)/\(name)", V2Fixtures.pages(2), mode: mode))
            case "parent": if parent { out.append(.link("\(dir)/parent", to: "../pre-checkpoint")) }
            default: out.append(.bytes("\(dir)/\(name)", V2Fixtures.image(name), mode: mode))
            }
        }
        return out
    }

    /// The images of a CRIU pre-dump (`podman container checkpoint --pre-checkpoint`): inventory, page map and
    /// pages under `pre-checkpoint/`.
    public static var preCheckpoint: [V1TestEntry] {
        [.dir("pre-checkpoint/", mode: 0o700),
         .bytes("pre-checkpoint/inventory.img", V2Fixtures.image("inventory.img")),
         .bytes("pre-checkpoint/pagemap-1.img", V2Fixtures.image("pagemap-1.img")),
         .bytes("pre-checkpoint/pages-1.img", V2Fixtures.pages(1, seed: 3))]
    }

    /// runc/crun `descriptors.json`: where the container's standard descriptors pointed.
    public static let descriptors = #"["/dev/null","pipe:[118230]","pipe:[118231]"]"#

    /// CRIU's `stats-dump` (genuine: IMG_SERVICE and STATS magics, a `dump_stats_entry`).
    public static var statsDump: V1TestEntry { .bytes("stats-dump", V2Fixtures.image("stats-dump.img")) }

    /// A container log in the CRI log format (4.11).
    public static let criLog = """
    2024-01-01T00:00:01.000000001Z stdout F counter: 1
    2024-01-01T00:00:02.000000001Z stdout P counter:
    2024-01-01T00:00:02.000000002Z stdout F  2
    2024-01-01T00:00:03.000000001Z stderr F counter: tick

    """

    /// CRIU's dump log (free text).
    public static let dumpLog = """
    (00.000000) Version: 3.19 (gitid v3.19)
    (00.000213) Dumping processes (pid: 4242 comm: counter)
    (00.031877) Writing stats
    (00.031990) Dumping finished successfully

    """
}
