import Compression
import TarFormat

/// Watches what a `V1Reader` reads, for validators that check the tar layer of the outer stream and of every
/// nested tar themselves. The reader calls it before it checks anything, so an observer sees each entry even
/// when the reader then refuses it.
public protocol V1ReadObserver: AnyObject {
    /// A tar stream starts: the outer stream (`nestedIn` nil, `dataOffset` 0) or the nested tar named `nestedIn`
    /// (`rootfs-diff.tar`, `devshm-checkpoint.tar`, `volumes/<name>.tar`), whose data starts at `dataOffset` of
    /// the outer stream; `compression` is `.gzip` for containerd's layer (its offsets are then offsets of the
    /// decompressed layer). The returned observer is given to that stream's `TarReader`, which holds it weakly:
    /// the caller keeps it alive.
    func v1Reader(startsTar nestedIn: String?, dataOffset: Int64, compression: CompressionFormat) -> TarReaderObserver?
    /// An entry header as that stream's `TarReader` returned it (offsets relative to that stream).
    func v1Reader(readEntry header: TarHeader, nestedIn: String?)
    /// The stream ended (after `TarReader.finish()`), before the reader checks the end.
    func v1Reader(endedTar nestedIn: String?, end: TarEnd)
    /// The reader refuses an entry, a nested tar or the archive as a whole for `error`. Returning true makes it
    /// go on where the stream allows (a validator reporting every problem, CKA-GEN-012): the entry is skipped
    /// and not delivered, a nested tar that cannot be read further is left for the next outer entry, and the
    /// checks at the end run on what was read. An error of the outer stream itself still ends the read.
    func v1Reader(continuesAfter error: CheckpointError) -> Bool
    /// A problem of an entry that does not stop decoding, as it is found (it is also in the summary's
    /// `warnings`, in the same order, before those found at the end).
    func v1Reader(warns warning: CheckpointError)
}

extension V1ReadObserver {
    public func v1Reader(warns warning: CheckpointError) {}

    /// By default the first refusal ends the read (decoders restore nothing from a refused archive).
    public func v1Reader(continuesAfter error: CheckpointError) -> Bool { false }
}

/// Read-only views of the v1 JSON metadata files through the reader's strict JSON parser (RFC 8259, UTF-8).
public enum V1MetadataJSON {
    /// The type of the top-level value (`object`, `array`, `string`, `number`, `boolean`, `null`), or nil when
    /// the bytes are not one valid JSON text.
    public static func topLevelType(_ bytes: [UInt8]) -> String? {
        (try? V1JSON.parse(bytes))?.typeName
    }

    /// The members of `spec.dump`'s `annotations` object with their string values (nil for a value that is not
    /// a string); nil when the text is not a JSON object or has no `annotations` object.
    public static func annotations(specDump bytes: [UInt8]) -> [(key: String, value: String?)]? {
        guard let v = try? V1JSON.parse(bytes), case let .object(members)? = v["annotations"] else { return nil }
        return members.map { ($0.key, $0.value.stringValue) }
    }

    /// Whether `text` is one JSON text whose value is an object.
    public static func isObject(_ text: String) -> Bool {
        guard let v = try? V1JSON.parse(Array(text.utf8)), case .object = v else { return false }
        return true
    }

    /// The `volumeName` of each element of `config.dump` `namedVolumes` (table 4.3).
    public static func namedVolumes(configDump bytes: [UInt8]) -> [String] {
        guard let v = try? V1JSON.parse(bytes), case let .array(volumes)? = v["namedVolumes"] else { return [] }
        return volumes.compactMap { $0["volumeName"]?.stringValue }
    }
}
