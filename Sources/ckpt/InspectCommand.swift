import ArgumentParser
import Foundation
import ByteStreams
import Compression
import CheckpointArchive
import TarFormat

extension Ckpt {
    /// `ckpt inspect`: what a checkpoint archive holds.
    struct Inspect: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Show format, profile, compression, sections, container and digests of an archive.")

        @Argument(help: "The archive, or - for standard input.")
        var archive: String

        @Flag(help: "Print one JSON object.")
        var json = false

        func run() throws {
            let file: FileSource = archive == "-" ? FileSource(descriptor: .standardInput) : try FileSource(path: archive)
            let r = try CheckpointInspector.inspect(try ArchiveOpener.open(file, limits: .forInput(compressedSize: file.fileSize)))
            print(json ? Self.json(r) : Self.text(r))
        }

        static func text(_ r: InspectionReport) -> String {
            var lines = [
                "format:       \(r.format.rawValue)",
                "profile:      \(r.profile.rawValue)",
                "compression:  \(r.compression.rawValue)\(r.framed ? " (framed)" : "")",
            ]
            if r.format == .v2 { lines.append("alignment:    \(r.alignment)") }
            for (label, value) in [("engine", r.engine), ("container", r.containerName), ("id", r.containerID),
                                   ("image", r.image), ("runtime", r.runtime), ("criu", r.criuVersion),
                                   ("index digest", r.indexDigest)] {
                if let value { lines.append((label + ":").padding(toLength: 14, withPad: " ", startingAt: 0) + value) }
            }
            lines.append("sections:")
            for s in r.sections {
                lines.append("  \(s.section.directory.padding(toLength: 24, withPad: " ", startingAt: 0)) "
                             + "\(s.entries) entries, \(s.bytes) bytes")
            }
            return lines.joined(separator: "\n")
        }

        static func json(_ r: InspectionReport) -> String {
            var o = JSONObjectWriter()
            o.string("format", r.format.rawValue)
            o.string("profile", r.profile.rawValue)
            o.string("compression", r.compression.rawValue)
            o.raw("framed", r.framed ? "true" : "false")
            o.raw("alignment", String(r.alignment))
            for (key, value) in [("engine", r.engine), ("containerName", r.containerName), ("containerID", r.containerID),
                                 ("image", r.image), ("runtime", r.runtime), ("criuVersion", r.criuVersion),
                                 ("indexDigest", r.indexDigest)] {
                o.raw(key, value.map(JSONObjectWriter.quote) ?? "null")
            }
            let sections = r.sections.map { s -> String in
                var x = JSONObjectWriter()
                x.string("kind", s.section.kind.rawValue)
                if let name = s.section.name { x.string("name", name) }
                x.string("path", s.section.directory)
                x.raw("entries", String(s.entries))
                x.raw("bytes", String(s.bytes))
                return x.finish()
            }
            o.raw("sections", "[" + sections.joined(separator: ",") + "]")
            return o.finish()
        }
    }
}
