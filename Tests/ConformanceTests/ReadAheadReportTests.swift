import ByteStreams
import Conformance
import Foundation
import TestSupport
import XCTest

/// Without digests the validator reads an uncompressed archive file ahead on a second thread; from a pipe it
/// cannot. Over every vector of the golden corpus the two give the same report, byte for byte: the read-ahead
/// changes where bytes come from, never what is found.
final class ReadAheadReportTests: XCTestCase {
    private func report(_ path: String, fromPipe: Bool) throws -> String {
        var options = ValidatorOptions()
        options.verifyDigests = false
        options.readAheadFrom = 0  // the vectors are small: read every file ahead
        let validator = Validator(options: options)
        guard fromPipe else { return JSONReport.render(validator.validate(file: "x", source: try FileSource(path: path))) }
        var fds: [Int32] = [0, 0]
        XCTAssertEqual(pipe(&fds), 0)
        let bytes = try Data(contentsOf: URL(fileURLWithPath: path))
        let writeEnd = fds[1]
        let writer = Thread {
            bytes.withUnsafeBytes { p in
                var off = 0
                while off < p.count {
                    let n = write(writeEnd, p.baseAddress! + off, p.count - off)
                    if n <= 0 { break }
                    off += n
                }
            }
            close(writeEnd)
        }
        writer.start()
        let source = FileSource(descriptor: .init(rawValue: fds[0]), closeOnDeinit: true)
        let text = JSONReport.render(validator.validate(file: "x", source: source))
        // The validator may stop reading early: drain the pipe so that the writer finishes.
        while try !source.read(upTo: 1 << 16).isEmpty {}
        return text
    }

    func testEveryVectorGivesTheSameReportReadAheadOrNot() throws {
        let root = TestTools.repositoryRoot.appendingPathComponent("Vectors")
        let files = (FileManager.default.enumerator(atPath: root.path)?.compactMap { $0 as? String } ?? [])
            .filter { $0.hasSuffix(".tar") }
            .sorted()
        XCTAssertGreaterThan(files.count, 300, "the golden corpus is missing")
        var v2 = 0
        for file in files {
            let path = root.appendingPathComponent(file).path
            let ahead = try report(path, fromPipe: false)
            if ahead.contains("\"format\":\"v2\"") || ahead.contains("\"format\" : \"v2\"") { v2 += 1 }
            XCTAssertEqual(ahead, try report(path, fromPipe: true), file)
        }
        XCTAssertGreaterThan(v2, 100, "few v2 archives were compared")
    }
}
