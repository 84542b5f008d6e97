import ByteStreams
@testable import CheckpointArchive
import TarFormat
import XCTest

/// The implied directories of a v1 rootfs diff are spooled (a temporary file beyond 1 MiB) and
/// `rootfs/implied.dirs` is streamed from the spool: it must equal what `json.MarshalIndent` writes for the list.
final class V1ImpliedDirectoriesTests: XCTestCase {
    private func container(_ path: [UInt8]) -> String { V1Path.string(Array(path.dropFirst(V1ReadSession.treeRoot.count))) }

    /// The streamed file equals `V1JSON.goIndentedStringArray` of the kept paths, escapes included, whether the
    /// spool stays in memory or spills, read in pieces of any size; its announced size is its length.
    func testStreamedFileEqualsTheWholeList() throws {
        let names = ["etc", "a<b>&c", "quote\"back\\slash", "tab\tnew\nline", "ctl\u{1}x", "ü日本", "sep\u{2028}x",
                     String(repeating: "long", count: 300)]
        var paths: [[UInt8]] = []
        for (i, n) in names.enumerated() {
            paths.append(V1ReadSession.treeRoot + Array("/\(n)".utf8))
            paths.append(V1ReadSession.treeRoot + Array("/\(n)/sub-\(i)".utf8))
        }
        let dropped = Set([paths[3], paths[7]])  // later named by entries, or kept by an opaque whiteout
        let keep: ([UInt8]) -> Bool = { !dropped.contains($0) }
        let expected = V1JSON.goIndentedStringArray(paths.filter(keep).map(container))
        for memory in [1 << 20, 64] {
            let list = V1ImpliedDirectories(memoryLimit: memory)
            for p in paths { list.append(p) }
            XCTAssertEqual(list.count, paths.count)
            for piece in [1, 7, 1 << 16] {
                let file = try XCTUnwrap(list.jsonFile(keep: keep))
                var got: [UInt8] = []
                while true {
                    let chunk = try file.source.read(upTo: piece)
                    if chunk.isEmpty { break }
                    got += chunk
                }
                XCTAssertEqual(String(decoding: got, as: UTF8.self), String(decoding: expected, as: UTF8.self),
                               "memory \(memory), pieces of \(piece)")
                XCTAssertEqual(file.size, Int64(expected.count))
            }
            var listed: [String] = []
            list.forEach(keep: keep) { listed.append($0) }
            XCTAssertEqual(listed, paths.filter(keep).map(container))
            XCTAssertNil(list.jsonFile { _ in false }, "no path kept: no file")
            XCTAssertNil(list.ioError)
        }
    }

    /// Through the reader: 3,000 directories with 400-byte names implied by one file each (1.2 MB of paths, past
    /// the spool's memory). `rootfs/implied.dirs` lists them in order, less the one an entry names later; the
    /// summary counts them all and lists the first MiB of them.
    func testReaderSpoolsManyImpliedDirectories() throws {
        let component = String(repeating: "d", count: 400)
        var layer: [(TarHeader, [UInt8])] = []
        var expected: [String] = []
        for i in 0..<3000 {
            let dir = "\(component)-\(i)"
            layer.append(V1Test.file("\(dir)/f", "x"))
            if i != 17 { expected.append("/\(dir)") }
        }
        layer.append(V1Test.dir("\(component)-17/"))
        let diff = try V1Test.tar(layer)
        let archive = try V1Test.podmanArchive([V1Test.file("rootfs-diff.tar", diff)])
        let (sink, summary) = try V1Test.read(archive)
        var bytes = 0
        let listed = expected.prefix { bytes += $0.utf8.count; return bytes <= 1 << 20 }
        XCTAssertLessThan(listed.count, expected.count)
        XCTAssertEqual(summary.impliedDirectories, Array(listed))
        XCTAssertEqual(summary.impliedDirectoryCount, expected.count)
        XCTAssertEqual(sink.nodes["rootfs/implied.dirs"]?.content, Array(V1Test.goList(expected).utf8))
        XCTAssertNil(summary.temporaryFileError)
    }
}
