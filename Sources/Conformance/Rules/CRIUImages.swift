/// CRIU image magic numbers (checkpoint-restore/criu `criu/include/magic.h`, `criu/image-desc.c`), for
/// `stats-dump` (CKA-V1-013) and for the images of `checkpoint/` and `pre-checkpoint/` (CKA-V1-021 in v1,
/// CKA-V2-055 in v2).
///
/// Every CRIU image since format v1.1 starts with a 32-bit little-endian magic: `IMG_COMMON_MAGIC` or
/// `IMG_SERVICE_MAGIC` followed by the image type's magic, except `inventory.img`, which starts directly with
/// `INVENTORY_MAGIC`, and the raw images (memory pages, `ip` dumps, tmpfs tarballs, ...), which have no magic.
enum CRIUImages {
    static let commonMagic: UInt32 = 0x5456_4319
    static let serviceMagic: UInt32 = 0x5510_5940
    static let inventoryMagic: UInt32 = 0x5831_3116
    static let statsMagic: UInt32 = 0x5709_3306

    /// The requirement a bad image magic breaks in a v1 archive (a SHOULD: reported as a warning).
    static let v1RequirementID = "CKA-V1-021"
    /// The requirement a bad image magic breaks in a v2 checkpoint or pre-checkpoint section (a warning too).
    static let v2RequirementID = "CKA-V2-055"
    /// How many bytes of an image `problem(name:prefix:size:)` looks at.
    static let prefixLength = 8

    /// File-name prefixes of images CRIU writes raw (RAW_IMAGE_MAGIC, `O_NOBUF`), and of plugin images that are
    /// not CRIU images.
    static let rawPrefixes = ["pages-", "ifaddr-", "route-", "route6-", "rule-", "iptables-", "ip6tables-",
                              "nftables-", "tmpfs-", "netns-ct-", "netns-exp-", "amdgpu-", "cuda-"]

    /// Why the image at `name` (a path under `checkpoint/` or `pre-checkpoint/`) does not start with a CRIU magic,
    /// or nil when it does or is not an image with a magic.
    static func problem(name: String, prefix: [UInt8], size: Int64) -> String? {
        let file = name.split(separator: "/").last.map(String.init) ?? name
        guard file.hasSuffix(".img"), !rawPrefixes.contains(where: { file.hasPrefix($0) }) else { return nil }
        guard prefix.count >= 4 else { return "an image of \(size) bytes has no room for a CRIU magic number" }
        let first = UInt32(prefix[0]) | UInt32(prefix[1]) << 8 | UInt32(prefix[2]) << 16 | UInt32(prefix[3]) << 24
        if file == "inventory.img" {
            return first == inventoryMagic ? nil
                : "inventory.img does not start with INVENTORY_MAGIC 0x58313116 (found 0x\(String(first, radix: 16)))"
        }
        guard first == commonMagic || first == serviceMagic else {
            return "does not start with IMG_COMMON_MAGIC 0x54564319 or IMG_SERVICE_MAGIC 0x55105940 "
                + "(found 0x\(String(first, radix: 16)))"
        }
        guard prefix.count >= 8 else { return "the image ends after its first magic number" }
        return nil
    }
}
