import ByteStreams
import CheckpointArchive
import Conformance
import Foundation
import FuzzSupport
import TarFormat

/// Reads and discards what a decoder hands it.
final class DrainSink: UnpackedEntrySink {
    func add(_ header: TarHeader, section: Section, data: ByteSource, reflink: ReflinkSource?) throws {
        try Fuzz.drain(data)
    }
}

/// `ckpt-validate FILE` without the CLI: the Validator over the input stored in a scratch file, then its text
/// and JSON reports, and again without digests (the path that reads the file ahead on a second thread).
/// Invariants:
/// - the JSON report is one valid JSON object, whatever bytes the archive's names hold;
/// - without digests the verdict's format and profile are the same, and no finding appears that the run with
///   digests did not report (leaving the digests out can only remove findings);
/// - an archive the validator calls valid is one the decoder (v2 decoder or v1 reader) reads without error
///   (CKA-GEN-005/006: valid archives must decode).
enum ValidateHarness {
    static let archive = ScratchFile(name: "validate")
    static let differential = ProcessInfo.processInfo.environment["CKPT_FUZZ_NO_DIFFERENTIAL"] == nil

    static func run(_ bytes: UnsafeRawBufferPointer) {
        archive.store(bytes)
        let report = Validator().validate(file: "fuzz", source: FileSource(descriptor: .init(rawValue: archive.descriptor)))
        _ = TextReport.render([report])
        let json = JSONReport.render(report)
        let parsed = try? JSONSerialization.jsonObject(with: Data(json.utf8))
        Fuzz.require(parsed is [String: Any], "the JSON report does not parse: \(json.prefix(300))")
        var options = ValidatorOptions()
        options.verifyDigests = false
        options.readAheadFrom = 0
        archive.store(bytes)
        let quick = Validator(options: options).validate(file: "fuzz", source: FileSource(descriptor: .init(rawValue: archive.descriptor)))
        Fuzz.require(quick.format == report.format && quick.profile == report.profile,
                     "without digests the archive reads as \(quick.format ?? "?")/\(quick.profile ?? "?"), with them as \(report.format ?? "?")/\(report.profile ?? "?")")
        let found = Set(report.diagnostics.map(\.id))
        let extra = quick.diagnostics.map(\.id).filter { !found.contains($0) }
        Fuzz.require(extra.isEmpty || report.ioError != nil || quick.ioError != nil,
                     "without digests \(extra) are reported, which the run with digests did not report")
        guard differential, report.verdict == .valid, report.ioError == nil else { return }
        do {
            archive.store(bytes)
            let file = FileSource(descriptor: .init(rawValue: archive.descriptor))
            let opened = try ArchiveOpener.open(file, limits: .forInput(compressedSize: file.fileSize))
            switch opened.format {
            case .v2: _ = try V2Decoder(stream: opened.stream).decode(into: DrainSink())
            case .v1: _ = try V1Reader().read(decompressed: opened.stream, compression: opened.compression,
                                              into: DrainSink())
            }
        } catch {
            Fuzz.require(false, "the validator calls the archive valid (\(report.format ?? "?")), the decoder refuses it: \(error)")
        }
    }
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzValidate(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    ValidateHarness.run(UnsafeRawBufferPointer(start: data, count: size))
    return 0
}
