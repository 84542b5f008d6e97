import ByteStreams
import Compression
import FoundationEssentials

/// What `ckpt inspect` reports about an archive.
public struct InspectionReport: Sendable {
    public var format: CheckpointFormat
    public var profile: CheckpointProfile
    public var compression: CompressionFormat
    public var framed: Bool
    public var alignment: Int
    public var sections: [InspectionSink.SectionStats]
    /// From `spec.dump`'s `io.container.manager` annotation (libpod, cri-o, or another engine).
    public var engine: String?
    public var containerName: String?
    public var containerID: String?
    public var image: String?
    public var runtime: String?
    /// From the `Version:` line CRIU writes at the top of `dump.log`, when present.
    public var criuVersion: String?
    /// v2 only: `sha256:<hex>` of the index, which pins the archive.
    public var indexDigest: String?
}

/// Reads an archive once and builds an `InspectionReport` (v2 digests are verified on the way).
public enum CheckpointInspector {
    /// - Parameter budget: memory for the v2 decoder's per-entry records before they go to temporary files.
    public static func inspect(_ opened: OpenedArchive,
                               budget: MemoryBudget = MemoryBudget()) throws -> InspectionReport {
        let sink = InspectionSink(budget: budget)
        var report = InspectionReport(format: opened.format, profile: .generic, compression: opened.compression,
                                      framed: false, alignment: 0, sections: [])
        switch opened.format {
        case .v2:
            let decoder = V2Decoder(stream: opened.stream)
            decoder.budget = budget
            let result = try decoder.decode(into: sink)
            report.profile = result.header.profile
            report.framed = result.header.framed
            report.alignment = result.header.alignment
            report.indexDigest = result.indexDigest
        case .v1:
            var options = V1ReaderOptions()
            options.nameTableMemory = budget.nameTableBytes
            let summary = try V1Reader(options: options).read(decompressed: opened.stream,
                                                               compression: opened.compression, into: sink)
            report.profile = summary.profile
        }
        report.sections = sink.sections
        if let config = sink.config {
            report.containerName = config["name"]
            report.containerID = config["id"]
            report.image = config["rootfsImageName"] ?? config["rootfsImageRef"] ?? config["rootfsImage"]
            report.runtime = config["runtime"] ?? config["ociRuntime"]
        }
        if let annotations = sink.annotations {
            report.engine = annotations["io.container.manager"]
            report.image = report.image ?? annotations["io.kubernetes.cri-o.ImageName"]
                ?? annotations["io.kubernetes.cri.image-name"]
            report.containerName = report.containerName ?? annotations["io.kubernetes.cri.container-name"]
        }
        if let log = sink.kept["logs/dump.log"] {
            for line in String(decoding: log, as: UTF8.self).split(separator: "\n").prefix(50) {
                if let r = line.firstRange(of: "Version: ") {
                    report.criuVersion = line[r.upperBound...].split(separator: " ").first.map(String.init)
                    break
                }
            }
        }
        return report
    }
}
