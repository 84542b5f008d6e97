import ByteStreams
import CheckpointArchive
import Compression
@testable import Conformance
import Foundation
import TarFormat
import XCTest

/// Runs the tar-layer rules over one tar stream, as a validator does.
enum TarTestCheck {
    /// The findings for `bytes` read as a tar stream of `format` (nested in a v1 archive when `nested` is set).
    static func run(_ bytes: [UInt8], format: CheckpointFormat, nested: String? = nil,
                    limits: TarLimits = .default) -> DiagnosticCollector {
        let collector = DiagnosticCollector()
        let rules = TarLayerRules(collector: collector, format: format, nestedIn: nested)
        let reader = TarReader(source: MemorySource(bytes), limits: limits)
        reader.observer = rules
        do {
            while let h = try reader.next() { rules.entry(h) }
            rules.end(try reader.finish())
        } catch {
            MalformedInput.report(error, to: collector, format: format, compression: nested == nil ? CompressionFormat.none : nil)
        }
        return collector
    }

    static func ids(_ bytes: [UInt8], format: CheckpointFormat, nested: String? = nil) -> Set<String> {
        Set(run(bytes, format: format, nested: nested).diagnostics.map(\.id))
    }
}

extension XCTestCase {
    /// Asserts that `bytes` break exactly the requirements `expected` (empty: no finding at all).
    func assertTarFindings(_ bytes: [UInt8], _ format: CheckpointFormat, _ expected: Set<String>, nested: String? = nil,
                           file: StaticString = #filePath, line: UInt = #line) {
        let c = TarTestCheck.run(bytes, format: format, nested: nested)
        let found = Set(c.diagnostics.map(\.id))
        XCTAssertEqual(found, expected, c.diagnostics.map { "\($0.id) \($0.offset ?? -1) \($0.path ?? "-"): \($0.message)" }
            .joined(separator: "\n"), file: file, line: line)
    }
}
