/// Checkpoint archives: sections, the v1 engine profiles, the v2 encoder and decoder.
///
/// This module is filled in by the encoder/decoder work; for now it names the formats it will read.
public enum CheckpointFormat: String, Sendable, CaseIterable {
    /// The legacy single-tar layouts written by Podman, CRI-O and containerd.
    case v1
    /// The multi-section format of this project's specification.
    case v2
}
