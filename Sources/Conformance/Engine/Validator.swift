import ByteStreams
import CheckpointArchive
import Compression
import TarFormat
#if canImport(Glibc)
import Glibc
#endif

/// The validator engine: one streaming pass over an archive, every applicable rule, a report.
///
/// The layers are checked in order as the bytes flow: compression (detection, decoding, limits), the tar
/// stream (header encodings, names, links, padding, end), then the format's rules: v2 structure, digests
/// and index, or the v1 profile's files and nested tars. Malformed input (it cannot be decoded further)
/// ends the pass with a diagnostic; everything else is reported and the pass goes on.
public final class Validator {
    public let options: ValidatorOptions

    public init(options: ValidatorOptions = ValidatorOptions()) { self.options = options }

    /// Validates one archive.
    /// - Parameters:
    ///   - file: the name reported.
    ///   - source: the archive's bytes (a file or a pipe).
    ///   - progress: called now and then with the number of archive bytes read.
    public func validate(file: String, source: FileSource, progress: ((Int64) -> Void)? = nil) -> ValidationReport {
        var report = ValidationReport(file: file)
        let collector = DiagnosticCollector(capPerRule: options.maxDiagnosticsPerRule)
        let size = source.fileSize
        let limits = options.decompressionLimits
            ?? .forInput(compressedSize: size)
        let input: ByteSource = progress.map { CountingSource(source, report: $0) } ?? source
        // The decoder reports where its members or frames begin: the framed archive's random access points,
        // which diagnostics name next to their tar-stream offsets.
        let frames = FrameTracker()
        let opened: OpenedArchive
        do {
            opened = try ArchiveOpener.open(input, limits: limits) { decoder in
                decoder.onMemberStart = { frames.memberStarted(compressedOffset: $0, tarOffset: $1) }
            }
        } catch {
            if case let CompressionError.unsupported(format) = error {
                report.compression = format.rawValue
                MalformedInput.noteCompression(format, to: collector)
            } else if let format = AmbiguousStart.report(error, head: head(of: source), to: collector) {
                report.compression = format.rawValue
            } else if case .notAFinding(let text) = MalformedInput.report(error, to: collector) {
                report.ioError = text
            }
            return finish(report, collector, frames: frames)
        }
        report.compression = opened.compression.rawValue
        if opened.compression != .none { collector.locate = { frames.member(containing: $0) } }
        MalformedInput.noteCompression(opened.compression, format: opened.format, to: collector)
        let useV2: Bool
        switch options.profile {
        case .auto: useV2 = opened.format == .v2
        case .v2: useV2 = true
        case .podman, .crio, .containerd: useV2 = false
        }
        if useV2 {
            report.format = "v2"
            // Without digests the file data is skipped: a second thread reads the headers ahead (and the heads of
            // the files), so that reading them overlaps the checks.
            var screen: HeaderScreen?
            if opened.compression == .none, !options.verifyDigests, let from = options.readAheadFrom, (size ?? 0) >= from {
                // The thread also runs the tar-layer checks of each header block's and pax body's own bytes
                // (`HeaderScreen`).
                screen = HeaderScreen(test: TarLayerRules.blockScreen(format: .v2),
                                      bodyTest: TarLayerRules.bodyScreen(format: .v2))
                let plan = TarReadAheadPlan(readsWhole: V2Checker.isIndexNameField, screen: screen)
                // The opener's peek holds the first bytes of the file: the plan walks the headers in it here, and
                // the thread starts where the peek ends rather than reading them again.
                if let replay = opened.stream as? PrefixedSource, replay.position == 0 {
                    plan.inspect(replay.prefixBytes, at: 0)
                }
                source.startReadAhead(plan)
            }
            defer { source.stopReadAhead() }
            let tarRules = TarLayerRules(collector: collector, format: .v2, nameTableMemory: options.nameTableMemory)
            let checker = V2Checker(collector: collector, options: options, compression: opened.compression,
                                    tail: size.flatMap { tail(of: source, size: $0) },
                                    tarObserver: tarRules, entryHook: tarRules.entry,
                                    frames: opened.compression == .none ? nil : frames, names: tarRules.names)
            checker.screen = screen
            var ioError: String?
            let result = checker.check(stream: opened.stream) { error in
                if case .notAFinding(let text) = MalformedInput.report(error, to: collector, format: .v2,
                                                                       compression: opened.compression) {
                    ioError = text
                }
            }
            if let end = result.tarEnd { tarRules.end(end) }
            report.ioError = ioError ?? result.temporaryFileError
            report.profile = result.profile ?? result.header?.profile.rawValue
            report.profileReason = opened.format == .v2 ? "entry 0 carries CKA.version" : "forced by --profile v2"
            report.indexDigest = result.indexDigest
        } else {
            report.format = "v1"
            let checker = V1Checker(collector: collector, options: options, compression: opened.compression)
            let result = checker.check(stream: opened.stream)
            report.profile = result.profile
            report.profileReason = result.profileReason
            report.ioError = result.ioError
        }
        return finish(report, collector, frames: frames)
    }

    private func finish(_ report: ValidationReport, _ collector: DiagnosticCollector,
                        frames: FrameTracker) -> ValidationReport {
        // One member holds the whole stream: the archive is not framed, and "the member holding the offset"
        // says nothing.
        if frames.memberCount < 2 { collector.forgetLocatedOffsets() }
        var r = report
        r.diagnostics = collector.diagnostics
        r.checked = collector.checked
        return r
    }

    /// The first 512 bytes of a regular file (empty for a pipe), read with `pread`.
    private func head(of source: FileSource) -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: 512)
        let got = bytes.withUnsafeMutableBytes { pread(source.descriptor.rawValue, $0.baseAddress, 512, 0) }
        return got > 0 ? Array(bytes[0..<got]) : []
    }

    /// The last 64 bytes of a regular file (for the framed locator), read with `pread`.
    private func tail(of source: FileSource, size: Int64) -> [UInt8]? {
        let n = Int(min(size, 64))
        var bytes = [UInt8](repeating: 0, count: n)
        let got = bytes.withUnsafeMutableBytes { pread(source.descriptor.rawValue, $0.baseAddress, n, off_t(size) - off_t(n)) }
        return got == n ? bytes : nil
    }
}

/// Reports how far the archive has been read.
final class CountingSource: ByteSource {
    private let inner: ByteSource
    private let report: (Int64) -> Void

    init(_ inner: ByteSource, report: @escaping (Int64) -> Void) {
        self.inner = inner
        self.report = report
    }

    var position: Int64 { inner.position }

    func read(upTo maxCount: Int) throws -> UnsafeRawBufferPointer {
        let chunk = try inner.read(upTo: maxCount)
        report(inner.position)
        return chunk
    }

    func skip(_ count: Int64) throws -> Int64 {
        let n = try inner.skip(count)
        report(inner.position)
        return n
    }
}
