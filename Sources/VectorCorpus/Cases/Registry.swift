/// Every group of golden vectors, in manifest order. To add an area, create `Cases/<Area>.swift` with an enum
/// whose `static var group: VectorGroup` lists its cases, and add it here.
public enum VectorRegistry {
    /// The groups of the corpus.
    public static var groups: [VectorGroup] {
        [
            V2Valid.group,
            V2Matrix.group,
            V2Header.group,
            V2Structure.group,
            V2Content.group,
            V2Rootfs.group,
            V2Encoding.group,
            V2TarFields.group,
            V2Index.group,
            V2Framing.group,
            V2Compression.group,
            LegacyPodman.group,
            LegacyCommon.group,
            LegacyNested.group,
            LegacyMetadataPaths.group,
            LegacyCRIO.group,
            LegacyContainerd.group,
            TarLayer.group,
            TarLayerFields.group,
            TarLayerV1.group,
            CompressionLayer.group,
            Hostile.group,
            HostileLegacy.group,
        ]
    }

    /// The requirement areas whose V requirements the corpus covers completely: the v2 format, the v1 profiles,
    /// the tar layer, compression and security. The traceability test asserts full coverage for these (with the
    /// exceptions it lists) and reports the rest.
    public static let completedAreas: Set<String> = ["V2", "IDX", "FRM", "ALN", "V1", "POD", "CRIO", "CTRD",
                                                      "TAR", "CMP", "SEC"]

    /// Every case, in manifest order.
    public static var cases: [VectorCase] { groups.flatMap(\.cases) }
}
